"""replies heard: inbound SMS, conversations, the outbox for consent changes, sms_reply

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:30:00.000000

Issue 19 point 3. Text messages customers send us (inbound_sms, once per provider
message id), each customer's conversation with the garage (conversations and
conversation_messages), the kit's outbox (what an SMS STOP or START changes in
customer-management's consent ledger), and the type sms_reply (staff's answer in a
conversation) with its templates in English and Dutch (the text staff typed).
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

SCHEMA = "notifications"

BEFORE = (
    "appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder",
    "estimate_ready", "job_on_hold", "vehicle_ready", "invoice_issued", "payment_reminder",
    "password_reset", "feedback_request", "booking_invitation", "service_due", "inspection_due",
    "declined_work",
)
AFTER = (*BEFORE, "sms_reply")

TEMPLATES = {
    # Sent by SMS (a conversation is one); the email fields are there as for every type.
    ("sms_reply", "en"): (
        "A message from {{ garage.name }}",
        "Dear {{ customer.name }},\n\n{{ text }}\n\nKind regards,\n{{ garage.name }}\n",
        "{{ garage.name }}: {{ text }}",
    ),
    ("sms_reply", "nl"): (
        "Een bericht van {{ garage.name }}",
        "Beste {{ customer.name }},\n\n{{ text }}\n\nMet vriendelijke groet,\n{{ garage.name }}\n",
        "{{ garage.name }}: {{ text }}",
    ),
}

templates = sa.table(
    "notification_templates",
    sa.column("type", sa.String),
    sa.column("language", sa.String),
    sa.column("subject", sa.Text),
    sa.column("body", sa.Text),
    sa.column("sms_body", sa.Text),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    sa.column("updated_by", sa.String),
    sa.column("version", sa.Integer),
    schema=SCHEMA,
)
notifications = sa.table("notifications", sa.column("id"), sa.column("type", sa.String), schema=SCHEMA)
attempts = sa.table("notification_attempts", sa.column("notification_id"), schema=SCHEMA)


def _types(table: str, types: tuple[str, ...]) -> None:
    name = op.f("ck_" + table + "_type")
    op.drop_constraint(name, table, schema=SCHEMA, type_="check")
    op.create_check_constraint(name, table, "type IN (" + ", ".join("'" + t + "'" for t in types) + ")", schema=SCHEMA)


def upgrade() -> None:
    create_outbox_table(SCHEMA)
    op.create_table('inbound_sms',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('provider', sa.String(length=20), nullable=False),
    sa.Column('provider_message_id', sa.String(length=64), nullable=False),
    sa.Column('sender', sa.String(length=20), nullable=True),
    sa.Column('sender_masked', sa.String(length=20), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('keyword', sa.String(length=8), nullable=True),
    sa.Column('answer', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('customer_ids', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('matched_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("keyword IS NULL OR keyword IN ('stop', 'start', 'help')", name=op.f('ck_inbound_sms_keyword')),
    sa.CheckConstraint("status IN ('pending', 'matched', 'unknown')", name=op.f('ck_inbound_sms_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms')),
    sa.UniqueConstraint('provider', 'provider_message_id', name=op.f('uq_inbound_sms_provider_provider_message_id')),
    schema=SCHEMA
    )
    op.create_index('ix_inbound_sms_pending', 'inbound_sms', ['received_at'], unique=False, schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.create_table('conversations',
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_direction', sa.String(length=8), nullable=False),
    sa.Column('last_text', sa.Text(), nullable=False),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('awaiting_reply', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_conversations')),
    schema=SCHEMA
    )
    op.create_index('ix_conversations_last_message', 'conversations', ['last_message_at', 'customer_id'], unique=False, schema=SCHEMA)
    op.create_table('conversation_messages',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('direction', sa.String(length=8), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('inbound_sms_id', sa.UUID(), nullable=True),
    sa.Column('notification_id', sa.UUID(), nullable=True),
    sa.Column('author', sa.String(length=200), nullable=True),
    sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f('ck_conversation_messages_direction')),
    sa.CheckConstraint("kind IN ('message', 'stop', 'start', 'help', 'auto_reply', 'reply')", name=op.f('ck_conversation_messages_kind')),
    sa.ForeignKeyConstraint(['customer_id'], ['notifications.conversations.customer_id'], name=op.f('fk_conversation_messages_customer_id_conversations')),
    sa.ForeignKeyConstraint(['inbound_sms_id'], ['notifications.inbound_sms.id'], name=op.f('fk_conversation_messages_inbound_sms_id_inbound_sms')),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.notifications.id'], name=op.f('fk_conversation_messages_notification_id_notifications')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conversation_messages')),
    schema=SCHEMA
    )
    op.create_index('ix_conversation_messages_customer_id_id', 'conversation_messages', ['customer_id', 'id'], unique=False, schema=SCHEMA)
    _types("notifications", AFTER)
    _types("notification_templates", AFTER)
    now = datetime.now(timezone.utc)
    op.bulk_insert(
        templates,
        [
            {
                "type": type_,
                "language": language,
                "subject": subject,
                "body": body,
                "sms_body": sms_body,
                "created_at": now,
                "updated_at": now,
                "updated_by": "migration 0005",
                "version": 1,
            }
            for (type_, language), (subject, body, sms_body) in TEMPLATES.items()
        ],
    )


def downgrade() -> None:
    op.drop_index('ix_conversation_messages_customer_id_id', table_name='conversation_messages', schema=SCHEMA)
    op.drop_table('conversation_messages', schema=SCHEMA)
    op.drop_index('ix_conversations_last_message', table_name='conversations', schema=SCHEMA)
    op.drop_table('conversations', schema=SCHEMA)
    op.drop_index('ix_inbound_sms_pending', table_name='inbound_sms', schema=SCHEMA, postgresql_where=sa.text("status = 'pending'"))
    op.drop_table('inbound_sms', schema=SCHEMA)
    drop_outbox_table(SCHEMA)
    op.execute(templates.delete().where(templates.c.type == "sms_reply"))
    op.execute(
        attempts.delete().where(
            attempts.c.notification_id.in_(sa.select(notifications.c.id).where(notifications.c.type == "sms_reply"))
        )
    )
    op.execute(notifications.delete().where(notifications.c.type == "sms_reply"))
    _types("notification_templates", BEFORE)
    _types("notifications", BEFORE)
