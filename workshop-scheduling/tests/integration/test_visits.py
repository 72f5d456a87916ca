"""One state per visit (docs/visits.md): each change of an appointment's status goes to
its job through the outbox; the job's status that maintenance-job-management reports
back is kept on the appointment, once per version and never an older one after a newer,
and a completed job completes the appointment (the bay is free again), a cancelled one
cancels it with its message to the customer, once. And "where is my car?": a plate
finds the open visit with its job's id and status in one call."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from workshop_scheduling.models import db

from service_kit.outbox import OutboxRelay
from service_kit.testing import assert_problem, run_concurrently

from ..helpers import local

APPOINTMENTS = "/api/v1/appointments"


def report(workshop, appointment, status, version, *, job_id=None, at=None, **more):
    """What maintenance-job-management's outbox sends when the job's status changes."""
    body = {
        "job_id": job_id or appointment["job_id"],
        "job_status": status,
        "job_version": version,
        "changed_at": (at or datetime.now(UTC)).isoformat(),
        **more,
    }
    return workshop.client.put(f"{APPOINTMENTS}/{appointment['id']}/job", json=body, headers=workshop.service)


def told_job(outbox_rows):
    return outbox_rows(target="maintenance-job-management")


def cancellations(outbox_rows):
    messages = outbox_rows(target="notification-management")
    return [m for m in messages if m.body["type"] == "appointment_cancelled"]


# ------------------------------------------------------------- the appointment, to its job


def test_booking_and_check_in_are_told_to_the_job(workshop, outbox_rows, app, fake_jobs):
    workshop.bay()
    appointment = workshop.booked()
    checked_in = workshop.act(appointment["id"], "check-in", headers=workshop.technician).get_json()
    booked, arrived = told_job(outbox_rows)
    path = f"/api/v1/maintenance-jobs/{appointment['job_id']}/appointment"
    assert (booked.method, booked.path, arrived.method, arrived.path) == ("PUT", path, "PUT", path)
    assert (booked.body["appointment_status"], booked.body["appointment_version"]) == ("booked", 1)
    assert booked.idempotency_key == f"appointment-status-{appointment['id']}-v1"
    assert (arrived.body["appointment_status"], arrived.body["appointment_version"]) == (
        "checked_in",
        checked_in["version"],
    )
    assert arrived.idempotency_key == f"appointment-status-{appointment['id']}-v{checked_in['version']}"
    assert datetime.fromisoformat(arrived.body["checked_in_at"]) == datetime.fromisoformat(
        checked_in["checked_in_at"]
    )
    assert arrived.body["appointment_id"] == appointment["id"]
    # The relay delivers both as the job service's contract accepts them (the fake checks).
    with app.app_context():
        OutboxRelay.for_app(app).run_once()
    job = fake_jobs.jobs[appointment["job_id"]]
    assert job["appointment_status"] == "checked_in"
    assert datetime.fromisoformat(job["arrived_at"]) == datetime.fromisoformat(checked_in["checked_in_at"])


def test_a_refused_check_in_tells_nothing(workshop, outbox_rows):
    workshop.bay()
    appointment = workshop.booked()
    workshop.act(appointment["id"], "cancel", {"reason": "customer called"})
    assert_problem(workshop.act(appointment["id"], "check-in", headers=workshop.technician), 409)
    assert [r.body["appointment_status"] for r in told_job(outbox_rows)] == ["booked", "cancelled"]


# ------------------------------------------------------------- the job, to its appointment


def test_a_completed_job_completes_the_appointment_and_frees_the_bay(workshop, outbox_rows):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    assert_problem(workshop.book(start="10:00", end="11:00"), 409, "no-bay-free")
    workshop.act(appointment["id"], "check-in", headers=workshop.technician)
    assert report(workshop, appointment, "in_progress", 2).get_json()["status"] == "checked_in"
    finished = datetime.now(UTC).replace(microsecond=0)
    response = report(workshop, appointment, "completed", 4, at=finished)
    assert response.status_code == 200, response.get_json()
    completed = response.get_json()
    assert (completed["status"], completed["job_status"]) == ("completed", "completed")
    assert datetime.fromisoformat(completed["completed_at"]) == finished
    assert response.headers["ETag"] == f'"{completed["version"]}"'
    assert workshop.get(appointment["id"]) == completed
    assert told_job(outbox_rows)[-1].body["appointment_status"] == "completed"
    workshop.booked(start="10:00", end="11:00")  # the bay is free again


def test_a_job_completed_before_check_in_completes_its_booked_appointment(workshop):
    workshop.bay()
    appointment = workshop.booked()
    completed = report(workshop, appointment, "completed", 3).get_json()
    assert completed["status"] == "completed"


def test_a_cancelled_job_cancels_its_appointment_once(workshop, outbox_rows):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    cancelled_at = datetime.now(UTC).replace(microsecond=0)
    first = report(workshop, appointment, "cancelled", 3, at=cancelled_at, reason="the customer sold the car")
    assert first.status_code == 200, first.get_json()
    cancelled = first.get_json()
    assert (cancelled["status"], cancelled["job_status"]) == ("cancelled", "cancelled")
    assert cancelled["cancel_reason"] == "the customer sold the car"
    assert datetime.fromisoformat(cancelled["cancelled_at"]) == cancelled_at
    (message,) = cancellations(outbox_rows)
    assert message.idempotency_key == f"appointment-cancelled-{appointment['id']}", "as a cancel by staff"
    assert message.body["data"]["reason"] == "the customer sold the car"
    assert message.body["customer_id"] == appointment["customer_id"]
    assert told_job(outbox_rows)[-1].body["appointment_status"] == "cancelled"
    # The outbox delivers again (a lost answer), then an older report arrives late.
    again = report(workshop, appointment, "cancelled", 3, at=cancelled_at, reason="the customer sold the car")
    assert again.get_json() == cancelled, "the same version twice: applied once"
    late = report(workshop, appointment, "in_progress", 2).get_json()
    assert late == cancelled, "an older version after a newer one changes nothing"
    assert len(cancellations(outbox_rows)) == 1
    assert len(told_job(outbox_rows)) == 2, "booked, cancelled"
    workshop.booked(start="10:00", end="11:00")  # the bay is free again


def test_reports_apply_in_version_order_whatever_order_they_arrive_in(workshop):
    workshop.bay()
    appointment = workshop.booked()
    assert report(workshop, appointment, "on_hold", 4).get_json()["job_status"] == "on_hold"
    for older in ("in_progress", "scheduled"):
        assert report(workshop, appointment, older, 3).get_json()["job_status"] == "on_hold"
    resumed = report(workshop, appointment, "in_progress", 5).get_json()
    assert (resumed["job_status"], resumed["status"]) == ("in_progress", "booked")


def test_an_appointment_cancel_mirrored_back_by_its_job_is_no_change(workshop, fake_jobs, outbox_rows):
    """Staff cancel the appointment: the job is cancelled inline, and its outbox then
    reports "cancelled" back. That report changes nothing and sends nothing: no loop."""
    workshop.bay()
    appointment = workshop.booked()
    cancelled = workshop.act(appointment["id"], "cancel", {"reason": "customer called"}).get_json()
    job = fake_jobs.jobs[appointment["job_id"]]
    assert (cancelled["job_status"], job["status"]) == ("cancelled", "cancelled")
    rows = outbox_rows()
    back = report(workshop, appointment, "cancelled", job["version"], reason="customer called")
    assert back.get_json() == cancelled
    newer = report(workshop, appointment, "cancelled", job["version"] + 1).get_json()
    assert (newer["status"], newer["cancel_reason"]) == ("cancelled", "customer called")
    assert outbox_rows() == rows, "no second message, nothing told to the job"
    assert len(cancellations(outbox_rows)) == 1


def test_a_finished_appointment_only_keeps_the_job_status(workshop, outbox_rows):
    workshop.bay()
    appointment = workshop.booked()
    workshop.act(appointment["id"], "check-in", headers=workshop.technician)
    done = workshop.act(appointment["id"], "complete", headers=workshop.technician).get_json()
    rows = outbox_rows()
    after = report(workshop, appointment, "cancelled", 9).get_json()
    assert (after["status"], after["job_status"], after["completed_at"]) == (
        "completed",
        "cancelled",
        done["completed_at"],
    )
    assert outbox_rows() == rows


def test_a_report_about_another_job_or_appointment_is_refused(workshop):
    workshop.bay()
    appointment = workshop.booked()
    body = assert_problem(report(workshop, appointment, "completed", 3, job_id=str(uuid.uuid4())), 422)
    assert "job_id" in body["errors"]
    assert_problem(report(workshop, {**appointment, "id": str(uuid.uuid4())}, "completed", 3), 404)
    assert workshop.get(appointment["id"])["status"] == "booked"


@pytest.mark.parametrize(
    "change",
    [
        {"job_status": "parked"},
        {"job_version": 0},
        {"job_version": 2.5},
        {"job_version": 2**31},
        {"job_version": "3"},
        {"changed_at": None},
        {"status": "completed"},
    ],
)
def test_a_malformed_report_is_422(workshop, change):
    workshop.bay()
    appointment = workshop.booked()
    body = {
        "job_id": appointment["job_id"],
        "job_status": "completed",
        "job_version": 3,
        "changed_at": datetime.now(UTC).isoformat(),
        **change,
    }
    response = workshop.client.put(
        f"{APPOINTMENTS}/{appointment['id']}/job", json=body, headers=workshop.service
    )
    assert_problem(response, 422)


def test_two_reports_at_once_apply_in_version_order(workshop, app):
    """The relay may send two versions side by side (a retried row beside a new one):
    the appointment's row lock makes them one after the other, and the newer wins."""
    workshop.bay()
    appointment = workshop.booked()
    headers = workshop.service

    def send(version):
        body = {
            "job_id": appointment["job_id"],
            "job_status": "in_progress" if version == 2 else "completed",
            "job_version": version,
            "changed_at": datetime.now(UTC).isoformat(),
        }
        return app.test_client().put(f"{APPOINTMENTS}/{appointment['id']}/job", json=body, headers=headers)

    answers = run_concurrently(send, [2, 3])
    assert [a.status_code for a in answers] == [200, 200]
    final = workshop.get(appointment["id"])
    assert (final["job_status"], final["status"]) == ("completed", "completed")


