"""customer-management, as ``contracts/customer-management.yaml`` describes it:
``GET /api/v1/customers/{id}`` for contact data, preferences and consent;
``GET /api/v1/customers?phone=`` for whom a text message came from; and, through the
outbox, ``POST /api/v1/customers/{id}/consents`` for what an SMS STOP or START changes.

A tolerant reader: it takes the few fields delivery needs and ignores the rest, so
customer-management can add fields without breaking us."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask

from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient, ServiceToken
from service_kit.observability import current_request_id
from service_kit.outbox import OutboxRequest

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

    def find_by_phone(self, phone: str) -> list[CustomerContact]:
        """The active customers with this phone number (E.164), oldest first: a number
        may be shared (a family, a business's drivers). ``DependencyFailed`` when
        customer-management cannot answer."""
        response = self.client.get("/api/v1/customers", params={"phone": phone, "limit": 50})
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to a search by phone")
        try:
            return [_contact(item) for item in response.json()["items"]]
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a page this service cannot read") from exc


def record_consent(
    customer_id: uuid.UUID, *, channel: str, purpose: str, granted: bool, wording: str, key: str
) -> OutboxRequest:
    """The consent ledger entry for a keyword the customer texted: source ``sms_stop``
    when it withdraws, ``sms_start`` when it grants; ``wording`` says which word."""
    return OutboxRequest(
        target=NAME,
        method="POST",
        path=f"/api/v1/customers/{customer_id}/consents",
        body={
            "channel": channel,
            "purpose": purpose,
            "granted": granted,
            "source": "sms_start" if granted else "sms_stop",
            "wording": wording,
        },
        idempotency_key=key,
    )


def for_app(app: Flask) -> CustomerManagement:
    """The app's client for customer-management in requests (one per process)."""
    client = app.extensions.get("notification_management.customer_management")
    if client is None:
        client = CustomerManagement(
            ServiceClient(
                NAME,
                ClientSettings.from_config(app.config, NAME),
                token=ServiceToken(app.config),
                request_id=current_request_id,
                user_agent=f"garage-{app.config['SERVICE_NAME']}",
            )
        )
        app.extensions["notification_management.customer_management"] = client
    return client
