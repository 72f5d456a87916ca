"""invoices, credit notes and payments keep the name of who issued or recorded them

Revision ID: 0004
Revises: 0003

`issued_by_name` and `recorded_by_name` are the display name the token carried at that
moment (issue 16: identity's tokens name the person; a service's token names the
service), so renaming a person later does not rewrite a legal record. Records made
before this migration get their subject as the name: credit notes and payments are
never updated, so their guards stand aside for this one statement, in this migration's
transaction. An invoice's issued_by_name is guarded like its other document fields.
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "invoicing"
NAMES = (("invoices", "issued_by_name"), ("credit_notes", "issued_by_name"), ("payments", "recorded_by_name"))

BACKFILL = """
UPDATE invoicing.invoices SET issued_by_name = issued_by;
ALTER TABLE invoicing.credit_notes DISABLE TRIGGER credit_notes_immutable;
UPDATE invoicing.credit_notes SET issued_by_name = issued_by;
ALTER TABLE invoicing.credit_notes ENABLE TRIGGER credit_notes_immutable;
ALTER TABLE invoicing.payments DISABLE TRIGGER payments_immutable;
UPDATE invoicing.payments SET recorded_by_name = recorded_by;
ALTER TABLE invoicing.payments ENABLE TRIGGER payments_immutable;
"""

GUARD = """
CREATE FUNCTION invoicing.guard_invoice_issued_by_name() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.issued_by_name IS DISTINCT FROM OLD.issued_by_name THEN
        RAISE EXCEPTION 'invoice % is issued: its document fields never change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER invoices_issued_by_name BEFORE UPDATE ON invoicing.invoices
    FOR EACH ROW EXECUTE FUNCTION invoicing.guard_invoice_issued_by_name();
"""

DROP_GUARD = """
DROP TRIGGER invoices_issued_by_name ON invoicing.invoices;
DROP FUNCTION invoicing.guard_invoice_issued_by_name();
"""


def upgrade() -> None:
    for table, name in NAMES:
        op.add_column(table, sa.Column(name, sa.String(200), nullable=True), schema=SCHEMA)
    op.execute(BACKFILL)
    for table, name in NAMES:
        op.alter_column(table, name, nullable=False, schema=SCHEMA)
    op.execute(GUARD)


def downgrade() -> None:
    op.execute(DROP_GUARD)
    for table, name in NAMES:
        op.drop_column(table, name, schema=SCHEMA)
