"""customer-management faked at the HTTP boundary (``responses``): every canned answer
is validated against contracts/customer-management.yaml when it is added."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests
import responses

from service_kit.contract_testing import ContractFake, find_contract, validate_response

CUSTOMER_MANAGEMENT_URL = "http://customer-management.test"
GET_CUSTOMER = "/api/v1/customers/{customer_id}"


def customer_body(customer_id: uuid.UUID, *, status: str = "active", name: str = "Ann de Vries") -> dict:
    """A customer as customer-management answers it (checked against its contract)."""
    erased = status == "erased"
    consent = {"service": not erased, "marketing": False}
    return {
        "id": str(customer_id),
        "kind": "person",
        "name": "Erased customer" if erased else name,
        "vat_number": None,
        "contact_person": None,
        "email": None if erased else "ann@example.com",
        "phone": None if erased else "+31612345678",
        "address": {"street": None, "postal_code": None, "city": None, "country": None if erased else "NL"},
        "preferred_channel": "none" if erased else "email",
        "preferred_language": "nl",
        "notes": None,
        "payment_terms_days": 0,
        "consents": {"email": dict(consent), "sms": dict(consent)},
        "marketing_consent": False,
        "status": status,
        "created_at": "2026-03-01T09:30:00+00:00",
        "updated_at": "2026-03-02T10:00:00+00:00",
        "erased_at": "2026-03-02T10:00:00+00:00" if erased else None,
        "version": 2 if erased else 1,
    }


class FakeCustomerManagement:
    """customer-management, answering as each test sets it up."""

    contract = find_contract("customer-management")
    path = GET_CUSTOMER
    body = staticmethod(customer_body)

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.fake = ContractFake(mock, self.contract, CUSTOMER_MANAGEMENT_URL)

    def customer(
        self, customer_id: uuid.UUID | None = None, *, status: str = "active", name: str = "Ann de Vries"
    ) -> uuid.UUID:
        """An answer for ``customer_id`` (new by default). Answers added for one id are
        given in the order added, the last one repeating."""
        customer_id = customer_id or uuid.uuid4()
        self.fake.add(
            "GET",
            GET_CUSTOMER,
            200,
            customer_body(customer_id, status=status, name=name),
            customer_id=customer_id,
        )
        return customer_id

    def everyone(self) -> None:
        """An active customer for every id asked about."""
        validate_response(self.contract, "GET", GET_CUSTOMER, 200, customer_body(uuid.uuid4()))

        def any_customer(request: Any) -> tuple[int, dict[str, str], str]:
            customer_id = request.url.rsplit("/", 1)[-1]
            return 200, {"Content-Type": "application/json"}, json.dumps(customer_body(customer_id))

        self.mock.add_callback(
            "GET", re.compile(re.escape(CUSTOMER_MANAGEMENT_URL) + r"/api/v1/customers/[^/]+$"), any_customer
        )

    def unknown(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {
            "type": "urn:garage:problem:customer-not-found",
            "title": "Not Found",
            "status": 404,
            "detail": f"customer {customer_id} does not exist",
        }
        self.fake.add("GET", GET_CUSTOMER, 404, problem, customer_id=customer_id)
        return customer_id

    def failing(self, status: int = 500) -> uuid.UUID:
        customer_id = uuid.uuid4()
        problem = {"type": "about:blank", "title": "Internal Server Error", "status": status}
        self.fake.add("GET", GET_CUSTOMER, status, problem, customer_id=customer_id)
        return customer_id

    def down(self, customer_id: uuid.UUID | None = None) -> uuid.UUID:
        customer_id = customer_id or uuid.uuid4()
        self.fake.fail(
            "GET", GET_CUSTOMER, requests.ConnectionError("connection refused"), customer_id=customer_id
        )
        return customer_id

    def slow(self) -> uuid.UUID:
        customer_id = uuid.uuid4()
        self.fake.fail("GET", GET_CUSTOMER, requests.ReadTimeout("read timed out"), customer_id=customer_id)
        return customer_id

    def calls_for(self, customer_id: Any) -> int:
        return sum(1 for call in self.mock.calls if call.request.url.endswith(f"/customers/{customer_id}"))


# ------------------------------------------------------------- maintenance-job-management

MAINTENANCE_JOB_MANAGEMENT_URL = "http://maintenance-job-management.test"
WORKSHOP_SCHEDULING_URL = "http://workshop-scheduling.test"
LIST_JOBS = "/api/v1/maintenance-jobs"
LIST_CANNED_JOBS = "/api/v1/canned-jobs"


def canned_job_body(code: str, canned_job_id: uuid.UUID | None = None) -> dict:
    """A canned job as maintenance-job-management answers it (checked against its contract)."""
    return {
        "id": str(canned_job_id or uuid.uuid4()),
        "code": code,
        "name": code.replace("-", " "),
        "description": None,
        "work_kind": None,
        "active": True,
        "lines": [
            {
                "id": str(uuid.uuid4()),
                "position": 1,
                "kind": "labour",
                "description": code.replace("-", " "),
                "hours": "1.50",
                "hourly_rate": None,
                "quantity": "1.50",
                "unit_price": 0,
                "part_number": None,
                "vat_rate": None,
            }
        ],
        "created_at": "2026-01-01T08:00:00+00:00",
        "updated_at": "2026-01-01T08:00:00+00:00",
        "updated_by": "admin-1",
        "updated_by_name": "Ada Admin",
        "version": 1,
    }


def _line(canned_job_id: str | None, *, approval: str = "approved") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": "labour",
        "description": "work",
        "hours": "1.50",
        "hourly_rate": 8000,
        "quantity": "1.50",
        "unit_price": 8000,
        "part_number": None,
        "vat_rate": "21.00",
        "net_amount": 12000,
        "vat_amount": 2520,
        "approval": approval,
        "approved": approval == "approved",
        "approved_net": 12000 if approval == "approved" else None,
        "needs_reapproval": False,
        "covered_by_booking": True,
        "canned_job_id": canned_job_id,
        "done": approval == "approved",
        "done_at": None,
        "created_at": "2026-01-01T08:00:00+00:00",
        "created_by": "tech-1",
        "created_by_name": "Tom Technician",
    }


def job_body(
    vehicle_id: uuid.UUID,
    *,
    completed_at: str,
    odometer_in: int | None,
    canned_job_ids: tuple[str, ...] = (),
    declined: tuple[str, ...] = (),
    unit: str = "km",
) -> dict:
    """A completed job as maintenance-job-management answers it (checked against its contract)."""
    lines = [_line(c) for c in canned_job_ids] + [_line(c, approval="declined") for c in declined] or [
        _line(None)
    ]
    return {
        "id": str(uuid.uuid4()),
        "appointment_id": str(uuid.uuid4()),
        "appointment_status": "completed",
        "vehicle_id": str(vehicle_id),
        "customer_id": str(uuid.uuid4()),
        "planned_start": completed_at,
        "planned_end": completed_at,
        "description": "service",
        "status": "completed",
        "assigned_technician": "tech-1",
        "actual_start": completed_at,
        "actual_end": completed_at,
        "arrived_at": None,
        "completed_at": completed_at,
        "cancelled_at": None,
        "cancel_reason": None,
        "hold_kind": None,
        "hold_reason": None,
        "odometer_in": odometer_in,
        "odometer_unit": unit,
        "technician_notes": None,
        "currency": "EUR",
        "lines": lines,
        "progress": {"done": 1, "total": 1},
        "totals": {
            "approved_net": 12000,
            "pending_net": 0,
            "declined_net": 0,
            "billable_net": 12000,
            "billable_vat": 2520,
            "billable_gross": 14520,
        },
        "time": {
            "billed_labour_hours": "1.50",
            "clocked_hours": "1.50",
            "clocked_seconds": 5400,
            "clocked_in": [],
        },
        "created_at": completed_at,
        "updated_at": completed_at,
        "version": 3,
    }


class FakeMaintenanceJobs:
    """maintenance-job-management's catalogue and job history, answering as each test
    sets it up; every answer is validated against its contract when it is set."""

    contract = find_contract("maintenance-job-management")

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.canned: list[dict] = []
        self.jobs: dict[str, list[dict]] = {}
        self.before_answer: Any = None  # called before each job-history answer (tests of concurrency)
        self.down = False
        self.history_down = False
        self.mock.add_callback(
            "GET",
            re.compile(re.escape(MAINTENANCE_JOB_MANAGEMENT_URL + LIST_CANNED_JOBS) + r"(\?.*)?$"),
            self._canned,
        )
        self.mock.add_callback(
            "GET", re.compile(re.escape(MAINTENANCE_JOB_MANAGEMENT_URL + LIST_JOBS) + r"(\?.*)?$"), self._jobs
        )

    def canned_job(self, code: str) -> str:
        body = canned_job_body(code)
        validate_response(self.contract, "GET", LIST_CANNED_JOBS, 200, {"items": [body], "next_cursor": None})
        self.canned.append(body)
        return body["id"]

    def completed(self, vehicle_id: Any, **fields: Any) -> dict:
        body = job_body(uuid.UUID(str(vehicle_id)), **fields)
        validate_response(self.contract, "GET", LIST_JOBS, 200, {"items": [body], "next_cursor": None})
        self.jobs.setdefault(str(vehicle_id), []).insert(0, body)  # newest first
        return body

    def _canned(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.down:
            return self._failure()
        return (
            200,
            {"Content-Type": "application/json"},
            json.dumps({"items": self.canned, "next_cursor": None}),
        )

    def _jobs(self, request: Any) -> tuple[int, dict[str, str], str]:
        if self.before_answer is not None:
            self.before_answer()
        if self.down or self.history_down:
            return self._failure()
        query = parse_qs(urlparse(request.url).query)
        assert query.get("status") == ["completed"], query
        items = self.jobs.get(query["vehicle_id"][0], [])
        return 200, {"Content-Type": "application/json"}, json.dumps({"items": items, "next_cursor": None})

    def _failure(self) -> tuple[int, dict[str, str], str]:
        problem = {"type": "about:blank", "title": "Service Unavailable", "status": 503}
        validate_response(self.contract, "GET", LIST_JOBS, 503, problem)
        return 503, {"Content-Type": "application/problem+json"}, json.dumps(problem)

    def job_calls(self) -> int:
        return sum(1 for call in self.mock.calls if urlparse(call.request.url).path == LIST_JOBS)
