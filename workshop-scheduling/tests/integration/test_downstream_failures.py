"""vehicle-management or maintenance-job-management down, slow or failing: 503 naming
the dependency, nothing booked, and no job left behind — a job made before a failure
is cancelled at once, a retry with the same Idempotency-Key adopts the job a timed-out
call made, and ``check-jobs`` cancels the job of a booking nobody retried."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from workshop_scheduling.clients.maintenance_jobs import maintenance_jobs
from workshop_scheduling.models import db
from workshop_scheduling.service import appointments, job_checks

from service_kit.testing import assert_problem

from ..helpers import local

APPOINTMENTS = "/api/v1/appointments"


def run_job_checks(app, *, later: timedelta = timedelta(minutes=10)):
    """What `flask check-jobs --once` does, as if run ``later`` from now."""
    with app.app_context():
        return job_checks.check_jobs(
            session=db.session, jobs=maintenance_jobs(), now=datetime.now(UTC) + later
        )


@pytest.mark.parametrize("failure", ["down", "slow", "failing"])
def test_vehicle_management_failing_is_503_and_nothing_is_booked(
    workshop, down, count_rows, fake_jobs, failure
):
    workshop.bay()
    vehicle = workshop.vehicles.add()
    if failure == "down":
        down("vehicles")
    elif failure == "slow":
        workshop.vehicles.delay = 0.5
    else:
        workshop.vehicles.before_answer = lambda request: (_ for _ in ()).throw(RuntimeError("boom"))
    started = time.perf_counter()
    body = assert_problem(workshop.book(vehicle_id=vehicle), 503)
    assert time.perf_counter() - started < 2
    assert body["dependency"] == "vehicle-management"
    assert count_rows("appointments") == 0
    assert fake_jobs.creates() == []
    assert count_rows("job_checks") == 0, "nothing was asked of the job service"


@pytest.mark.parametrize("failure", ["down", "failing"])
def test_job_service_failing_is_503_and_nothing_is_booked(
    workshop, down, count_rows, outbox_rows, app, failure
):
    workshop.bay()
    if failure == "down":
        down("jobs")
    else:
        workshop.jobs.failing = 500
    body = assert_problem(workshop.book(), 503)
    assert body["dependency"] == "maintenance-job-management"
    assert count_rows("appointments") == 0
    assert outbox_rows() == []
    assert workshop.jobs.jobs == {}
    # The job check left behind finds no job to put right, once the job service answers.
    assert count_rows("job_checks") == 1
    workshop.jobs.failing = None
    if failure == "down":
        return
    assert run_job_checks(app).settled == 1
    assert count_rows("job_checks") == 0
    workshop.booked()  # and the slot is still free


def test_a_slow_job_service_is_503_and_its_late_job_is_cancelled(workshop, count_rows, app):
    """The job service makes the job but answers after our read timeout (twice: the
    client's retry of the idempotent create). Nothing is booked; the job it made is
    the same one both times, and check-jobs cancels it."""
    workshop.bay()
    workshop.jobs.delay = 0.5
    started = time.perf_counter()
    body = assert_problem(workshop.book(), 503)
    assert time.perf_counter() - started < 1.5
    assert body["dependency"] == "maintenance-job-management"
    assert "in time" in body["detail"]
    assert count_rows("appointments") == 0
    time.sleep(0.6)  # the late answers arrive at nobody
    [job] = workshop.jobs.jobs.values()
    assert len(workshop.jobs.creates()) == 2, "the client retried the create: one job"
    workshop.jobs.delay = 0
    assert run_job_checks(app, later=timedelta(seconds=5)).settled == 0, "not before the grace period"
    stats = run_job_checks(app)
    assert (stats.settled, stats.retried) == (1, 0)
    assert job["status"] == "cancelled"
    assert count_rows("job_checks") == 0


def test_a_retry_with_the_same_key_adopts_the_job_already_made(workshop, count_rows, app):
    workshop.bay()
    body = workshop.body()
    headers = {**workshop.advisor, "Idempotency-Key": "front-desk-7"}
    workshop.jobs.delay = 0.5
    assert_problem(workshop.client.post(APPOINTMENTS, json=body, headers=headers), 503)
    time.sleep(0.6)
    workshop.jobs.delay = 0
    [job] = workshop.jobs.jobs.values()
    retried = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    assert retried.status_code == 201, retried.get_json()
    appointment = retried.get_json()
    assert appointment["id"] == job["appointment_id"]
    assert appointment["job_id"] == job["id"]
    assert len(workshop.jobs.jobs) == 1, "no second job"
    assert count_rows("job_checks") == 0
    assert run_job_checks(app).settled == 0
    assert job["status"] == "scheduled"


def test_a_booking_failing_after_the_job_was_made_cancels_it_at_once(workshop, count_rows, app, monkeypatch):
    """The commit side: the job exists, then something fails before the booking commits:
    the job is cancelled and the reservation released before the answer."""
    workshop.bay()

    def broken(session, request):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(appointments, "enqueue", broken)
    assert_problem(workshop.book(), 500)
    monkeypatch.undo()
    assert count_rows("appointments") == 0
    [job] = workshop.jobs.jobs.values()
    assert job["status"] == "cancelled"
    assert count_rows("job_checks") == 0, "settled: nothing left for check-jobs"
    assert run_job_checks(app) == job_checks.CheckStats()


def test_job_checks_wait_for_the_job_service_and_skip_running_requests(workshop, count_rows, app, down):
    workshop.bay()
    workshop.jobs.failing = 500
    assert_problem(workshop.book(), 503)
    stats = run_job_checks(app)
    assert (stats.settled, stats.retried) == (0, 1)
    with app.app_context(), db.engine.connect() as connection:
        row = connection.execute(text("SELECT attempts, last_error FROM scheduling.job_checks")).one()
    assert row.attempts == 1 and "500" in row.last_error
    workshop.jobs.failing = None
    assert run_job_checks(app, later=timedelta(hours=3)).settled == 1


def test_a_failed_reschedule_is_put_right(workshop, app, monkeypatch):
    """The job was moved but the reschedule did not commit: check-jobs moves it back."""
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    monkeypatch.setattr(
        appointments, "enqueue", lambda session, request: (_ for _ in ()).throw(RuntimeError("x"))
    )
    response = workshop.act(
        appointment["id"], "reschedule", {"start": local(workshop.day, "14:00").isoformat()}
    )
    assert response.status_code == 500
    monkeypatch.undo()
    job = workshop.jobs.jobs[appointment["job_id"]]
    assert datetime.fromisoformat(job["planned_start"]) == local(workshop.day, "14:00")
    assert run_job_checks(app).settled == 1
    assert datetime.fromisoformat(job["planned_start"]) == local(workshop.day, "10:00")


def test_a_retry_with_the_same_key_but_another_vehicle_is_a_409(workshop, count_rows):
    workshop.bay()
    headers = {**workshop.advisor, "Idempotency-Key": "reused-key"}
    workshop.jobs.delay = 0.5
    assert_problem(workshop.client.post(APPOINTMENTS, json=workshop.body(), headers=headers), 503)
    time.sleep(0.6)
    workshop.jobs.delay = 0
    other = workshop.client.post(APPOINTMENTS, json=workshop.body(), headers=headers)
    assert_problem(other, 409, "abandoned-booking-attempt")
    assert count_rows("appointments") == 0
    assert len(workshop.jobs.jobs) == 1
