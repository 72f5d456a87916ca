"""Web Push: customers' push subscriptions, and push as a channel one may ask for

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 03:50:00.000000

Issue 19 point 4: a customer's browsers and phones subscribed to Web Push
(push_subscriptions: the push service's endpoint, unique, and the keys the payload
is encrypted to); a notification may ask for channel push.
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

SCHEMA = "notifications"


def _channels(channels: tuple[str, ...]) -> None:
    name = op.f("ck_notifications_channel")
    op.drop_constraint(name, "notifications", schema=SCHEMA, type_="check")
    op.create_check_constraint(
        name,
        "notifications",
        "channel IS NULL OR channel IN (" + ", ".join("'" + c + "'" for c in channels) + ")",
        schema=SCHEMA,
    )


def upgrade() -> None:
    op.create_table('push_subscriptions',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('endpoint', sa.Text(), nullable=False),
    sa.Column('p256dh', sa.String(length=100), nullable=False),
    sa.Column('auth', sa.String(length=40), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by', sa.String(length=200), nullable=False),
    sa.Column('last_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_subscriptions')),
    sa.UniqueConstraint('endpoint', name=op.f('uq_push_subscriptions_endpoint')),
    schema=SCHEMA
    )
    op.create_index('ix_push_subscriptions_customer_id', 'push_subscriptions', ['customer_id'], unique=False, schema=SCHEMA)
    _channels(("email", "sms", "push"))


def downgrade() -> None:
    notifications = sa.table("notifications", sa.column("channel", sa.String), schema=SCHEMA)
    op.execute(notifications.update().where(notifications.c.channel == "push").values(channel=None))
    _channels(("email", "sms"))
    op.drop_index('ix_push_subscriptions_customer_id', table_name='push_subscriptions', schema=SCHEMA)
    op.drop_table('push_subscriptions', schema=SCHEMA)
