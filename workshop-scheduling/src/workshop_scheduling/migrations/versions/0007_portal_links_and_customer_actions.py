"""the customer portal: the links this service issues (``portal_links``), the customer's
confirmation, and who last moved or cancelled an appointment

Revision ID: 0007
Revises: 0006

``portal_links`` is the kit's table (``service_kit.links``): every appointment and
booking link sent to a customer, so a link can be revoked and its uses are counted.
``customer_confirmed_at`` is set when the customer confirms through the portal;
``changed_by``/``changed_by_name`` say who last moved or cancelled an appointment (an
account, or ``customer-portal``); ``customer_client_address`` the customer's address as
the portal saw it at their last action there. Appointments made before stay null.
"""

import sqlalchemy as sa
from alembic import op

from service_kit.links import create_links_table, drop_links_table

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

SCHEMA = "scheduling"


def upgrade() -> None:
    create_links_table(SCHEMA)
    op.add_column("appointments", sa.Column("changed_by", sa.String(200), nullable=True), schema=SCHEMA)
    op.add_column("appointments", sa.Column("changed_by_name", sa.String(200), nullable=True), schema=SCHEMA)
    op.add_column(
        "appointments",
        sa.Column("customer_confirmed_at", sa.DateTime(timezone=True), nullable=True),
        schema=SCHEMA,
    )
    op.add_column(
        "appointments", sa.Column("customer_client_address", sa.String(100), nullable=True), schema=SCHEMA
    )


def downgrade() -> None:
    for column in ("customer_client_address", "customer_confirmed_at", "changed_by_name", "changed_by"):
        op.drop_column("appointments", column, schema=SCHEMA)
    drop_links_table(SCHEMA)
