"""Reschedule, cancel and no-show hold no lock across the job call (docs/orphan-jobs.md):
the job service faked at the HTTP boundary, slow for one job, down, or raced for one
slot. Another appointment of the same bay is never held up behind a slow call; a job
service that does not answer is a 503 naming it with nothing half-written; of two
reschedules to one slot one wins, and the loser's job is never asked."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import requests
from sqlalchemy import text
from workshop_scheduling.models import db
from workshop_scheduling.service import appointments

from service_kit.testing import assert_problem, run_concurrently

from ..helpers import local
from .test_downstream_failures import run_job_checks

SLOW_CALL = 2.5  # seconds the job service takes for the slow appointment's job


def slow_for(fake_jobs, job_id: str) -> threading.Event:
    """The job service takes SLOW_CALL seconds for anything about ``job_id``; the event is
    set once that call has arrived."""
    arrived = threading.Event()

    def before_answer(request):
        if job_id in request.path:
            arrived.set()
            time.sleep(SLOW_CALL)

    fake_jobs.before_answer = before_answer
    return arrived


def post(base_url, workshop, appointment_id, verb, body=None):
    return requests.post(
        f"{base_url}/api/v1/appointments/{appointment_id}/{verb}",
        json=body or {},
        headers=workshop.advisor,
        timeout=30,
    )


def reserved_rows(app) -> int:
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(
            text("SELECT count(*) FROM scheduling.appointments WHERE status = 'reserved'")
        ).scalar_one()


def test_a_slow_job_call_holds_up_no_other_appointment_of_the_bay(app, workshop, base_url, fake_jobs):
    workshop.bay("Lift 1")
    slow = workshop.booked(start="09:00", end="10:00")
    other = workshop.booked(start="11:00", end="12:00")
    arrived = slow_for(fake_jobs, slow["job_id"])
    answers = {}

    def move_slow():
        answers["slow"] = post(base_url, workshop, slow["id"], "reschedule", {"start": at(workshop, "13:00")})

    mover = threading.Thread(target=move_slow)
    mover.start()
    assert arrived.wait(5), "the slow reschedule reached the job service"
    started = time.perf_counter()
    moved = post(base_url, workshop, other["id"], "reschedule", {"start": at(workshop, "15:00")})
    other_took = time.perf_counter() - started
    # The slot the slow one is moving to is held already: a 409 at once, not a wait.
    started = time.perf_counter()
    taken = post(base_url, workshop, other["id"], "reschedule", {"start": at(workshop, "13:30")})
    taken_took = time.perf_counter() - started
    # And its old slot is held until it commits: a booking of it is refused at once too.
    started = time.perf_counter()
    old_slot = requests.post(
        f"{base_url}/api/v1/appointments",
        json=workshop.body(start="09:00", end="10:00"),
        headers=workshop.advisor,
        timeout=30,
    )
    old_slot_took = time.perf_counter() - started
    still_waiting = mover.is_alive()
    mover.join()
    print(
        f"\nwhile one job call took {SLOW_CALL} s: another reschedule of the bay "
        f"{other_took * 1000:.0f} ms, one to its new slot {taken_took * 1000:.0f} ms (409), "
        f"a booking of its old slot {old_slot_took * 1000:.0f} ms (409)"
    )
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == at(workshop, "15:00")
    assert taken.status_code == 409 and taken.json()["type"].endswith("no-bay-free"), taken.json()
    assert old_slot.status_code == 409, old_slot.json()
    assert still_waiting, "all three answered while the slow call was still out"
    assert max(other_took, taken_took, old_slot_took) < SLOW_CALL / 3
    assert answers["slow"].status_code == 200, answers["slow"].json()
    assert answers["slow"].json()["start"] == at(workshop, "13:00")
    planned = datetime.fromisoformat(fake_jobs.jobs[slow["job_id"]]["planned_start"])
    assert planned == local(workshop.day, "13:00")
    assert reserved_rows(app) == 0


def test_a_second_change_of_the_same_appointment_meanwhile_is_a_409(app, workshop, base_url, fake_jobs):
    workshop.bay("Lift 1")
    appointment = workshop.booked(start="09:00", end="10:00")
    arrived = slow_for(fake_jobs, appointment["job_id"])
    answers = {}

    def move():
        answers["move"] = post(
            base_url, workshop, appointment["id"], "reschedule", {"start": at(workshop, "13:00")}
        )

    mover = threading.Thread(target=move)
    mover.start()
    assert arrived.wait(5)
    cancel = post(base_url, workshop, appointment["id"], "cancel", {"reason": "changed plans"})
    mover.join()
    assert cancel.status_code == 409 and cancel.json()["type"].endswith("appointment-being-changed")
    assert answers["move"].status_code == 200
    assert fake_jobs.jobs[appointment["job_id"]]["status"] == "scheduled"
    fake_jobs.before_answer = None
    assert post(base_url, workshop, appointment["id"], "cancel").status_code == 200


def test_job_service_down_is_a_503_and_nothing_is_half_written(app, workshop, down, count_rows):
    workshop.bay("Lift 1")
    appointment = workshop.booked(start="09:00", end="10:00")
    sent = count_rows("outbox_messages")
    down("jobs")
    for verb, body in (("reschedule", {"start": at(workshop, "13:00")}), ("cancel", {"reason": "x"})):
        answer = assert_problem(workshop.act(appointment["id"], verb, body), 503)
        assert answer["dependency"] == "maintenance-job-management", answer
        now = workshop.get(appointment["id"])
        assert (now["status"], now["start"], now["version"]) == ("booked", appointment["start"], 1)
        assert count_rows("appointments") == 1, "no reservation of the new time left"
        assert count_rows("outbox_messages") == sent, "nobody told anything"
    # What may have reached the job is checked later; the next change takes the check over.
    assert count_rows("job_checks") == 1
    put_in_the_past(app, appointment["id"])
    answer = assert_problem(workshop.act(appointment["id"], "no-show"), 503)
    assert answer["dependency"] == "maintenance-job-management"
    assert workshop.get(appointment["id"])["status"] == "booked"


def test_two_reschedules_race_for_one_slot_and_one_wins(app, workshop, base_url, fake_jobs, monkeypatch):
    workshop.bay("Lift 1")
    first = workshop.booked(start="09:00", end="10:00")
    second = workshop.booked(start="11:00", end="12:00")
    # Both pass the checks in Python before either reserves: the database decides.
    barrier = threading.Barrier(2, timeout=10)
    plan = appointments._plan_move

    def planned_then_held(*args, **kwargs):
        move = plan(*args, **kwargs)
        barrier.wait()
        return move

    monkeypatch.setattr(appointments, "_plan_move", planned_then_held)
    answers = run_concurrently(
        lambda a: post(base_url, workshop, a["id"], "reschedule", {"start": at(workshop, "14:00")}),
        [first, second],
    )
    assert sorted(a.status_code for a in answers) == [200, 409], [a.json() for a in answers]
    won = next(a for a in answers if a.status_code == 200).json()
    lost = first if won["id"] == second["id"] else second
    assert won["start"] == at(workshop, "14:00")
    assert workshop.get(lost["id"])["start"] == lost["start"]
    reschedules = [r for r in fake_jobs.received("/reschedule") if r.method == "POST"]
    assert [r.path for r in reschedules] == [f"/api/v1/maintenance-jobs/{won['job_id']}/reschedule"]
    assert reserved_rows(app) == 0
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM scheduling.job_checks")).scalar_one() == 0


def test_the_jobs_report_of_its_cancellation_first_completes_the_no_show(
    app, workshop, fake_jobs, count_rows
):
    """maintenance-job-management's outbox reports the job cancelled before the no-show
    request has confirmed: the appointment becomes a no-show (not cancelled, and the
    customer gets no cancellation), and the request answers it."""
    workshop.bay("Lift 1")
    appointment = workshop.booked(start="09:00", end="10:00")
    put_in_the_past(app, appointment["id"])
    reported = {}

    def report_first(request):
        if request.path.endswith("/cancel"):
            job = fake_jobs.jobs[appointment["job_id"]]
            # What the job service's relay would send once the cancellation commits.
            reported["answer"] = workshop.client.put(
                f"/api/v1/appointments/{appointment['id']}/job",
                json={
                    "job_id": job["id"],
                    "job_status": "cancelled",
                    "job_version": job["version"] + 1,
                    "changed_at": datetime.now().astimezone().isoformat(),
                    "reason": "the customer did not come (no-show)",
                },
                headers=workshop.service,
            )

    fake_jobs.before_answer = report_first
    response = workshop.act(appointment["id"], "no-show")
    assert reported["answer"].status_code == 200, reported["answer"].get_json()
    assert reported["answer"].get_json()["status"] == "no_show"
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "no_show"
    assert count_rows("outbox_messages", "target = 'notification-management'") == 1, "the confirmation only"
    assert count_rows("job_checks") == 0


def put_in_the_past(app, appointment_id: str) -> None:
    """As if the appointment's day had come and gone: a no-show may be marked."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE scheduling.appointments SET start_at = start_at - interval '3 days', "
                "end_at = end_at - interval '3 days' WHERE id = :id"
            ),
            {"id": appointment_id},
        )


