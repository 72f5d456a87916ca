"""Settings, bays, technicians, availability and the planning views through the API."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

from service_kit.testing import assert_problem

from ..helpers import local, next_transition, today

SETTINGS = "/api/v1/workshop/settings"
BAYS = "/api/v1/workshop/bays"
TECHNICIANS = "/api/v1/workshop/technicians"
AVAILABILITY = "/api/v1/availability"


# ----------------------------------------------------------------------------- settings


def test_default_settings_until_changed(client, auth_headers):
    response = client.get(SETTINGS, headers=auth_headers("technician"))
    assert response.status_code == 200
    settings = response.get_json()
    assert settings["time_zone"] == "Europe/Amsterdam"
    assert settings["slot_minutes"] == 15
    assert settings["opening_hours"]["monday"] == [
        {"opens": "08:00", "closes": "12:00"},
        {"opens": "13:00", "closes": "17:30"},
    ]
    assert settings["opening_hours"]["sunday"] == []
    assert response.headers["ETag"] == f'"{settings["version"]}"'


def test_put_settings_with_if_match(workshop, client):
    current = client.get(SETTINGS, headers=workshop.admin)
    body = {
        "time_zone": "Europe/London",
        "slot_minutes": 30,
        "booking_horizon_days": 60,
        "opening_hours": {"monday": [{"opens": "09:00", "closes": "17:00"}]},
        "closed_dates": [{"date": "2030-12-25", "reason": "Christmas"}],
    }
    stale = client.put(SETTINGS, json=body, headers={**workshop.admin, "If-Match": '"999"'})
    assert_problem(stale, 412)
    response = client.put(
        SETTINGS, json=body, headers={**workshop.advisor, "If-Match": current.headers["ETag"]}
    )
    assert response.status_code == 200, response.get_json()
    settings = response.get_json()
    assert settings["time_zone"] == "Europe/London"
    assert settings["closed_dates"] == [{"date": "2030-12-25", "reason": "Christmas"}]
    assert settings["opening_hours"]["tuesday"] == []
    assert settings["version"] == current.get_json()["version"] + 1


def test_invalid_settings_are_422_naming_the_field(workshop, client):
    body = {"time_zone": "Not/AZone", "opening_hours": {"monday": [{"opens": "12:00", "closes": "09:00"}]}}
    problem = assert_problem(client.put(SETTINGS, json=body, headers=workshop.admin), 422)
    assert {"time_zone", "opening_hours.monday[0]"} <= set(problem["errors"])
    problem = assert_problem(client.put(SETTINGS, json={"time_zone": "UTC"}, headers=workshop.admin), 422)
    assert "opening_hours" in problem["errors"]
    bad_clock = {"time_zone": "UTC", "opening_hours": {"monday": [{"opens": "8am", "closes": "5pm"}]}}
    assert_problem(client.put(SETTINGS, json=bad_clock, headers=workshop.admin), 422)


# ------------------------------------------------------------------------ bays, technicians


def test_bays_create_list_update(workshop, client):
    lift = workshop.bay("Lift 1")
    assert lift["active"] is True and lift["kind"] == "lift"
    workshop.bay("Alignment", kind="alignment")
    assert_problem(
        client.post(BAYS, json={"name": "lift 1", "kind": "lift"}, headers=workshop.advisor),
        409,
        "name-already-in-use",
    )
    assert_problem(client.post(BAYS, json={"name": "X", "kind": "Not A Slug"}, headers=workshop.advisor), 422)
    lifts = client.get(BAYS, query_string={"kind": "lift"}, headers=workshop.technician).get_json()["items"]
    assert [b["name"] for b in lifts] == ["Lift 1"]
    url = f"{BAYS}/{lift['id']}"
    renamed = client.patch(url, json={"name": "Lift A"}, headers={**workshop.advisor, "If-Match": '"1"'})
    assert renamed.status_code == 200 and renamed.get_json()["version"] == 2
    assert_problem(
        client.patch(url, json={"name": "Lift B"}, headers={**workshop.advisor, "If-Match": '"1"'}), 412
    )
    assert_problem(client.get(f"{BAYS}/{uuid.uuid4()}", headers=workshop.advisor), 404)


def test_a_bay_with_upcoming_appointments_stays_active(workshop, client):
    lift = workshop.bay()
    appointment = workshop.booked()
    problem = assert_problem(
        client.patch(f"{BAYS}/{lift['id']}", json={"active": False}, headers=workshop.admin),
        409,
        "still-booked",
    )
    assert problem["appointments"] == 1
    workshop.act(appointment["id"], "cancel")
    assert (
        client.patch(f"{BAYS}/{lift['id']}", json={"active": False}, headers=workshop.admin).status_code
        == 200
    )
    inactive = client.get(BAYS, query_string={"active": "false"}, headers=workshop.admin).get_json()["items"]
    assert [b["id"] for b in inactive] == [lift["id"]]


def test_technicians_create_list_update(workshop, client):
    anna = workshop.technician_("Anna", skills=("diagnostics", "ev"))
    workshop.technician_("Bob", skills=("tyres",))
    ev = client.get(TECHNICIANS, query_string={"skill": "ev"}, headers=workshop.accountant).get_json()[
        "items"
    ]
    assert [t["name"] for t in ev] == ["Anna"]
    assert_problem(client.post(TECHNICIANS, json={"name": "ANNA"}, headers=workshop.advisor), 409)
    changed = client.patch(f"{TECHNICIANS}/{anna['id']}", json={"skills": ["ev"]}, headers=workshop.advisor)
    assert changed.get_json()["skills"] == ["ev"]
    workshop.bay()
    workshop.booked(technician_id=anna["id"])
    assert_problem(
        client.patch(f"{TECHNICIANS}/{anna['id']}", json={"active": False}, headers=workshop.advisor), 409
    )
    assert_problem(client.get(f"{TECHNICIANS}/{uuid.uuid4()}", headers=workshop.advisor), 404)


# ---------------------------------------------------------------------------- availability


def availability(workshop, headers=None, **params):
    query = {"from": workshop.day.isoformat(), "to": workshop.day.isoformat(), "duration": 60, **params}
    return workshop.client.get(AVAILABILITY, query_string=query, headers=headers or workshop.advisor)


def test_availability_lists_free_starts_with_free_bays(workshop):
    workshop.settings(
        opening_hours={
            day: [{"opens": "08:00", "closes": "11:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
    )
    lift1, lift2 = workshop.bay("Lift 1"), workshop.bay("Lift 2")
    alignment = workshop.bay("Alignment", kind="alignment")
    workshop.booked(bay_id=lift1["id"], start="08:00", end="09:00")
    response = availability(workshop, bay_kind="lift")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["time_zone"] == "Europe/Amsterdam"
    assert body["duration_minutes"] == 60
    assert [b["id"] for b in body["bays"]] == [lift1["id"], lift2["id"]]
    slots = {s["start"]: s["bay_ids"] for s in body["slots"]}
    assert slots[local(workshop.day, "08:00").isoformat()] == [lift2["id"]]
    assert slots[local(workshop.day, "09:00").isoformat()] == [lift1["id"], lift2["id"]]
    assert max(slots) == local(workshop.day, "10:00").isoformat()
    everything = availability(workshop).get_json()
    assert alignment["id"] in everything["slots"][0]["bay_ids"]


def test_availability_follows_a_technician(workshop):
    workshop.bay("Lift 1"), workshop.bay("Lift 2")
    anna = workshop.technician_("Anna")
    workshop.booked(technician_id=anna["id"], start="10:00", end="11:00")
    slots = availability(workshop, technician_id=anna["id"]).get_json()["slots"]
    starts = {s["start"] for s in slots}
    assert local(workshop.day, "10:00").isoformat() not in starts
    assert local(workshop.day, "11:00").isoformat() in starts


def test_availability_questions_that_cannot_be_answered(workshop):
    assert_problem(availability(workshop, duration=50), 422)
    assert_problem(availability(workshop, to=(workshop.day - timedelta(days=1)).isoformat()), 422)
    assert_problem(availability(workshop, to=(workshop.day + timedelta(days=40)).isoformat()), 422)
    assert_problem(availability(workshop, duration="x"), 422)
    assert_problem(workshop.client.get(AVAILABILITY, headers=workshop.advisor), 422)


def test_availability_on_the_next_spring_forward_day(workshop):
    day = next_transition(3)
    workshop.settings(
        opening_hours={
            d: [{"opens": "00:00", "closes": "24:00"}]
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        },
        booking_horizon_days=(day - today()).days + 1,
    )
    workshop.bay()
    slots = availability(workshop, **{"from": day.isoformat(), "to": day.isoformat()}).get_json()["slots"]
    clocks = [s["start"][11:16] for s in slots]
    assert "02:00" not in clocks and "01:45" in clocks and "03:00" in clocks
    assert len(slots) == 23 * 4 - 3
    booked = workshop.booked(day=day, start="01:45", end="03:15")
    assert booked["start"] < booked["end"]


def test_availability_of_a_busy_week_is_fast(workshop, app):
    """Not a benchmark (bench/scheduling.py is): a guard that the week is computed from
    a couple of queries, not one per slot."""
    for n in range(10):
        workshop.bay(f"Lift {n}")
    from sqlalchemy import event
    from workshop_scheduling.models import db

    statements = []
    with app.app_context():
        engine = db.engine
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    try:
        started = time.perf_counter()
        response = availability(workshop, to=(workshop.day + timedelta(days=6)).isoformat())
        elapsed = time.perf_counter() - started
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    assert response.status_code == 200
    assert len(response.get_json()["slots"]) > 7 * 40
    assert len([s for s in statements if "appointments" in s]) == 1
    assert elapsed < 5


# ------------------------------------------------------------------------------- planning


def test_the_day_view_shows_vehicle_bay_technician_and_job_status(workshop, client):
    lift = workshop.bay("Lift 1")
    anna = workshop.technician_("Anna")
    vehicle = workshop.vehicles.add(plate="XY-99-Z", make="Toyota", model="Yaris")
    late = workshop.booked(vehicle_id=vehicle, technician_id=anna["id"], start="14:00", end="15:00")
    early = workshop.booked(start="09:00", end="10:00")
    gone = workshop.booked(start="16:00", end="17:00")
    workshop.act(gone["id"], "cancel")
    workshop.jobs.set_status(late["job_id"], "in_progress")
    response = client.get(
        f"/api/v1/workshop/planning/days/{workshop.day.isoformat()}", headers=workshop.technician
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["job_statuses_complete"] is True
    [day] = body["days"]
    assert day["date"] == workshop.day.isoformat() and day["closed"] is False
    assert [a["id"] for a in day["appointments"]] == [early["id"], late["id"]]
    shown = day["appointments"][1]
    assert shown["vehicle"] == {"id": str(vehicle), "plate": "XY-99-Z", "make": "Toyota", "model": "Yaris"}
    assert shown["bay"] == {"id": lift["id"], "name": "Lift 1", "kind": "lift"}
    assert shown["technician"] == {"id": anna["id"], "name": "Anna", "account_subject": None}
    assert shown["job_status"] == "in_progress"
    assert shown["start"] == local(workshop.day, "14:00").isoformat()
    with_cancelled = client.get(
        f"/api/v1/workshop/planning/days/{workshop.day.isoformat()}",
        query_string={"include_cancelled": "true"},
        headers=workshop.technician,
    ).get_json()
    assert len(with_cancelled["days"][0]["appointments"]) == 3


def test_the_week_view_runs_monday_to_sunday(workshop, client):
    workshop.bay()
    appointment = workshop.booked()
    year, week, _ = workshop.day.isocalendar()
    body = client.get(
        f"/api/v1/workshop/planning/weeks/{year}-W{week:02d}", headers=workshop.accountant
    ).get_json()
    assert len(body["days"]) == 7
    assert body["from"] == (workshop.day - timedelta(days=workshop.day.weekday())).isoformat()
    found = [a["id"] for d in body["days"] for a in d["appointments"]]
    assert found == [appointment["id"]]


def test_planning_survives_the_job_service_being_down(workshop, client, down):
    workshop.bay()
    workshop.booked(start="09:00", end="10:00")
    workshop.booked(start="10:00", end="11:00")
    down("jobs")
    response = client.get(
        f"/api/v1/workshop/planning/days/{workshop.day.isoformat()}", headers=workshop.advisor
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["job_statuses_complete"] is False
    assert {a["job_status"] for a in body["days"][0]["appointments"]} == {"unknown"}


def test_planning_paths_that_name_no_day_are_404(workshop, client):
    assert_problem(client.get("/api/v1/workshop/planning/days/2026-02-30", headers=workshop.advisor), 404)
    assert_problem(client.get("/api/v1/workshop/planning/weeks/2026-W60", headers=workshop.advisor), 404)
    assert_problem(client.get("/api/v1/workshop/planning/weeks/2026-12", headers=workshop.advisor), 404)


def test_closed_days_are_marked(workshop, client):
    workshop.settings(closed_dates=[{"date": workshop.day.isoformat(), "reason": "inventory"}])
    day = client.get(f"/api/v1/workshop/planning/days/{workshop.day.isoformat()}", headers=workshop.advisor)
    [shown] = day.get_json()["days"]
    assert shown["closed"] is True and shown["closed_reason"] == "inventory" and shown["opening_hours"] == []
