"""Invoices and credit notes as the API shows them: the stored document, plus what
depends on the day and on configuration — an invoice's status as clients see it
(``overdue`` once an open invoice is past its due date), its overdue flag, and each
document's PDF link. Worked out here so that the schemas only dump."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from invoicing import domain
from invoicing.models import CreditNote, Invoice
from invoicing.service.settings import Settings


@dataclass(frozen=True)
class InvoiceAsShown:
    """``status`` is the status clients see (the stored one is ``invoice.status``); any
    attribute not worked out here (number, lines, totals, ...) is the stored invoice's."""

    invoice: Invoice
    status: str
    overdue: bool
    pdf_url: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle look these up before the fields are set
            raise AttributeError(name)
        return getattr(self.invoice, name)


@dataclass(frozen=True)
class CreditNoteAsShown:
    """Any attribute but the PDF link is the stored credit note's."""

    credit_note: CreditNote
    pdf_url: str

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # copy and pickle look these up before the fields are set
            raise AttributeError(name)
        return getattr(self.credit_note, name)


def invoice_as_shown(invoice: Invoice, *, settings: Settings, today: date | None = None) -> InvoiceAsShown:
    """``today`` defaults to the date at the garage now."""
    today = settings.today() if today is None else today
    return InvoiceAsShown(
        invoice=invoice,
        status=domain.shown_status(
            invoice.status, due_date=invoice.due_date, today=today, outstanding=invoice.outstanding
        ),
        overdue=domain.is_overdue(
            invoice.status, due_date=invoice.due_date, today=today, outstanding=invoice.outstanding
        ),
        pdf_url=settings.invoice_pdf_url(invoice.id),
    )


def credit_note_as_shown(note: CreditNote, *, settings: Settings) -> CreditNoteAsShown:
    return CreditNoteAsShown(credit_note=note, pdf_url=settings.credit_note_pdf_url(note.id))
