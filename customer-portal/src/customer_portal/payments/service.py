"""The pay link's use cases: start a payment for the balance due, and settle one on the
provider's word (its webhook, or the customer coming back), putting a paid one in the
outbox for invoicing in the same transaction.

Only the provider's own answer counts: a webhook or a return says "ask about this
payment", never "it is paid". A paid payment is reported once: the row turns ``paid``
and the record is enqueued in one transaction under the row's lock, and the outbox keeps
one row per (invoicing, ``<provider>-<id>``) whatever happens after."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from customer_portal.payments.models import CREATED, NOT_STARTED, Payment, link_hash
from customer_portal.payments.provider import (
    AUTHORIZED,
    OPEN,
    PAID,
    PENDING,
    STATUSES,
    PaymentProvider,
    ProviderError,
)
from service_kit.clock import utcnow
from service_kit.outbox import OutboxRequest, enqueue

log = logging.getLogger("customer_portal.payments")

INVOICING = "invoicing"
RECORD_PATH = "/api/v1/portal/invoice/payments"
# Still waiting for the customer or their bank: the return page asks the provider again.
UNSETTLED = (CREATED, OPEN, PENDING, AUTHORIZED)
ASK_AT_MOST = 3  # payments of one link asked about on a return (a customer who tried twice)


class NothingToPay(Exception):
    """The invoice has no balance due."""


@dataclass(frozen=True)
class PaymentUrls:
    redirect_url: str  # where the provider sends the customer back (the return page)
    webhook_url: str  # where the provider says "something happened to this payment"


def start_payment(
    *,
    session: Session,
    provider: PaymentProvider,
    token: str,
    invoice: Mapping[str, Any],
    urls: PaymentUrls,
    description: str,
) -> Payment:
    """A payment of the invoice's balance due at the provider, and the row that
    remembers it. The row is committed before the provider is asked (its id is in the
    payment's metadata and is the provider's Idempotency-Key), and again with the
    provider's answer. ``PaymentRefused``/``ProviderError`` leave it ``not_started``."""
    balance = int(invoice["balance_due"])
    if balance <= 0:
        raise NothingToPay()
    payment = Payment(
        provider=provider.name,
        invoice_number=str(invoice["number"]),
        link_token=token,
        link_hash=link_hash(token),
        amount=balance,
        currency=str(invoice["currency"]).upper(),
        status=CREATED,
    )
    session.add(payment)
    session.commit()
    try:
        created = provider.create_payment(
            amount=payment.amount,
            currency=payment.currency,
            description=description,
            redirect_url=urls.redirect_url,
            webhook_url=urls.webhook_url,
            metadata={"invoice_number": payment.invoice_number, "portal_payment_id": str(payment.id)},
            idempotency_key=str(payment.id),
        )
    except ProviderError:
        payment.status = NOT_STARTED
        payment.updated_at = utcnow()
        session.commit()
        raise
    payment.provider_payment_id = created.id
    payment.checkout_url = created.checkout_url
    payment.status = created.status if created.status in STATUSES else OPEN
    payment.updated_at = utcnow()
    session.commit()
    return payment


def record_body(payment: Payment) -> dict[str, Any]:
    """The record invoicing takes (``POST /api/v1/portal/invoice/payments``)."""
    if not (payment.provider_payment_id and payment.paid_at and payment.paid_amount):
        raise ValueError(f"payment {payment.id} is not paid: there is nothing to record")
    return {
        "amount": payment.paid_amount,
        "provider": payment.provider,
        "provider_payment_id": payment.provider_payment_id,
        "paid_at": payment.paid_at,
        "method": payment.method or "other",
    }


def settle(*, session: Session, provider: PaymentProvider, provider_payment_id: str) -> Payment | None:
    """Ask the provider about ``provider_payment_id`` and act on its answer only: the
    row takes the provider's status, and when it turns paid, the record for invoicing
    is enqueued in the same transaction (the caller commits). None when the portal
    started no such payment; ``UnknownPayment`` when the provider knows none;
    ``ProviderError`` when it could not be asked (nothing changed: ask again later)."""
    reported = provider.get_payment(provider_payment_id)
    payment = session.execute(
        select(Payment)
        .where(Payment.provider == provider.name, Payment.provider_payment_id == reported.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if payment is None:
        log.info("%s payment %s is not one the portal started: nothing done", provider.name, reported.id)
        return None
    if payment.status == PAID:
        return payment  # reported when it turned paid; nothing more to do, however often asked
    if payment.status != reported.status:
        payment.status = reported.status
        payment.updated_at = utcnow()
    if not reported.paid:
        return payment
    if reported.currency != payment.currency:
        # Impossible for a payment this portal made; money in another currency is not
        # this invoice's balance: staff sort it out (the row shows it paid, unrecorded).
        log.error(
            "%s payment %s was paid in %s, the invoice is in %s: not recorded",
            provider.name,
            reported.id,
            reported.currency,
            payment.currency,
        )
        return payment
    if reported.amount != payment.amount:
        log.warning(
            "%s payment %s: %d paid where %d was asked; recording what was paid",
            provider.name,
            reported.id,
            reported.amount,
            payment.amount,
        )
    payment.method = reported.method
    payment.paid_amount = reported.amount
    payment.paid_at = reported.paid_at or utcnow()
    enqueue(
        session,
        OutboxRequest(
            target=INVOICING,
            method="POST",
            path=RECORD_PATH,
            body=record_body(payment),
            idempotency_key=payment.record_key,
        ),
    )
    return payment


def payments_of_link(
    session: Session, token: str, *, statuses: tuple[str, ...] | None = None
) -> list[Payment]:
    """The payments started from this link, newest first."""
    query = select(Payment).where(Payment.link_hash == link_hash(token), Payment.link_token == token)
    if statuses is not None:
        query = query.where(Payment.status.in_(statuses))
    return list(session.execute(query.order_by(Payment.created_at.desc())).scalars())


def settle_link(*, session: Session, provider: PaymentProvider, token: str) -> list[Payment]:
    """The customer is back from the provider: ask about the link's payments that are
    not settled yet (the newest few) and act on the answers; the caller commits. One
    the provider cannot be asked about now stays as it is (its webhook still comes)."""
    waiting = [
        payment
        for payment in payments_of_link(session, token, statuses=UNSETTLED)
        if payment.provider == provider.name and payment.provider_payment_id
    ][:ASK_AT_MOST]
    for payment in waiting:
        try:
            settle(session=session, provider=provider, provider_payment_id=str(payment.provider_payment_id))
        except ProviderError as exc:
            log.warning("could not ask %s about %s: %s", provider.name, payment.provider_payment_id, exc)
    return payments_of_link(session, token)


def paid_not_recorded(session: Session, token: str) -> Payment | None:
    """A payment of this link the provider reported paid and invoicing has not answered
    yet: the invoice is shown paid from it meanwhile."""
    for payment in payments_of_link(session, token, statuses=(PAID,)):
        if payment.recorded_at is None:
            return payment
    return None


def mark_recorded(session: Session, *, provider: str, provider_payment_id: str) -> None:
    """Invoicing answered the record (the relay's delivery)."""
    payment = session.execute(
        select(Payment).where(
            Payment.provider == provider, Payment.provider_payment_id == provider_payment_id
        )
    ).scalar_one_or_none()
    if payment is not None and payment.recorded_at is None:
        payment.recorded_at = utcnow()
