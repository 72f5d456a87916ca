"""The Mollie adapter, on Mollie's maintained client (``mollie-api-python``).

Per garage: ``MOLLIE_API_KEY`` (the garage's own ``live_``/``test_`` key) and
``MOLLIE_API_URL`` (Mollie's API, or the loopback fake in tests). Amounts travel as
Mollie writes them, a string with the currency's decimals (``"12.50"`` EUR); the portal
keeps minor units (1250)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mollie.api.client import Client
from mollie.api.error import Error as MollieError
from mollie.api.error import IdentifierError, NotFoundError, RequestError, ResponseError

from customer_portal.payments.provider import (
    STATUSES,
    CreatedPayment,
    PaymentRefused,
    ProviderError,
    ProviderPayment,
    UnknownPayment,
)

log = logging.getLogger("customer_portal.payments")

DEFAULT_API_URL = "https://api.mollie.com"
# Mollie's payment ids: "tr_" and a short alphanumeric token. Anything else is not asked
# about (it cannot be a payment, and it must not end up in a URL path).
PAYMENT_ID = re.compile(r"^tr_[A-Za-z0-9]{1,64}$")
# Currencies whose amounts Mollie writes without decimals; every other has two.
NO_DECIMALS = frozenset({"JPY", "ISK"})
DESCRIPTION_MAX = 255  # Mollie's absolute maximum


def decimals(currency: str) -> int:
    return 0 if currency.upper() in NO_DECIMALS else 2


def to_mollie_amount(amount: int, currency: str) -> dict[str, str]:
    """1250 EUR -> ``{"currency": "EUR", "value": "12.50"}``."""
    places = decimals(currency)
    value = Decimal(amount).scaleb(-places).quantize(Decimal(1).scaleb(-places))
    return {"currency": currency.upper(), "value": f"{value:f}"}


def from_mollie_amount(amount: Mapping[str, Any] | None) -> tuple[int, str]:
    """``{"currency": "EUR", "value": "12.50"}`` -> (1250, "EUR")."""
    if not amount:
        raise ProviderError("the payment has no amount")
    currency = str(amount.get("currency", "")).upper()
    try:
        value = Decimal(str(amount.get("value")))
    except InvalidOperation as exc:
        raise ProviderError(f"the payment's amount {amount.get('value')!r} is not a number") from exc
    minor = value.scaleb(decimals(currency))
    if minor != minor.to_integral_value():
        raise ProviderError(f"the payment's amount {value} has more decimals than {currency} has")
    return int(minor), currency


def _timestamp(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ProviderError(f"the payment's time {value!r} is not ISO 8601") from exc


class MollieProvider:
    """``create_payment`` and ``get_payment`` through Mollie's own client. One per app:
    the client keeps its connections."""

    name = "mollie"

    def __init__(
        self, *, api_key: str, api_url: str = DEFAULT_API_URL, timeout: tuple[float, float] = (2.0, 10.0)
    ) -> None:
        self.client = Client(api_endpoint=api_url or DEFAULT_API_URL, timeout=timeout)  # type: ignore[arg-type]  # the client takes float timeouts as requests does
        self.client.set_api_key(api_key)
        self.client.set_user_agent_component("GarageCustomerPortal", "1", sanitize=False)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> MollieProvider:
        return cls(
            api_key=config["MOLLIE_API_KEY"],
            api_url=config.get("MOLLIE_API_URL") or DEFAULT_API_URL,
            timeout=(
                config.get("MOLLIE_CONNECT_TIMEOUT_SECONDS", 2.0),
                config.get("MOLLIE_READ_TIMEOUT_SECONDS", 10.0),
            ),
        )

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
        data = {
            "amount": to_mollie_amount(amount, currency),
            "description": description[:DESCRIPTION_MAX],
            "redirectUrl": redirect_url,
            "webhookUrl": webhook_url,
            "metadata": dict(metadata),
        }
        try:
            payment = self.client.payments.create(data, idempotency_key=idempotency_key)
        except ResponseError as exc:
            if exc.status is not None and 400 <= exc.status < 500 and exc.status not in (401, 409, 429):
                raise PaymentRefused(f"Mollie refused the payment: {exc}") from exc
            raise ProviderError(f"Mollie answered {exc.status}: {exc}") from exc
        except MollieError as exc:  # no answer, or one that is not Mollie's JSON
            raise ProviderError(f"Mollie could not be asked: {exc}") from exc
        if not payment.id or not payment.checkout_url:
            raise ProviderError("Mollie made the payment but gave no checkout address")
        return CreatedPayment(id=payment.id, checkout_url=payment.checkout_url, status=payment.status)

    def get_payment(self, payment_id: str) -> ProviderPayment:
        if not PAYMENT_ID.match(payment_id or ""):
            raise UnknownPayment(f"{payment_id!r} is not a Mollie payment id")
        try:
            payment = self.client.payments.get(payment_id)
        except (NotFoundError, IdentifierError) as exc:
            raise UnknownPayment(f"Mollie knows no payment {payment_id}") from exc
        except (ResponseError, RequestError, MollieError) as exc:
            raise ProviderError(f"Mollie could not be asked about {payment_id}: {exc}") from exc
        if payment.id != payment_id:
            raise ProviderError(f"asked Mollie for {payment_id}, it answered with {payment.id}")
        if payment.status not in STATUSES:
            raise ProviderError(f"Mollie reports an unknown status {payment.status!r}")
        amount, currency = from_mollie_amount(payment.amount)
        metadata = payment.metadata if isinstance(payment.metadata, dict) else {}
        return ProviderPayment(
            id=payment.id,
            status=payment.status,
            amount=amount,
            currency=currency,
            method=payment.method,
            paid_at=_timestamp(payment.paid_at),
            metadata=metadata,
        )
