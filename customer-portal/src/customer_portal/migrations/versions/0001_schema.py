"""schema: the portal's own schema and Alembic's version table in it (the pages keep
no data; the payments and their outbox come in the next migration)

Revision ID: 0001
Revises:
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # run_migrations creates the schema ``customer_portal`` and the version table in it.
    pass


def downgrade() -> None:
    pass
