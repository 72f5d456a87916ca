"""a technician may be linked to their identity account

Revision ID: 0005
Revises: 0004

`account_subject` is the technician's account id at identity (their token's subject),
set by an admin: the id their clock and jobs carry in maintenance-job-management, so a
technician's appointments and their clock entries are known to be the same person's.
One technician an account; technicians made before this have none until an admin sets it.
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

SCHEMA = "scheduling"


def upgrade() -> None:
    op.add_column("technicians", sa.Column("account_subject", sa.String(200), nullable=True), schema=SCHEMA)
    op.create_index(
        "uq_technicians_account_subject", "technicians", ["account_subject"], unique=True, schema=SCHEMA
    )


def downgrade() -> None:
    op.drop_index("uq_technicians_account_subject", table_name="technicians", schema=SCHEMA)
    op.drop_column("technicians", "account_subject", schema=SCHEMA)
