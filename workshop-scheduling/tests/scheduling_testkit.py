"""vehicle-management and maintenance-job-management faked at the HTTP boundary: real
HTTP servers on loopback (werkzeug, threaded) that answer only what the providers'
committed contracts allow — every answer is validated against the contract as it is
sent, and every request body the job service receives against its request schema."""

from __future__ import annotations

import copy
import functools
import json
import re
import socket
import threading
import time as clock
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from service_kit.contract_testing import ContractViolation, find_contract, response_schema, validate_response
from service_kit.contracts import load_contract

VEHICLES_CONTRACT = find_contract("vehicle-management", Path(__file__))
JOBS_CONTRACT = find_contract("maintenance-job-management", Path(__file__))
NOTIFICATIONS_CONTRACT = find_contract("notification-management", Path(__file__))
JOBS = "/api/v1/maintenance-jobs"
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_url() -> str:
    """An address nobody listens on: a service that is down."""
    return f"http://127.0.0.1:{free_port()}"


@functools.cache
def _contract(path: str) -> dict[str, Any]:
    return load_contract(path)


def validate_request(contract: Path, method: str, path: str, body: Any) -> None:
    """Raise ``ContractViolation`` when ``body`` is not what ``method path`` accepts."""
    document = _contract(str(contract))
    operation = document["paths"][path][method.lower()]
    schema = copy.deepcopy(operation["requestBody"]["content"]["application/json"]["schema"])
    schema["components"] = document["components"]
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(body))
    if errors:
        raise ContractViolation(f"{method} {path} request: " + "; ".join(e.message for e in errors))


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


