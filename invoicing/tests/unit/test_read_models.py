"""An invoice and a credit note as the API shows them: the status of the day and the
PDF links are worked out by the service, so the schemas dump them with no app (and no
configuration) around."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from invoicing.models import CreditNote, Invoice
from invoicing.schemas import CreditNoteSchema, InvoiceSchema
from invoicing.service.read_models import credit_note_as_shown, invoice_as_shown
from invoicing.service.settings import Settings

from invoicing import domain

SETTINGS = Settings(base_url="https://invoicing.example")
DUE = date(2026, 3, 15)


def invoice(status: str = domain.SENT, paid: int = 0) -> Invoice:
    issued = datetime(2026, 3, 1, 9, tzinfo=UTC)
    return Invoice(
        id=uuid.uuid4(),
        number="2026-000001",
        job_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        status=status,
        currency="EUR",
        issue_date=date(2026, 3, 1),
        due_date=DUE,
        payment_terms_days=14,
        issued_at=issued,
        issued_by="advisor",
        customer_kind="person",
        customer_name="A. Customer",
        customer_language="en",
        job_description="annual service",
        subtotal=10000,
        line_discounts=0,
        invoice_discount=0,
        total_net=10000,
        total_vat=2100,
        total_gross=12100,
        credited_net=0,
        credited_vat=0,
        credited_gross=0,
        paid=paid,
        send_count=1,
        reminders_sent=0,
        created_at=issued,
        updated_at=issued,
        version=1,
    )


def test_an_open_invoice_past_its_due_date_is_shown_overdue_and_keeps_its_stored_status():
    stored = invoice()
    shown = invoice_as_shown(stored, settings=SETTINGS, today=date(2026, 3, 16))
    assert (shown.status, shown.overdue) == (domain.OVERDUE, True)
    assert stored.status == domain.SENT
    assert shown.number == "2026-000001"  # everything else is the stored invoice's


def test_on_its_due_date_or_paid_an_invoice_is_not_overdue():
    assert invoice_as_shown(invoice(), settings=SETTINGS, today=DUE).status == domain.SENT
    paid = invoice(domain.PAID, paid=12100)
    shown = invoice_as_shown(paid, settings=SETTINGS, today=date(2026, 6, 1))
    assert (shown.status, shown.overdue) == (domain.PAID, False)


def test_the_schemas_dump_what_the_service_worked_out_without_an_app():
    stored = invoice()
    dumped = InvoiceSchema().dump(invoice_as_shown(stored, settings=SETTINGS, today=date(2026, 4, 1)))
    assert (dumped["status"], dumped["overdue"]) == ("overdue", True)
    assert dumped["pdf_url"] == f"https://invoicing.example/api/v1/invoices/{stored.id}/pdf"
    assert dumped["totals"]["outstanding"] == 12100
    note = CreditNote(id=uuid.uuid4(), number="CN-2026-000001", invoice=stored, lines=[])
    dumped_note = CreditNoteSchema().dump(credit_note_as_shown(note, settings=SETTINGS))
    assert dumped_note["pdf_url"] == f"https://invoicing.example/api/v1/credit-notes/{note.id}/pdf"
    assert dumped_note["invoice_number"] == "2026-000001"
