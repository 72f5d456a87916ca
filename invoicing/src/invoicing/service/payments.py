"""Payments and refunds recorded against an invoice's balance; the balance never goes
below zero, and a refund gives back only what was paid beyond what is owed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.models import Payment
from invoicing.service import invoices
from invoicing.service.invoice_changes import lock_invoice, settle
from service_kit.clock import utcnow


def record_payment(
    *,
    session: Session,
    invoice_id: uuid.UUID,
    data: Mapping[str, Any],
    recorded_by: str,
    roles: Iterable[str],
) -> Payment:
    invoice = lock_invoice(session, invoice_id)
    kind = data.get("kind") or domain.PAYMENT
    domain.check_payment(invoice.balance, kind=kind, amount=data["amount"], roles=roles)
    now = utcnow()
    payment = Payment(
        invoice_id=invoice.id,
        kind=kind,
        amount=data["amount"],
        method=data["method"],
        paid_at=data.get("paid_at") or now,
        reference=(data.get("reference") or "").strip() or None,
        recorded_by=recorded_by,
        recorded_at=now,
    )
    session.add(payment)
    invoice.paid = domain.after_payment(invoice.balance, kind=kind, amount=data["amount"]).paid
    settle(invoice)
    session.flush()
    return payment


def list_payments(*, session: Session, invoice_id: uuid.UUID) -> list[Payment]:
    invoices.get_invoice(session=session, invoice_id=invoice_id)
    return list(session.scalars(select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)))
