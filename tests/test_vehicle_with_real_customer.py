"""customer-management and vehicle-management together, for real: both apps served over
HTTP on loopback (werkzeug, in threads), one test database, each in its own schema.
vehicle-management checks owners by calling the real customer-management."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import customer_management
import pytest
import requests
import vehicle_management
from customer_management.models import SCHEMA as CUSTOMERS_SCHEMA
from customer_management.models import db as customers_db
from vehicle_management.models import SCHEMA as VEHICLES_SCHEMA
from vehicle_management.models import db as vehicles_db
from werkzeug.serving import make_server

from service_kit.auth import TokenVerifier, mint_token
from service_kit.migrations import upgrade
from service_kit.testing import truncate_schema


@dataclass
class Recorder:
    """WSGI middleware in front of customer-management: records what reaches it and
    can make it slow."""

    app: Any
    delay: float = 0.0
    seen: list[dict[str, str]] = field(default_factory=list)
    in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        with self.lock:
            self.in_flight += 1
        try:
            return self._answer(environ, start_response)
        finally:
            with self.lock:
                self.in_flight -= 1

    def wait_idle(self, timeout: float = 5) -> None:
        deadline = time.monotonic() + timeout
        while self.in_flight and time.monotonic() < deadline:
            time.sleep(0.02)

    def _answer(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        self.seen.append(
            {
                "path": environ.get("PATH_INFO", ""),
                "request_id": environ.get("HTTP_X_REQUEST_ID", ""),
                "authorization": environ.get("HTTP_AUTHORIZATION", ""),
            }
        )
        if self.delay:
            time.sleep(self.delay)
        return self.app(environ, start_response)


@contextmanager
def served(app: Any, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on loopback; on leaving, stop listening *and* drop the open
    keep-alive connections, as a stopped process would."""
    server = make_server("127.0.0.1", port, app, threaded=True)
    connections: list[socket.socket] = []
    accept = server.process_request

    def process_request(request: socket.socket, client_address: Any) -> None:
        connections.append(request)
        accept(request, client_address)

    server.process_request = process_request  # type: ignore[method-assign]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


@dataclass
class Garage:
    customers_url: str
    vehicles_url: str
    recorder: Recorder
    headers: dict[str, str]
    verifier: TokenVerifier
    database_url: str

    def customer(self, **fields: Any) -> dict[str, Any]:
        body = {
            "kind": "person",
            "name": "Ann de Vries",
            "email": f"{uuid.uuid4().hex}@example.com",
            **fields,
        }
        response = requests.post(
            f"{self.customers_url}/api/v1/customers", json=body, headers=self.headers, timeout=5
        )
        assert response.status_code == 201, response.text
        return response.json()

    def register(
        self, owner_id: str, plate: str, base_url: str | None = None, **fields: Any
    ) -> requests.Response:
        body = {"owner_id": owner_id, "plate": plate, "make": "Volvo", "model": "V60", **fields}
        return requests.post(
            f"{base_url or self.vehicles_url}/api/v1/vehicles", json=body, headers=self.headers, timeout=5
        )


FAST_FAILING = {
    "CUSTOMER_MANAGEMENT_READ_TIMEOUT_SECONDS": 0.3,
    "CUSTOMER_MANAGEMENT_RETRIES": 1,
    "CUSTOMER_MANAGEMENT_BACKOFF_SECONDS": 0.01,
    "CUSTOMER_MANAGEMENT_BREAKER_FAILURES": 2,
    "CUSTOMER_MANAGEMENT_BREAKER_COOLDOWN_SECONDS": 0.3,
}


def vehicles_app(database_url: str, customers_url: str) -> Any:
    return vehicle_management.create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "CUSTOMER_MANAGEMENT_URL": customers_url,
            **FAST_FAILING,
        }
    )


@pytest.fixture(scope="module")
def garage(fresh_database_url: str) -> Iterator[Garage]:
    customers_app = customer_management.create_app({"TESTING": True, "DATABASE_URL": fresh_database_url})
    upgrade(customers_app)
    recorder = Recorder(customers_app)
    with served(recorder) as customers_url:
        vehicles = vehicles_app(fresh_database_url, customers_url)
        upgrade(vehicles)
        with served(vehicles) as vehicles_url:
            token = mint_token(vehicles.config, roles=["advisor"], subject="front-desk")
            yield Garage(
                customers_url=customers_url,
                vehicles_url=vehicles_url,
                recorder=recorder,
                headers={"Authorization": f"Bearer {token}"},
                verifier=TokenVerifier(vehicles.config),
                database_url=fresh_database_url,
            )
    with customers_app.app_context():
        truncate_schema(customers_db.engine, CUSTOMERS_SCHEMA)
    with vehicles.app_context():
        truncate_schema(vehicles_db.engine, VEHICLES_SCHEMA)


