"""Payments and refunds recorded against an invoice's balance; the balance never goes
below zero, and a refund gives back only what was paid beyond what is owed."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from invoicing import domain
from invoicing.models import Invoice, Payment
from invoicing.service import invoices
from invoicing.service.invoice_changes import lock_invoice, settle
from invoicing.service.read_models import InvoiceAsShown, invoice_as_shown
from invoicing.service.settings import Settings
from service_kit.auth import Actor
from service_kit.clock import utcnow


def record_payment(
    *,
    session: Session,
    invoice_id: uuid.UUID,
    data: Mapping[str, Any],
    recorded_by: Actor,
    roles: Iterable[str],
    invoice: Invoice | None = None,
) -> Payment:
    """Record a payment or a refund: at the counter, or (``data`` naming a
    ``provider``) one a payment provider took online. ``invoice``: the invoice, when
    the caller locked it already (lock_invoice)."""
    invoice = invoice or lock_invoice(session, invoice_id)
    kind = data.get("kind") or domain.PAYMENT
    provider = data.get("provider")
    domain.check_payment(
        invoice.balance,
        kind=kind,
        amount=data["amount"],
        roles=roles,
        method=data["method"],
        online=provider is not None,
    )
    now = utcnow()
    payment = Payment(
        invoice_id=invoice.id,
        kind=kind,
        amount=data["amount"],
        method=data["method"],
        paid_at=data.get("paid_at") or now,
        reference=(data.get("reference") or "").strip() or None,
        provider=provider,
        provider_payment_id=data.get("provider_payment_id"),
        provider_method=data.get("provider_method"),
        **recorded_by.fields("recorded_by"),
        recorded_at=now,
    )
    session.add(payment)
    invoice.paid = domain.after_payment(invoice.balance, kind=kind, amount=data["amount"]).paid
    settle(invoice)
    session.flush()
    return payment


@dataclass(frozen=True)
class OnlinePayment:
    """A provider's payment as recorded on an invoice, and the invoice just after."""

    payment: Payment
    invoice: InvoiceAsShown
    recorded: bool  # False: the provider's payment had been recorded before

    @property
    def currency(self) -> str:
        return str(self.invoice.currency)

    @property
    def method(self) -> str | None:
        """How the customer paid at the provider (the invoice's method is ``online``)."""
        return self.payment.provider_method

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.payment, name)


def record_online_payment(
    *,
    session: Session,
    invoice: Invoice,
    data: Mapping[str, Any],
    recorded_by: Actor,
    roles: Iterable[str],
    settings: Settings,
) -> OnlinePayment:
    """Record a payment a provider took for ``invoice`` (the portal's pay link): the
    same as a counter payment, with method ``online``, the provider and its payment id.
    Once per provider payment, ever: a second report of it (a repeated webhook, another
    Idempotency-Key, one racing this one) answers the first. Reports for one invoice
    queue on its row lock; the unique constraint on (provider, provider_payment_id)
    holds across invoices too, and losing that race also answers the first."""
    invoice = lock_invoice(session, invoice.id)
    provider, provider_payment_id = data["provider"], data["provider_payment_id"]
    existing = _provider_payment(session, provider, provider_payment_id)
    if existing is None:
        fields = {
            "kind": domain.PAYMENT,
            "method": domain.ONLINE,
            "amount": data["amount"],
            "paid_at": data["paid_at"],
            "reference": provider_payment_id,
            "provider": provider,
            "provider_payment_id": provider_payment_id,
            "provider_method": data["method"],
        }
        try:
            with session.begin_nested():
                payment = record_payment(
                    session=session,
                    invoice_id=invoice.id,
                    invoice=invoice,
                    data=fields,
                    recorded_by=recorded_by,
                    roles=roles,
                )
            return OnlinePayment(payment, invoice_as_shown(invoice, settings=settings), recorded=True)
        except IntegrityError as error:
            if PROVIDER_PAYMENT_UNIQUE not in str(error.orig):
                raise
        existing = _provider_payment(session, provider, provider_payment_id)
        if existing is None:  # pragma: no cover - the constraint named it, so it is there
            raise RuntimeError("the provider payment vanished")
        invoice = lock_invoice(session, invoice.id)
    if existing.invoice_id != invoice.id:
        raise domain.ProviderPaymentOfAnotherInvoice(provider, provider_payment_id)
    return OnlinePayment(existing, invoice_as_shown(invoice, settings=settings), recorded=False)


PROVIDER_PAYMENT_UNIQUE = "uq_payments_provider_provider_payment_id"


def _provider_payment(session: Session, provider: str, provider_payment_id: str) -> Payment | None:
    query = select(Payment).where(
        Payment.provider == provider, Payment.provider_payment_id == provider_payment_id
    )
    return session.scalars(query).one_or_none()


@dataclass(frozen=True)
class PaymentInCashUp:
    """A payment as the cash-up lists it: with its invoice's number."""

    payment: Payment
    invoice_number: str

    def __getattr__(self, name: str) -> Any:
        return getattr(self.payment, name)


@dataclass(frozen=True)
class CashUp:
    date_from: date
    date_to: date
    timezone: str
    totals: list[domain.MethodTotal]
    items: list[Any]


def cash_up(*, session: Session, date_from: date, date_to: date | None, settings: Settings) -> CashUp:
    """Every payment and refund received in the garage's days ``date_from`` to
    ``date_to`` (both included, in its own time zone), oldest first, with the totals per
    method: what the till and the bank should show."""
    first, last = domain.cash_up_period(date_from, date_to)
    zone = ZoneInfo(settings.timezone)
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    rows = session.execute(
        select(Payment, Invoice.number)
        .join(Invoice, Invoice.id == Payment.invoice_id)
        .where(Payment.paid_at >= start, Payment.paid_at < end)
        .order_by(Payment.paid_at, Payment.id)
    ).all()
    items = [PaymentInCashUp(payment, number) for payment, number in rows]
    return CashUp(first, last, settings.timezone, domain.cash_up_totals(items), items)


def list_payments(*, session: Session, invoice_id: uuid.UUID) -> list[Payment]:
    invoices.get_invoice(session=session, invoice_id=invoice_id)
    return list(session.scalars(select(Payment).where(Payment.invoice_id == invoice_id).order_by(Payment.id)))


@dataclass(frozen=True)
class Receipt:
    """A payment (or refund) with its invoice, and the invoice's balance just after it:
    what the receipt for it prints, the same however much happens to the invoice later."""

    payment: Payment
    invoice: Invoice
    balance: domain.Balance


def get_receipt(*, session: Session, invoice_id: uuid.UUID, payment_id: uuid.UUID) -> Receipt:
    invoice = invoices.get_invoice(session=session, invoice_id=invoice_id)
    payment = session.get(Payment, payment_id)
    if payment is None or payment.invoice_id != invoice.id:
        raise domain.PaymentNotFound(invoice_id, payment_id)
    # Recorded in this order under the invoice's row lock: what came before it.
    until = (payment.recorded_at, payment.id)
    balance = domain.Balance(
        gross=invoice.total_gross,
        credited=sum(
            -note.total_gross for note in invoice.credit_notes if note.issued_at <= payment.recorded_at
        ),
        paid=0,
    )
    for earlier in invoice.payments:
        if (earlier.recorded_at, earlier.id) <= until:
            balance = domain.after_payment(balance, kind=earlier.kind, amount=earlier.amount)
    return Receipt(payment, invoice, balance)
