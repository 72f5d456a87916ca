"""Sixteen front desks book one slot at the same moment (issue 15): the service served
over HTTP on loopback, each request a thread of its own through real transactions,
the job service a fake that counts the jobs it is asked to make.

Exactly one booking wins; the fifteen others get 409 before any job is made (the
fake job service holds the winner's job until every loser has its answer, so a loser
that waited for the winner's job would fail the test) and before vehicle-management is
asked anything, the job service is asked for one job only, and afterwards no job is
active without its booked appointment — with no job checker run."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import requests
from sqlalchemy import text
from workshop_scheduling.models import db

from service_kit.testing import run_concurrently

from .test_concurrency import hold_until_all_checked

CLIENTS = 16


def active_jobs_without_their_appointment(app: Any, jobs: dict[str, dict[str, Any]]) -> list[str]:
    """The fake's jobs that are neither cancelled nor completed and have no booked (or
    checked-in) appointment naming them."""
    with app.app_context(), db.engine.connect() as connection:
        booked = {
            (str(row.id), str(row.job_id))
            for row in connection.execute(
                text(
                    "SELECT id, job_id FROM scheduling.appointments WHERE status IN ('booked', 'checked_in')"
                )
            )
        }
    return [
        job["id"]
        for job in jobs.values()
        if job["status"] not in ("cancelled", "completed")
        and (job["appointment_id"], job["id"]) not in booked
    ]


@pytest.mark.parametrize("bay_named", [True, False], ids=["bay-named", "bay-chosen-by-the-service"])
def test_sixteen_bookings_of_one_slot_one_wins_and_no_loser_makes_a_job(
    app, workshop, base_url, count_rows, monkeypatch, bay_named
):
    bay = workshop.bay()
    # Every request past its checks in Python before any is written: the database decides.
    hold_until_all_checked(monkeypatch, CLIENTS)
    losers_answered = threading.Event()
    lost: list[requests.Response] = []
    lock = threading.Lock()
    waited_for_losers: list[bool] = []

    def make_job_once_losers_know(request: Any) -> None:
        if request.method == "POST" and request.path == "/api/v1/maintenance-jobs":
            waited_for_losers.append(losers_answered.wait(timeout=5))

    workshop.jobs.before_answer = make_job_once_losers_know
    extra = {"bay_id": bay["id"]} if bay_named else {}
    bodies = [workshop.body(start="10:00", end="11:00", **extra) for _ in range(CLIENTS)]

    def book(body: dict[str, Any]) -> requests.Response:
        response = requests.post(
            f"{base_url}/api/v1/appointments", json=body, headers=workshop.advisor, timeout=30
        )
        if response.status_code == 409:
            with lock:
                lost.append(response)
                if len(lost) == CLIENTS - 1:
                    losers_answered.set()
        return response

    answers = run_concurrently(book, bodies)

    assert sorted(a.status_code for a in answers) == [201] + [409] * (CLIENTS - 1), [
        a.json() for a in answers
    ]
    assert waited_for_losers == [True], "every loser had its 409 before the winner's job was made"
    assert len(workshop.jobs.creates()) == 1, "no job was asked for a booking that lost"
    assert len(workshop.vehicles.received("/api/v1/vehicles/")) == 1, "nor its vehicle looked up"
    [won] = [a.json() for a in answers if a.status_code == 201]
    [job] = workshop.jobs.jobs.values()
    assert (job["appointment_id"], job["id"]) == (won["id"], won["job_id"])
    assert count_rows("appointments") == 1
    assert count_rows("appointments", "status = 'reserved'") == 0
    assert count_rows("job_checks") == 0
    assert active_jobs_without_their_appointment(app, workshop.jobs.jobs) == []


def test_a_race_while_the_job_service_fails_leaves_no_job_and_a_free_slot(
    app, workshop, base_url, count_rows
):
    """The winner's job call fails (503); the others lost before any call: nothing is
    booked, no job is active, and the slot can be booked at once."""
    bay = workshop.bay()
    workshop.jobs.failing = 503
    bodies = [workshop.body(start="10:00", end="11:00", bay_id=bay["id"]) for _ in range(CLIENTS)]
    answers = run_concurrently(
        lambda body: requests.post(
            f"{base_url}/api/v1/appointments", json=body, headers=workshop.advisor, timeout=30
        ),
        bodies,
    )
    statuses = sorted(a.status_code for a in answers)
    assert 201 not in statuses and set(statuses) <= {409, 503}, [a.json() for a in answers]
    assert count_rows("appointments") == 0
    assert active_jobs_without_their_appointment(app, workshop.jobs.jobs) == []
    workshop.jobs.failing = None
    assert workshop.book(bay_id=bay["id"], start="10:00", end="11:00").status_code == 201
