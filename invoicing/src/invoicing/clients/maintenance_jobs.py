"""maintenance-job-management, as invoicing needs it (a tolerant reader).

Coded against ``contracts/maintenance-job-management.yaml``:
``GET /api/v1/maintenance-jobs/{job_id}`` answers the job (200) or a problem (404).
Read: ``status``, ``customer_id``, ``vehicle_id``, ``currency``, ``description``,
``odometer_in``/``odometer_unit``, ``completed_at`` and per line ``id``, ``kind``,
``description``, ``part_number``, ``quantity`` (a decimal string, hours for labour),
``unit_price`` (minor units; the hourly rate for labour), ``vat_rate`` (percent as a
string) and ``approved``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from invoicing import minor_units
from service_kit.http_client import DependencyFailed, ServiceClient


@dataclass(frozen=True)
class JobLine:
    id: uuid.UUID
    kind: str
    description: str
    part_number: str | None
    quantity_hundredths: int
    unit_price: int
    vat_rate: Decimal
    approved: bool


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    status: str
    customer_id: uuid.UUID
    vehicle_id: uuid.UUID | None
    currency: str
    description: str
    odometer_in: int | None
    odometer_unit: str | None
    completed_at: datetime | None
    lines: tuple[JobLine, ...]


class JobDirectory(Protocol):
    def get_job(self, job_id: uuid.UUID) -> Job | None: ...


def _optional_uuid(value: Any) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _line(body: dict[str, Any]) -> JobLine:
    return JobLine(
        id=uuid.UUID(body["id"]),
        kind=str(body["kind"]),
        description=str(body["description"]),
        part_number=body.get("part_number"),
        quantity_hundredths=minor_units.hundredths(str(body["quantity"])),
        unit_price=int(body["unit_price"]),
        vat_rate=Decimal(str(body["vat_rate"])),
        approved=bool(body["approved"]),
    )


def parse_job(body: dict[str, Any]) -> Job:
    completed_at = body.get("completed_at")
    return Job(
        id=uuid.UUID(body["id"]),
        status=str(body["status"]),
        customer_id=uuid.UUID(body["customer_id"]),
        vehicle_id=_optional_uuid(body.get("vehicle_id")),
        currency=str(body.get("currency") or "EUR"),
        description=str(body.get("description") or ""),
        odometer_in=body.get("odometer_in"),
        odometer_unit=body.get("odometer_unit"),
        completed_at=datetime.fromisoformat(completed_at) if completed_at else None,
        lines=tuple(_line(line) for line in body.get("lines") or []),
    )


class MaintenanceJobs:
    NAME = "maintenance-job-management"

    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def get_job(self, job_id: uuid.UUID) -> Job | None:
        """The job, or None when the job service does not know the id. Raises
        ``DependencyFailed`` (503) when it cannot tell."""
        response = self.http.get(f"/api/v1/maintenance-jobs/{job_id}")
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise DependencyFailed(self.NAME, f"{self.NAME} answered {response.status_code} to a job look-up")
        try:
            return parse_job(response.json())
        except (ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise DependencyFailed(self.NAME, f"{self.NAME} answered a job this service cannot read") from exc
