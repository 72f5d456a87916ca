"""vehicle-management, maintenance-job-management and notification-management faked at
the HTTP boundary: real servers on loopback (``service_kit.fakes``) that answer only
what the providers' committed contracts allow, and check every request body the job
service and notification-management receive (and the query of a plate search) against
what they accept."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from service_kit.contract_testing import ContractViolation, find_contract, operation, validate_request
from service_kit.contracts import load_contract
from service_kit.fakes import ContractServer, Received, ResourceServer, problem

VEHICLES_CONTRACT = find_contract("vehicle-management")
JOBS_CONTRACT = find_contract("maintenance-job-management")
NOTIFICATIONS_CONTRACT = find_contract("notification-management")
VEHICLES = "/api/v1/vehicles"
JOBS = "/api/v1/maintenance-jobs"
CANNED_JOBS = "/api/v1/canned-jobs"
NOTIFICATIONS = "/api/v1/notifications"
PUSH_SUBSCRIPTIONS = "/api/v1/notifications/push-subscriptions"
STAMP = "2026-01-05T09:00:00+00:00"
KNOWN_VEHICLE_FACTS = ("vin", "colour", "odometer", "deregistered_at")
JOB_CREATE_FIELDS = (
    "appointment_id",
    "vehicle_id",
    "customer_id",
    "planned_start",
    "planned_end",
    "description",
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


class FakeVehicles(ResourceServer):
    """GET /api/v1/vehicles/{vehicle_id}, and GET /api/v1/vehicles?plate= (any spelling,
    active vehicles unless ``status`` says otherwise)."""

    def __init__(self) -> None:
        super().__init__(VEHICLES_CONTRACT, "/api/v1/vehicles/{vehicle_id}")

    def handle(self, request: Received) -> tuple[int, Any, str]:
        if request.path != VEHICLES:
            return super().handle(request)
        documented = {p["name"] for p in operation(VEHICLES_CONTRACT, "GET", VEHICLES)["parameters"]}
        if set(request.query) - documented:
            raise ContractViolation(f"GET {VEHICLES} has no parameters {set(request.query) - documented}")
        if not 1 <= len(request.query.get("plate", "x")) <= 20:
            raise ContractViolation(f"GET {VEHICLES}: plate is 1 to 20 characters")
        wanted = re.sub(r"[\s\-.·]+", "", request.query.get("plate", "")).upper()
        status = request.query.get("status", "active")
        items = [
            vehicle
            for vehicle in self.resources.values()
            if vehicle["status"] == status and (not wanted or vehicle["plate_normalised"] == wanted)
        ]
        return 200, {"items": items, "next_cursor": None}, VEHICLES

    def add(
        self,
        *,
        owner_id: uuid.UUID | None = None,
        plate: str = "AB-123-C",
        status: str = "active",
        **more: Any,
    ) -> uuid.UUID:
        vehicle_id = uuid.uuid4()
        self.put(
            {
                "id": str(vehicle_id),
                "owner_id": str(owner_id or uuid.uuid4()),
                "plate": plate,
                "plate_normalised": plate.replace("-", "").upper(),
                "plate_display": plate.upper(),
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
                "created_at": STAMP,
                "updated_at": STAMP,
                "deregistered_at": "2026-02-01T09:00:00+00:00" if status == "deregistered" else None,
                "version": 1,
                **self._unknown_facts(),
            }
        )
        return vehicle_id

    @staticmethod
    def _unknown_facts() -> dict[str, None]:
        """The vehicle's nullable facts this fake does not know (e.g. issue 19's
        first_admission_on), as the contract names them: unknown, not left out."""
        schema = load_contract(VEHICLES_CONTRACT)["components"]["schemas"]["Vehicle"]
        return {
            name: None
            for name in schema["required"]
            if schema["properties"][name].get("nullable") and name not in KNOWN_VEHICLE_FACTS
        }


class FakeJobs(ContractServer):
    """The calls scheduling makes to maintenance-job-management, with its rules: one job
    per appointment, reschedule and cancel only before the work starts."""

    def __init__(self) -> None:
        self.jobs: dict[str, dict[str, Any]] = {}
        self.appointment_versions: dict[str, int] = {}
        self.canned: list[dict[str, Any]] = []
        super().__init__(JOBS_CONTRACT)

    def reset(self) -> None:
        super().reset()
        self.jobs = {}
        self.appointment_versions = {}
        self.canned = []

    def add_canned_job(
        self, code: str, name: str, labour_hours: tuple[str, ...] = ("1.00",), active: bool = True
    ) -> dict[str, Any]:
        """A canned job of the catalogue, with a labour line per ``labour_hours`` and one part."""
        lines = [
            {
                "id": str(uuid.uuid4()),
                "position": position,
                "kind": "labour",
                "description": f"{name}: labour",
                "part_number": None,
                "quantity": hours,
                "hours": hours,
                "hourly_rate": None,
                "unit_price": None,
                "vat_rate": None,
            }
            for position, hours in enumerate(labour_hours, start=1)
        ]
        lines.append(
            {
                "id": str(uuid.uuid4()),
                "position": len(lines) + 1,
                "kind": "part",
                "description": "oil filter",
                "part_number": "OF-1",
                "quantity": "1.00",
                "hours": None,
                "hourly_rate": None,
                "unit_price": 1250,
                "vat_rate": "21.00",
            }
        )
        canned = {
            "id": str(uuid.uuid4()),
            "code": code,
            "name": name,
            "description": None,
            "work_kind": None,
            "active": active,
            "lines": lines,
            "version": 1,
            "updated_by": "admin-cas",
            "updated_by_name": "Cas",
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        self.canned.append(canned)
        return canned

    def job_for(self, appointment_id: Any) -> dict[str, Any] | None:
        return next((j for j in self.jobs.values() if j["appointment_id"] == str(appointment_id)), None)

    def set_status(self, job_id: str, status: str) -> None:
        self.jobs[job_id]["status"] = status

    def creates(self) -> list[Received]:
        return [r for r in self.received(JOBS) if r.method == "POST" and r.path == JOBS]

    def _job(self, data: dict[str, Any]) -> dict[str, Any]:
        stamp = now_iso()
        return {
            **{name: data[name] for name in JOB_CREATE_FIELDS},
            "id": str(uuid.uuid4()),
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
            "appointment_status": None,
            "arrived_at": None,
            "lines": [],
            "progress": {"done": 0, "total": 0},
            "time": {
                "billed_labour_hours": "0.00",
                "clocked_hours": "0.00",
                "clocked_in": [],
                "clocked_seconds": 0,
            },
            "totals": dict.fromkeys(
                (
                    "approved_net",
                    "billable_gross",
                    "billable_net",
                    "billable_vat",
                    "declined_net",
                    "pending_net",
                ),
                0,
            ),
            "created_at": stamp,
            "updated_at": stamp,
            "version": 1,
        }

    def handle(self, request: Received) -> tuple[int, Any, str]:
        with self.lock:
            return self._handle(request)

    def _appointment_status(self, job: dict[str, Any], body: dict[str, Any]) -> None:
        """What the real service does with an appointment's status: a version at or
        below the one kept changes nothing; check-in sets arrived_at."""
        if body["appointment_id"] != job["appointment_id"]:
            raise ContractViolation("an appointment's status sent to another appointment's job")
        last = self.appointment_versions.get(job["id"])
        if last is not None and body["appointment_version"] <= last:
            return
        self.appointment_versions[job["id"]] = body["appointment_version"]
        checked_in = body["appointment_status"] == "checked_in"
        job["appointment_status"] = body["appointment_status"]
        job["arrived_at"] = (
            job["arrived_at"] or body.get("checked_in_at") or (body["changed_at"] if checked_in else None)
        )
        job["version"] += 1

    def _create(self, request: Received) -> tuple[int, Any, str]:
        body = request.json
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

    def _catalogue(self, request: Received) -> tuple[int, Any, str]:
        documented = {p["name"] for p in operation(JOBS_CONTRACT, "GET", CANNED_JOBS)["parameters"]}
        if set(request.query) - documented:
            raise ContractViolation(f"GET {CANNED_JOBS} has no parameters {set(request.query) - documented}")
        active = request.query.get("active")
        items = [c for c in self.canned if active is None or c["active"] == (active == "true")]
        return 200, {"items": items, "next_cursor": None}, CANNED_JOBS

    def _handle(self, request: Received) -> tuple[int, Any, str]:
        if request.path == CANNED_JOBS and request.method == "GET":
            return self._catalogue(request)
        if request.path == JOBS and request.method == "POST":
            return self._create(request)
        if request.path == JOBS and request.method == "GET":
            wanted = request.query.get("appointment_id")
            items = [j for j in self.jobs.values() if j["appointment_id"] == wanted]
            return 200, {"items": items, "next_cursor": None}, JOBS
        job_id, _, verb = request.path.removeprefix(f"{JOBS}/").partition("/")
        job = self.jobs.get(job_id)
        template = f"{JOBS}/{{job_id}}" + (f"/{verb}" if verb else "")
        if job is None:
            return 404, problem(404, "job does not exist"), template
        if request.method == "GET":
            return 200, job, template
        body = request.json
        validate_request(JOBS_CONTRACT, request.method, template, body)
        if verb == "appointment":
            self._appointment_status(job, body)
            return 200, job, template
        if verb == "reschedule":
            if job["status"] not in ("scheduled", "on_hold"):
                # The real service adds current_status; its contract does not promise it.
                return 409, problem(409, f"a job that is {job['status']} cannot be rescheduled"), template
            job.update(
                planned_start=body["planned_start"],
                planned_end=body["planned_end"],
                version=job["version"] + 1,
            )
            return 200, job, template
        if job["status"] == "cancelled":
            return 200, job, template
        if job["status"] not in ("scheduled", "on_hold"):
            return 409, problem(409, f"cannot cancel a job that is {job['status']}"), template
        job.update(
            status="cancelled",
            cancel_reason=body["reason"],
            cancelled_at=now_iso(),
            version=job["version"] + 1,
        )
        return 200, job, template


class FakeNotifications(ContractServer):
    """notification-management's POST /api/v1/notifications (and .../push-subscriptions):
    the request checked against what it accepts, 202 with the notification it would make
    (201 with the subscription)."""

    def __init__(self) -> None:
        super().__init__(NOTIFICATIONS_CONTRACT)

    def handle(self, request: Received) -> tuple[int, Any, str]:
        body = request.json
        if request.path == PUSH_SUBSCRIPTIONS:
            validate_request(NOTIFICATIONS_CONTRACT, "POST", PUSH_SUBSCRIPTIONS, body)
            subscription = {
                "id": str(uuid.uuid4()),
                "customer_id": body["customer_id"],
                "push_service": "https://" + body["endpoint"].split("/")[2],
                "created_at": now_iso(),
                "created_by": "workshop-scheduling",
                "last_sent_at": None,
            }
            return 201, subscription, PUSH_SUBSCRIPTIONS
        validate_request(NOTIFICATIONS_CONTRACT, "POST", NOTIFICATIONS, body)
        stamp = now_iso()
        notification = {
            "id": str(uuid.uuid4()),
            "customer_id": body["customer_id"],
            "type": body["type"],
            "data": body.get("data", {}),
            "attachments": [],
            "status": "pending",
            "channel": None,
            "delivered_channel": None,
            "language": None,
            "recipient": None,
            "attempt_count": 0,
            "attempts": [],
            "last_error": None,
            "next_attempt_at": None,
            "provider_reference": None,
            "sent_at": None,
            "skip_reason": None,
            "created_at": stamp,
            "updated_at": stamp,
            "version": 1,
        }
        return 202, notification, NOTIFICATIONS
