"""vehicle-management, as scheduling needs it (a tolerant reader).

Coded against ``contracts/vehicle-management.yaml``: ``GET /api/v1/vehicles/{id}``
answers the vehicle (200) or a problem (404); ``GET /api/v1/vehicles?plate=`` the active
vehicles with that plate (one per country at most). Read: ``id``, ``owner_id``,
``plate``, ``make``, ``model`` (the agreed fields) and ``status`` when present.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Protocol

import requests
from flask import Flask, current_app

from service_kit.http_client import DependencyFailed, ServiceClient

NAME = "vehicle-management"
EXTENSION = "workshop_scheduling.vehicle_management"
PLATE_PAGE = 200


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


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

    def find_by_plate(self, plate: str) -> list[Vehicle]: ...


def _read_vehicle(body: Any) -> Vehicle:
    try:
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
        return _read_vehicle(_json(response))

    def find_by_plate(self, plate: str) -> list[Vehicle]:
        """The active vehicles with this plate (vehicle-management compares any spelling).
        Raises ``DependencyFailed`` (503) when it cannot tell."""
        # A plate is registered once per country: one page holds them all.
        response = self.http.get("/api/v1/vehicles", params={"plate": plate, "limit": PLATE_PAGE})
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to a plate search")
        body = _json(response)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise DependencyFailed(NAME, f"{NAME} answered a vehicle list this service cannot read")
        return [_read_vehicle(item) for item in items]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = VehicleManagement(ServiceClient.from_config(app.config, NAME))


def vehicle_management() -> VehicleDirectory:
    return current_app.extensions[EXTENSION]