def at(workshop, clock: str) -> str:
    return local(workshop.day, clock).isoformat()


def test_a_cancel_whose_job_was_cancelled_is_completed_by_check_jobs(app, workshop, count_rows, monkeypatch):
    """The job was cancelled, then the request failed before its change committed (as if
    the process had died): the appointment still holds its bay until check-jobs finds
    the job cancelled and cancels it too, with staff's reason, the customer told once."""
    workshop.bay("Lift 1")
    appointment = workshop.booked(start="09:00", end="10:00")
    monkeypatch.setattr(
        appointments, "apply_intent", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("the disk is full"))
    )
    assert workshop.act(appointment["id"], "cancel", {"reason": "sold the car"}).status_code == 500
    monkeypatch.undo()
    assert workshop.get(appointment["id"])["status"] == "booked"
    assert workshop.jobs.jobs[appointment["job_id"]]["status"] == "cancelled"
    assert count_rows("job_checks") == 1, "left for check-jobs"
    assert run_job_checks(app).settled == 1
    cancelled = workshop.get(appointment["id"])
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "sold the car")
    assert count_rows("outbox_messages", "idempotency_key LIKE 'appointment-cancelled-%'") == 1
    assert count_rows("job_checks") == 0


def test_a_reschedule_that_died_after_its_reservation_is_taken_over_or_put_right(
    app, workshop, count_rows, monkeypatch
):
    """Step 1 committed (the new time reserved, the change claimed), then nothing: the
    next change takes it over at once; without one, check-jobs releases the reservation
    and sends the job the appointment's times."""
    workshop.bay("Lift 1")
    appointment = workshop.booked(start="09:00", end="10:00")
    died = RuntimeError("the process died")
    monkeypatch.setattr(appointments, "hold_claimed_change", lambda *a: (_ for _ in ()).throw(died))
    move = {"start": at(workshop, "13:00")}
    assert workshop.act(appointment["id"], "reschedule", move).status_code == 500
    assert count_rows("appointments", "status = 'reserved'") == 1
    monkeypatch.undo()
    # Taken over by the next change: its reservation released, the new one made.
    moved = workshop.act(appointment["id"], "reschedule", {"start": at(workshop, "14:00")})
    assert moved.status_code == 200, moved.get_json()
    assert count_rows("appointments", "status = 'reserved'") == 0
    assert count_rows("job_checks") == 0
    # Left alone: check-jobs puts it right.
    monkeypatch.setattr(appointments, "hold_claimed_change", lambda *a: (_ for _ in ()).throw(died))
    assert workshop.act(appointment["id"], "reschedule", move).status_code == 500
    monkeypatch.undo()
    stats = run_job_checks(app)
    assert (stats.released, stats.settled) == (1, 1)
    assert count_rows("appointments", "status = 'reserved'") == 0
    planned = datetime.fromisoformat(workshop.jobs.jobs[appointment["job_id"]]["planned_start"])
    assert planned == local(workshop.day, "14:00")
    assert workshop.get(appointment["id"])["start"] == at(workshop, "14:00")
