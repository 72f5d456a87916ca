"""Credit notes: all of an invoice that is left, or some of its lines in full or in
part, taken back in the credit notes' own gap-free number series."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from invoicing import domain, minor_units
from invoicing.models import CreditNote, CreditNoteLine, Invoice, InvoiceLine
from invoicing.service import invoices
from invoicing.service.invoice_changes import lock_invoice, settle
from invoicing.service.read_models import CreditNoteAsShown, credit_note_as_shown
from invoicing.service.settings import Settings
from service_kit.auth import Actor
from service_kit.pagination import Page, keyset_page


def _creditable(session: Session, invoice: Invoice) -> dict[uuid.UUID, domain.CreditableLine]:
    credited = {
        row.invoice_line_id: (-row.net, -row.vat, row.quantity)
        for row in session.execute(
            select(
                CreditNoteLine.invoice_line_id,
                func.sum(CreditNoteLine.net).label("net"),
                func.sum(CreditNoteLine.vat).label("vat"),
                func.coalesce(func.sum(CreditNoteLine.quantity_hundredths), 0).label("quantity"),
            )
            .join(InvoiceLine, InvoiceLine.id == CreditNoteLine.invoice_line_id)
            .where(InvoiceLine.invoice_id == invoice.id)
            .group_by(CreditNoteLine.invoice_line_id)
        )
    }
    return {
        line.id: domain.CreditableLine(
            id=line.id,
            quantity_hundredths=line.quantity_hundredths,
            net=line.net,
            vat=line.vat,
            vat_rate=line.vat_rate,
            credited_net=credited.get(line.id, (0, 0, 0))[0],
            credited_vat=credited.get(line.id, (0, 0, 0))[1],
            credited_quantity=credited.get(line.id, (0, 0, 0))[2],
        )
        for line in invoice.lines
    }


def issue_credit_note(
    *, session: Session, data: Mapping[str, Any], settings: Settings, issued_by: Actor
) -> CreditNoteAsShown:
    """A credit note taking back all that is left of an invoice (no ``lines``) or the
    given lines, in part (a quantity or a net amount) or whole."""
    invoice = lock_invoice(session, data["invoice_id"])
    creditable = _creditable(session, invoice)
    requested = data.get("lines")
    if not requested:
        if invoice.balance.owed <= 0:
            raise domain.InvoiceFullyCredited(invoice.id)
        credits = domain.full_credit(creditable.values())
    else:
        credits = []
        seen: set[uuid.UUID] = set()
        for entry in requested:
            line_id = entry["invoice_line_id"]
            if line_id not in creditable:
                raise domain.InvalidCreditLine(f"invoice {invoice.number} has no line {line_id}")
            if line_id in seen:
                raise domain.InvalidCreditLine(f"line {line_id} is named more than once")
            seen.add(line_id)
            credits.append(
                domain.credit_line(
                    creditable[line_id],
                    quantity_hundredths=(
                        None if entry.get("quantity") is None else minor_units.hundredths(entry["quantity"])
                    ),
                    amount=entry.get("amount"),
                )
            )
    if not credits:
        raise domain.InvoiceFullyCredited(invoice.id)
    lines_by_id = {line.id: line for line in invoice.lines}
    net = sum(credit.net for credit in credits)
    vat = sum(credit.vat for credit in credits)
    year, sequence, now = invoices.take_number(session, series=domain.CREDIT_NOTE_SERIES, settings=settings)
    today = settings.today(now)
    note = CreditNote(
        number=domain.format_number(domain.CREDIT_NOTE_SERIES, year, sequence),
        year=year,
        sequence=sequence,
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        currency=invoice.currency,
        reason=data["reason"].strip(),
        full=not requested,
        issue_date=today,
        issued_at=now,
        **issued_by.fields("issued_by"),
        total_net=-net,
        total_vat=-vat,
        total_gross=-(net + vat),
    )
    session.add(note)
    session.flush()
    for position, credit in enumerate(credits, start=1):
        original = lines_by_id[credit.line_id]
        session.add(
            CreditNoteLine(
                credit_note_id=note.id,
                invoice_line_id=original.id,
                position=position,
                description=original.description,
                quantity_hundredths=credit.quantity_hundredths,
                vat_rate=original.vat_rate,
                net=-credit.net,
                vat=-credit.vat,
            )
        )
    invoice.credited_net += net
    invoice.credited_vat += vat
    invoice.credited_gross += net + vat
    settle(invoice)
    session.flush()
    session.refresh(note, ["lines"])
    return credit_note_as_shown(note, settings=settings)


def get_credit_note(*, session: Session, credit_note_id: uuid.UUID) -> CreditNote:
    note = session.get(CreditNote, credit_note_id)
    if note is None:
        raise domain.CreditNoteNotFound(credit_note_id)
    return note


def show_credit_note(*, session: Session, credit_note_id: uuid.UUID, settings: Settings) -> CreditNoteAsShown:
    return credit_note_as_shown(
        get_credit_note(session=session, credit_note_id=credit_note_id), settings=settings
    )


@dataclass(frozen=True)
class CreditNoteFilters:
    invoice_id: uuid.UUID | None = None
    customer_id: uuid.UUID | None = None
    issued_from: date | None = None
    issued_to: date | None = None


def list_credit_notes(
    *, session: Session, filters: CreditNoteFilters, limit: int, cursor: str | None, settings: Settings
) -> Page:
    """Newest first."""
    stmt = select(CreditNote)
    if filters.invoice_id:
        stmt = stmt.where(CreditNote.invoice_id == filters.invoice_id)
    if filters.customer_id:
        stmt = stmt.where(CreditNote.customer_id == filters.customer_id)
    if filters.issued_from:
        stmt = stmt.where(CreditNote.issue_date >= filters.issued_from)
    if filters.issued_to:
        stmt = stmt.where(CreditNote.issue_date <= filters.issued_to)
    page = keyset_page(
        session, stmt, key_columns=[CreditNote.id], limit=limit, cursor=cursor, descending=True
    )
    return Page(
        items=[credit_note_as_shown(note, settings=settings) for note in page.items],
        next_cursor=page.next_cursor,
    )
