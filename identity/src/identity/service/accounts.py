"""Staff accounts: create, read, list, change roles, disable and enable, set a password,
enrol a second factor. A disabled account's refresh tokens are revoked at once."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity import domain
from identity.models import Account, RefreshToken
from identity.service import audit
from service_kit.clock import utcnow
from service_kit.etag import ensure_version
from service_kit.pagination import Page, keyset_page
from service_kit.problems import Conflict, NotFound, Unprocessable


class AccountNotFound(NotFound):
    pass


class EmailTaken(Conflict):
    pass


def password_hasher(config: dict[str, Any]) -> PasswordHasher:
    """Argon2id with the configured cost (docs/identity.md has the measurement)."""
    return PasswordHasher(
        time_cost=config["ARGON2_TIME_COST"],
        memory_cost=config["ARGON2_MEMORY_KIB"],
        parallelism=config["ARGON2_PARALLELISM"],
    )


def verify_password(hasher: PasswordHasher, password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return bool(hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _checked(call: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return call(*args, **kwargs)
    except domain.AccountRuleBroken as exc:
        raise Unprocessable.on_field(exc.field, str(exc)) from exc


def get_account(*, session: Session, account_id: uuid.UUID) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise AccountNotFound(f"no account {account_id}")
    return account


def find_by_email(*, session: Session, email: str) -> Account | None:
    try:
        normalised = domain.normalise_email(email)
    except domain.AccountRuleBroken:
        return None
    return session.scalar(select(Account).where(Account.email == normalised))


def create_account(
    *,
    session: Session,
    hasher: PasswordHasher,
    data: dict[str, Any],
    actor: str,
    address: str | None,
) -> Account:
    email = _checked(domain.normalise_email, data["email"])
    roles = _checked(domain.check_roles, data["roles"])
    name = data["name"].strip()
    if not name:
        raise Unprocessable.on_field("name", "a name is required")
    password = data.get("password")
    if session.scalar(select(Account.id).where(Account.email == email)):
        raise EmailTaken(f"an account with email {email} exists", errors={"email": ["taken"]})
    account = Account(name=name, email=email, roles=roles, status="active")
    if password is not None:
        account.password_hash = hasher.hash(_checked(domain.check_password, password, email=email, name=name))
    session.add(account)
    session.flush()
    audit.record(session, "account_created", actor=actor, account_id=account.id, address=address, roles=roles)
    return account


@dataclass(frozen=True)
class AccountFilters:
    role: str | None = None
    status: str | None = None
    email: str | None = None


def list_accounts(*, session: Session, filters: AccountFilters, limit: int, cursor: str | None) -> Page:
    stmt = select(Account)
    if filters.role:
        stmt = stmt.where(Account.roles.contains([filters.role]))
    if filters.status:
        stmt = stmt.where(Account.status == filters.status)
    if filters.email:
        stmt = stmt.where(Account.email == filters.email.strip().lower())
    return keyset_page(session, stmt, key_columns=[Account.id], limit=limit, cursor=cursor)


def update_account(
    *,
    session: Session,
    account_id: uuid.UUID,
    changes: dict[str, Any],
    expected_versions: set[int] | None,
    actor: str,
    address: str | None,
) -> Account:
    """Change the name or the roles (audited: a role change is who may do what)."""
    account = get_account(session=session, account_id=account_id)
    ensure_version(account.version, expected_versions)
    if "name" in changes:
        name = changes["name"].strip()
        if not name:
            raise Unprocessable.on_field("name", "a name is required")
        account.name = name
    if "roles" in changes:
        roles = _checked(domain.check_roles, changes["roles"])
        if roles != sorted(account.roles):
            audit.record(
                session,
                "roles_changed",
                actor=actor,
                account_id=account.id,
                address=address,
                before=sorted(account.roles),
                after=roles,
            )
            account.roles = roles
    session.flush()
    return account


def revoke_refresh_tokens(session: Session, account_id: uuid.UUID) -> int:
    result = session.execute(
        update(RefreshToken)
        .where(RefreshToken.account_id == account_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def apply_password(session: Session, hasher: PasswordHasher, account: Account, password: str) -> int:
    """Set a checked password: its Argon2 hash, no lock, no failures, and every session of
    the account ended (its refresh tokens revoked); how many were revoked."""
    account.password_hash = hasher.hash(password)
    account.failed_attempts = 0
    account.locked_until = None
    return revoke_refresh_tokens(session, account.id)


def set_status(
    *,
    session: Session,
    account_id: uuid.UUID,
    status: str,
    expected_versions: set[int] | None,
    actor: str,
    address: str | None,
) -> Account:
    """Disable or enable. Disabling revokes the account's refresh tokens at once; its
    access tokens live at most ACCESS_TOKEN_TTL_SECONDS."""
    account = get_account(session=session, account_id=account_id)
    ensure_version(account.version, expected_versions)
    if account.status != status:
        account.status = status
        revoked = revoke_refresh_tokens(session, account.id) if status == "disabled" else 0
        kind = "account_disabled" if status == "disabled" else "account_enabled"
        audit.record(
            session, kind, actor=actor, account_id=account.id, address=address, refresh_tokens_revoked=revoked
        )
    session.flush()
    return account


def set_password(
    *,
    session: Session,
    hasher: PasswordHasher,
    account_id: uuid.UUID,
    password: str,
    expected_versions: set[int] | None,
    actor: str,
    address: str | None,
) -> Account:
    """A new password ends every session of the account (its refresh tokens) and any lock."""
    account = get_account(session=session, account_id=account_id)
    ensure_version(account.version, expected_versions)
    _checked(domain.check_password, password, email=account.email, name=account.name)
    revoked = apply_password(session, hasher, account, password)
    audit.record(
        session,
        "password_changed",
        actor=actor,
        account_id=account.id,
        address=address,
        refresh_tokens_revoked=revoked,
    )
    session.flush()
    return account


def unlock(
    *,
    session: Session,
    account_id: uuid.UUID,
    expected_versions: set[int] | None,
    actor: str,
    address: str | None,
) -> Account:
    account = get_account(session=session, account_id=account_id)
    ensure_version(account.version, expected_versions)
    account.failed_attempts = 0
    account.locked_until = None
    audit.record(session, "account_unlocked", actor=actor, account_id=account.id, address=address)
    session.flush()
    return account


def enrol_second_factor(
    *,
    session: Session,
    account_id: uuid.UUID,
    issuer_name: str,
    expected_versions: set[int] | None,
    actor: str,
    address: str | None,
) -> tuple[Account, str]:
    """A new TOTP secret (replacing any before); the provisioning URI for the person's
    authenticator app is answered once."""
    account = get_account(session=session, account_id=account_id)
    ensure_version(account.version, expected_versions)
    account.totp_secret = pyotp.random_base32()
    account.totp_last_step = None
    audit.record(session, "second_factor_enrolled", actor=actor, account_id=account.id, address=address)
    session.flush()
    uri = pyotp.TOTP(account.totp_secret).provisioning_uri(name=account.email, issuer_name=issuer_name)
    return account, uri


def ensure_development_account(
    *, session: Session, hasher: PasswordHasher, role: str, password: str
) -> Account:
    """Development only (`make run`): the account of ROLE, ``<role>@garage.example``,
    exists, is active with that one role, and has PASSWORD (a new one each run)."""
    email = f"{role}@garage.example"
    account = find_by_email(session=session, email=email)
    if account is None:
        data = {"email": email, "name": f"Development {role}", "roles": [role], "password": password}
        return create_account(session=session, hasher=hasher, data=data, actor="cli", address=None)
    if account.status != "active":
        set_status(
            session=session,
            account_id=account.id,
            status="active",
            expected_versions=None,
            actor="cli",
            address=None,
        )
    update_account(
        session=session,
        account_id=account.id,
        changes={"roles": [role]},
        expected_versions=None,
        actor="cli",
        address=None,
    )
    return set_password(
        session=session,
        hasher=hasher,
        account_id=account.id,
        password=password,
        expected_versions=None,
        actor="cli",
        address=None,
    )
