"""The booking rules under real concurrency: the service served over HTTP on loopback,
many simultaneous requests (one thread each) through real transactions. The fake
vehicle-management holds every request until all have passed the checks in Python,
so the database's exclusion constraints are what decide."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests
from sqlalchemy import text
from werkzeug.serving import make_server
from workshop_scheduling.clients.maintenance_jobs import EXTENSION as JOBS_EXTENSION
from workshop_scheduling.clients.vehicle_management import EXTENSION as VEHICLES_EXTENSION
from workshop_scheduling.models import db

from service_kit.testing import run_concurrently

N = 10


@contextmanager
def served(app) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def base_url(app, workshop, monkeypatch) -> Iterator[str]:
    # Ten requests at once in one process: give the fakes time to answer (the fast
    # failure settings of the other tests would turn a busy moment into a 503).
    for name in (VEHICLES_EXTENSION, JOBS_EXTENSION):
        http = app.extensions[name].http
        monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, read_timeout=10))
    with served(app) as url:
        yield url


def hold_until_all_checked(workshop, n: int) -> None:
    barrier = threading.Barrier(n, timeout=10)
    workshop.vehicles.before_answer = lambda request: barrier.wait()


def overlapping_pairs(app, column: str) -> int:
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(
            text(
                f"SELECT count(*) FROM scheduling.appointments a JOIN scheduling.appointments b "
                f"ON a.{column} = b.{column} AND a.id < b.id "
                "AND a.start_at < b.end_at AND a.end_at > b.start_at "
                "WHERE a.status IN ('booked', 'checked_in') AND b.status IN ('booked', 'checked_in')"
            )
        ).scalar_one()


def post_all(base_url, workshop, bodies):
    def post(body):
        return requests.post(
            f"{base_url}/api/v1/appointments", json=body, headers=workshop.advisor, timeout=30
        )

    return run_concurrently(post, bodies)


def test_many_bookings_of_the_last_free_bay_one_wins(app, workshop, base_url, count_rows):
    workshop.bay()
    hold_until_all_checked(workshop, N)
    bodies = [workshop.body(start="10:00", end="11:00") for _ in range(N)]
    answers = post_all(base_url, workshop, bodies)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (N - 1), [a.json() for a in answers]
    for loser in (a for a in answers if a.status_code == 409):
        assert loser.headers["Content-Type"] == "application/problem+json"
    assert count_rows("appointments") == 1
    assert overlapping_pairs(app, "bay_id") == 0
    assert len(workshop.jobs.jobs) == 1, "the losers never reached the job service"


def test_many_bookings_of_one_vehicle_one_wins(app, workshop, base_url, count_rows):
    for n in range(N):
        workshop.bay(f"Lift {n}")
    vehicle = workshop.vehicles.add()
    hold_until_all_checked(workshop, N)
    bodies = [
        workshop.body(vehicle_id=vehicle, start=f"09:{15 * (n % 3):02d}", end="11:00") for n in range(N)
    ]
    answers = post_all(base_url, workshop, bodies)
    assert sorted(a.status_code for a in answers) == [201] + [409] * (N - 1), [a.json() for a in answers]
    assert {a.json()["type"] for a in answers if a.status_code == 409} <= {
        "urn:garage:problem:vehicle-already-booked",
        "urn:garage:problem:deadlock-detected",
    }
    assert count_rows("appointments") == 1
    assert overlapping_pairs(app, "vehicle_id") == 0


def test_auto_chosen_bays_are_shared_out_under_concurrency(app, workshop, base_url, count_rows):
    """Three free lifts, six simultaneous bookings without a bay: each loser of a bay
    moves on to the next free one; exactly three succeed, one per lift."""
    for n in range(3):
        workshop.bay(f"Lift {n}")
    hold_until_all_checked(workshop, 6)
    answers = post_all(base_url, workshop, [workshop.body(start="10:00", end="11:00") for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3, [a.json() for a in answers]
    assert len({a.json()["bay_id"] for a in answers if a.status_code == 201}) == 3
    assert overlapping_pairs(app, "bay_id") == 0
    assert count_rows("appointments") == 3


def test_many_bookings_of_one_technician_one_wins(app, workshop, base_url, count_rows):
    for n in range(4):
        workshop.bay(f"Lift {n}")
    anna = workshop.technician_("Anna")
    hold_until_all_checked(workshop, 4)
    bodies = [workshop.body(technician_id=anna["id"], start="13:00", end="14:00") for _ in range(4)]
    answers = post_all(base_url, workshop, bodies)
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.json() for a in answers]
    assert overlapping_pairs(app, "technician_id") == 0


def test_concurrent_retries_with_one_idempotency_key_book_once(app, workshop, base_url, count_rows):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    body = workshop.body()
    headers = {**workshop.advisor, "Idempotency-Key": "double-click"}

    def post(_):
        return requests.post(f"{base_url}/api/v1/appointments", json=body, headers=headers, timeout=30)

    answers = run_concurrently(post, range(4))
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert count_rows("appointments") == 1
    assert len(workshop.jobs.jobs) == 1