def test_registers_a_vehicle_for_a_real_customer(garage: Garage) -> None:
    customer = garage.customer()
    response = garage.register(customer["id"], "AB-12-CD")
    assert response.status_code == 201, response.text
    vehicle = response.json()
    assert vehicle["owner_id"] == customer["id"]
    fetched = requests.get(
        garage.vehicles_url + response.headers["Location"], headers=garage.headers, timeout=5
    )
    assert fetched.json()["plate_normalised"] == "AB12CD"


def test_customer_management_sees_the_request_id_and_a_service_token(garage: Garage) -> None:
    customer = garage.customer()
    garage.recorder.seen.clear()
    response = garage.register(customer["id"], "RQ-11-ID")
    assert response.status_code == 201
    request_id = response.headers["X-Request-ID"]
    [call] = [c for c in garage.recorder.seen if c["path"].endswith(customer["id"])]
    assert call["request_id"] == request_id
    principal = garage.verifier.verify(call["authorization"].removeprefix("Bearer "))
    assert principal.roles == {"service"}
    assert principal.subject == "vehicle-management"


def test_an_unknown_customer_cannot_own_a_vehicle(garage: Garage) -> None:
    response = garage.register(str(uuid.uuid4()), "UN-00-KN")
    assert response.status_code == 422
    assert response.json()["type"] == "urn:garage:problem:owner-not-found"


def test_an_erased_customer_cannot_get_or_receive_a_vehicle(garage: Garage) -> None:
    owner = garage.customer()
    vehicle = garage.register(owner["id"], "ER-00-AS").json()
    erased = garage.customer()
    deleted = requests.delete(
        f"{garage.customers_url}/api/v1/customers/{erased['id']}", headers=garage.headers, timeout=5
    )
    assert deleted.status_code == 204
    assert garage.register(erased["id"], "ER-11-AS").json()["type"] == "urn:garage:problem:owner-erased"
    transfer = requests.post(
        f"{garage.vehicles_url}/api/v1/vehicles/{vehicle['id']}/transfer",
        json={"new_owner_id": erased["id"]},
        headers=garage.headers,
        timeout=5,
    )
    assert transfer.status_code == 422
    assert transfer.json()["type"] == "urn:garage:problem:owner-erased"


def test_transfer_to_another_real_customer(garage: Garage) -> None:
    first, second = garage.customer(), garage.customer(name="Bram Jansen")
    vehicle = garage.register(first["id"], "TR-12-AN").json()
    url = f"{garage.vehicles_url}/api/v1/vehicles/{vehicle['id']}"
    transfer = requests.post(
        f"{url}/transfer", json={"new_owner_id": second["id"]}, headers=garage.headers, timeout=5
    )
    assert transfer.status_code == 200, transfer.text
    owners = requests.get(f"{url}/owners", headers=garage.headers, timeout=5).json()["items"]
    assert [o["owner_id"] for o in owners] == [second["id"], first["id"]]


def test_a_slow_customer_management_is_503_within_the_read_timeout(garage: Garage) -> None:
    customer = garage.customer()
    garage.recorder.delay = 1.5
    try:
        started = time.perf_counter()
        response = garage.register(customer["id"], "SL-00-OW")
        elapsed = time.perf_counter() - started
    finally:
        garage.recorder.delay = 0.0
        garage.recorder.wait_idle()  # the abandoned look-ups still finish their work
    assert response.status_code == 503
    assert response.json()["dependency"] == "customer-management"
    assert elapsed < 1.2, "two attempts of 0.3 s, not the downstream's 1.5 s"
    listed = requests.get(
        f"{garage.vehicles_url}/api/v1/vehicles",
        params={"plate": "SL-00-OW"},
        headers=garage.headers,
        timeout=5,
    )
    assert listed.json()["items"] == []


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_customer_management_down_then_back(garage: Garage) -> None:
    """vehicle-management in front of a customer-management that stops and comes back
    on the same address: 503 while it is gone, at once while the breaker is open,
    and registrations work again after the cool-down."""
    customer = garage.customer()
    customers_app = customer_management.create_app({"TESTING": True, "DATABASE_URL": garage.database_url})
    port = free_port()
    vehicles = vehicles_app(garage.database_url, f"http://127.0.0.1:{port}")
    with served(vehicles) as vehicles_url:
        with served(customers_app, port):
            assert garage.register(customer["id"], "DN-00-01", base_url=vehicles_url).status_code == 201

        failures = [garage.register(customer["id"], f"DN-00-0{n}", base_url=vehicles_url) for n in (2, 3)]
        assert [f.status_code for f in failures] == [503, 503]
        assert failures[0].json()["detail"] == "customer-management could not be reached"
        started = time.perf_counter()
        fast = garage.register(customer["id"], "DN-00-04", base_url=vehicles_url)
        assert time.perf_counter() - started < 0.2
        assert fast.status_code == 503
        assert "not calling it for now" in fast.json()["detail"]

        with served(customers_app, port):
            time.sleep(0.35)  # the breaker's cool-down
            back = garage.register(customer["id"], "DN-00-05", base_url=vehicles_url)
            assert back.status_code == 201, back.text
