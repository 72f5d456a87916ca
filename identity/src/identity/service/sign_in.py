"""Checking a person's credentials: throttled per address and per account, audited.

A failure says as little as it can ("the email address or password is wrong") whether
the account is unknown, disabled or the password wrong; the audit record says which.
An unknown email still costs one Argon2 verification, so timing tells nothing either."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from identity import domain
from identity.models import Account
from identity.service import accounts, audit
from service_kit.clock import utcnow


class SignInRefused(Exception):
    """``reason`` is what the page says (a key of domain.WORDS); ``minutes`` for a lock."""

    def __init__(self, reason: str, *, minutes: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.minutes = minutes


@dataclass(frozen=True)
class SignInPolicy:
    throttle: domain.Throttle
    totp_required: bool


def policy_from(config: dict[str, Any]) -> SignInPolicy:
    return SignInPolicy(
        throttle=domain.Throttle(
            account_failures=config["SIGN_IN_ACCOUNT_FAILURES"],
            lock_for=timedelta(seconds=config["SIGN_IN_LOCK_SECONDS"]),
            address_failures=config["SIGN_IN_ADDRESS_FAILURES"],
            address_window=timedelta(seconds=config["SIGN_IN_ADDRESS_WINDOW_SECONDS"]),
        ),
        totp_required=config["TOTP_REQUIRED"],
    )


_DUMMY_HASHES: dict[tuple[int, int, int], str] = {}


def _equalise_timing(hasher: PasswordHasher, password: str) -> None:
    """Spend the time of a real verification for an email nobody has."""
    params = (hasher.time_cost, hasher.memory_cost, hasher.parallelism)
    if params not in _DUMMY_HASHES:
        _DUMMY_HASHES[params] = hasher.hash("no account has this password")
    accounts.verify_password(hasher, _DUMMY_HASHES[params], password)


def _fail(
    session: Session, policy: SignInPolicy, account: Account | None, address: str, why: str, client_id: str
) -> None:
    now = utcnow()
    audit.record(
        session,
        "sign_in_failed",
        actor=account.email if account else None,
        account_id=account.id if account else None,
        client_id=client_id,
        address=address,
        reason=why,
    )
    if account is not None and why in ("wrong_password", "wrong_code"):
        account.failed_attempts, account.locked_until = domain.after_failure(
            account.failed_attempts, policy.throttle, now
        )
        if account.locked_until is not None:
            audit.record(
                session,
                "account_locked",
                actor=account.email,
                account_id=account.id,
                address=address,
                locked_until=account.locked_until.isoformat(),
            )
    session.flush()


def sign_in(
    *,
    session: Session,
    hasher: PasswordHasher,
    policy: SignInPolicy,
    email: str,
    password: str,
    code: str,
    address: str,
    client_id: str,
) -> Account:
    """The account these credentials open, or SignInRefused (recorded, counted)."""
    now = utcnow()
    recent = audit.failures_from(session, address, now - policy.throttle.address_window)
    if domain.address_blocked(recent, policy.throttle):
        audit.record(
            session, "sign_in_failed", client_id=client_id, address=address, reason="address_blocked"
        )
        raise SignInRefused("address_blocked")
    account = accounts.find_by_email(session=session, email=email)
    if account is not None:
        # One sign-in at a time per account: the failure count cannot be raced past.
        session.refresh(account, with_for_update=True)
    locked_until = account.locked_until if account is not None else None
    if account is not None and locked_until is not None and domain.is_locked(locked_until, now):
        audit.record(
            session,
            "sign_in_failed",
            account_id=account.id,
            client_id=client_id,
            address=address,
            reason="locked",
        )
        raise SignInRefused("locked", minutes=math.ceil((locked_until - now).total_seconds() / 60))
    if account is None:
        _equalise_timing(hasher, password)
        _fail(session, policy, None, address, "unknown_email", client_id)
        raise SignInRefused("wrong")
    if not accounts.verify_password(hasher, account.password_hash, password):
        _fail(session, policy, account, address, "wrong_password", client_id)
        if account.locked_until is not None:
            raise SignInRefused("locked", minutes=math.ceil(policy.throttle.lock_for.total_seconds() / 60))
        raise SignInRefused("wrong")
    if account.status != "active":
        _fail(session, policy, account, address, "disabled", client_id)
        raise SignInRefused("wrong")
    if domain.needs_second_factor(
        account.roles, required_by_garage=policy.totp_required, enrolled=account.second_factor
    ):
        _check_code(session, policy, account, code, address, client_id)
    if hasher.check_needs_rehash(account.password_hash or ""):
        account.password_hash = hasher.hash(password)  # the cost was raised since it was set
    account.failed_attempts = 0
    account.last_sign_in_at = now
    audit.record(
        session, "sign_in", actor=account.email, account_id=account.id, client_id=client_id, address=address
    )
    session.flush()
    return account


def _check_code(
    session: Session, policy: SignInPolicy, account: Account, code: str, address: str, client_id: str
) -> None:
    if account.totp_secret is None:
        # Required but not enrolled: an admin enrols the account first (POST .../second-factor).
        _fail(session, policy, account, address, "second_factor_not_enrolled", client_id)
        raise SignInRefused("code_wrong")
    code = code.strip().replace(" ", "")
    if not code:
        raise SignInRefused("code_needed")
    totp = pyotp.TOTP(account.totp_secret)
    now = utcnow()
    step = totp.timecode(now)
    # This step or the one before (a code typed as it changed); each step is used once.
    for candidate in (step, step - 1):
        if candidate > (account.totp_last_step or -1) and pyotp.utils.strings_equal(
            totp.generate_otp(candidate), code
        ):
            account.totp_last_step = candidate
            return
    _fail(session, policy, account, address, "wrong_code", client_id)
    raise SignInRefused(
        "locked" if account.locked_until else "code_wrong",
        minutes=math.ceil(policy.throttle.lock_for.total_seconds() / 60),
    )
