"""A booking reserves its slot and commits before it asks for the job, then confirms
(docs/orphan-jobs.md): what a failed job call, a retry, a crash between the steps and
a deadlock while confirming leave behind — never an active job without its booked
appointment, never a reservation that holds a bay for good."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from workshop_scheduling.clients.maintenance_jobs import maintenance_jobs
from workshop_scheduling.models import db
from workshop_scheduling.service import appointments, job_checks

from service_kit.testing import assert_problem

from .test_booking_race import active_jobs_without_their_appointment

APPOINTMENTS = "/api/v1/appointments"


def run_job_checks(app, *, later: timedelta = timedelta(minutes=10)) -> job_checks.CheckStats:
    """What `flask check-jobs --once` does, as if run ``later`` from now."""
    with app.app_context():
        return job_checks.check_jobs(
            session=db.session, jobs=maintenance_jobs(), now=datetime.now(UTC) + later
        )


def test_the_job_service_down_releases_the_reservation_and_the_slot_is_free_at_once(
    app, workshop, down, count_rows, monkeypatch
):
    bay = workshop.bay()
    down("jobs")
    body = assert_problem(workshop.book(bay_id=bay["id"]), 503)
    assert body["dependency"] == "maintenance-job-management"
    assert count_rows("appointments") == 0, "the reservation is released"
    assert workshop.jobs.jobs == {}
    # The check stays (a job might have been made after a timeout); the slot does not wait for it.
    assert count_rows("job_checks") == 1
    monkeypatch.undo()  # the job service is back
    again = workshop.booked(bay_id=bay["id"])
    assert again["status"] == "booked"
    assert active_jobs_without_their_appointment(app, workshop.jobs.jobs) == []
    stats = run_job_checks(app)
    assert (stats.settled, stats.released) == (1, 0), "no job was made: nothing to cancel"
    assert workshop.jobs.jobs[again["job_id"]]["status"] == "scheduled"


def test_a_retry_with_the_same_key_after_success_returns_the_same_appointment(workshop, count_rows):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    body = workshop.body()
    headers = {**workshop.advisor, "Idempotency-Key": "desk-7-retry"}
    first = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    again = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(workshop.jobs.creates()) == 1
    assert count_rows("appointments") == 1
    assert count_rows("job_checks") == 0


@pytest.fixture
def crash_before_confirming(monkeypatch: pytest.MonkeyPatch) -> None:
    """The process dies after the job was made and before the booking is confirmed:
    nothing of the failure path runs."""

    def die(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(appointments, "_confirm", die)
    monkeypatch.setattr(appointments, "_undo_booking", lambda *args: None)


def test_a_reservation_left_by_a_crash_is_hidden_holds_its_bay_and_check_jobs_releases_it(
    app, workshop, client, count_rows, crash_before_confirming, monkeypatch
):
    bay = workshop.bay()
    assert workshop.book(bay_id=bay["id"], start="10:00", end="11:00").status_code == 500
    monkeypatch.undo()
    [job] = workshop.jobs.jobs.values()
    assert count_rows("appointments", "status = 'reserved'") == 1
    reservation = job["appointment_id"]

    # Not an appointment: never answered, listed or planned...
    assert_problem(client.get(f"{APPOINTMENTS}/{reservation}", headers=workshop.advisor), 404)
    assert client.get(APPOINTMENTS, headers=workshop.advisor).get_json()["items"] == []
    day = client.get(f"/api/v1/workshop/planning/days/{workshop.day}", headers=workshop.advisor)
    assert day.get_json()["days"][0]["appointments"] == []
    assert_problem(workshop.act(reservation, "cancel"), 404)
    # ...but its bay is taken until it is released.
    free = client.get(
        "/api/v1/availability",
        query_string={"from": str(workshop.day), "to": str(workshop.day), "duration": 60},
        headers=workshop.advisor,
    ).get_json()
    assert f"{workshop.day}T10:00" not in {slot["start"][:16] for slot in free["slots"]}
    assert_problem(workshop.book(bay_id=bay["id"], start="10:00", end="11:00"), 409, "bay-already-booked")

    assert run_job_checks(app, later=timedelta(seconds=5)) == job_checks.CheckStats(), "not before it is due"
    stats = run_job_checks(app)
    assert (stats.released, stats.settled, stats.retried) == (1, 1, 0)
    assert job["status"] == "cancelled"
    assert count_rows("appointments") == 0
    assert count_rows("job_checks") == 0
    assert workshop.book(bay_id=bay["id"], start="10:00", end="11:00").status_code == 201


def test_a_retry_after_a_crash_takes_over_the_reservation_and_its_job(
    app, workshop, count_rows, crash_before_confirming, monkeypatch
):
    bay = workshop.bay()
    body = workshop.body(bay_id=bay["id"])
    headers = {**workshop.advisor, "Idempotency-Key": "desk-3-crash"}
    assert workshop.client.post(APPOINTMENTS, json=body, headers=headers).status_code == 500
    monkeypatch.undo()
    [job] = workshop.jobs.jobs.values()
    retried = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    assert retried.status_code == 201, retried.get_json()
    appointment = retried.get_json()
    assert (appointment["id"], appointment["job_id"]) == (job["appointment_id"], job["id"])
    assert len(workshop.jobs.jobs) == 1, "the job made before the crash, adopted"
    assert count_rows("appointments") == 1
    assert count_rows("job_checks") == 0
    assert run_job_checks(app) == job_checks.CheckStats()
    assert job["status"] == "scheduled"


@pytest.fixture
def deadlocks(app) -> Iterator[int]:
    """The confirmation meets a deadlock the first ``n`` times (a trigger raising
    SQLSTATE 40P01, as PostgreSQL does when a concurrent reservation and the confirming
    update wait on each other); ``deadlocks(n)`` arms it."""
    sql = [
        "CREATE SEQUENCE scheduling.test_deadlocks",
        "CREATE TABLE scheduling.test_deadlock_limit (n integer NOT NULL)",
        """CREATE FUNCTION scheduling.test_deadlock() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF OLD.status = 'reserved' AND NEW.status = 'booked'
             AND nextval('scheduling.test_deadlocks') <= (SELECT n FROM scheduling.test_deadlock_limit) THEN
            RAISE EXCEPTION 'deadlock detected (test)' USING ERRCODE = 'deadlock_detected';
          END IF;
          RETURN NEW;
        END $$""",
        "CREATE TRIGGER test_deadlock BEFORE UPDATE ON scheduling.appointments "
        "FOR EACH ROW EXECUTE FUNCTION scheduling.test_deadlock()",
    ]
    with app.app_context(), db.engine.begin() as connection:
        for statement in sql:
            connection.execute(text(statement))

    def arm(n: int) -> None:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text("INSERT INTO scheduling.test_deadlock_limit VALUES (:n)"), {"n": n})

    yield arm
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER test_deadlock ON scheduling.appointments"))
        connection.execute(text("DROP FUNCTION scheduling.test_deadlock()"))
        connection.execute(text("DROP TABLE scheduling.test_deadlock_limit"))
        connection.execute(text("DROP SEQUENCE scheduling.test_deadlocks"))


def test_a_deadlock_while_confirming_is_tried_again(app, workshop, deadlocks, count_rows, outbox_rows):
    workshop.bay()
    deadlocks(1)
    appointment = workshop.booked()
    assert appointment["status"] == "booked"
    assert appointment["version"] == 1
    assert len(workshop.jobs.creates()) == 1
    assert count_rows("job_checks") == 0
    assert sorted(row.idempotency_key for row in outbox_rows()) == [
        f"appointment-confirmed-{appointment['id']}",
        f"appointment-status-{appointment['id']}-v1",
    ], "one confirmation, and the status for the job at version 1"


def test_a_booking_that_cannot_confirm_answers_409_and_cancels_its_job_at_once(
    app, workshop, deadlocks, count_rows, outbox_rows
):
    bay = workshop.bay()
    deadlocks(appointments.CONFIRM_ATTEMPTS)
    assert_problem(workshop.book(bay_id=bay["id"]), 409)
    [job] = workshop.jobs.jobs.values()
    assert job["status"] == "cancelled", "no active job for a booking that answered 409"
    assert count_rows("appointments") == 0
    assert count_rows("job_checks") == 0, "the job is settled: nothing left for check-jobs"
    assert outbox_rows() == []
    assert workshop.book(bay_id=bay["id"]).status_code == 201


def test_a_failed_booking_whose_job_cannot_be_cancelled_leaves_it_to_check_jobs(
    app, workshop, deadlocks, count_rows
):
    bay = workshop.bay()
    deadlocks(appointments.CONFIRM_ATTEMPTS)

    def refuse_cancels(request):
        if request.path.endswith("/cancel"):
            raise RuntimeError("the job service broke")

    workshop.jobs.before_answer = refuse_cancels
    assert_problem(workshop.book(bay_id=bay["id"]), 409)
    [job] = workshop.jobs.jobs.values()
    assert job["status"] == "scheduled"
    assert count_rows("appointments") == 0, "the bay is free at once"
    assert count_rows("job_checks") == 1
    workshop.jobs.before_answer = None
    assert run_job_checks(app).settled == 1
    assert job["status"] == "cancelled"


def test_the_reservation_status_never_reaches_the_contract(workshop, client):
    """``reserved`` is not in the appointment's status enum: a filter on it is refused."""
    workshop.bay()
    workshop.booked()
    response = client.get(APPOINTMENTS, query_string={"status": "reserved"}, headers=workshop.advisor)
    assert_problem(response, 422)
    assert uuid.UUID(client.get(APPOINTMENTS, headers=workshop.advisor).get_json()["items"][0]["id"])