# ------------------------------------------------------------------- where is my car


def test_a_plate_finds_the_open_visit_with_its_job(workshop, fake_vehicles):
    workshop.bay(), workshop.bay("Lift 2")
    car = fake_vehicles.add(plate="XD-123-Z")
    other = fake_vehicles.add(plate="AB-123-C")
    done = workshop.booked(vehicle_id=car, start="08:00", end="09:00")
    workshop.act(done["id"], "check-in", headers=workshop.technician)
    workshop.act(done["id"], "complete", headers=workshop.technician)
    later = workshop.day + timedelta(days=1)
    visit = workshop.booked(vehicle_id=car, day=later, start="10:00", end="11:00")
    workshop.booked(vehicle_id=other)
    response = workshop.client.get(f"{APPOINTMENTS}?plate=xd 123 z&open=true", headers=workshop.advisor)
    assert response.status_code == 200, response.get_json()
    (found,) = response.get_json()["items"]
    assert (found["id"], found["job_id"], found["job_status"]) == (visit["id"], visit["job_id"], "scheduled")
    assert found["start"] == local(later, "10:00").isoformat()
    (search,) = [r for r in fake_vehicles.received("/api/v1/vehicles") if r.path == "/api/v1/vehicles"]
    assert search.query["plate"] == "XD123Z", "as vehicle-management compares plates"
    every = workshop.client.get(f"{APPOINTMENTS}?plate=XD123Z", headers=workshop.technician).get_json()
    assert [a["id"] for a in every["items"]] == [done["id"], visit["id"]]
    closed = workshop.client.get(f"{APPOINTMENTS}?plate=XD.123.Z&open=false", headers=workshop.advisor)
    assert [a["id"] for a in closed.get_json()["items"]] == [done["id"]]


