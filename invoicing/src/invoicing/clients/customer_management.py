"""customer-management, as invoicing needs it (a tolerant reader).

Coded against ``contracts/customer-management.yaml``: ``GET /api/v1/customers/{id}``
answers the customer (200) or a problem (404). Read: the billing data copied onto an
invoice (``kind``, ``name``, ``vat_number``, ``contact_person``, ``address``,
``email``, ``phone``), ``preferred_channel`` and ``preferred_language`` (how the
invoice is sent and in which language), ``payment_terms_days`` (when it is due; absent
from an older customer-management, then None) and ``status``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

from service_kit.http_client import DependencyFailed, ServiceClient


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    status: str
    kind: str
    name: str
    vat_number: str | None = None
    contact_person: str | None = None
    email: str | None = None
    phone: str | None = None
    street: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    preferred_channel: str = "email"
    preferred_language: str = "en"
    payment_terms_days: int | None = None  # None: customer-management does not say


class CustomerDirectory(Protocol):
    def get_customer(self, customer_id: uuid.UUID) -> Customer | None: ...


def parse_customer(body: dict[str, Any]) -> Customer:
    address = body.get("address") or {}
    return Customer(
        id=uuid.UUID(body["id"]),
        status=str(body["status"]),
        kind=str(body.get("kind") or "person"),
        name=str(body["name"]),
        vat_number=body.get("vat_number"),
        contact_person=body.get("contact_person"),
        email=body.get("email"),
        phone=body.get("phone"),
        street=address.get("street"),
        postal_code=address.get("postal_code"),
        city=address.get("city"),
        country=address.get("country"),
        preferred_channel=str(body.get("preferred_channel") or "email"),
        preferred_language=str(body.get("preferred_language") or "en"),
        payment_terms_days=_optional_days(body.get("payment_terms_days")),
    )


def _optional_days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 365:
        raise ValueError(f"payment terms of {value!r} days")
    return value


class CustomerManagement:
    NAME = "customer-management"

    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def get_customer(self, customer_id: uuid.UUID) -> Customer | None:
        """The customer, or None when customer-management does not know the id.
        Raises ``DependencyFailed`` (503) when it cannot tell."""
        response = self.http.get(f"/api/v1/customers/{customer_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(
                self.NAME, f"{self.NAME} answered {response.status_code} to a customer look-up"
            )
        try:
            return parse_customer(response.json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DependencyFailed(
                self.NAME, f"{self.NAME} answered a customer this service cannot read"
            ) from exc
