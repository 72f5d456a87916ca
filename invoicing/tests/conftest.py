"""Fixtures: the app on a fresh database, and the services invoicing talks to as real
HTTP servers on loopback — maintenance-job-management, customer-management and
vehicle-management answering only what their committed contracts allow (every canned
answer is validated when it is added), and a notification-management receiver for
the outbox. A fake can be stopped (connection refused), slowed past the read timeout
or made to fail, and started again on the same port."""

from __future__ import annotations

import importlib
import sys

# pytest (importlib mode) names this file `invoicing.tests.conftest` after its path and,
# collecting other folders first, may have made `invoicing` a namespace module for the
# service's folder. The tests need the service's package under that name.
if not hasattr(sys.modules.get("invoicing"), "create_app"):
    sys.modules.pop("invoicing", None)
    importlib.import_module("invoicing")

import contextlib
import copy
import itertools
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from invoicing.clients import EXTENSION
from invoicing.models import SCHEMA, db
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from invoicing import create_app
from service_kit.contract_testing import find_contract, validate_response
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema

JOBS_CONTRACT = find_contract("maintenance-job-management")
CUSTOMERS_CONTRACT = find_contract("customer-management")
VEHICLES_CONTRACT = find_contract("vehicle-management")
NOTIFICATIONS_CONTRACT = find_contract("notification-management")
GET_JOB = "/api/v1/maintenance-jobs/{job_id}"
GET_CUSTOMER = "/api/v1/customers/{customer_id}"
GET_VEHICLE = "/api/v1/vehicles/{vehicle_id}"
URL = "/api/v1/invoices"
CREDIT_NOTES = "/api/v1/credit-notes"
READ_TIMEOUT = 0.5

Answer = tuple[int, dict[str, str], bytes]


# ------------------------------------------------------------------------ HTTP servers


