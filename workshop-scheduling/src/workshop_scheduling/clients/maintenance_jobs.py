"""maintenance-job-management, as scheduling needs it (a tolerant reader).

Coded against ``contracts/maintenance-job-management.yaml`` and the agreed calls:
``POST /api/v1/maintenance-jobs`` with ``Idempotency-Key: <appointment id>`` (creating
again returns the same job), ``POST .../{id}/reschedule``, ``POST .../{id}/cancel``
(409 once the work has started), ``GET .../{id}`` and ``GET ...?appointment_id=``.
Only ``id``, ``status`` and ``version`` are read from a job. ``GET /api/v1/canned-jobs
?active=true`` for the work a customer can book through the portal: ``code``, ``name``
and the labour lines' hours.

Through the outbox: ``PUT .../{id}/appointment`` with the appointment's status each time
it changes (docs/visits.md).
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

import requests
from flask import Flask, current_app

from service_kit.http_client import DependencyFailed, ServiceClient
from service_kit.observability import REQUEST_ID_HEADER
from service_kit.outbox import OutboxRequest

NAME = "maintenance-job-management"
EXTENSION = "workshop_scheduling.maintenance_jobs"
PATH = "/api/v1/maintenance-jobs"
CANNED_JOBS = "/api/v1/canned-jobs"
CANNED_PAGE = 200


@dataclass(frozen=True)
class Job:
    id: uuid.UUID
    status: str
    version: int


@dataclass(frozen=True)
class CannedWork:
    """Work done often, as a customer can book it: its name and its labour time."""

    code: str
    name: str
    labour_minutes: int


class JobNotChangeable(Exception):
    """maintenance-job-management refused the change (409): the job has started,
    is done, or is cancelled."""

    def __init__(self, current_status: str | None, detail: str) -> None:
        super().__init__(detail)
        self.current_status = current_status


class JobDirectory(Protocol):
    def create_job(
        self,
        *,
        appointment_id: uuid.UUID,
        vehicle_id: uuid.UUID,
        customer_id: uuid.UUID,
        planned_start: datetime,
        planned_end: datetime,
        description: str,
        vehicle_names: Mapping[str, str] | None = None,
    ) -> Job: ...

    def reschedule_job(self, job_id: uuid.UUID, *, planned_start: datetime, planned_end: datetime) -> Job: ...

    def cancel_job(self, job_id: uuid.UUID, *, reason: str) -> Job: ...

    def get_job(self, job_id: uuid.UUID, *, request_id: str | None = None) -> Job | None: ...

    def find_job(self, appointment_id: uuid.UUID) -> Job | None: ...

    def list_canned_work(self) -> list[CannedWork]: ...


def _read_job(body: Any) -> Job:
    try:
        return Job(id=uuid.UUID(body["id"]), status=str(body["status"]), version=int(body["version"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DependencyFailed(NAME, f"{NAME} answered a job this service cannot read") from exc


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class MaintenanceJobs:
    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def _answer(
        self,
        response: requests.Response,
        what: str,
        ok: tuple[int, ...] = (200,),
        job_id: uuid.UUID | None = None,
    ) -> Job:
        body = _json(response)
        if response.status_code in ok:
            return _read_job(body)
        if response.status_code == 409:
            problem = body if isinstance(body, dict) else {}
            raise JobNotChangeable(
                problem.get("current_status") or self._status_of(job_id),
                str(problem.get("detail") or "conflict"),
            )
        # 400/401/403/404/422: this service asked wrongly or the job is gone; retrying
        # will not help, but the caller learns which dependency refused.
        detail = body.get("detail") if isinstance(body, dict) else None
        raise DependencyFailed(
            NAME, f"{NAME} refused to {what}: {response.status_code} {detail or ''}".strip()
        )

    def _status_of(self, job_id: uuid.UUID | None) -> str | None:
        """The job's status after a refusal that did not name it (the contract's problem
        has no ``current_status``); None when it cannot be had."""
        if job_id is None:
            return None
        try:
            job = self.get_job(job_id)
        except DependencyFailed:
            return None
        return job.status if job else None

    def create_job(
        self,
        *,
        appointment_id: uuid.UUID,
        vehicle_id: uuid.UUID,
        customer_id: uuid.UUID,
        planned_start: datetime,
        planned_end: datetime,
        description: str,
        vehicle_names: Mapping[str, str] | None = None,
    ) -> Job:
        """``vehicle_names``: the plate, make and model as booked (``vehicle_plate``,
        ``vehicle_make``, ``vehicle_model``), which the job's messages, documents and the
        customer's portal pages show."""
        response = self.http.post(
            PATH,
            json={
                "appointment_id": str(appointment_id),
                "vehicle_id": str(vehicle_id),
                "customer_id": str(customer_id),
                "planned_start": planned_start.isoformat(),
                "planned_end": planned_end.isoformat(),
                "description": description,
                **{name: value for name, value in (vehicle_names or {}).items() if value},
            },
            # One appointment, one job: a retry (ours or the HTTP client's) gets the same job.
            idempotency_key=str(appointment_id),
        )
        return self._answer(response, "create the job", ok=(200, 201))

    def reschedule_job(self, job_id: uuid.UUID, *, planned_start: datetime, planned_end: datetime) -> Job:
        response = self.http.post(
            f"{PATH}/{job_id}/reschedule",
            json={"planned_start": planned_start.isoformat(), "planned_end": planned_end.isoformat()},
        )
        return self._answer(response, "reschedule the job", job_id=job_id)

    def cancel_job(self, job_id: uuid.UUID, *, reason: str) -> Job:
        response = self.http.post(f"{PATH}/{job_id}/cancel", json={"reason": reason})
        return self._answer(response, "cancel the job", job_id=job_id)

    def get_job(self, job_id: uuid.UUID, *, request_id: str | None = None) -> Job | None:
        """``request_id`` for look-ups made outside the request's thread."""
        headers = {REQUEST_ID_HEADER: request_id} if request_id else None
        response = self.http.get(f"{PATH}/{job_id}", headers=headers)
        if response.status_code == 404:
            return None
        return self._answer(response, "show the job")

    def find_job(self, appointment_id: uuid.UUID) -> Job | None:
        response = self.http.get(PATH, params={"appointment_id": str(appointment_id), "limit": 1})
        if response.status_code != 200:
            self._answer(response, "look the job up")
        items = (_json(response) or {}).get("items")
        if not isinstance(items, list):
            raise DependencyFailed(NAME, f"{NAME} answered a job list this service cannot read")
        return _read_job(items[0]) if items else None

    def list_canned_work(self) -> list[CannedWork]:
        """The active canned jobs (one page: a garage has tens, not hundreds)."""
        response = self.http.get(CANNED_JOBS, params={"active": "true", "limit": CANNED_PAGE})
        if response.status_code != 200:
            raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to the canned jobs")
        items = (_json(response) or {}).get("items")
        if not isinstance(items, list):
            raise DependencyFailed(NAME, f"{NAME} answered a canned job list this service cannot read")
        return [_read_canned_work(item) for item in items]


