"""customer-management, as vehicle-management needs it (a tolerant reader).

Coded against ``contracts/customer-management.yaml``: ``GET /api/v1/customers/{id}``
answers the customer (200) or a problem (404). Only ``id``, ``status`` and ``name``
are read; every other field may come and go without this service noticing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from service_kit.http_client import DependencyFailed, ServiceClient

NAME = "customer-management"
EXTENSION = "vehicle_management.customer_management"


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    status: str
    name: str


class CustomerDirectory(Protocol):
    def get_customer(self, customer_id: uuid.UUID) -> Customer | None: ...


class CustomerManagement:
    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def get_customer(self, customer_id: uuid.UUID) -> Customer | None:
        """The customer, or None when customer-management does not know the id.
        Raises ``DependencyFailed`` (503) when it cannot tell."""
        response = self.http.get(f"/api/v1/customers/{customer_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to a customer look-up")
        try:
            body = response.json()
            return Customer(id=uuid.UUID(body["id"]), status=str(body["status"]), name=str(body["name"]))
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a customer this service cannot read") from exc


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = CustomerManagement(ServiceClient.from_config(app.config, NAME))


def customer_management() -> CustomerDirectory:
    return current_app.extensions[EXTENSION]
