"""What every later change to an issued invoice (a payment, a credit note, sending)
does around it. It first locks the invoice's row, so concurrent changes run one after
the other against the balance the previous one left; afterwards the stored status is
settled from the new balance."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.models import Invoice


def lock_invoice(session: Session, invoice_id: uuid.UUID) -> Invoice:
    invoice = session.scalars(
        select(Invoice)
        .where(Invoice.id == invoice_id)
        .with_for_update(of=Invoice)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if invoice is None:
        raise domain.InvoiceNotFound(invoice_id)
    return invoice


def settle(invoice: Invoice) -> None:
    invoice.status = domain.settled_status(invoice.balance, sent=invoice.sent_at is not None)