def _read_canned_work(body: Any) -> CannedWork:
    """Its labour lines' hours (``hours``, else ``quantity``: decimals as text)."""
    try:
        hours = sum(
            (
                Decimal(str(line.get("hours") or line.get("quantity") or "0"))
                for line in body.get("lines") or []
                if line.get("kind") == "labour"
            ),
            Decimal(0),
        )
        minutes = math.ceil(hours * 60) if hours.is_finite() and hours > 0 else 0
        return CannedWork(code=str(body["code"]), name=str(body["name"]), labour_minutes=minutes)
    except (InvalidOperation, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DependencyFailed(NAME, f"{NAME} answered a canned job this service cannot read") from exc


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = MaintenanceJobs(ServiceClient.from_config(app.config, NAME))


def maintenance_jobs() -> JobDirectory:
    return current_app.extensions[EXTENSION]


def appointment_status(
    *,
    job_id: uuid.UUID,
    appointment_id: uuid.UUID,
    status: str,
    version: int,
    changed_at: datetime,
    checked_in_at: datetime | None,
) -> OutboxRequest:
    """The appointment's new status for its job, sent through the outbox. One key per
    version: a retry is the same request; the job applies a version once and never one
    older than it has. ``checked_in_at`` rides along so the job learns when the vehicle
    arrived even if the check-in report itself comes after a newer one."""
    return OutboxRequest(
        target=NAME,
        method="PUT",
        path=f"{PATH}/{job_id}/appointment",
        body={
            "appointment_id": str(appointment_id),
            "appointment_status": status,
            "appointment_version": version,
            "changed_at": changed_at.isoformat(),
            "checked_in_at": checked_in_at.isoformat() if checked_in_at else None,
        },
        idempotency_key=f"appointment-status-{appointment_id}-v{version}",
    )
