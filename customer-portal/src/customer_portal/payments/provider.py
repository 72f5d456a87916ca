"""What the portal needs of a payment provider, whichever it is: make a payment the
customer pays on the provider's own checkout page, and say, when asked, what became of
it. ``mollie.MollieProvider`` is the one there is; another provider is another class
with these two methods."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

# A payment's statuses, as the portal keeps them (Mollie's, which most providers map to).
OPEN = "open"
PENDING = "pending"
AUTHORIZED = "authorized"
PAID = "paid"
CANCELED = "canceled"
EXPIRED = "expired"
FAILED = "failed"
STATUSES = (OPEN, PENDING, AUTHORIZED, PAID, CANCELED, EXPIRED, FAILED)
# Nothing more will happen to these (a refund or chargeback later is staff's business).
FINAL = (PAID, CANCELED, EXPIRED, FAILED)


class ProviderError(Exception):
    """The provider could not be asked, or answered something unusable: try again later."""


class UnknownPayment(ProviderError):
    """The provider knows no payment of that id (a forged or mistyped webhook)."""


class PaymentRefused(ProviderError):
    """The provider refused to make the payment (an amount it does not take, say)."""


@dataclass(frozen=True)
class CreatedPayment:
    id: str
    checkout_url: str
    status: str


@dataclass(frozen=True)
class ProviderPayment:
    """A payment as the provider reports it: the only thing the portal believes."""

    id: str
    status: str
    amount: int  # minor units of ``currency``
    currency: str
    method: str | None
    paid_at: datetime | None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    @property
    def paid(self) -> bool:
        return self.status == PAID


class PaymentProvider(Protocol):
    name: str

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        description: str,
        redirect_url: str,
        webhook_url: str,
        metadata: Mapping[str, Any],
        idempotency_key: str,
    ) -> CreatedPayment:
        """Make a payment of ``amount`` (minor units); the customer pays it at
        ``checkout_url``. Raises ``PaymentRefused`` or ``ProviderError``."""
        ...

    def get_payment(self, payment_id: str) -> ProviderPayment:
        """The payment as the provider has it now. Raises ``UnknownPayment`` or
        ``ProviderError``."""
        ...
