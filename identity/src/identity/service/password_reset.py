"""Password reset by an emailed one-time link.

Asking: whatever the email, the answer is the same (no one learns whether an account
exists); the audit record says what happened. An address that asked too often within
the window is refused (that says nothing about any account); an account that was sent
too many links within the window is sent no more, silently. Otherwise the account gets
a new random link (stored as its hash, working once, until it expires; the links it had
before stop working) and the email goes into the outbox in the same transaction, to be
delivered to notification-management by the relay: accepted work is never lost.

Using the link: the new password follows the rules of every password (at least 12
characters, not the email or name); setting it ends every session of the account (its
refresh tokens) and any lock, and uses up the link."""

from __future__ import annotations

import hashlib
import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from identity import domain
from identity.clients import notification_management
from identity.models import Account, AuditEvent, PasswordResetToken
from identity.service import accounts, audit
from service_kit.clock import utcnow
from service_kit.outbox import enqueue


class ResetRefused(Exception):
    """``reason`` is what the page says (a key of domain.WORDS)."""

    def __init__(self, reason: str, *, field: str | None = None, detail: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.field = field
        self.detail = detail


@dataclass(frozen=True)
class ResetPolicy:
    ttl: timedelta
    account_requests: int
    address_requests: int
    window: timedelta

    @property
    def minutes(self) -> int:
        return math.ceil(self.ttl.total_seconds() / 60)


def policy_from(config: dict[str, Any]) -> ResetPolicy:
    return ResetPolicy(
        ttl=timedelta(seconds=config["PASSWORD_RESET_TTL_SECONDS"]),
        account_requests=config["PASSWORD_RESET_ACCOUNT_REQUESTS"],
        address_requests=config["PASSWORD_RESET_ADDRESS_REQUESTS"],
        window=timedelta(seconds=config["PASSWORD_RESET_WINDOW_SECONDS"]),
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def safe_return_to(value: str | None) -> str | None:
    """Only a sign-in page of this issuer is gone back to (never another site)."""
    if value and value.startswith("/oauth/authorize?") and "\\" not in value and len(value) <= 2000:
        return value
    return None


def _requests_from(session: Session, address: str, since: Any) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(
                AuditEvent.kind == "password_reset_requested",
                AuditEvent.address == address,
                AuditEvent.at >= since,
            )
        )
        or 0
    )


def _links_sent(session: Session, account_id: Any, since: Any) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(PasswordResetToken)
            .where(PasswordResetToken.account_id == account_id, PasswordResetToken.created_at >= since)
        )
        or 0
    )


def request_reset(
    *,
    session: Session,
    policy: ResetPolicy,
    email: str,
    address: str,
    language: str,
    link_for: Callable[[str], str],
    return_to: str | None = None,
) -> None:
    """Send ``email``'s account a link, if there is one that may have it. Answers nothing
    either way; ``ResetRefused("reset_address_blocked")`` when the address asked too often."""
    now = utcnow()
    since = now - policy.window

    def record(outcome: str, account: Account | None = None, **detail: Any) -> None:
        audit.record(
            session,
            "password_reset_requested",
            actor=account.email if account else None,
            account_id=account.id if account else None,
            address=address,
            outcome=outcome,
            **detail,
        )

    if _requests_from(session, address, since) >= policy.address_requests:
        record("address_blocked")
        raise ResetRefused("reset_address_blocked")
    account = accounts.find_by_email(session=session, email=email)
    if account is None:
        record("unknown_email")
        return
    # One request at a time per account: the count of links cannot be raced past.
    session.refresh(account, with_for_update=True)
    if account.status != "active":
        record("disabled", account)
        return
    if _links_sent(session, account.id, since) >= policy.account_requests:
        record("account_throttled", account)
        return
    # A newer link supersedes every one before it.
    session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.account_id == account.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.superseded_at.is_(None),
        )
        .values(superseded_at=now)
    )
    token = secrets.token_urlsafe(32)
    row = PasswordResetToken(
        token_hash=token_hash(token),
        account_id=account.id,
        created_at=now,
        expires_at=now + policy.ttl,
        address=address,
        return_to=safe_return_to(return_to),
    )
    session.add(row)
    session.flush()
    enqueue(
        session,
        notification_management.password_reset_email(
            reset_id=row.id,
            email=account.email,
            name=account.name,
            language=language,
            link=link_for(token),
            expires_minutes=policy.minutes,
        ),
    )
    record("sent", account, expires_at=row.expires_at.isoformat(), language=language)


def usable_link(*, session: Session, token: str, lock: bool = False) -> PasswordResetToken:
    """The link's row while it works, else ``ResetRefused("reset_link_invalid")`` (unknown,
    used, superseded, expired, or its account disabled)."""
    stmt = select(PasswordResetToken).where(PasswordResetToken.token_hash == token_hash(token or ""))
    row = session.scalar(stmt.with_for_update() if lock else stmt)
    if row is None or not row.usable(utcnow()):
        raise ResetRefused("reset_link_invalid")
    account = session.get(Account, row.account_id)
    if account is None or account.status != "active":
        raise ResetRefused("reset_link_invalid")
    return row


def reset_password(
    *,
    session: Session,
    hasher: PasswordHasher,
    token: str,
    password: str,
    repeated: str,
    address: str,
) -> PasswordResetToken:
    """Set the account's new password through the link, once."""
    row = usable_link(session=session, token=token, lock=True)
    account = accounts.get_account(session=session, account_id=row.account_id)
    if password != repeated:
        raise ResetRefused("reset_differ", field="repeated")
    try:
        domain.check_password(password, email=account.email, name=account.name)
    except domain.AccountRuleBroken as exc:
        raise ResetRefused("reset_rules", field="password", detail=str(exc)) from exc
    revoked = accounts.apply_password(session, hasher, account, password)
    row.used_at = utcnow()
    audit.record(
        session,
        "password_reset",
        actor=account.email,
        account_id=account.id,
        address=address,
        refresh_tokens_revoked=revoked,
        requested_at=row.created_at.isoformat(),
        requested_from=row.address,
    )
    session.flush()
    return row
