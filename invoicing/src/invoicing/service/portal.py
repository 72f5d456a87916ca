"""What the customer portal may do with an invoice's pay link: see the invoice and its
PDF, and report a payment the provider took for it. Every use case acts on the one
invoice the link names (``Link.resource_id``), for the customer the link was issued
to, and takes no id from anywhere else."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from invoicing.models import Invoice, Payment
from invoicing.service import payments
from invoicing.service.read_models import InvoiceAsShown, invoice_as_shown
from invoicing.service.settings import Settings
from service_kit.auth import Actor
from service_kit.documents.settings import Letterhead
from service_kit.links import Link, LinkNotValid

# How long after its pay link expired the record of a payment made through it is still
# taken: the provider settles some methods (a bank transfer) days after the customer paid.
PAYMENT_RECORD_GRACE = timedelta(days=14)


def linked_invoice(session: Session, link: Link) -> Invoice:
    """The invoice ``link`` names, if it is the link's customer's (it always is for a
    link this service issued; a mismatch is a link not to be trusted)."""
    try:
        invoice_id = uuid.UUID(link.resource_id)
    except ValueError:
        raise LinkNotValid("this link is not valid") from None
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or str(invoice.customer_id) != link.customer_id:
        raise LinkNotValid("this link is not valid")
    return invoice


@dataclass(frozen=True)
class PortalInvoice:
    """The invoice as the customer sees it on the portal; any attribute not worked
    out here is the invoice's as shown (status as of today, number, lines, ...)."""

    invoice: InvoiceAsShown
    garage: Letterhead
    # The payments taken online that are on the invoice: the portal counts a payment it
    # knows of only when it is not among them (its record may still be on its way).
    online_payments: tuple[Payment, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.invoice, name)

    @property
    def balance_due(self) -> int:
        return int(self.invoice.outstanding)

    @property
    def language(self) -> str:
        return str(self.invoice.customer_language)


def show_invoice(session: Session, *, link: Link, settings: Settings, garage: Letterhead) -> PortalInvoice:
    invoice = linked_invoice(session, link)
    online = tuple(payment for payment in invoice.payments if payment.provider_payment_id is not None)
    return PortalInvoice(invoice_as_shown(invoice, settings=settings), garage, online)


def record_payment(
    session: Session,
    *,
    link: Link,
    data: Mapping[str, Any],
    recorded_by: Actor,
    roles: Iterable[str],
    settings: Settings,
) -> payments.OnlinePayment:
    """A payment the provider took through the pay link (payments.record_online_payment)."""
    return payments.record_online_payment(
        session=session,
        invoice=linked_invoice(session, link),
        data=data,
        recorded_by=recorded_by,
        roles=roles,
        settings=settings,
    )
