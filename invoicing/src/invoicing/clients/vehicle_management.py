"""vehicle-management, as invoicing needs it (a tolerant reader).

Coded against ``contracts/vehicle-management.yaml``: ``GET /api/v1/vehicles/{id}``
answers the vehicle (200) or a problem (404). Read: ``plate`` (as entered), ``make``
and ``model``, printed on the invoice beside the odometer reading of the job. This
call is beyond ARCHITECTURE.md's table; docs/decisions.md records it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

from service_kit.http_client import DependencyFailed, ServiceClient


@dataclass(frozen=True)
class Vehicle:
    id: uuid.UUID
    plate: str
    make: str | None = None
    model: str | None = None

    @property
    def description(self) -> str | None:
        return " ".join(part for part in (self.make, self.model) if part) or None


class VehicleDirectory(Protocol):
    def get_vehicle(self, vehicle_id: uuid.UUID) -> Vehicle | None: ...


class VehicleManagement:
    NAME = "vehicle-management"

    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def get_vehicle(self, vehicle_id: uuid.UUID) -> Vehicle | None:
        """The vehicle, or None when vehicle-management does not know the id. Raises
        ``DependencyFailed`` (503) when it cannot tell."""
        response = self.http.get(f"/api/v1/vehicles/{vehicle_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(
                self.NAME, f"{self.NAME} answered {response.status_code} to a vehicle look-up"
            )
        try:
            body = response.json()
            return Vehicle(
                id=uuid.UUID(body["id"]),
                plate=str(body["plate"]),
                make=body.get("make"),
                model=body.get("model"),
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyFailed(
                self.NAME, f"{self.NAME} answered a vehicle this service cannot read"
            ) from exc
