"""customer-management, as ``contracts/customer-management.yaml`` describes it:
``GET /api/v1/customers/{id}`` for contact data, preferences and consent.

A tolerant reader: it takes the few fields delivery needs and ignores the rest, so
customer-management can add fields without breaking us."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from service_kit.http_client import DependencyFailed, ServiceClient

NAME = "customer-management"


@dataclass(frozen=True)
class CustomerContact:
    id: uuid.UUID
    status: str
    name: str
    email: str | None
    phone: str | None
    preferred_channel: str
    preferred_language: str
    consents: Mapping[str, Mapping[str, bool]] = field(default_factory=dict)
    kind: str = "person"
    contact_person: str | None = None


def _contact(body: Mapping[str, Any]) -> CustomerContact:
    consents = body.get("consents") or {}
    return CustomerContact(
        id=uuid.UUID(str(body["id"])),
        status=str(body.get("status") or "active"),
        name=str(body.get("name") or ""),
        email=body.get("email") or None,
        phone=body.get("phone") or None,
        preferred_channel=str(body.get("preferred_channel") or "none"),
        preferred_language=str(body.get("preferred_language") or ""),
        consents={
            channel: {purpose: bool(value) for purpose, value in (purposes or {}).items()}
            for channel, purposes in consents.items()
            if isinstance(purposes, Mapping)
        },
        kind=str(body.get("kind") or "person"),
        contact_person=body.get("contact_person") or None,
    )


class CustomerManagement:
    def __init__(self, client: ServiceClient) -> None:
        self.client = client

    def get_contact(self, customer_id: uuid.UUID) -> CustomerContact | None:
        """The customer's contact data now; None when customer-management does not know
        the id. ``DependencyFailed`` when it cannot answer (or answers nonsense)."""
        response = self.client.get(f"/api/v1/customers/{customer_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} for customer {customer_id}")
        try:
            return _contact(response.json())
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a customer this service cannot read") from exc
