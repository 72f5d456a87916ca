"""The booking rules under real concurrency: the service served over HTTP on loopback,
many simultaneous requests (one thread each) through real transactions. Every request
is held after its checks in Python until all have passed them, so the database's
exclusion constraints are what decide."""

from __future__ import annotations

import threading

import requests
from sqlalchemy import text
from workshop_scheduling.models import db
from workshop_scheduling.service import placement

from service_kit.testing import run_concurrently

N = 10


def hold_until_all_checked(monkeypatch, n: int) -> None:
    """Each booking waits, once its checks in Python have passed, until ``n`` have."""
    barrier = threading.Barrier(n, timeout=10)
    checks = placement.where_to_book

    def checked_then_held(*args, **kwargs):
        spot = checks(*args, **kwargs)
        barrier.wait()
        return spot

    monkeypatch.setattr(placement, "where_to_book", checked_then_held)


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


def test_many_bookings_of_the_last_free_bay_one_wins(app, workshop, base_url, count_rows, monkeypatch):
    workshop.bay()
    hold_until_all_checked(monkeypatch, N)
    bodies = [workshop.body(start="10:00", end="11:00") for _ in range(N)]
    answers = post_all(base_url, workshop, bodies)
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * (N - 1), [a.json() for a in answers]
    for loser in (a for a in answers if a.status_code == 409):
        assert loser.headers["Content-Type"] == "application/problem+json"
    assert count_rows("appointments") == 1
    assert overlapping_pairs(app, "bay_id") == 0
    assert len(workshop.jobs.jobs) == 1, "the losers never reached the job service"


def test_many_bookings_of_one_vehicle_one_wins(app, workshop, base_url, count_rows, monkeypatch):
    for n in range(N):
        workshop.bay(f"Lift {n}")
    vehicle = workshop.vehicles.add()
    hold_until_all_checked(monkeypatch, N)
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


def test_auto_chosen_bays_are_shared_out_under_concurrency(app, workshop, base_url, count_rows, monkeypatch):
    """Three free lifts, six simultaneous bookings without a bay: each loser of a bay
    moves on to the next free one; exactly three succeed, one per lift."""
    for n in range(3):
        workshop.bay(f"Lift {n}")
    hold_until_all_checked(monkeypatch, 6)
    answers = post_all(base_url, workshop, [workshop.body(start="10:00", end="11:00") for _ in range(6)])
    assert sorted(a.status_code for a in answers) == [201] * 3 + [409] * 3, [a.json() for a in answers]
    assert len({a.json()["bay_id"] for a in answers if a.status_code == 201}) == 3
    assert overlapping_pairs(app, "bay_id") == 0
    assert count_rows("appointments") == 3


def test_many_bookings_of_one_technician_one_wins(app, workshop, base_url, count_rows, monkeypatch):
    for n in range(4):
        workshop.bay(f"Lift {n}")
    anna = workshop.technician_("Anna")
    hold_until_all_checked(monkeypatch, 4)
    bodies = [workshop.body(technician_id=anna["id"], start="13:00", end="14:00") for _ in range(4)]
    answers = post_all(base_url, workshop, bodies)
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409], [a.json() for a in answers]
    assert overlapping_pairs(app, "technician_id") == 0


def test_concurrent_retries_with_one_idempotency_key_book_once(
    app, workshop, base_url, count_rows, monkeypatch
):
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
