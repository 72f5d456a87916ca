"""Reminders go out once per appointment even when the command runs twice or twice at
once; every customer message reaches a real HTTP receiver through the outbox relay,
in the shape notification-management's contract accepts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from workshop_scheduling.models import db
from workshop_scheduling.service import reminders

from service_kit.outbox import OutboxRelay
from service_kit.testing import run_concurrently

from ..fakes import FakeNotifications
from ..helpers import local, today


def remind(app, day: date | None = None, now: datetime | None = None) -> int:
    with app.app_context():
        _, count = reminders.send_reminders(session=db.session, day=day, now=now)
        db.session.commit()
        return count


def reminders_in_outbox(outbox_rows):
    messages = outbox_rows(target="notification-management")
    return [r for r in messages if r.body["type"] == "appointment_reminder"]


def test_each_customer_of_tomorrow_gets_one_reminder(workshop, app, outbox_rows):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    tomorrow = today() + timedelta(days=1)
    first = workshop.booked(day=tomorrow, start="09:00", end="10:00")
    second = workshop.booked(day=tomorrow, start="15:00", end="16:00")
    cancelled = workshop.booked(day=tomorrow, start="11:00", end="12:00")
    workshop.act(cancelled["id"], "cancel")
    workshop.booked(day=tomorrow + timedelta(days=1))  # the day after: not yet
    assert remind(app) == 2
    sent = reminders_in_outbox(outbox_rows)
    assert {r.body["data"]["appointment_id"] for r in sent} == {first["id"], second["id"]}
    assert {r.body["customer_id"] for r in sent} == {first["customer_id"], second["customer_id"]}
    assert remind(app) == 0, "running again sends nothing"
    assert len(reminders_in_outbox(outbox_rows)) == 2


def test_two_runs_at_once_send_each_reminder_once(workshop, app, outbox_rows):
    workshop.bay()
    tomorrow = today() + timedelta(days=1)
    for hour in range(9, 15):
        workshop.booked(day=tomorrow, start=f"{hour:02d}:00", end=f"{hour:02d}:45")
    counts = run_concurrently(lambda _: remind(app), range(4))
    assert sorted(counts) == [0, 0, 0, 6]
    assert len(reminders_in_outbox(outbox_rows)) == 6


def test_a_rescheduled_appointment_is_reminded_for_its_new_day(workshop, app, outbox_rows):
    workshop.bay()
    tomorrow = today() + timedelta(days=1)
    appointment = workshop.booked(day=tomorrow)
    assert remind(app) == 1
    later = tomorrow + timedelta(days=2)
    workshop.act(appointment["id"], "reschedule", {"start": local(later, "10:00").isoformat()})
    assert remind(app, day=later) == 1
    keys = {r.idempotency_key for r in reminders_in_outbox(outbox_rows)}
    assert len(keys) == 2


def test_tomorrow_is_the_workshop_zone_s_tomorrow(workshop, app, outbox_rows):
    """At 23:30 in Amsterdam (22:30 UTC, still "today" in UTC for a few minutes more),
    tomorrow is the Amsterdam date after it."""
    workshop.bay()
    day = today() + timedelta(days=3)
    workshop.booked(day=day, start="07:00", end="08:00")
    evening_before = local(day - timedelta(days=1), "23:30").astimezone(UTC)
    assert remind(app, now=evening_before) == 1


def test_the_relay_delivers_customer_messages_as_notification_management_accepts(
    workshop, app, outbox_rows, fake_jobs
):
    """And the appointment's statuses to its job, as maintenance-job-management accepts them."""
    receiver = FakeNotifications()
    try:
        workshop.bay()
        appointment = workshop.booked()
        workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "13:00").isoformat()})
        workshop.act(appointment["id"], "cancel", {"reason": "customer called"})
        before = app.config["NOTIFICATION_MANAGEMENT_URL"]
        app.config["NOTIFICATION_MANAGEMENT_URL"] = receiver.url
        try:
            with app.app_context():
                stats = OutboxRelay.for_app(app).run_once()
        finally:
            app.config["NOTIFICATION_MANAGEMENT_URL"] = before
        assert stats.delivered == 5
        assert fake_jobs.jobs[appointment["job_id"]]["appointment_status"] == "cancelled"
        assert [r.json["type"] for r in receiver.requests] == [
            "appointment_confirmed",
            "appointment_rescheduled",
            "appointment_cancelled",
        ]
        for request in receiver.requests:
            assert request.path == "/api/v1/notifications"
            assert request.headers["Idempotency-Key"]
            assert request.headers["Authorization"].startswith("Bearer ")
        assert receiver.violations == []
        assert {r.status for r in outbox_rows()} == {"delivered"}
    finally:
        receiver.stop()


def test_nothing_reaches_the_outbox_when_a_booking_fails(workshop, outbox_rows, count_rows):
    workshop.bay()
    workshop.booked()
    workshop.book()  # 409: no bay
    assert [r.target for r in outbox_rows()] == ["maintenance-job-management", "notification-management"]
    with workshop.client.application.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM scheduling.reminders")).scalar_one() == 0
