"""customers and consent records

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 17:32:54.184330
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.migrations import create_kit_tables, drop_kit_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "customers"


def upgrade() -> None:
    # Trigram indexes make `q` search an index scan; pg_trgm is a trusted extension.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.create_table('customers',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('vat_number', sa.String(length=20), nullable=True),
    sa.Column('contact_person', sa.String(length=200), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('phone', sa.String(length=20), nullable=True),
    sa.Column('street', sa.String(length=200), nullable=True),
    sa.Column('postal_code', sa.String(length=20), nullable=True),
    sa.Column('city', sa.String(length=100), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('preferred_channel', sa.String(length=8), nullable=False),
    sa.Column('preferred_language', sa.String(length=10), nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('consents', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('search_text', sa.Text(), sa.Computed("lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' || coalesce(contact_person, '') || ' ' || coalesce(vat_number, ''))", persisted=True), nullable=False),
    sa.CheckConstraint("kind IN ('person', 'business')", name=op.f('ck_customers_kind')),
    sa.CheckConstraint("preferred_channel IN ('email', 'sms', 'none')", name=op.f('ck_customers_preferred_channel')),
    sa.CheckConstraint("status = 'erased' OR email IS NOT NULL OR phone IS NOT NULL", name=op.f('ck_customers_contactable')),
    sa.CheckConstraint("status IN ('active', 'erased')", name=op.f('ck_customers_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customers')),
    schema='customers'
    )
    op.create_index('ix_customers_phone', 'customers', ['phone'], unique=False, schema='customers')
    op.create_index('ix_customers_search_text_trgm', 'customers', ['search_text'], unique=False, schema='customers', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.create_index(op.f('ix_customers_status'), 'customers', ['status'], unique=False, schema='customers')
    op.create_index('uq_customers_active_email', 'customers', [sa.literal_column('lower(email)')], unique=True, schema='customers', postgresql_where=sa.text("status = 'active' AND email IS NOT NULL"))
    create_kit_tables(SCHEMA)
    op.create_table('consent_records',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('granted', sa.Boolean(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('wording', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("channel IN ('email', 'sms')", name=op.f('ck_consent_records_channel')),
    sa.CheckConstraint("purpose IN ('service', 'marketing')", name=op.f('ck_consent_records_purpose')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.customers.id'], name=op.f('fk_consent_records_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consent_records')),
    schema='customers'
    )
    op.create_index('ix_consent_records_customer_recorded', 'consent_records', ['customer_id', 'recorded_at'], unique=False, schema='customers')


def downgrade() -> None:
    op.drop_index('ix_consent_records_customer_recorded', table_name='consent_records', schema='customers')
    op.drop_table('consent_records', schema='customers')
    drop_kit_tables(SCHEMA)
    op.drop_index('uq_customers_active_email', table_name='customers', schema='customers', postgresql_where=sa.text("status = 'active' AND email IS NOT NULL"))
    op.drop_index(op.f('ix_customers_status'), table_name='customers', schema='customers')
    op.drop_index('ix_customers_search_text_trgm', table_name='customers', schema='customers', postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})
    op.drop_index('ix_customers_phone', table_name='customers', schema='customers')
    op.drop_table('customers', schema='customers')
