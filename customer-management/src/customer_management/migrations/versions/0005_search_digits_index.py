"""digits in a search are looked up in an index of their own: every five in a row

Revision ID: 0005
Revises: 0004

A rare search (a phone number, its last digits, an email address holding a number) was
answered by the trigram index, whose digit trigrams are each held by tens of thousands
of customers: 1.3-2.5 ms in the index at a million customers for one or two rows.
`customers.digit_grams(text)` gives every five digits in a row in a text (the Python
`domain.digit_grams` is the same), and a GIN index holds them for each search text: five
given digits are held by about 150 customers in a million, and the index answers in
0.05-0.3 ms (docs/performance.md). Without fastupdate: a search never reads a pending
list, and a registration writes its few grams straight into the index.

On 1,000,000 customers the index takes about half a minute to build (36 MB), and writes
to the table wait meanwhile (plain CREATE INDEX, in the migration's transaction).
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# Catalog functions named in full: an index's function must not depend on the search path.
DIGIT_GRAMS = """
CREATE FUNCTION customers.digit_grams(search_text text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(pg_catalog.array_agg(DISTINCT pg_catalog.substr(run[1], start, 5)), '{}')
    FROM pg_catalog.regexp_matches(search_text, '[0-9]{5,}', 'g') AS run,
        pg_catalog.generate_series(1, pg_catalog.length(run[1]) - 4) AS start
$$
"""


def upgrade() -> None:
    op.execute(DIGIT_GRAMS)
    op.execute(
        "CREATE INDEX ix_customers_search_digits ON customers.customers "
        "USING gin (customers.digit_grams(search_text)) WITH (fastupdate = off)"
    )
    op.execute("ANALYZE customers.customers")


def downgrade() -> None:
    op.drop_index("ix_customers_search_digits", table_name="customers", schema="customers")
    op.execute("DROP FUNCTION customers.digit_grams(text)")
