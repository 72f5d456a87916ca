"""invoices, lines, credit notes, payments, number counters, outbox; immutability triggers

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 18:08:49.463658
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from service_kit.migrations import create_kit_tables, drop_kit_tables
from service_kit.outbox import create_outbox_table, drop_outbox_table

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "invoicing"


# Issued documents are legal records: the database itself refuses to change or delete
# them. On an invoice only what follows issue may change (money credited and paid,
# status, sending, reminders, version); lines, credit notes and payments never change.
# TRUNCATE (used by tests) is not a row operation and is not affected.
DOCUMENT_COLUMNS = (
    "id, number, year, sequence, job_id, customer_id, vehicle_id, currency, issue_date, due_date, "
    "payment_terms_days, issued_at, issued_by, customer_kind, customer_name, customer_vat_number, "
    "customer_contact_person, customer_email, customer_phone, customer_street, customer_postal_code, "
    "customer_city, customer_country, customer_language, vehicle_plate, vehicle_description, odometer, "
    "odometer_unit, job_description, job_completed_at, discount_percent, discount_amount, subtotal, "
    "line_discounts, invoice_discount, total_net, total_vat, total_gross, created_at"
)


def _row(prefix: str) -> str:
    return ", ".join(f"{prefix}.{column.strip()}" for column in DOCUMENT_COLUMNS.split(","))


IMMUTABLE = f"""
CREATE FUNCTION invoicing.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'an issued % row is never changed or deleted', TG_TABLE_NAME
        USING ERRCODE = 'restrict_violation';
END $$;

CREATE FUNCTION invoicing.guard_invoice() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF ROW({_row("NEW")}) IS DISTINCT FROM ROW({_row("OLD")}) THEN
        RAISE EXCEPTION 'invoice % is issued: its document fields never change', OLD.number
            USING ERRCODE = 'restrict_violation';
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER invoices_issued_fields BEFORE UPDATE ON invoicing.invoices
    FOR EACH ROW EXECUTE FUNCTION invoicing.guard_invoice();
CREATE TRIGGER invoices_never_deleted BEFORE DELETE ON invoicing.invoices
    FOR EACH ROW EXECUTE FUNCTION invoicing.refuse_change();
CREATE TRIGGER invoice_lines_immutable BEFORE UPDATE OR DELETE ON invoicing.invoice_lines
    FOR EACH ROW EXECUTE FUNCTION invoicing.refuse_change();
CREATE TRIGGER credit_notes_immutable BEFORE UPDATE OR DELETE ON invoicing.credit_notes
    FOR EACH ROW EXECUTE FUNCTION invoicing.refuse_change();
CREATE TRIGGER credit_note_lines_immutable BEFORE UPDATE OR DELETE ON invoicing.credit_note_lines
    FOR EACH ROW EXECUTE FUNCTION invoicing.refuse_change();
CREATE TRIGGER payments_immutable BEFORE UPDATE OR DELETE ON invoicing.payments
    FOR EACH ROW EXECUTE FUNCTION invoicing.refuse_change();
