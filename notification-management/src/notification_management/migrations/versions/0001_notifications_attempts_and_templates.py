"""notifications, attempts and templates

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 17:50:46.789982
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.migrations import create_kit_tables, drop_kit_tables

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "notifications"


def upgrade() -> None:
    create_kit_tables(SCHEMA)
    op.create_table('notification_templates',
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('language', sa.String(length=10), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('sms_body', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_by', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("type IN ('appointment_confirmed', 'appointment_rescheduled', 'appointment_cancelled', 'appointment_reminder', 'estimate_ready', 'job_on_hold', 'vehicle_ready', 'invoice_issued', 'payment_reminder')", name=op.f('ck_notification_templates_type')),
    sa.PrimaryKeyConstraint('type', 'language', name=op.f('pk_notification_templates')),
    schema='notifications'
    )
    op.create_table('notifications',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('data', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=True),
    sa.Column('attachments', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('idempotency_key', sa.String(length=255), nullable=True),
    sa.Column('request_id', sa.String(length=128), nullable=True),
    sa.Column('requested_by', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempt_count', sa.Integer(), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_channel', sa.String(length=8), nullable=True),
    sa.Column('recipient', sa.String(length=100), nullable=True),
    sa.Column('language', sa.String(length=10), nullable=True),
    sa.Column('provider_reference', sa.String(length=255), nullable=True),
    sa.Column('skip_reason', sa.String(length=40), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("channel IS NULL OR channel IN ('email', 'sms')", name=op.f('ck_notifications_channel')),
    sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'dead', 'skipped')", name=op.f('ck_notifications_status')),
    sa.CheckConstraint("type IN ('appointment_confirmed', 'appointment_rescheduled', 'appointment_cancelled', 'appointment_reminder', 'estimate_ready', 'job_on_hold', 'vehicle_ready', 'invoice_issued', 'payment_reminder')", name=op.f('ck_notifications_type')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_notifications_idempotency_key')),
    schema='notifications'
    )
    op.create_index('ix_notifications_customer_id_id', 'notifications', ['customer_id', 'id'], unique=False, schema='notifications')
    op.create_index('ix_notifications_due', 'notifications', ['next_attempt_at'], unique=False, schema='notifications', postgresql_where=sa.text("status IN ('pending', 'failed')"))
    op.create_index('ix_notifications_status_id', 'notifications', ['status', 'id'], unique=False, schema='notifications')
    op.create_table('notification_attempts',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('notification_id', sa.UUID(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('channel', sa.String(length=8), nullable=True),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('provider_reference', sa.String(length=255), nullable=True),
    sa.CheckConstraint("outcome IN ('sent', 'failed', 'dead', 'skipped')", name=op.f('ck_notification_attempts_outcome')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.notifications.id'], name=op.f('fk_notification_attempts_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification_attempts')),
    sa.UniqueConstraint('notification_id', 'number', name=op.f('uq_notification_attempts_notification_id_number')),
    schema='notifications'
    )


def downgrade() -> None:
    op.drop_table('notification_attempts', schema='notifications')
    op.drop_index('ix_notifications_status_id', table_name='notifications', schema='notifications')
    op.drop_index('ix_notifications_due', table_name='notifications', schema='notifications', postgresql_where=sa.text("status IN ('pending', 'failed')"))
    op.drop_index('ix_notifications_customer_id_id', table_name='notifications', schema='notifications')
    op.drop_table('notifications', schema='notifications')
    op.drop_table('notification_templates', schema='notifications')
    drop_kit_tables(SCHEMA)
