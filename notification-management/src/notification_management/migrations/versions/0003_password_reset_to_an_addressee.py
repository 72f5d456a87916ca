"""password_reset: a notification to an addressee who is not a customer (staff), by email

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 00:20:00.000000

A notification goes to a customer (customer_id) or, for the direct types, to an
addressee ({email, name, language}); exactly one of the two. The type password_reset
joins the CHECKs, with its templates in English and Dutch (customer.name is whom
the message greets: the addressee's name) (written out here, as in
0002, so this revision inserts the same rows whatever the code says later).
"""
from datetime import datetime, timezone
from textwrap import dedent

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

SCHEMA = "notifications"

BEFORE = (
    "appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder",
    "estimate_ready", "job_on_hold", "vehicle_ready", "invoice_issued", "payment_reminder",
)
AFTER = (*BEFORE, "password_reset")

TEMPLATES = {
    ("password_reset", "en"): (
        "Set a new password for {{ garage.name }}",
        dedent("""\
            Hello {{ customer.name }},

            Someone, we hope you, asked to set a new password for your {{ garage.name }} staff account. Choose your new password here:

            {{ link }}

            The link works once, within {{ expires_minutes }} minutes; a newer request replaces it. If you did not ask for this, ignore this email: your password stays as it is.

            Kind regards,
            {{ garage.name }}
            """),
        "{{ garage.name }}: set a new password at {{ link }} (valid {{ expires_minutes }} minutes).",
    ),
    ("password_reset", "nl"): (
        "Nieuw wachtwoord instellen voor {{ garage.name }}",
        dedent("""\
            Hallo {{ customer.name }},

            Iemand, hopelijk u, heeft gevraagd een nieuw wachtwoord in te stellen voor uw medewerkersaccount bij {{ garage.name }}. Kies hier uw nieuwe wachtwoord:

            {{ link }}

            De link werkt één keer, binnen {{ expires_minutes }} minuten; een nieuwere aanvraag vervangt hem. Heeft u dit niet gevraagd, negeer dan deze e-mail: uw wachtwoord blijft zoals het is.

            Met vriendelijke groet,
            {{ garage.name }}
            """),
        "{{ garage.name }}: stel een nieuw wachtwoord in via {{ link }} (geldig {{ expires_minutes }} minuten).",
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


def _types(table: str, types: tuple[str, ...]) -> None:
    name = op.f("ck_" + table + "_type")
    op.drop_constraint(name, table, schema=SCHEMA, type_="check")
    op.create_check_constraint(name, table, "type IN (" + ", ".join("'" + t + "'" for t in types) + ")", schema=SCHEMA)


def upgrade() -> None:
    op.add_column(
        'notifications', sa.Column('addressee', postgresql.JSONB(astext_type=sa.Text()), nullable=True), schema=SCHEMA
    )
    op.alter_column('notifications', 'customer_id', existing_type=sa.UUID(), nullable=True, schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_notifications_one_recipient"),
        "notifications",
        "num_nonnulls(customer_id, addressee) = 1",
        schema=SCHEMA,
    )
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
                "updated_by": "migration 0003",
                "version": 1,
            }
            for (type_, language), (subject, body, sms_body) in TEMPLATES.items()
        ],
    )


def downgrade() -> None:
    op.execute("DELETE FROM notifications.notification_templates WHERE type = 'password_reset'")
    op.execute(
        "DELETE FROM notifications.notification_attempts WHERE notification_id IN "
        "(SELECT id FROM notifications.notifications WHERE addressee IS NOT NULL)"
    )
    op.execute("DELETE FROM notifications.notifications WHERE addressee IS NOT NULL")
    _types("notification_templates", BEFORE)
    _types("notifications", BEFORE)
    op.drop_constraint(op.f("ck_notifications_one_recipient"), "notifications", schema=SCHEMA, type_="check")
    op.alter_column('notifications', 'customer_id', existing_type=sa.UUID(), nullable=False, schema=SCHEMA)
    op.drop_column('notifications', 'addressee', schema=SCHEMA)
