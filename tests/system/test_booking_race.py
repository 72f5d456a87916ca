"""Sixteen front desks book one slot of one bay at the same moment, against the six
running services (issue 15): one booking wins, fifteen get 409, and afterwards
maintenance-job-management has no active job without its booked appointment — with
the job checker stopped, so nothing tidied up after the race."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from garage_harness import FrontDesk, Garage, expect, tomorrow

pytestmark = pytest.mark.system
SCHEDULING = "workshop-scheduling"
JOBS = "maintenance-job-management"
CHECKER = "workshop-scheduling-job-checker"
CLIENTS = 16


@pytest.fixture
def no_job_checker(garage: Garage) -> Iterator[None]:
    """The job checker stopped for the test, started again after it."""
    checker = garage.background[CHECKER]
    checker.stop()
    try:
        yield
    finally:
        checker.start()


def free_slot_of(front_desk: FrontDesk, bay_id: str) -> dict[str, Any]:
    day = tomorrow() + timedelta(days=20)
    availability = expect(
        front_desk.garage.call(
            "GET",
            SCHEDULING,
            "/api/v1/availability",
            role="advisor",
            params={"from": day.isoformat(), "to": day.isoformat(), "duration": 60},
        ),
        200,
    )
    return next(slot for slot in availability["slots"] if bay_id in slot["bay_ids"])


def test_sixteen_bookings_of_one_slot_leave_one_appointment_and_no_orphan_job(
    garage: Garage, front_desk: FrontDesk, no_job_checker: None
) -> None:
    front_desk.configure_workshop()
    bay = front_desk.add_bay(f"Race lift {uuid.uuid4().hex[:6]}")
    vehicles = [front_desk.vehicle(front_desk.customer()["id"])["id"] for _ in range(CLIENTS)]
    slot = free_slot_of(front_desk, bay["id"])
    barrier = threading.Barrier(CLIENTS)
    answers: list[requests.Response | None] = [None] * CLIENTS
    seconds: list[float] = [0.0] * CLIENTS

    def book(index: int) -> None:
        barrier.wait()
        started = time.perf_counter()
        answers[index] = front_desk.book(vehicles[index], {**slot, "bay_ids": [bay["id"]]})
        seconds[index] = time.perf_counter() - started

    threads = [threading.Thread(target=book, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    statuses = sorted(answer.status_code for answer in answers if answer is not None)
    assert statuses == [201] + [409] * (CLIENTS - 1), [a.text[:300] for a in answers if a is not None]
    print(f"\n[race] 16 bookings of one slot: slowest answer {max(seconds):.3f} s")
    [won] = [answer.json() for answer in answers if answer is not None and answer.status_code == 201]

    jobs = [
        job
        for vehicle_id in vehicles
        for job in expect(
            garage.call(
                "GET", JOBS, "/api/v1/maintenance-jobs", role="advisor", params={"vehicle_id": vehicle_id}
            ),
            200,
        )["items"]
    ]
    assert [(job["id"], job["appointment_id"]) for job in jobs] == [(won["job_id"], won["id"])], (
        "one job, the winner's: no job was made for a booking that lost"
    )
    for job in jobs:
        if job["status"] in ("cancelled", "completed"):
            continue
        appointment = expect(
            garage.call("GET", SCHEDULING, f"/api/v1/appointments/{job['appointment_id']}", role="advisor"),
            200,
        )
        assert (appointment["status"], appointment["job_id"]) == ("booked", job["id"])