"""

DROP_IMMUTABLE = """
DROP TRIGGER payments_immutable ON invoicing.payments;
DROP TRIGGER credit_note_lines_immutable ON invoicing.credit_note_lines;
DROP TRIGGER credit_notes_immutable ON invoicing.credit_notes;
DROP TRIGGER invoice_lines_immutable ON invoicing.invoice_lines;
DROP TRIGGER invoices_never_deleted ON invoicing.invoices;
DROP TRIGGER invoices_issued_fields ON invoicing.invoices;
DROP FUNCTION invoicing.guard_invoice();
DROP FUNCTION invoicing.refuse_change();
"""


def upgrade() -> None:
    op.create_table('document_counters',
    sa.Column('series', sa.String(length=16), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last_number', sa.Integer(), nullable=False),
    sa.CheckConstraint("series IN ('invoice', 'credit_note')", name=op.f('ck_document_counters_series')),
    sa.CheckConstraint('last_number > 0', name=op.f('ck_document_counters_last_number_positive')),
    sa.PrimaryKeyConstraint('series', 'year', name=op.f('pk_document_counters')),
    schema='invoicing'
    )
    create_kit_tables(SCHEMA)
    op.create_table('invoices',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('vehicle_id', sa.UUID(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('payment_terms_days', sa.Integer(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.Column('customer_kind', sa.String(length=16), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=False),
    sa.Column('customer_vat_number', sa.String(length=20), nullable=True),
    sa.Column('customer_contact_person', sa.String(length=200), nullable=True),
    sa.Column('customer_email', sa.String(length=320), nullable=True),
    sa.Column('customer_phone', sa.String(length=20), nullable=True),
    sa.Column('customer_street', sa.String(length=200), nullable=True),
    sa.Column('customer_postal_code', sa.String(length=20), nullable=True),
    sa.Column('customer_city', sa.String(length=100), nullable=True),
    sa.Column('customer_country', sa.String(length=2), nullable=True),
    sa.Column('customer_language', sa.String(length=10), nullable=False),
    sa.Column('vehicle_plate', sa.String(length=20), nullable=True),
    sa.Column('vehicle_description', sa.String(length=200), nullable=True),
    sa.Column('odometer', sa.Integer(), nullable=True),
    sa.Column('odometer_unit', sa.String(length=2), nullable=True),
    sa.Column('job_description', sa.Text(), nullable=False),
    sa.Column('job_completed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('discount_percent', sa.Numeric(precision=5, scale=2), nullable=True),
    sa.Column('discount_amount', sa.Integer(), nullable=True),
    sa.Column('subtotal', sa.Integer(), nullable=False),
    sa.Column('line_discounts', sa.Integer(), nullable=False),
    sa.Column('invoice_discount', sa.Integer(), nullable=False),
    sa.Column('total_net', sa.Integer(), nullable=False),
    sa.Column('total_vat', sa.Integer(), nullable=False),
    sa.Column('total_gross', sa.Integer(), nullable=False),
    sa.Column('credited_net', sa.Integer(), nullable=False),
    sa.Column('credited_vat', sa.Integer(), nullable=False),
    sa.Column('credited_gross', sa.Integer(), nullable=False),
    sa.Column('paid', sa.Integer(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('send_count', sa.Integer(), nullable=False),
    sa.Column('reminders_sent', sa.Integer(), nullable=False),
    sa.Column('last_reminder_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("odometer_unit IS NULL OR odometer_unit IN ('km', 'mi')", name=op.f('ck_invoices_odometer_unit')),
    sa.CheckConstraint("status IN ('issued', 'sent', 'partially_paid', 'paid', 'credited')", name=op.f('ck_invoices_status')),
    sa.CheckConstraint('credited_gross = credited_net + credited_vat', name=op.f('ck_invoices_credited_gross')),
    sa.CheckConstraint('credited_gross >= 0 AND credited_gross <= total_gross', name=op.f('ck_invoices_credited_within_gross')),
    sa.CheckConstraint('due_date >= issue_date', name=op.f('ck_invoices_due_after_issue')),
    sa.CheckConstraint('paid >= 0 AND paid <= total_gross', name=op.f('ck_invoices_paid_within_gross')),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_invoices_sequence_positive')),
    sa.CheckConstraint('subtotal - line_discounts - invoice_discount = total_net', name=op.f('ck_invoices_net_is_subtotal_less_discounts')),
    sa.CheckConstraint('total_gross = total_net + total_vat', name=op.f('ck_invoices_gross_is_net_plus_vat')),
    sa.CheckConstraint('total_net >= 0 AND total_vat >= 0', name=op.f('ck_invoices_totals_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoices')),
    sa.UniqueConstraint('job_id', name=op.f('uq_invoices_job_id')),
    sa.UniqueConstraint('number', name=op.f('uq_invoices_number')),
    sa.UniqueConstraint('year', 'sequence', name=op.f('uq_invoices_year_sequence')),
    schema='invoicing'
    )
    op.create_index('ix_invoices_customer_id_id', 'invoices', ['customer_id', 'id'], unique=False, schema='invoicing')
    op.create_index('ix_invoices_issue_date_id', 'invoices', ['issue_date', 'id'], unique=False, schema='invoicing')
    op.create_index('ix_invoices_open_due_date', 'invoices', ['due_date'], unique=False, schema='invoicing', postgresql_where=sa.text("status IN ('issued', 'sent', 'partially_paid')"))
    # The outbox: requests to notification-management, written with the invoice.
    create_outbox_table(SCHEMA)
    op.create_table('credit_notes',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('invoice_id', sa.UUID(), nullable=False),
    sa.Column('customer_id', sa.UUID(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('full', sa.Boolean(), nullable=False),
    sa.Column('issue_date', sa.Date(), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by', sa.String(length=200), nullable=False),
    sa.Column('total_net', sa.Integer(), nullable=False),
    sa.Column('total_vat', sa.Integer(), nullable=False),
    sa.Column('total_gross', sa.Integer(), nullable=False),
    sa.CheckConstraint('sequence > 0', name=op.f('ck_credit_notes_sequence_positive')),
    sa.CheckConstraint('total_gross = total_net + total_vat', name=op.f('ck_credit_notes_gross_is_net_plus_vat')),
    sa.CheckConstraint('total_net <= 0 AND total_vat <= 0', name=op.f('ck_credit_notes_amounts_negative')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoicing.invoices.id'], name=op.f('fk_credit_notes_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_notes')),
    sa.UniqueConstraint('number', name=op.f('uq_credit_notes_number')),
    sa.UniqueConstraint('year', 'sequence', name=op.f('uq_credit_notes_year_sequence')),
    schema='invoicing'
    )
    op.create_index('ix_credit_notes_customer_id_id', 'credit_notes', ['customer_id', 'id'], unique=False, schema='invoicing')
    op.create_index('ix_credit_notes_invoice_id', 'credit_notes', ['invoice_id'], unique=False, schema='invoicing')
    op.create_table('invoice_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('invoice_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('job_line_id', sa.UUID(), nullable=True),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('part_number', sa.String(length=64), nullable=True),
    sa.Column('quantity_hundredths', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Integer(), nullable=False),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('line_discount', sa.Integer(), nullable=False),
    sa.Column('invoice_discount', sa.Integer(), nullable=False),
    sa.Column('net', sa.Integer(), nullable=False),
    sa.Column('vat', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('labour', 'part')", name=op.f('ck_invoice_lines_kind')),
    sa.CheckConstraint('amount - line_discount - invoice_discount = net', name=op.f('ck_invoice_lines_net_is_amount_less_discounts')),
    sa.CheckConstraint('net >= 0 AND vat >= 0', name=op.f('ck_invoice_lines_not_negative')),
    sa.CheckConstraint('quantity_hundredths > 0', name=op.f('ck_invoice_lines_quantity_positive')),
    sa.CheckConstraint('unit_price >= 0', name=op.f('ck_invoice_lines_unit_price_not_negative')),
    sa.CheckConstraint('vat_rate >= 0 AND vat_rate <= 100', name=op.f('ck_invoice_lines_vat_rate_percent')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoicing.invoices.id'], name=op.f('fk_invoice_lines_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_invoice_lines')),
    sa.UniqueConstraint('invoice_id', 'position', name=op.f('uq_invoice_lines_invoice_id_position')),
    schema='invoicing'
    )
    op.create_table('payments',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('invoice_id', sa.UUID(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('amount', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reference', sa.String(length=200), nullable=True),
    sa.Column('recorded_by', sa.String(length=200), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('payment', 'refund')", name=op.f('ck_payments_kind')),
    sa.CheckConstraint("method IN ('cash', 'card', 'bank_transfer')", name=op.f('ck_payments_method')),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['invoice_id'], ['invoicing.invoices.id'], name=op.f('fk_payments_invoice_id_invoices')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    schema='invoicing'
    )
    op.create_index('ix_payments_invoice_id', 'payments', ['invoice_id'], unique=False, schema='invoicing')
    op.create_table('credit_note_lines',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('credit_note_id', sa.UUID(), nullable=False),
    sa.Column('invoice_line_id', sa.UUID(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('quantity_hundredths', sa.Integer(), nullable=True),
    sa.Column('vat_rate', sa.Numeric(precision=5, scale=2), nullable=False),
    sa.Column('net', sa.Integer(), nullable=False),
    sa.Column('vat', sa.Integer(), nullable=False),
    sa.CheckConstraint('net <= 0 AND vat <= 0 AND net + vat < 0', name=op.f('ck_credit_note_lines_amounts_negative')),
    sa.CheckConstraint('quantity_hundredths IS NULL OR quantity_hundredths > 0', name=op.f('ck_credit_note_lines_quantity_positive')),
    sa.ForeignKeyConstraint(['credit_note_id'], ['invoicing.credit_notes.id'], name=op.f('fk_credit_note_lines_credit_note_id_credit_notes')),
    sa.ForeignKeyConstraint(['invoice_line_id'], ['invoicing.invoice_lines.id'], name=op.f('fk_credit_note_lines_invoice_line_id_invoice_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_credit_note_lines')),
    sa.UniqueConstraint('credit_note_id', 'position', name=op.f('uq_credit_note_lines_credit_note_id_position')),
    schema='invoicing'
    )
    op.create_index('ix_credit_note_lines_invoice_line_id', 'credit_note_lines', ['invoice_line_id'], unique=False, schema='invoicing')
    op.execute(IMMUTABLE)


def downgrade() -> None:
    op.execute(DROP_IMMUTABLE)
    op.drop_index('ix_credit_note_lines_invoice_line_id', table_name='credit_note_lines', schema='invoicing')
    op.drop_table('credit_note_lines', schema='invoicing')
    op.drop_index('ix_payments_invoice_id', table_name='payments', schema='invoicing')
    op.drop_table('payments', schema='invoicing')
    op.drop_table('invoice_lines', schema='invoicing')
    op.drop_index('ix_credit_notes_invoice_id', table_name='credit_notes', schema='invoicing')
    op.drop_index('ix_credit_notes_customer_id_id', table_name='credit_notes', schema='invoicing')
    op.drop_table('credit_notes', schema='invoicing')
    drop_outbox_table(SCHEMA)
    op.drop_index('ix_invoices_open_due_date', table_name='invoices', schema='invoicing', postgresql_where=sa.text("status IN ('issued', 'sent', 'partially_paid')"))
    op.drop_index('ix_invoices_issue_date_id', table_name='invoices', schema='invoicing')
    op.drop_index('ix_invoices_customer_id_id', table_name='invoices', schema='invoicing')
    op.drop_table('invoices', schema='invoicing')
    drop_kit_tables(SCHEMA)
    op.drop_table('document_counters', schema='invoicing')
