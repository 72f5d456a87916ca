"""vehicle-management, as scheduling needs it (a tolerant reader).

Coded against ``contracts/vehicle-management.yaml``: ``GET /api/v1/vehicles/{id}``
answers the vehicle (200) or a problem (404). Read: ``id``, ``owner_id``, ``plate``,
``make``, ``model`` (the agreed fields) and ``status`` when present.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from flask import Flask, current_app

from service_kit.http_client import DependencyFailed, ServiceClient

NAME = "vehicle-management"
EXTENSION = "workshop_scheduling.vehicle_management"


@dataclass(frozen=True)
class Vehicle:
    id: uuid.UUID
    owner_id: uuid.UUID
    plate: str
    make: str
    model: str
    status: str = "active"


class VehicleDirectory(Protocol):
    def get_vehicle(self, vehicle_id: uuid.UUID) -> Vehicle | None: ...


class VehicleManagement:
    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def get_vehicle(self, vehicle_id: uuid.UUID) -> Vehicle | None:
        """The vehicle, or None when vehicle-management does not know the id.
        Raises ``DependencyFailed`` (503) when it cannot tell."""
        response = self.http.get(f"/api/v1/vehicles/{vehicle_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to a vehicle look-up")
        try:
            body = response.json()
            return Vehicle(
                id=uuid.UUID(body["id"]),
                owner_id=uuid.UUID(body["owner_id"]),
                plate=str(body["plate"]),
                make=str(body["make"]),
                model=str(body["model"]),
                status=str(body.get("status") or "active"),
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a vehicle this service cannot read") from exc


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = VehicleManagement(ServiceClient.from_config(app.config, NAME))


def vehicle_management() -> VehicleDirectory:
    return current_app.extensions[EXTENSION]
