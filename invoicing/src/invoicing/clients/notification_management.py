"""notification-management: ``POST /api/v1/notifications`` with ``customer_id``,
``type``, ``data`` for the template, an optional ``channel`` and ``attachments``
(``url``, ``filename``, ``content_type``); answered 202. Always through the outbox.

The templates of ``invoice_issued`` read ``number``, ``total_gross``, ``currency``
and ``due_date``; those of ``payment_reminder`` also ``outstanding``. Both carry
``pay_url``, the customer portal's page to see and pay the invoice (a link this
service signed), which the templates show when it is there."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "notification-management"  # base URL from NOTIFICATION_MANAGEMENT_URL
INVOICE_ISSUED, PAYMENT_REMINDER = "invoice_issued", "payment_reminder"
TYPES = (INVOICE_ISSUED, PAYMENT_REMINDER)


def notify(
    *,
    customer_id: uuid.UUID,
    type_: str,
    data: dict[str, Any],
    idempotency_key: str,
    channel: str | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> OutboxRequest:
    if type_ not in TYPES:
        raise ValueError(f"invoicing sends only {TYPES}")
    body: dict[str, Any] = {"customer_id": str(customer_id), "type": type_, "data": data}
    if channel:
        body["channel"] = channel
    if attachments:
        body["attachments"] = attachments
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path="/api/v1/notifications",
        body=body,
        idempotency_key=idempotency_key,
    )


def pdf_attachment(*, url: str, number: str, credit_note: bool = False) -> dict[str, str]:
    kind = "credit-note" if credit_note else "invoice"
    return {"url": url, "filename": f"{kind}-{number}.pdf", "content_type": "application/pdf"}


def invoice_data(
    *,
    invoice_id: uuid.UUID,
    number: str,
    issue_date: date,
    due_date: date,
    total_gross: int,
    outstanding: int,
    currency: str,
    plate: str | None,
    pay_url: str | None = None,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "invoice_id": str(invoice_id),
        "number": number,
        "issue_date": issue_date.isoformat(),
        "due_date": due_date.isoformat(),
        "total_gross": total_gross,
        "outstanding": outstanding,
        "currency": currency,
    }
    if plate:
        data["plate"] = plate
    if pay_url:
        data["pay_url"] = pay_url
    return data
