"""pay links for the customer portal, and payments a payment provider took online

Revision ID: 0005
Revises: 0004

Issue 18: `invoice_issued` and `payment_reminder` carry a pay link to the customer
portal; `portal_links` records every link this service issued (service_kit.links).
A payment the provider took is recorded with method `online`, the provider, its
payment id (once per provider, ever: the unique constraint) and how the customer paid
there. Such money was received whatever the balance was, so an invoice's `paid` is no
longer bounded by its gross: what is paid beyond what is owed is a refund due.
"""

import sqlalchemy as sa
from alembic import op

from service_kit.links import create_links_table, drop_links_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "invoicing"


def upgrade() -> None:
    create_links_table(SCHEMA)

    op.drop_constraint("ck_invoices_paid_within_gross", "invoices", schema=SCHEMA)
    op.create_check_constraint(op.f("ck_invoices_paid_not_negative"), "invoices", "paid >= 0", schema=SCHEMA)

    op.add_column("payments", sa.Column("provider", sa.String(16), nullable=True), schema=SCHEMA)
    op.add_column("payments", sa.Column("provider_payment_id", sa.String(100), nullable=True), schema=SCHEMA)
    op.add_column("payments", sa.Column("provider_method", sa.String(32), nullable=True), schema=SCHEMA)
    op.drop_constraint("ck_payments_method", "payments", schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_payments_method"),
        "payments",
        "method IN ('cash', 'card', 'bank_transfer', 'online')",
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_payments_provider"), "payments", "provider IN ('mollie')", schema=SCHEMA
    )
    op.create_check_constraint(
        op.f("ck_payments_provider_names_its_payment"),
        "payments",
        "(provider IS NULL) = (provider_payment_id IS NULL)",
        schema=SCHEMA,
    )
    op.create_check_constraint(
        op.f("ck_payments_provider_payment_online"),
        "payments",
        "provider IS NULL OR (kind = 'payment' AND method = 'online')",
        schema=SCHEMA,
    )
    op.create_unique_constraint(
        op.f("uq_payments_provider_provider_payment_id"),
        "payments",
        ["provider", "provider_payment_id"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint("uq_payments_provider_provider_payment_id", "payments", schema=SCHEMA)
    for name in ("provider_payment_online", "provider_names_its_payment", "provider", "method"):
        op.drop_constraint(f"ck_payments_{name}", "payments", schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_payments_method"), "payments", "method IN ('cash', 'card', 'bank_transfer')", schema=SCHEMA
    )
    for column in ("provider_method", "provider_payment_id", "provider"):
        op.drop_column("payments", column, schema=SCHEMA)
    op.drop_constraint("ck_invoices_paid_not_negative", "invoices", schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_invoices_paid_within_gross"), "invoices", "paid >= 0 AND paid <= total_gross", schema=SCHEMA
    )
    drop_links_table(SCHEMA)
