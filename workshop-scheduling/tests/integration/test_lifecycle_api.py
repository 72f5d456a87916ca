"""Reschedule, cancel, check-in, no-show and complete: every rule again on a move, the
job kept in step, the customer told through the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from service_kit.testing import assert_problem

from ..helpers import AMSTERDAM, local, today


def test_reschedule_moves_the_job_and_tells_the_customer(workshop, fake_jobs, outbox_rows):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    response = workshop.act(
        appointment["id"], "reschedule", {"start": local(workshop.day, "14:00").isoformat()}
    )
    assert response.status_code == 200, response.get_json()
    moved = response.get_json()
    assert response.headers["ETag"] == '"2"'
    assert moved["start"] == local(workshop.day, "14:00").isoformat()
    assert moved["end"] == local(workshop.day, "15:00").isoformat(), "same length by default"
    job = fake_jobs.jobs[appointment["job_id"]]
    assert datetime.fromisoformat(job["planned_start"]) == local(workshop.day, "14:00")
    _confirmed, rescheduled = outbox_rows(target="notification-management")
    assert rescheduled.body["type"] == "appointment_rescheduled"
    assert rescheduled.body["data"]["previous_start"] == local(workshop.day, "10:00").isoformat()
    assert rescheduled.body["data"]["start"] == local(workshop.day, "14:00").isoformat()
    assert rescheduled.idempotency_key == f"appointment-rescheduled-{appointment['id']}-v2"


def test_reschedule_reapplies_every_rule(workshop):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    other = workshop.booked(start="12:00", end="13:00")
    for start, suffix in (("06:00", "invalid-appointment-time"), ("10:10", "invalid-appointment-time")):
        body = {"start": local(workshop.day, start).isoformat()}
        assert_problem(workshop.act(appointment["id"], "reschedule", body), 422, suffix)
    past = {"start": local(today() - timedelta(days=1), "10:00").isoformat()}
    assert_problem(workshop.act(appointment["id"], "reschedule", past), 422)
    clash = {"start": local(workshop.day, "12:30").isoformat()}
    assert_problem(workshop.act(appointment["id"], "reschedule", clash), 409, "no-bay-free")
    assert workshop.get(appointment["id"])["version"] == 1
    assert workshop.get(other["id"])["version"] == 1


def test_reschedule_can_overlap_its_own_old_time(workshop):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    body = {
        "start": local(workshop.day, "10:30").isoformat(),
        "end": local(workshop.day, "12:00").isoformat(),
    }
    response = workshop.act(appointment["id"], "reschedule", body)
    assert response.status_code == 200, response.get_json()


def test_reschedule_keeps_the_bay_or_takes_another_of_its_kind(workshop):
    lift1, lift2 = workshop.bay("Lift 1"), workshop.bay("Lift 2")
    workshop.bay("Alignment", kind="alignment")
    appointment = workshop.booked(bay_id=lift2["id"], start="10:00", end="11:00")
    kept = workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "11:00").isoformat()})
    assert kept.get_json()["bay_id"] == lift2["id"]
    workshop.booked(bay_id=lift2["id"], start="15:00", end="16:00")
    moved = workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "15:00").isoformat()})
    assert moved.get_json()["bay_id"] == lift1["id"]


def test_reschedule_with_if_match_and_technician_changes(workshop):
    workshop.bay()
    anna = workshop.technician_("Anna")
    appointment = workshop.booked(technician_id=anna["id"])
    body = {"start": local(workshop.day, "12:00").isoformat()}
    stale = workshop.client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json=body,
        headers={**workshop.advisor, "If-Match": '"7"'},
    )
    assert_problem(stale, 412)
    response = workshop.client.post(
        f"/api/v1/appointments/{appointment['id']}/reschedule",
        json={**body, "technician_id": None},
        headers={**workshop.advisor, "If-Match": '"1"'},
    )
    assert response.status_code == 200
    assert response.get_json()["technician_id"] is None


def test_a_started_job_cannot_be_rescheduled_or_cancelled(workshop, fake_jobs, outbox_rows):
    workshop.bay()
    appointment = workshop.booked()
    fake_jobs.set_status(appointment["job_id"], "in_progress")
    body = assert_problem(
        workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "14:00").isoformat()}),
        409,
        "job-already-started",
    )
    assert body["job_status"] == "in_progress"
    body = assert_problem(
        workshop.act(appointment["id"], "cancel", {"reason": "x"}), 409, "job-already-started"
    )
    assert workshop.get(appointment["id"])["status"] == "booked"
    assert len(outbox_rows(target="notification-management")) == 1, "only the confirmation"
    assert len(outbox_rows(target="maintenance-job-management")) == 1, "only the booking's status"


def test_cancel_cancels_the_job_and_frees_the_bay(workshop, fake_jobs, outbox_rows):
    workshop.bay()
    appointment = workshop.booked()
    response = workshop.act(appointment["id"], "cancel", {"reason": "customer called"})
    assert response.status_code == 200, response.get_json()
    cancelled = response.get_json()
    assert cancelled["status"] == "cancelled"
    assert cancelled["cancel_reason"] == "customer called"
    assert fake_jobs.jobs[appointment["job_id"]]["status"] == "cancelled"
    assert cancelled["job_status"] == "cancelled", "as the job service answered the cancel"
    message = outbox_rows(target="notification-management")[-1]
    assert message.body["type"] == "appointment_cancelled"
    assert message.body["data"]["reason"] == "customer called"
    told = outbox_rows(target="maintenance-job-management")[-1]
    assert told.body["appointment_status"] == "cancelled"
    assert told.body["appointment_version"] == cancelled["version"]
    again = workshop.act(appointment["id"], "cancel", {})
    assert again.status_code == 200
    assert again.get_json()["version"] == cancelled["version"]
    assert len(outbox_rows()) == 4, "confirmation and booked, cancellation and cancelled"
    workshop.booked()  # the bay is free again


def test_check_in_and_complete(workshop):
    workshop.bay()
    appointment = workshop.booked()
    assert_problem(
        workshop.act(appointment["id"], "complete", headers=workshop.technician),
        409,
        "transition-not-allowed",
    )
    checked_in = workshop.act(appointment["id"], "check-in", headers=workshop.technician)
    assert checked_in.status_code == 200
    assert checked_in.get_json()["status"] == "checked_in"
    checked_in_at = datetime.fromisoformat(checked_in.get_json()["checked_in_at"])
    assert checked_in_at.utcoffset() == checked_in_at.astimezone(AMSTERDAM).utcoffset(), "workshop clock"
    body = assert_problem(
        workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "14:00").isoformat()}),
        409,
    )
    assert body["current_status"] == "checked_in"
    assert_problem(workshop.act(appointment["id"], "check-in", headers=workshop.technician), 409)
    done = workshop.act(appointment["id"], "complete", headers=workshop.technician)
    assert done.get_json()["status"] == "completed"
    assert_problem(workshop.act(appointment["id"], "cancel"), 409, "transition-not-allowed")
    workshop.booked()  # a completed appointment no longer holds the bay


def test_no_show_only_after_the_start(workshop, fake_jobs, app):
    workshop.bay()
    appointment = workshop.booked()
    assert_problem(workshop.act(appointment["id"], "no-show"), 409, "no-show-too-early")
    # Put the appointment in the past, as if the day had come and gone.
    from sqlalchemy import text
    from workshop_scheduling.models import db

    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE scheduling.appointments SET start_at = start_at - interval '3 days', "
                "end_at = end_at - interval '3 days' WHERE id = :id"
            ),
            {"id": appointment["id"]},
        )
    response = workshop.act(appointment["id"], "no-show")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "no_show"
    assert fake_jobs.jobs[appointment["job_id"]]["status"] == "cancelled"
