"""Sending an invoice to the customer, with its PDF, through notification-management's
outbox: when it is issued, and again when someone asks."""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from invoicing.clients import notification_management
from invoicing.models import Invoice
from invoicing.service.invoice_changes import lock_invoice, settle
from invoicing.service.read_models import InvoiceAsShown, invoice_as_shown
from invoicing.service.settings import Settings
from service_kit.clock import utcnow
from service_kit.links import issue_link, link_url
from service_kit.outbox import enqueue

INVOICE_LINK = "invoice"  # the customer portal's pay link: see and pay one invoice
# A pay link works until the end of this many days after the due date (the garage's day).
PAY_LINK_DAYS_AFTER_DUE = 60


# A link sent late (a reminder long after the due date) still works for this long.
PAY_LINK_MIN_DAYS = 30


def pay_link_expires_at(invoice: Invoice, *, settings: Settings) -> datetime:
    """The end of the due date + 60 days, at the garage, and never sooner than 30 days
    from now (a reminder sent late carries a link that works)."""
    last_day = max(
        invoice.due_date + timedelta(days=PAY_LINK_DAYS_AFTER_DUE),
        utcnow().astimezone(ZoneInfo(settings.timezone)).date() + timedelta(days=PAY_LINK_MIN_DAYS),
    )
    return datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=ZoneInfo(settings.timezone))


def pay_url(session: Session, invoice: Invoice, *, settings: Settings) -> str:
    """A new pay link to ``invoice`` for its customer, recorded in this transaction (so
    it exists exactly when the message asking for it does)."""
    token = issue_link(
        session,
        purpose=INVOICE_LINK,
        resource_id=invoice.id,
        customer_id=invoice.customer_id,
        expires_at=pay_link_expires_at(invoice, settings=settings),
    )
    return link_url(INVOICE_LINK, token)


def message_data(session: Session, invoice: Invoice, *, settings: Settings) -> dict[str, Any]:
    """What a message about ``invoice`` (issued, reminder) tells the customer, with a
    new pay link."""
    return notification_management.invoice_data(
        invoice_id=invoice.id,
        number=invoice.number,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        total_gross=invoice.total_gross,
        outstanding=invoice.outstanding,
        currency=invoice.currency,
        plate=invoice.vehicle_plate,
        pay_url=pay_url(session, invoice, settings=settings),
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
            data=message_data(session, invoice, settings=settings),
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
