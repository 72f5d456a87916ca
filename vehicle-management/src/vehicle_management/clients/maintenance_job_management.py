"""maintenance-job-management, as the due dates need it (a tolerant reader).

Coded against ``contracts/maintenance-job-management.yaml``:
- ``GET /api/v1/maintenance-jobs?vehicle_id=&status=completed`` — a vehicle's completed
  jobs, newest planned first (``JobPage``). Read: ``id``, ``completed_at``,
  ``odometer_in``, ``odometer_unit`` and each line's ``canned_job_id`` and ``approved``.
- ``GET /api/v1/canned-jobs`` — the catalogue (``CannedJobPage``). Read: ``id``, ``code``.

A completed job counts as a service when an approved line of it came from a canned job
whose code a service interval names (declined lines are recommendations, not work done).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Protocol

from flask import Flask, current_app

from service_kit.http_client import DependencyFailed, ServiceClient
from vehicle_management.due_dates import ServiceVisit, km

NAME = "maintenance-job-management"
EXTENSION = "vehicle_management.maintenance_job_management"
PAGE = 200
# A vehicle's completed jobs read, newest first: decades of a busy car's visits.
MAX_JOBS = 400
MAX_CANNED_JOBS = 2000
LIST_JOBS_PATH = "/api/v1/maintenance-jobs"
LIST_CANNED_JOBS_PATH = "/api/v1/canned-jobs"


class JobHistory(Protocol):
    def canned_job_codes(self) -> dict[uuid.UUID, str]: ...

    def service_visits(self, vehicle_id: uuid.UUID, codes: dict[uuid.UUID, str]) -> list[ServiceVisit]: ...


def _visit(job: dict[str, Any], codes: dict[uuid.UUID, str]) -> ServiceVisit | None:
    finished = job.get("completed_at") or job.get("actual_end")
    if not finished:
        return None
    completed = datetime.fromisoformat(str(finished))
    line_codes = frozenset(
        codes[uuid.UUID(str(line["canned_job_id"]))]
        for line in job.get("lines") or ()
        if line.get("canned_job_id")
        and line.get("approved", True)
        and uuid.UUID(str(line["canned_job_id"])) in codes
    )
    odometer = job.get("odometer_in")
    return ServiceVisit(
        job_id=uuid.UUID(str(job["id"])),
        completed_on=completed.date(),
        km=None if odometer is None else km(int(odometer), str(job.get("odometer_unit") or "km")),
        canned_job_codes=line_codes,
    )


class MaintenanceJobManagement:
    def __init__(self, http: ServiceClient) -> None:
        self.http = http

    def _pages(self, path: str, params: dict[str, Any], most: int) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while len(items) < most:
            query = {**params, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
            response = self.http.get(path, params=query)
            if response.status_code != 200:
                raise DependencyFailed(NAME, f"{NAME} answered {response.status_code} to {path}")
            try:
                body = response.json()
                items.extend(body["items"])
                cursor = body.get("next_cursor")
            except (ValueError, KeyError, TypeError) as exc:
                raise DependencyFailed(NAME, f"{NAME} answered a page this service cannot read") from exc
            if not cursor:
                break
        return items[:most]

    def canned_job_codes(self) -> dict[uuid.UUID, str]:
        """Every canned job's code by id, retired ones too (old jobs name them)."""
        try:
            return {
                uuid.UUID(str(c["id"])): str(c["code"])
                for c in self._pages(LIST_CANNED_JOBS_PATH, {}, MAX_CANNED_JOBS)
            }
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a canned job this service cannot read") from exc

    def service_visits(self, vehicle_id: uuid.UUID, codes: dict[uuid.UUID, str]) -> list[ServiceVisit]:
        """The vehicle's completed jobs, newest first. Raises ``DependencyFailed`` (503)
        when maintenance-job-management cannot tell."""
        jobs = self._pages(LIST_JOBS_PATH, {"vehicle_id": str(vehicle_id), "status": "completed"}, MAX_JOBS)
        try:
            visits = [_visit(job, codes) for job in jobs]
        except (ValueError, KeyError, TypeError) as exc:
            raise DependencyFailed(NAME, f"{NAME} answered a job this service cannot read") from exc
        return [v for v in visits if v is not None]


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = MaintenanceJobManagement(ServiceClient.from_config(app.config, NAME))


def maintenance_job_management() -> JobHistory:
    return current_app.extensions[EXTENSION]
