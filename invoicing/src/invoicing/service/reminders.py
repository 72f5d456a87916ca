"""Payment reminders: the customer of an overdue invoice is reminded, with the
invoice's PDF, through notification-management's outbox; run daily by a CronJob."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.clients import notification_management
from invoicing.models import Invoice
from invoicing.service.sending import message_data
from invoicing.service.settings import Settings
from service_kit.clock import utcnow
from service_kit.outbox import enqueue


def send_payment_reminders(*, session: Session, settings: Settings, now: datetime | None = None) -> int:
    """Remind the customer of every overdue invoice, at most ``reminder_max`` times and
    ``reminder_interval_days`` apart. Run by a CronJob; running it twice the same day
    sends nothing twice (the interval, and per-reminder outbox keys)."""
    now = now or utcnow()
    today = settings.today(now)
    due_again = now - timedelta(days=settings.reminder_interval_days)
    invoices = session.scalars(
        select(Invoice)
        .where(
            Invoice.status.in_(domain.OPEN_STATUSES),
            Invoice.due_date < today,
            Invoice.reminders_sent < settings.reminder_max,
            or_(Invoice.last_reminder_at.is_(None), Invoice.last_reminder_at <= due_again),
        )
        .order_by(Invoice.due_date, Invoice.id)
        .with_for_update(of=Invoice, skip_locked=True)
    ).all()
    for invoice in invoices:
        invoice.reminders_sent += 1
        invoice.last_reminder_at = now
        enqueue(
            session,
            notification_management.notify(
                customer_id=invoice.customer_id,
                type_=notification_management.PAYMENT_REMINDER,
                data=message_data(session, invoice, settings=settings),
                channel="email" if invoice.customer_email else None,
                attachments=[
                    notification_management.pdf_attachment(
                        url=settings.invoice_pdf_url(invoice.id), number=invoice.number
                    )
                ],
                idempotency_key=f"payment-reminder-{invoice.id}-{invoice.reminders_sent}",
            ),
        )
    session.flush()
    return len(invoices)
