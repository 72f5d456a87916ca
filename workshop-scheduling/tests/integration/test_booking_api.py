"""Booking through the API against real PostgreSQL, with vehicle-management and
maintenance-job-management faked by real local HTTP servers that keep to their
contracts: every rule, every status code a front desk can see."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from service_kit.testing import assert_problem

from ..helpers import AMSTERDAM, local, next_transition, today

APPOINTMENTS = "/api/v1/appointments"


# ----------------------------------------------------------------------------- booking


def test_books_an_appointment_with_its_job_and_confirmation(workshop, fake_jobs, outbox_rows):
    bay = workshop.bay()
    owner = uuid.uuid4()
    vehicle = workshop.vehicles.add(owner_id=owner, plate="AB-123-C", make="Volvo", model="V60")
    response = workshop.book(
        vehicle_id=vehicle,
        service_codes=["APK", "OIL"],
        headers={**workshop.advisor, "X-Request-ID": "desk-42"},
    )
    assert response.status_code == 201, response.get_json()
    appointment = response.get_json()
    assert response.headers["Location"].endswith(f"{APPOINTMENTS}/{appointment['id']}")
    assert response.headers["ETag"] == '"1"'
    assert appointment["status"] == "booked"
    assert appointment["customer_id"] == str(owner)
    assert appointment["vehicle"] == {
        "id": str(vehicle),
        "plate": "AB-123-C",
        "make": "Volvo",
        "model": "V60",
    }
    assert appointment["bay_id"] == bay["id"]
    assert appointment["start"] == local(workshop.day, "10:00").isoformat()
    assert appointment["end"] == local(workshop.day, "11:00").isoformat()
    assert uuid.UUID(appointment["id"]).version == 7
    job = fake_jobs.job_for(appointment["id"])
    assert appointment["job_id"] == job["id"]
    assert job["description"] == "annual service [APK, OIL]"
    assert job["customer_id"] == str(owner)
    [create] = fake_jobs.creates()
    # The vehicle as booked, for the job's messages, documents and the customer's pages.
    assert {name: create.json[name] for name in ("vehicle_plate", "vehicle_make", "vehicle_model")} == {
        "vehicle_plate": "AB-123-C",
        "vehicle_make": "Volvo",
        "vehicle_model": "V60",
    }
    assert create.headers["Idempotency-Key"] == appointment["id"]
    assert create.headers["X-Request-Id"] == "desk-42"
    assert appointment["job_status"] == "scheduled", "as the job service answered the booking"
    [message] = outbox_rows(target="notification-management")
    assert (message.target, message.path) == ("notification-management", "/api/v1/notifications")
    assert message.idempotency_key == f"appointment-confirmed-{appointment['id']}"
    assert message.body["type"] == "appointment_confirmed"
    assert message.body["customer_id"] == str(owner)
    assert message.body["data"]["plate"] == "AB-123-C"
    assert message.body["data"]["start"] == local(workshop.day, "10:00").isoformat()
    assert workshop.get(appointment["id"]) == appointment


def test_times_are_answered_on_the_workshop_clock_in_summer_and_winter(workshop, client):
    """As the planning views show them: Amsterdam's +02:00 in summer, +01:00 in winter,
    in every answer of an appointment."""
    workshop.bay()
    autumn = next_transition(10)
    before, after = autumn - timedelta(days=1), autumn + timedelta(days=1)
    summer = workshop.booked(day=before, start="10:00", end="11:00")
    winter = workshop.booked(day=after, start="10:00", end="11:00")
    assert (summer["start"], summer["end"]) == (f"{before}T10:00:00+02:00", f"{before}T11:00:00+02:00")
    assert (winter["start"], winter["end"]) == (f"{after}T10:00:00+01:00", f"{after}T11:00:00+01:00")
    created = datetime.fromisoformat(winter["created_at"])
    assert created.utcoffset() == created.astimezone(AMSTERDAM).utcoffset()
    assert workshop.get(winter["id"]) == winter
    listed = client.get(APPOINTMENTS, headers=workshop.advisor).get_json()["items"]
    assert [(a["id"], a["start"]) for a in listed] == [
        (summer["id"], summer["start"]),
        (winter["id"], winter["start"]),
    ]
    planned = client.get(f"/api/v1/workshop/planning/days/{after}", headers=workshop.advisor).get_json()
    assert planned["days"][0]["appointments"][0]["start"] == winter["start"]
    cancelled = workshop.act(summer["id"], "cancel").get_json()
    assert cancelled["start"] == summer["start"]
    cancelled_at = datetime.fromisoformat(cancelled["cancelled_at"])
    assert cancelled_at.utcoffset() == cancelled_at.astimezone(AMSTERDAM).utcoffset()


def test_times_with_any_rfc3339_offset_are_taken(workshop, client):
    """Found by the system tests: PostgreSQL takes UTC offsets up to 15:59 only, so a
    booking, reschedule or list filter at "...-23:45" (valid RFC 3339) was a 500."""
    from datetime import timezone

    workshop.bay()
    far_west = timezone(-timedelta(hours=23, minutes=45))
    start, end = (
        local(workshop.day, "10:00").astimezone(far_west),
        local(workshop.day, "11:00").astimezone(far_west),
    )
    booked = client.post(
        APPOINTMENTS,
        json={**workshop.body(), "start": start.isoformat(), "end": end.isoformat()},
        headers=workshop.advisor,
    )
    assert booked.status_code == 201, booked.get_json()
    appointment = booked.get_json()
    assert appointment["start"] == local(workshop.day, "10:00").isoformat(), "answered on the workshop clock"
    moved = workshop.act(
        appointment["id"],
        "reschedule",
        {"start": local(workshop.day, "12:00").astimezone(far_west).isoformat()},
    )
    assert moved.status_code == 200, moved.get_json()
    listed = client.get(
        APPOINTMENTS,
        query_string={"from": start.isoformat(), "to": (end + timedelta(days=1)).isoformat()},
        headers=workshop.advisor,
    )
    assert listed.status_code == 200, listed.get_json()
    assert [a["id"] for a in listed.get_json()["items"]] == [appointment["id"]]


def test_back_to_back_is_not_an_overlap(workshop):
    workshop.bay()
    vehicle = workshop.vehicles.add()
    workshop.booked(vehicle_id=vehicle, start="10:00", end="11:00")
    workshop.booked(vehicle_id=vehicle, start="11:00", end="12:00")
    workshop.booked(start="09:00", end="10:00")


def test_the_last_free_bay_cannot_be_booked_twice(workshop):
    workshop.bay()
    workshop.booked(start="10:00", end="11:00")
    body = assert_problem(workshop.book(start="10:30", end="11:30"), 409, "no-bay-free")
    assert "free" in body["detail"]


def test_a_bay_is_chosen_among_free_ones_of_the_kind(workshop):
    lift1, lift2 = workshop.bay("Lift 1"), workshop.bay("Lift 2")
    alignment = workshop.bay("Alignment", kind="alignment")
    first = workshop.booked(bay_kind="lift")
    second = workshop.booked(bay_kind="lift")
    assert {first["bay_id"], second["bay_id"]} == {lift1["id"], lift2["id"]}
    assert_problem(workshop.book(bay_kind="lift"), 409, "no-bay-free")
    assert workshop.booked(bay_kind="alignment")["bay_id"] == alignment["id"]


def test_a_given_bay_must_be_free_active_and_of_the_kind(workshop, client):
    lift = workshop.bay("Lift 1")
    other = workshop.bay("Lift 2")
    workshop.booked(bay_id=lift["id"])
    assert_problem(workshop.book(bay_id=lift["id"]), 409, "bay-already-booked")
    assert_problem(workshop.book(bay_id=other["id"], bay_kind="alignment"), 422, "invalid-resource")
    assert_problem(workshop.book(bay_id=str(uuid.uuid4())), 422, "invalid-resource")
    client.patch(f"/api/v1/workshop/bays/{other['id']}", json={"active": False}, headers=workshop.admin)
    body = assert_problem(workshop.book(bay_id=other["id"]), 422)
    assert "bay_id" in body["errors"]


def test_a_vehicle_cannot_be_in_two_places_at_once(workshop):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    vehicle = workshop.vehicles.add()
    workshop.booked(vehicle_id=vehicle, start="10:00", end="11:00")
    assert_problem(
        workshop.book(vehicle_id=vehicle, start="10:45", end="11:15"), 409, "vehicle-already-booked"
    )


def test_a_technician_must_be_free_and_active(workshop, client):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    anna = workshop.technician_("Anna")
    workshop.booked(technician_id=anna["id"], start="10:00", end="11:00")
    assert_problem(
        workshop.book(technician_id=anna["id"], start="10:00", end="10:30"), 409, "technician-already-booked"
    )
    assert (
        workshop.booked(technician_id=anna["id"], start="11:00", end="11:30")["technician_id"] == anna["id"]
    )
    bob = workshop.technician_("Bob")
    client.patch(f"/api/v1/workshop/technicians/{bob['id']}", json={"active": False}, headers=workshop.admin)
    assert_problem(
        workshop.book(technician_id=bob["id"], start="12:00", end="12:30"), 422, "invalid-resource"
    )


@pytest.mark.parametrize(
    ("start", "end", "field", "fragment"),
    [
        ("10:00", "10:00", "end", "after start"),
        ("11:00", "10:00", "end", "after start"),
        ("10:05", "11:00", "start", "slot grid"),
        ("10:00", "10:50", "end", "slot grid"),
        ("06:30", "07:30", "start", "opening hours"),
        ("18:30", "19:30", "start", "opening hours"),
    ],
)
def test_times_must_keep_the_rules(workshop, start, end, field, fragment):
    workshop.bay()
    body = assert_problem(workshop.book(start=start, end=end), 422, "invalid-appointment-time")
    assert any(fragment in message for message in body["errors"][field]), body


def test_an_appointment_lies_inside_one_opening_interval(workshop):
    workshop.settings(
        opening_hours={
            "monday": [],
            **{
                d: [{"opens": "08:00", "closes": "12:00"}, {"opens": "13:00", "closes": "17:00"}]
                for d in ("tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "monday")
            },
        }
    )
    workshop.bay()
    assert_problem(workshop.book(start="11:30", end="13:30"), 422, "invalid-appointment-time")
    workshop.booked(start="11:00", end="12:00")
    workshop.booked(start="13:00", end="14:00")


def test_not_in_the_past_and_not_beyond_the_horizon(workshop):
    workshop.bay()
    body = assert_problem(workshop.book(day=today() - timedelta(days=1)), 422)
    assert "past" in body["errors"]["start"][0]
    workshop.settings(booking_horizon_days=10)
    body = assert_problem(workshop.book(day=today() + timedelta(days=11)), 422)
    assert "horizon" in body["errors"]["start"][0]
    workshop.booked(day=today() + timedelta(days=10))


def test_not_on_a_closed_date(workshop):
    workshop.settings(closed_dates=[{"date": workshop.day.isoformat(), "reason": "King's Day"}])
    workshop.bay()
    body = assert_problem(workshop.book(), 422)
    assert "closed" in body["errors"]["start"][0]


def test_the_vehicle_must_be_known_and_registered(workshop, fake_jobs, count_rows):
    workshop.bay()
    body = assert_problem(workshop.book(vehicle_id=uuid.uuid4()), 422, "invalid-resource")
    assert "vehicle_id" in body["errors"]
    gone = workshop.vehicles.add(status="deregistered")
    assert_problem(workshop.book(vehicle_id=gone), 422, "invalid-resource")
    assert fake_jobs.creates() == []
    assert count_rows("appointments") == 0


@pytest.mark.parametrize(
    "body",
    [
        {},
        {
            "vehicle_id": "nope",
            "start": "2030-01-01T10:00:00+01:00",
            "end": "2030-01-01T11:00:00+01:00",
            "work_description": "x",
        },
        {
            "vehicle_id": str(uuid.uuid4()),
            "start": "2030-01-01T10:00:00",
            "end": "2030-01-01T11:00:00",
            "work_description": "x",
        },
        {
            "vehicle_id": str(uuid.uuid4()),
            "start": "2030-01-01T10:00:00+01:00",
            "end": "2030-01-01T11:00:00+01:00",
            "work_description": "",
        },
    ],
)
def test_invalid_bodies_are_422(workshop, body):
    body = assert_problem(workshop.client.post(APPOINTMENTS, json=body, headers=workshop.advisor), 422)
    assert body["errors"]


def test_malformed_json_is_400(workshop):
    response = workshop.client.post(
        APPOINTMENTS, data="{", headers={**workshop.advisor, "Content-Type": "application/json"}
    )
    assert_problem(response, 400)


def test_idempotent_booking_replays_and_refuses_another_body(workshop, fake_jobs):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    body = workshop.body()
    headers = {**workshop.advisor, "Idempotency-Key": "desk-click-1"}
    first = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    again = workshop.client.post(APPOINTMENTS, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert len(fake_jobs.creates()) == 1
    other = {**body, "work_description": "something else"}
    assert_problem(workshop.client.post(APPOINTMENTS, json=other, headers=headers), 422)


def test_unknown_appointment_is_404(workshop):
    assert_problem(workshop.client.get(f"{APPOINTMENTS}/{uuid.uuid4()}", headers=workshop.advisor), 404)
    assert_problem(workshop.client.get(f"{APPOINTMENTS}/not-a-uuid", headers=workshop.advisor), 404)
    assert_problem(workshop.act(str(uuid.uuid4()), "cancel"), 404)


def test_wrong_method_is_405(workshop):
    response = workshop.client.delete(APPOINTMENTS, headers=workshop.advisor)
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_list_filters_and_pages_in_start_order(workshop):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    vehicle = workshop.vehicles.add()
    late = workshop.booked(vehicle_id=vehicle, start="15:00", end="16:00")
    early = workshop.booked(vehicle_id=vehicle, start="09:00", end="10:00")
    other = workshop.booked(start="12:00", end="13:00")
    page = workshop.client.get(
        APPOINTMENTS, query_string={"limit": 2}, headers=workshop.accountant
    ).get_json()
    assert [a["id"] for a in page["items"]] == [early["id"], other["id"]]
    rest = workshop.client.get(
        APPOINTMENTS, query_string={"cursor": page["next_cursor"]}, headers=workshop.accountant
    ).get_json()
    assert [a["id"] for a in rest["items"]] == [late["id"]]
    assert rest["next_cursor"] is None
    mine = workshop.client.get(
        APPOINTMENTS, query_string={"vehicle_id": str(vehicle)}, headers=workshop.advisor
    ).get_json()["items"]
    assert [a["id"] for a in mine] == [early["id"], late["id"]]
    window = workshop.client.get(
        APPOINTMENTS,
        query_string={
            "from": local(workshop.day, "11:00").isoformat(),
            "to": local(workshop.day, "14:00").isoformat(),
        },
        headers=workshop.advisor,
    ).get_json()["items"]
    assert [a["id"] for a in window] == [other["id"]]
    assert_problem(
        workshop.client.get(APPOINTMENTS, query_string={"cursor": "junk"}, headers=workshop.advisor), 422
    )
