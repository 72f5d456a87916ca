"""customers carry payment terms (days an invoice gives them to pay)

Revision ID: 0002
Revises: 0001

Customers registered before this migration get the defaults of their kind: a person
pays on collection (0 days), a business on account (30 days, the default of
BUSINESS_PAYMENT_TERMS_DAYS).
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SCHEMA = "customers"


def upgrade() -> None:
    op.add_column("customers", sa.Column("payment_terms_days", sa.Integer(), nullable=True), schema=SCHEMA)
    op.execute(
        "UPDATE customers.customers SET payment_terms_days = CASE WHEN kind = 'business' THEN 30 ELSE 0 END"
    )
    op.alter_column("customers", "payment_terms_days", nullable=False, schema=SCHEMA)
    op.create_check_constraint(
        op.f("ck_customers_payment_terms_days"),
        "customers",
        "payment_terms_days BETWEEN 0 AND 365",
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_customers_payment_terms_days"), "customers", schema=SCHEMA, type_="check")
    op.drop_column("customers", "payment_terms_days", schema=SCHEMA)
