"""password reset links, the outbox (the reset email to notification-management), audit kinds

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:30:00
"""

import sqlalchemy as sa
from alembic import op

from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "identity"

KINDS_BEFORE = (
    "sign_in", "sign_in_failed", "account_locked", "token_issued", "refresh_token_reused", "token_revoked",
    "account_created", "roles_changed", "account_disabled", "account_enabled", "password_changed",
    "account_unlocked", "second_factor_enrolled", "signing_key_rotated",
)  # fmt: skip
KINDS_AFTER = (*KINDS_BEFORE, "password_reset_requested", "password_reset")


def _kinds(kinds: tuple[str, ...]) -> None:
    name = op.f("ck_audit_events_kind")
    op.drop_constraint(name, "audit_events", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        name, "audit_events", "kind IN (" + ", ".join("'" + k + "'" for k in kinds) + ")", schema=SCHEMA
    )


def upgrade() -> None:
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("account_id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("superseded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("address", sa.String(length=64), nullable=True),
        sa.Column("return_to", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_tokens")),
        schema=SCHEMA,
    )
    op.create_index(
        "uq_password_reset_tokens_hash", "password_reset_tokens", ["token_hash"], unique=True, schema=SCHEMA
    )
    op.create_index(
        "ix_password_reset_tokens_account_id",
        "password_reset_tokens",
        ["account_id", "created_at"],
        unique=False,
        schema=SCHEMA,
    )
    op.create_index(
        "ix_audit_events_address_reset_requests",
        "audit_events",
        ["address", "at"],
        unique=False,
        schema=SCHEMA,
        postgresql_where=sa.text("kind = 'password_reset_requested'"),
    )
    _kinds(KINDS_AFTER)
    create_outbox_table(SCHEMA)


def downgrade() -> None:
    drop_outbox_table(SCHEMA)
    op.execute("DELETE FROM identity.audit_events WHERE kind IN ('password_reset_requested', 'password_reset')")
    _kinds(KINDS_BEFORE)
    op.drop_index(
        "ix_audit_events_address_reset_requests",
        table_name="audit_events",
        schema=SCHEMA,
        postgresql_where=sa.text("kind = 'password_reset_requested'"),
    )
    op.drop_index("ix_password_reset_tokens_account_id", table_name="password_reset_tokens", schema=SCHEMA)
    op.drop_index("uq_password_reset_tokens_hash", table_name="password_reset_tokens", schema=SCHEMA)
    op.drop_table("password_reset_tokens", schema=SCHEMA)