def problem(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    return {"type": "about:blank", "title": "Problem", "status": status, "detail": detail, **extra}


@dataclass
class FakeService:
    """A threaded WSGI server; ``handle`` answers (status, body)."""

    delay: float = 0.0
    calls: list[dict[str, Any]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    before_answer: Callable[[Request], None] | None = None
    _server: Any = None

    def start(self) -> FakeService:
        # Parse the contracts now: a first answer slowed by YAML parsing would time out.
        for contract in (VEHICLES_CONTRACT, JOBS_CONTRACT):
            _contract(str(contract))
            response_schema(contract, "GET", next(iter(_contract(str(contract))["paths"])), 200)
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def reset(self) -> None:
        with self.lock:
            self.delay = 0.0
            self.calls.clear()
            self.violations.clear()
            self.before_answer = None
            self.clear()

    def clear(self) -> None:
        """Forget the service's own state."""

    def handle(self, request: Request, body: Any) -> tuple[int, Any, str]:
        raise NotImplementedError

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        body = json.loads(request.get_data() or b"null")
        self.calls.append(
            {"method": request.method, "path": request.path, "body": body, "headers": dict(request.headers)}
        )
        if self.before_answer:
            self.before_answer(request)
        try:
            status, answer, contract_path = self.handle(request, body)
            self.check(request.method, contract_path, status, answer)
        except ContractViolation as exc:
            self.violations.append(str(exc))
            status, answer = 500, problem(500, str(exc))
        if self.delay:
            clock.sleep(self.delay)
        mimetype = "application/json" if status < 400 else "application/problem+json"
        return Response(json.dumps(answer), status=status, mimetype=mimetype)(environ, start_response)

    def check(self, method: str, path: str, status: int, answer: Any) -> None:
        raise NotImplementedError


class FakeVehicles(FakeService):
    """GET /api/v1/vehicles/{vehicle_id}"""

    def clear(self) -> None:
        self.vehicles: dict[str, dict[str, Any]] = {}

    def check(self, method: str, path: str, status: int, answer: Any) -> None:
        validate_response(VEHICLES_CONTRACT, method, path, status, answer)

    def add(
        self,
        *,
        owner_id: uuid.UUID | None = None,
        plate: str = "AB-123-C",
        status: str = "active",
        **more: Any,
    ) -> uuid.UUID:
        vehicle_id = uuid.uuid4()
        body = {
            "id": str(vehicle_id),
            "owner_id": str(owner_id or uuid.uuid4()),
            "plate": plate,
            "plate_normalised": plate.replace("-", "").upper(),
            "country": "NL",
            "vin": None,
            "make": more.pop("make", "Volkswagen"),
            "model": more.pop("model", "Golf"),
            "year": 2019,
            "fuel_type": "petrol",
            "colour": None,
            "status": status,
            "odometer": None,
            "warnings": [],
            "created_at": "2026-01-05T09:00:00+00:00",
            "updated_at": "2026-01-05T09:00:00+00:00",
            "deregistered_at": "2026-02-01T09:00:00+00:00" if status == "deregistered" else None,
            "version": 1,
        }
        self.check("GET", "/api/v1/vehicles/{vehicle_id}", 200, body)
        self.vehicles[str(vehicle_id)] = body
        return vehicle_id

    def handle(self, request: Request, body: Any) -> tuple[int, Any, str]:
        path = "/api/v1/vehicles/{vehicle_id}"
        match = re.fullmatch(r"/api/v1/vehicles/([^/]+)", request.path)
        vehicle = self.vehicles.get(match[1]) if match else None
        if vehicle is None:
            return 404, problem(404, "vehicle does not exist"), path
        return 200, vehicle, path


class FakeJobs(FakeService):
    """The calls scheduling makes to maintenance-job-management, with its rules: one job
    per appointment, reschedule and cancel only before the work starts."""

    fail_status: int | None = None

    def clear(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.fail_status = None

    def check(self, method: str, path: str, status: int, answer: Any) -> None:
        validate_response(JOBS_CONTRACT, method, path, status, answer)

    def job_for(self, appointment_id: Any) -> dict[str, Any] | None:
        return next((j for j in self.jobs.values() if j["appointment_id"] == str(appointment_id)), None)

    def set_status(self, job_id: str, status: str) -> None:
        self.jobs[job_id]["status"] = status

    def creates(self) -> list[dict[str, Any]]:
        return [c for c in self.calls if c["method"] == "POST" and c["path"] == JOBS]

    def _job(self, data: dict[str, Any]) -> dict[str, Any]:
        stamp = now_iso()
        return {
            "id": str(uuid.uuid4()),
            "appointment_id": data["appointment_id"],
            "vehicle_id": data["vehicle_id"],
            "customer_id": data["customer_id"],
            "planned_start": data["planned_start"],
            "planned_end": data["planned_end"],
            "description": data["description"],
            "status": "scheduled",
            "assigned_technician": None,
            "actual_start": None,
            "actual_end": None,
            "odometer_in": None,
            "odometer_unit": "km",
            "technician_notes": None,
            "hold_kind": None,
            "hold_reason": None,
            "cancel_reason": None,
            "cancelled_at": None,
            "completed_at": None,
            "currency": "EUR",
            "lines": [],
            "progress": {"done": 0, "total": 0},
            "time": {
                "billed_labour_hours_hundredths": 0,
                "clocked_hours_hundredths": 0,
                "clocked_in": [],
                "clocked_seconds": 0,
            },
            "totals": {
                "approved_net": 0,
                "billable_gross": 0,
                "billable_net": 0,
                "billable_vat": 0,
                "declined_net": 0,
                "pending_net": 0,
            },
            "created_at": stamp,
            "updated_at": stamp,
            "version": 1,
        }

    def handle(self, request: Request, body: Any) -> tuple[int, Any, str]:
        if self.fail_status:
            return self.fail_status, problem(self.fail_status, "the job service failed"), JOBS
        with self.lock:
            return self._handle(request, body)

    def _handle(self, request: Request, body: Any) -> tuple[int, Any, str]:
        path = request.path
        if path == JOBS and request.method == "POST":
            validate_request(JOBS_CONTRACT, "POST", JOBS, body)
            if request.headers.get("Idempotency-Key") != body["appointment_id"]:
                raise ContractViolation("the Idempotency-Key of a job create must be the appointment id")
            existing = self.job_for(body["appointment_id"])
            if existing and (existing["vehicle_id"], existing["customer_id"]) != (
                body["vehicle_id"],
                body["customer_id"],
            ):
                return 409, problem(409, "the appointment already has a job for another vehicle"), JOBS
            if existing:
                return 200, existing, JOBS
            job = self._job(body)
            self.jobs[job["id"]] = job
            return 201, job, JOBS
        if path == JOBS and request.method == "GET":
            wanted = request.args.get("appointment_id")
            items = [j for j in self.jobs.values() if j["appointment_id"] == wanted]
            return 200, {"items": items, "next_cursor": None}, JOBS
        match = re.fullmatch(rf"{JOBS}/([^/]+)(?:/(reschedule|cancel))?", path)
        job = self.jobs.get(match[1]) if match else None
        template = f"{JOBS}/{{job_id}}" + (f"/{match[2]}" if match and match[2] else "")
        if job is None:
            return 404, problem(404, "job does not exist"), template
        if request.method == "GET":
            return 200, job, template
        validate_request(JOBS_CONTRACT, "POST", template, body)
        if match[2] == "reschedule":
            if job["status"] not in ("scheduled", "on_hold"):
                return (
                    409,
                    # The real service adds current_status; its contract does not promise it.
                    problem(409, f"a job that is {job['status']} cannot be rescheduled"),
                    template,
                )
            job.update(
                planned_start=body["planned_start"],
                planned_end=body["planned_end"],
                version=job["version"] + 1,
            )
            return 200, job, template
        if job["status"] == "cancelled":
            return 200, job, template
        if job["status"] not in ("scheduled", "on_hold"):
            return (
                409,
                problem(409, f"cannot cancel a job that is {job['status']}"),
                template,
            )
        job.update(
            status="cancelled",
            cancel_reason=body["reason"],
            cancelled_at=now_iso(),
            version=job["version"] + 1,
        )
        return 200, job, template


# ------------------------------------------------------------------------------ helpers


def local(day: date, clock: str) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=AMSTERDAM)


def today() -> date:
    return datetime.now(AMSTERDAM).date()


def next_transition(month: int) -> date:
    """The next day (from tomorrow) in March (spring forward) or October (fall back) on
    which Amsterdam's clocks change."""
    day = today() + timedelta(days=1)
    while True:
        first, last = local(day, "00:00"), local(day, "23:59")
        if day.month == month and first.utcoffset() != last.utcoffset():
            return day
        day += timedelta(days=1)


OPEN_DAILY = {
    day: [{"opens": "07:00", "closes": "19:00"}]
    for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
}


def assert_problem(response: Any, status: int, type_suffix: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    if type_suffix:
        assert body["type"].endswith(type_suffix), body["type"]
    return body
