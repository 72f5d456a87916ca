"""Sending an invoice to the customer, with its PDF, through notification-management's
outbox: when it is issued, and again when someone asks."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from invoicing.clients import notification_management
from invoicing.models import Invoice
from invoicing.service.invoice_changes import lock_invoice, settle
from invoicing.service.read_models import InvoiceAsShown, invoice_as_shown
from invoicing.service.settings import Settings
from service_kit.clock import utcnow
from service_kit.outbox import enqueue


def message_data(invoice: Invoice) -> dict[str, Any]:
    """What a message about ``invoice`` (issued, reminder) tells the customer."""
    return notification_management.invoice_data(
        invoice_id=invoice.id,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        total_gross=invoice.total_gross,
        outstanding=invoice.outstanding,
        currency=invoice.currency,
        plate=invoice.vehicle_plate,
    )


def request_sending(
    session: Session, invoice: Invoice, *, settings: Settings, channel: str | None = None
) -> None:
    """Ask notification-management, through the outbox, to send the invoice with its
    PDF. The row commits with this transaction: the invoice exists before anyone is
    told about it. Each send has its own key, so a repeat of one is harmless and an
    explicit re-send is a new message."""
    invoice.send_count += 1
    if channel is None and invoice.customer_email:
        channel = "email"  # the PDF travels by email; without an address the customer's channel decides
    enqueue(
        session,
        notification_management.notify(
            customer_id=invoice.customer_id,
            type_=notification_management.INVOICE_ISSUED,
            data=message_data(invoice),
            channel=channel,
            attachments=[
                notification_management.pdf_attachment(
                    url=settings.invoice_pdf_url(invoice.id), number=invoice.number
                )
            ],
            idempotency_key=f"invoice-{invoice.id}-send-{invoice.send_count}",
        ),
    )
    invoice.sent_at = invoice.sent_at or utcnow()
    settle(invoice)


def send_invoice(
    *, session: Session, invoice_id: uuid.UUID, settings: Settings, channel: str | None = None
) -> InvoiceAsShown:
    """Send (again) explicitly, e.g. when the customer lost the email."""
    invoice = lock_invoice(session, invoice_id)
    request_sending(session, invoice, settings=settings, channel=channel)
    session.flush()
    return invoice_as_shown(invoice, settings=settings)