class _Server(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128  # many concurrent issues connect at once


class LoopbackHTTP:
    """A real HTTP server on 127.0.0.1 that records requests and answers through
    ``respond(method, path, headers, body)``. ``stop()`` closes the port (callers get
    connection refused); ``start()`` opens it again on the same port."""

    def __init__(self, respond: Callable[[str, str, dict[str, str], bytes], Answer]) -> None:
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.connections: set[socket.socket] = set()
        self.port = 0
        self.httpd: ThreadingHTTPServer | None = None
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server.connections.add(self.connection)

            def finish(self) -> None:
                super().finish()
                with server.lock:
                    server.connections.discard(self.connection)

            def _answer(self) -> None:
                if server.httpd is not self.server:
                    # Stopped: a kept-alive connection must not outlive its server.
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = dict(self.headers)
                with server.lock:
                    server.requests.append(
                        {"method": self.command, "path": self.path, "headers": headers, "body": body}
                    )
                if server.delay:
                    time.sleep(server.delay)
                status, answer_headers, payload = server.respond(self.command, self.path, headers, body)
                self.send_response(status)
                for name, value in answer_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        return Handler

    def start(self) -> None:
        self.httpd = _Server(("127.0.0.1", self.port), self._handler())
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every open connection, as a stopped process would."""
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None
        with self.lock:
            connections, self.connections = self.connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    @property
    def running(self) -> bool:
        return self.httpd is not None

    def hits(self, path_part: str = "") -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if path_part in r["path"]]


def _json(status: int, body: Any, content_type: str = "application/json") -> Answer:
    return status, {"Content-Type": content_type}, json.dumps(body).encode()


def _problem(status: int, title: str, detail: str) -> Answer:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return _json(status, body, "application/problem+json")


class ContractServer:
    """A downstream on loopback: ``GET <prefix>/<id>`` answers what was put for that id
    (validated against the contract), else 404. ``failing`` makes it answer 500."""

    def __init__(self, contract: Any, path: str, name: str) -> None:
        self.contract = contract
        self.path = path
        self.name = name
        self.prefix = path.split("{", 1)[0]
        self.resources: dict[str, dict[str, Any]] = {}
        self.failing = False
        self.http = LoopbackHTTP(self._respond)

    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        validate_response(self.contract, "GET", self.path, 200, body)
        self.resources[str(body["id"])] = copy.deepcopy(body)
        return body

    def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.failing:
            return _problem(500, "Internal Server Error", "something broke")
        resource_id = path.removeprefix(self.prefix)
        if method == "GET" and resource_id in self.resources:
            return _json(200, self.resources[resource_id])
        return _problem(404, "Not Found", f"{resource_id} does not exist")

    def down(self) -> None:
        self.http.stop()

    def up(self) -> None:
        if not self.http.running:
            self.http.start()

    def reset(self) -> None:
        self.up()
        self.resources.clear()
        self.failing = False
        self.http.delay = 0.0
        with self.http.lock:
            self.http.requests.clear()

    def calls(self) -> int:
        return len(self.http.hits(self.prefix))


STAMP = "2026-03-02T10:00:00+00:00"


class FakeCustomers(ContractServer):
    def __init__(self) -> None:
        super().__init__(CUSTOMERS_CONTRACT, GET_CUSTOMER, "customer-management")

    def add(self, **fields: Any) -> dict[str, Any]:
        address = fields.pop("address", None) or {
            "street": "Oudegracht 1",
            "postal_code": "3511 AA",
            "city": "Utrecht",
            "country": "NL",
        }
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "kind": "person",
            "name": "Ann de Vries",
            "vat_number": None,
            "contact_person": None,
            "email": "ann@example.com",
            "phone": "+31612345678",
            "address": address,
            "preferred_channel": "email",
            "preferred_language": "nl",
            "notes": None,
            "consents": {
                "email": {"service": True, "marketing": False},
                "sms": {"service": True, "marketing": False},
            },
            "marketing_consent": False,
            "status": "active",
            "created_at": STAMP,
            "updated_at": STAMP,
            "erased_at": None,
            "version": 1,
        }
        body.update(fields)
        return self.put(body)


class FakeVehicles(ContractServer):
    def __init__(self) -> None:
        super().__init__(VEHICLES_CONTRACT, GET_VEHICLE, "vehicle-management")

    def add(self, owner_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "owner_id": owner_id,
            "plate": "AB-123-C",
            "plate_normalised": "AB123C",
            "country": "NL",
            "vin": None,
            "make": "Volkswagen",
            "model": "Golf",
            "year": 2019,
            "fuel_type": "petrol",
            "colour": None,
            "odometer": None,
            "status": "active",
            "warnings": [],
            "created_at": STAMP,
            "updated_at": STAMP,
            "deregistered_at": None,
            "version": 1,
        }
        body.update(fields)
        return self.put(body)


def labour(hours_hundredths: int = 150, rate: int = 6000, vat: str = "21.00", **more: Any) -> dict[str, Any]:
    return {
        "kind": "labour",
        "description": more.pop("description", "labour"),
        "part_number": None,
        "quantity_hundredths": hours_hundredths,
        "unit_price": rate,
        "vat_rate": vat,
        **more,
    }


def part(
    quantity_hundredths: int = 100, price: int = 1000, vat: str = "21.00", **more: Any
) -> dict[str, Any]:
    return {
        "kind": "part",
        "description": more.pop("description", "oil filter"),
        "part_number": more.pop("part_number", "OF-123"),
        "quantity_hundredths": quantity_hundredths,
        "unit_price": price,
        "vat_rate": vat,
        **more,
    }


def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


class FakeJobs(ContractServer):
    def __init__(self) -> None:
        super().__init__(JOBS_CONTRACT, GET_JOB, "maintenance-job-management")

    @staticmethod
    def line(spec: dict[str, Any]) -> dict[str, Any]:
        spec = dict(spec)
        approved = spec.pop("approved", True)
        quantity = spec["quantity_hundredths"]
        net = _half_up(quantity * spec["unit_price"], 100)
        labour_line = spec["kind"] == "labour"
        return {
            "id": str(spec.pop("id", uuid.uuid4())),
            "kind": spec["kind"],
            "description": spec["description"],
            "part_number": spec["part_number"],
            "quantity": f"{quantity / 100:.2f}",
            "quantity_hundredths": quantity,
            "unit_price": spec["unit_price"],
            "hours_hundredths": quantity if labour_line else None,
            "hourly_rate": spec["unit_price"] if labour_line else None,
            "vat_rate": spec["vat_rate"],
            "net_amount": net,
            "vat_amount": _half_up(net * int(float(spec["vat_rate"]) * 100), 10_000),
            "approval": "approved" if approved else "declined",
            "approved": approved,
            "approved_net": net if approved else None,
            "needs_reapproval": False,
            "covered_by_booking": True,
            "done": approved,
            "done_at": STAMP if approved else None,
            "created_by": "tech-1",
            "created_at": STAMP,
        }

    def add(
        self,
        *,
        customer_id: str,
        vehicle_id: str,
        lines: list[dict[str, Any]] | None = None,
        status: str = "completed",
        **fields: Any,
    ) -> dict[str, Any]:
        job_lines = [self.line(spec) for spec in (lines if lines is not None else [labour(), part()])]
        billable = [line for line in job_lines if line["approved"]]
        billable_net = sum(line["net_amount"] for line in billable)
        billable_vat = sum(line["vat_amount"] for line in billable)
        completed = status == "completed"
        body = {
            "id": str(fields.pop("id", uuid.uuid4())),
            "appointment_id": str(uuid.uuid4()),
            "vehicle_id": vehicle_id,
            "customer_id": customer_id,
            "planned_start": "2026-03-02T08:00:00+00:00",
            "planned_end": "2026-03-02T10:00:00+00:00",
            "description": "annual service",
            "status": status,
            "hold_kind": None,
            "hold_reason": None,
            "cancel_reason": None,
            "cancelled_at": None,
            "assigned_technician": "tech-1",
            "actual_start": "2026-03-02T08:05:00+00:00" if status != "scheduled" else None,
            "actual_end": "2026-03-02T09:50:00+00:00" if completed else None,
            "completed_at": "2026-03-02T09:50:00+00:00" if completed else None,
            "odometer_in": 123456,
            "odometer_unit": "km",
            "technician_notes": None,
            "currency": "EUR",
            "lines": job_lines,
            "totals": {
                "approved_net": billable_net,
                "billable_net": billable_net,
                "billable_vat": billable_vat,
                "billable_gross": billable_net + billable_vat,
                "pending_net": 0,
                "declined_net": sum(line["net_amount"] for line in job_lines if not line["approved"]),
            },
            "progress": {"done": len(billable), "total": len(billable)},
            "time": {
                "clocked_seconds": 0,
                "clocked_hours_hundredths": 0,
                "billed_labour_hours_hundredths": sum(
                    line["quantity_hundredths"] for line in billable if line["kind"] == "labour"
                ),
                "clocked_in": [],
            },
            "created_at": STAMP,
            "updated_at": STAMP,
            "version": 3,
        }
        body.update(fields)
        return self.put(body)


class NotificationReceiver:
    """notification-management taking requests (202), or failing while ``status`` says so."""

    def __init__(self) -> None:
        self.status = 202
        self.http = LoopbackHTTP(self._respond)

    def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if self.status >= 400:
            return _problem(self.status, "Service Unavailable", "try later")
        request = json.loads(body or b"{}")
        return _json(
            202,
            {
                "id": str(uuid.uuid4()),
                "customer_id": request.get("customer_id"),
                "type": request.get("type"),
                "status": "pending",
            },
        )

    def received(self) -> list[dict[str, Any]]:
        return [
            {**hit, "json": json.loads(hit["body"])}
            for hit in self.http.hits("/api/v1/notifications")
            if hit["method"] == "POST"
        ]

    def reset(self) -> None:
        self.status = 202
        if not self.http.running:
            self.http.start()
        with self.http.lock:
            self.http.requests.clear()


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="session")
def fake_jobs() -> Iterator[FakeJobs]:
    fake = FakeJobs()
    yield fake
    fake.down()


@pytest.fixture(scope="session")
def fake_customers() -> Iterator[FakeCustomers]:
    fake = FakeCustomers()
    yield fake
    fake.down()


@pytest.fixture(scope="session")
def fake_vehicles() -> Iterator[FakeVehicles]:
    fake = FakeVehicles()
    yield fake
    fake.down()


@pytest.fixture(scope="session")
def notifications() -> Iterator[NotificationReceiver]:
    fake = NotificationReceiver()
    yield fake
    fake.http.stop()


def _client_settings(name: str, url: str) -> dict[str, Any]:
    prefix = name.upper().replace("-", "_")
    return {
        f"{prefix}_URL": url,
        f"{prefix}_RETRIES": 0,
        f"{prefix}_BACKOFF_SECONDS": 0.001,
        f"{prefix}_CONNECT_TIMEOUT_SECONDS": 0.5,
        f"{prefix}_READ_TIMEOUT_SECONDS": READ_TIMEOUT,
        # Failure tests must see each call fail on its own, not a breaker opened by the last test.
        f"{prefix}_BREAKER_FAILURES": 1000,
    }


@pytest.fixture(scope="session")
def app(
    fresh_database_url: str,
    fake_jobs: FakeJobs,
    fake_customers: FakeCustomers,
    fake_vehicles: FakeVehicles,
    notifications: NotificationReceiver,
) -> Flask:
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": fresh_database_url,
            "DB_POOL_SIZE": 12,
            "DB_MAX_OVERFLOW": 12,
            "INVOICING_URL": "http://invoicing.test",
            "GARAGE_NAME": "Garage De Vries",
            "GARAGE_ADDRESS": "Werkplaatsweg 7|3511 AB Utrecht|Netherlands",
            "GARAGE_VAT_NUMBER": "NL123456789B01",
            "GARAGE_IBAN": "NL91ABNA0417164300",
            "GARAGE_BIC": "ABNANL2A",
            "GARAGE_REGISTRATION": "KvK 12345678",
            **_client_settings("maintenance-job-management", fake_jobs.http.url),
            **_client_settings("customer-management", fake_customers.http.url),
            **_client_settings("vehicle-management", fake_vehicles.http.url),
            **_client_settings("notification-management", notifications.http.url),
        }
    )
    upgrade(app)
    return app


@pytest.fixture
def clean(app, fake_jobs, fake_customers, fake_vehicles, notifications) -> Iterator[None]:
    for fake in (fake_jobs, fake_customers, fake_vehicles, notifications):
        fake.reset()
    downstreams = app.extensions[EXTENSION]
    for client in (downstreams.jobs, downstreams.customers, downstreams.vehicles):
        client.http.breaker.reset()
    yield
    for fake in (fake_jobs, fake_customers, fake_vehicles, notifications):
        fake.reset()
    with app.app_context():
        empty_schema()


def empty_schema() -> None:
    """Delete every row, children first: for the few rows a test makes much faster than
    TRUNCATE. The immutability triggers refuse deletes, so they are bypassed for this
    session (replica role, a superuser's right); without that right, TRUNCATE."""
    db.session.remove()
    try:
        with db.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    except DBAPIError:
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def client(app: Flask, clean: None) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def service_headers(auth_headers):
    return auth_headers("service", subject="maintenance-job-management")


@pytest.fixture
def accountant(auth_headers):
    return auth_headers("accountant", subject="acc-1")


@pytest.fixture
def advisor(auth_headers):
    return auth_headers("advisor", subject="adv-1")


class Garage:
    """Sets the scene (a customer, a vehicle, a completed job in the fakes) and drives
    invoicing through its API."""

    def __init__(self, client, jobs, customers, vehicles, notifications, auth_headers) -> None:
        self.client = client
        self.jobs = jobs
        self.customers = customers
        self.vehicles = vehicles
        self.notifications = notifications
        self.service = auth_headers("service", subject="maintenance-job-management")
        self.accountant = auth_headers("accountant", subject="acc-1")
        self.advisor = auth_headers("advisor", subject="adv-1")
        self.admin = auth_headers("admin", subject="admin-1")
        self._names = itertools.count(1)

    def job(self, lines: list[dict[str, Any]] | None = None, *, customer: dict | None = None, **fields: Any):
        customer = customer or self.customers.add(name=f"Customer {next(self._names)}")
        vehicle = self.vehicles.add(customer["id"])
        return self.jobs.add(customer_id=customer["id"], vehicle_id=vehicle["id"], lines=lines, **fields)

    def create(self, job_id: str, headers: dict | None = None, **body: Any):
        return self.client.post(URL, json={"job_id": job_id, **body}, headers=headers or self.service)

    def invoice(self, lines: list[dict[str, Any]] | None = None, **body: Any) -> dict[str, Any]:
        job_fields = {key: body.pop(key) for key in ("customer",) if key in body}
        job = self.job(lines, **job_fields)
        response = self.create(job["id"], **body)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    def get(self, invoice_id: str) -> dict[str, Any]:
        response = self.client.get(f"{URL}/{invoice_id}", headers=self.accountant)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def pay(self, invoice_id: str, amount: int, headers: dict | None = None, **more: Any):
        body = {"amount": amount, "method": more.pop("method", "bank_transfer"), **more}
        return self.client.post(f"{URL}/{invoice_id}/payments", json=body, headers=headers or self.accountant)

    def credit(self, invoice_id: str, headers: dict | None = None, **body: Any):
        body = {"invoice_id": invoice_id, "reason": body.pop("reason", "goodwill"), **body}
        return self.client.post(CREDIT_NOTES, json=body, headers=headers or self.accountant)


@pytest.fixture
def garage(client, fake_jobs, fake_customers, fake_vehicles, notifications, auth_headers) -> Garage:
    return Garage(client, fake_jobs, fake_customers, fake_vehicles, notifications, auth_headers)


@pytest.fixture
def outbox_rows(app: Flask) -> Callable[[], list[Any]]:
    def rows() -> list[Any]:
        with app.app_context(), db.engine.connect() as connection:
            return list(
                connection.execute(text("SELECT * FROM invoicing.outbox_messages ORDER BY created_at, id"))
            )

    return rows


@pytest.fixture
def counters(app: Flask) -> Callable[[], dict[tuple[str, int], int]]:
    def read() -> dict[tuple[str, int], int]:
        with app.app_context(), db.engine.connect() as connection:
            return {
                (row.series, row.year): row.last_number
                for row in connection.execute(text("SELECT * FROM invoicing.document_counters"))
            }

    return read


@pytest.fixture(name="labour")
def labour_fixture() -> Callable[..., dict[str, Any]]:
    """``labour(hours_hundredths, rate, vat="21.00", approved=True, description=...)``: a job line."""
    return labour


@pytest.fixture(name="part")
def part_fixture() -> Callable[..., dict[str, Any]]:
    """``part(quantity_hundredths, price, vat="21.00", approved=True, ...)``: a job line."""
    return part