def test_a_plate_nobody_has_finds_nothing_and_a_plate_no_vehicle_can_have_is_422(workshop):
    workshop.bay()
    workshop.booked()
    nothing = workshop.client.get(f"{APPOINTMENTS}?plate=ZZ-999-Z&open=true", headers=workshop.advisor)
    assert nothing.status_code == 200
    assert nothing.get_json()["items"] == []
    for plate in ("!!!", "--", "ABCDEFGHIJKLM"):
        body = assert_problem(
            workshop.client.get(f"{APPOINTMENTS}?plate={plate}", headers=workshop.advisor), 422
        )
        assert "plate" in body["errors"]


def test_a_plate_look_up_without_vehicle_management_is_503(workshop, down):
    down("vehicles")
    body = assert_problem(
        workshop.client.get(f"{APPOINTMENTS}?plate=XD-123-Z", headers=workshop.advisor), 503
    )
    assert body["dependency"] == "vehicle-management"
    listing = workshop.client.get(f"{APPOINTMENTS}?open=true", headers=workshop.advisor)
    assert listing.status_code == 200, "without a plate nothing is asked"


def test_the_job_status_column_is_nullable_for_appointments_from_before(workshop, app):
    """Appointments booked before the mirror existed show null until their job changes."""
    workshop.bay()
    appointment = workshop.booked()
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(
            text("UPDATE scheduling.appointments SET job_status = NULL, job_version = NULL WHERE id = :id"),
            {"id": appointment["id"]},
        )
    assert workshop.get(appointment["id"])["job_status"] is None
    assert report(workshop, appointment, "in_progress", 2).get_json()["job_status"] == "in_progress"
