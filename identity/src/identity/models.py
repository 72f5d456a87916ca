"""Tables of the ``identity`` schema (created by migrations, never by create_all)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from identity import domain
from service_kit.clock import utcnow
from service_kit.db import make_database, one_of, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.outbox import define_outbox_table

SCHEMA = "identity"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


db = make_database(Model, tables=(define_idempotency_table, define_outbox_table))


class Account(Model):
    """A member of staff who signs in."""

    __tablename__ = "accounts"
    __table_args__ = (
        CheckConstraint(one_of("status", domain.STATUSES), name="status"),
        CheckConstraint("cardinality(roles) > 0", name="has_roles"),
        Index("uq_accounts_email", "email", unique=True),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    roles: Mapped[list[str]] = mapped_column(ARRAY(String(20)))
    status: Mapped[str] = mapped_column(String(16), default="active")
    password_hash: Mapped[str | None] = mapped_column(Text)
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    # The last TOTP time step used: a code is accepted once.
    totp_last_step: Mapped[int | None] = mapped_column(Integer)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def lock(self) -> dict[str, Any] | None:
        """What an admin sees of a lock: until when (None when not locked)."""
        if self.locked_until is None or self.locked_until <= utcnow():
            return None
        return {"locked_until": self.locked_until}


class AuthorizationCode(Model):
    """A code handed to a client's redirect URI; exchanged once, within a minute."""

    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text, default="")
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    # Authlib's AuthorizationCodeMixin
    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return int(self.auth_time.timestamp())

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()


class RefreshToken(Model):
    """A refresh token, kept as its hash. Each use rotates it (``rotated_at``); a rotated
    one used again revokes its whole family: someone holds a copy."""

    __tablename__ = "refresh_tokens"
    __table_args__ = (
        Index("uq_refresh_tokens_hash", "token_hash", unique=True),
        Index("ix_refresh_tokens_account_id", "account_id"),
        Index("ix_refresh_tokens_family_id", "family_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    token_hash: Mapped[str] = mapped_column(String(64))
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    client_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    scope: Mapped[str] = mapped_column(Text, default="")
    auth_time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    issued_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    # Authlib's TokenMixin
    def check_client(self, client: Any) -> bool:
        return bool(self.client_id == client.get_client_id())

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return int((self.expires_at - self.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.revoked_at is not None or self.rotated_at is not None


class PasswordResetToken(Model):
    """A link to set a new password, sent by email: kept as its hash, works once, until
    ``expires_at``, and only while it is the account's newest (a newer one supersedes it)."""

    __tablename__ = "password_reset_tokens"
    __table_args__ = (
        Index("uq_password_reset_tokens_hash", "token_hash", unique=True),
        Index("ix_password_reset_tokens_account_id", "account_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    token_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    superseded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who asked, from where; and the sign-in page to go back to afterwards (a path under /oauth/authorize).
    address: Mapped[str | None] = mapped_column(String(64))
    return_to: Mapped[str | None] = mapped_column(Text)

    def usable(self, now: datetime) -> bool:
        return self.used_at is None and self.superseded_at is None and self.expires_at > now


class SigningKey(Model):
    """A key pair tokens are signed with. Listed in the JWKS from ``created_at`` until
    ``published_until``; it signs from ``signs_from`` until ``retired_at``."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(10))
    # The PKCS#8 PEM encrypted with IDENTITY_KEY_ENCRYPTION_KEY (a Fernet token), never the PEM.
    private_key_encrypted: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    signs_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Model):
    """Who did what, when, from where: sign-ins, failures, locks, tokens, account changes."""

    __tablename__ = "audit_events"
    __table_args__ = (
        CheckConstraint(one_of("kind", domain.AUDIT_KINDS), name="kind"),
        Index("ix_audit_events_account_id", "account_id", "id"),
        Index(
            "ix_audit_events_address_failures",
            "address",
            "at",
            postgresql_where=text("kind = 'sign_in_failed'"),
        ),
        Index(
            "ix_audit_events_address_reset_requests",
            "address",
            "at",
            postgresql_where=text("kind = 'password_reset_requested'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    # Who acted: a token's subject (an admin, a service), or the account signing in.
    actor: Mapped[str | None] = mapped_column(String(200))
    # The account it concerns, if any.
    account_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    client_id: Mapped[str | None] = mapped_column(String(100))
    address: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
