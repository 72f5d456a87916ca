"""The services invoicing talks to, each coded against its committed contract in
``contracts/`` and the calls agreed in ARCHITECTURE.md. Each reader keeps its own
small copy of the fields it uses (a tolerant reader); consequence calls (telling the
customer) are outbox requests rather than inline calls."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app

EXTENSION = "invoicing.downstreams"


@dataclass(frozen=True)
class Downstreams:
    jobs: Any
    customers: Any
    vehicles: Any


def init_app(app: Flask) -> None:
    from invoicing.clients.customer_management import CustomerManagement
    from invoicing.clients.maintenance_jobs import MaintenanceJobs
    from invoicing.clients.vehicle_management import VehicleManagement
    from service_kit.http_client import ServiceClient

    app.extensions[EXTENSION] = Downstreams(
        jobs=MaintenanceJobs(ServiceClient.from_config(app.config, MaintenanceJobs.NAME)),
        customers=CustomerManagement(ServiceClient.from_config(app.config, CustomerManagement.NAME)),
        vehicles=VehicleManagement(ServiceClient.from_config(app.config, VehicleManagement.NAME)),
    )


def downstreams() -> Downstreams:
    return current_app.extensions[EXTENSION]
