"""accounts, codes, refresh tokens, signing keys and the audit record

Revision ID: 0001
Revises: 
Create Date: 2026-12-06 21:25:19.393082
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.migrations import create_kit_tables, drop_kit_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "identity"


def upgrade() -> None:
    op.create_table('accounts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('roles', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=True),
    sa.Column('totp_secret', sa.String(length=64), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('failed_attempts', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("status IN ('active', 'disabled')", name=op.f('ck_accounts_status')),
    sa.CheckConstraint('cardinality(roles) > 0', name=op.f('ck_accounts_has_roles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    schema='identity'
    )
    op.create_index('uq_accounts_email', 'accounts', ['email'], unique=True, schema='identity')
    op.create_table('audit_events',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('account_id', sa.UUID(), nullable=True),
    sa.Column('client_id', sa.String(length=100), nullable=True),
    sa.Column('address', sa.String(length=64), nullable=True),
    sa.Column('detail', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.CheckConstraint("kind IN ('sign_in', 'sign_in_failed', 'account_locked', 'token_issued', 'refresh_token_reused', 'token_revoked', 'account_created', 'roles_changed', 'account_disabled', 'account_enabled', 'password_changed', 'account_unlocked', 'second_factor_enrolled', 'signing_key_rotated')", name=op.f('ck_audit_events_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    schema='identity'
    )
    op.create_index('ix_audit_events_account_id', 'audit_events', ['account_id', 'id'], unique=False, schema='identity')
    op.create_index('ix_audit_events_address_failures', 'audit_events', ['address', 'at'], unique=False, schema='identity', postgresql_where=sa.text("kind = 'sign_in_failed'"))
    op.create_table('authorization_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('redirect_uri', sa.Text(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('nonce', sa.Text(), nullable=True),
    sa.Column('code_challenge', sa.String(length=128), nullable=True),
    sa.Column('code_challenge_method', sa.String(length=10), nullable=True),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_authorization_codes')),
    schema='identity'
    )
    create_kit_tables(SCHEMA)
    op.create_table('refresh_tokens',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('family_id', sa.UUID(), nullable=False),
    sa.Column('client_id', sa.String(length=100), nullable=False),
    sa.Column('account_id', sa.UUID(), nullable=False),
    sa.Column('scope', sa.Text(), nullable=False),
    sa.Column('auth_time', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rotated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_tokens')),
    schema='identity'
    )
    op.create_index('ix_refresh_tokens_account_id', 'refresh_tokens', ['account_id'], unique=False, schema='identity')
    op.create_index('ix_refresh_tokens_family_id', 'refresh_tokens', ['family_id'], unique=False, schema='identity')
    op.create_index('uq_refresh_tokens_hash', 'refresh_tokens', ['token_hash'], unique=True, schema='identity')
    op.create_table('signing_keys',
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=10), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('public_jwk', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signs_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('published_until', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('kid', name=op.f('pk_signing_keys')),
    schema='identity'
    )


def downgrade() -> None:
    op.drop_table('signing_keys', schema='identity')
    op.drop_index('uq_refresh_tokens_hash', table_name='refresh_tokens', schema='identity')
    op.drop_index('ix_refresh_tokens_family_id', table_name='refresh_tokens', schema='identity')
    op.drop_index('ix_refresh_tokens_account_id', table_name='refresh_tokens', schema='identity')
    op.drop_table('refresh_tokens', schema='identity')
    drop_kit_tables(SCHEMA)
    op.drop_table('authorization_codes', schema='identity')
    op.drop_index('ix_audit_events_address_failures', table_name='audit_events', schema='identity', postgresql_where=sa.text("kind = 'sign_in_failed'"))
    op.drop_index('ix_audit_events_account_id', table_name='audit_events', schema='identity')
    op.drop_table('audit_events', schema='identity')
    op.drop_index('uq_accounts_email', table_name='accounts', schema='identity')
    op.drop_table('accounts', schema='identity')
