"""Jobs through the API against PostgreSQL: create once per appointment, read what
invoicing relies on, history newest first, edits, rescheduling."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

PROBLEM = "application/problem+json"
URL = "/api/v1/maintenance-jobs"


def test_creates_a_scheduled_job_with_location_and_etag(client, jobs):
    body = jobs.body(description="  annual service and brakes check  ")
    response = client.post(URL, json=body, headers=jobs.service)
    assert response.status_code == 201
    job = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{job['id']}")
    assert response.headers["ETag"] == '"1"'
    assert job["status"] == "scheduled"
    assert job["appointment_id"] == body["appointment_id"]
    assert job["description"] == "annual service and brakes check"
    assert job["currency"] == "EUR"
    assert job["lines"] == [] and job["progress"] == {"done": 0, "total": 0}
    assert uuid.UUID(job["id"]).version == 7


def test_creating_again_for_the_appointment_returns_the_first_job(client, jobs):
    body = jobs.body()
    first = client.post(URL, json=body, headers=jobs.service).get_json()
    again = client.post(URL, json={**body, "description": "changed later"}, headers=jobs.service)
    assert again.status_code == 200
    assert again.get_json()["id"] == first["id"]
    assert again.get_json()["description"] == "annual service"
    assert again.headers["Location"].endswith(first["id"])
    assert len(client.get(URL, headers=jobs.advisor).get_json()["items"]) == 1


def test_a_repeated_idempotency_key_replays_the_first_answer(client, jobs):
    body = jobs.body()
    headers = {**jobs.service, "Idempotency-Key": body["appointment_id"]}
    first = client.post(URL, json=body, headers=headers)
    again = client.post(URL, json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    other = client.post(URL, json={**body, "description": "other"}, headers=headers)
    assert other.status_code == 422


def test_the_appointment_of_another_vehicle_is_a_conflict(client, jobs):
    body = jobs.body()
    client.post(URL, json=body, headers=jobs.service)
    clash = client.post(URL, json={**body, "vehicle_id": str(uuid.uuid4())}, headers=jobs.service)
    assert clash.status_code == 409
    assert clash.mimetype == PROBLEM
    assert clash.get_json()["type"] == "urn:garage:problem:appointment-has-another-job"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"planned_start": "2026-12-01T10:00:00"}, "planned_start"),  # no offset
        ({"vehicle_id": "not-a-uuid"}, "vehicle_id"),
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_invalid_fields_are_422_naming_them(client, jobs, change, field):
    response = client.post(URL, json=jobs.body(**change), headers=jobs.service)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_missing_fields_and_bad_times_are_422(client, jobs):
    body = jobs.body()
    del body["customer_id"]
    assert "customer_id" in client.post(URL, json=body, headers=jobs.service).get_json()["errors"]
    start = jobs.soon()
    backwards = jobs.body(planned_start=start, planned_end=(start - timedelta(hours=1)).isoformat())
    response = client.post(URL, json=backwards, headers=jobs.service)
    assert response.status_code == 422
    assert "planned_end" in response.get_json()["errors"]


def test_malformed_json_is_400(client, jobs):
    response = client.post(URL, data="{", content_type="application/json", headers=jobs.service)
    assert (response.status_code, response.mimetype) == (400, PROBLEM)


def test_unknown_job_is_404_problem(client, jobs):
    response = client.get(f"{URL}/{uuid.uuid4()}", headers=jobs.advisor)
    assert (response.status_code, response.mimetype) == (404, PROBLEM)
    assert client.post(f"{URL}/{uuid.uuid4()}/start", json={}, headers=jobs.technician).status_code == 404
    assert client.get(f"{URL}/not-a-uuid", headers=jobs.advisor).status_code == 404


def test_get_gives_invoicing_what_it_relies_on(client, jobs):
    job = jobs.create()
    jobs.must(job["id"], "start", {"odometer_in": 84210})
    jobs.labour(job["id"], hours="1.50", rate=6000, description="replace brake pads")
    jobs.part(job["id"], quantity="4.5", price=1250, description="engine oil 5W-30", part_number="OIL-5W30")
    jobs.must(job["id"], "complete")
    response = client.get(f"{URL}/{job['id']}", headers=jobs.accountant)
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    body = response.get_json()
    assert body["status"] == "completed"
    assert (body["customer_id"], body["vehicle_id"]) == (job["customer_id"], job["vehicle_id"])
    assert body["odometer_in"] == 84210
    assert body["completed_at"] is not None
    labour, part = body["lines"]
    assert {
        k: labour[k] for k in ("kind", "description", "quantity", "unit_price", "vat_rate", "approved")
    } == {
        "kind": "labour",
        "description": "replace brake pads",
        "quantity": "1.50",
        "unit_price": 6000,
        "vat_rate": "21.00",
        "approved": True,
    }
    assert (part["kind"], part["quantity"], part["unit_price"], part["part_number"]) == (
        "part",
        "4.50",
        1250,
        "OIL-5W30",
    )
    assert part["net_amount"] == 5625
    assert body["totals"]["billable_net"] == 9000 + 5625


def test_history_of_a_vehicle_and_a_customer_newest_first_in_pages(client, jobs):
    vehicle, customer = str(uuid.uuid4()), str(uuid.uuid4())
    made = [
        jobs.create(vehicle_id=vehicle, customer_id=customer, planned_start=jobs.soon(days=d))
        for d in (3, 1, 2)
    ]
    jobs.create(customer_id=customer)  # another vehicle of the customer
    jobs.create()  # someone else
    first = client.get(f"{URL}?vehicle_id={vehicle}&limit=2", headers=jobs.accountant).get_json()
    second = client.get(
        f"{URL}?vehicle_id={vehicle}&limit=2&cursor={first['next_cursor']}", headers=jobs.accountant
    ).get_json()
    assert [j["id"] for j in first["items"] + second["items"]] == [
        made[0]["id"],
        made[2]["id"],
        made[1]["id"],
    ]
    assert second["next_cursor"] is None
    by_customer = client.get(f"{URL}?customer_id={customer}", headers=jobs.advisor).get_json()["items"]
    assert len(by_customer) == 4
    starts = [j["planned_start"] for j in by_customer]
    assert starts == sorted(starts, reverse=True)


def test_list_filters_by_status_and_appointment(client, jobs):
    scheduled = jobs.create()
    cancelled = jobs.in_status("cancelled")
    listed = client.get(f"{URL}?status=cancelled", headers=jobs.advisor).get_json()["items"]
    assert [j["id"] for j in listed] == [cancelled["id"]]
    found = client.get(f"{URL}?appointment_id={scheduled['appointment_id']}", headers=jobs.service)
    assert [j["id"] for j in found.get_json()["items"]] == [scheduled["id"]]
    assert client.get(f"{URL}?status=lost", headers=jobs.advisor).status_code == 422
    assert client.get(f"{URL}?cursor=garbage", headers=jobs.advisor).status_code == 422
    assert client.get(f"{URL}?limit=201", headers=jobs.advisor).status_code == 422


def test_patch_assigns_technician_and_notes_with_if_match(client, jobs):
    job = jobs.create()
    url = f"{URL}/{job['id']}"
    changes = {"assigned_technician": "tech-bo", "technician_notes": "noise front left", "odometer_in": 1200}
    updated = client.patch(url, json=changes, headers={**jobs.advisor, "If-Match": '"1"'})
    assert updated.status_code == 200
    assert updated.headers["ETag"] == '"2"'
    assert {k: updated.get_json()[k] for k in changes} == changes
    stale = client.patch(url, json={"technician_notes": "x"}, headers={**jobs.advisor, "If-Match": '"1"'})
    assert stale.status_code == 412
    assert client.patch(url, json={"odometer_in": -1}, headers=jobs.advisor).status_code == 422
    blank = client.patch(url, json={"description": "  "}, headers=jobs.advisor)
    assert (blank.status_code, blank.get_json()["errors"]) == (422, {"description": ["must not be blank"]})


def test_details_of_a_finished_job_are_frozen(client, jobs):
    for status in ("completed", "cancelled"):
        job = jobs.in_status(status)
        response = client.patch(
            f"{URL}/{job['id']}", json={"technician_notes": "late"}, headers=jobs.technician
        )
        assert response.status_code == 409
        assert response.get_json()["current_status"] == status


def test_scheduling_moves_the_planned_times(client, jobs):
    job = jobs.create()
    start = jobs.soon(days=5)
    body = {"planned_start": start.isoformat(), "planned_end": (start + timedelta(hours=3)).isoformat()}
    moved = client.post(f"{URL}/{job['id']}/reschedule", json=body, headers=jobs.service)
    assert moved.status_code == 200
    assert moved.get_json()["planned_start"] == start.isoformat()
    assert moved.get_json()["version"] == 2
    same = client.post(f"{URL}/{job['id']}/reschedule", json=body, headers=jobs.service)
    assert same.get_json()["version"] == 2, "moving to the same times changes nothing"


def test_only_scheduling_reschedules_and_not_a_started_job(client, jobs):
    job = jobs.create()
    start = jobs.soon(days=5)
    body = {"planned_start": start.isoformat(), "planned_end": (start + timedelta(hours=1)).isoformat()}
    for role in (jobs.advisor, jobs.admin, jobs.technician):
        assert client.post(f"{URL}/{job['id']}/reschedule", json=body, headers=role).status_code == 403
    backwards = {"planned_start": body["planned_end"], "planned_end": body["planned_start"]}
    assert (
        client.post(f"{URL}/{job['id']}/reschedule", json=backwards, headers=jobs.service).status_code == 422
    )
    jobs.must(job["id"], "start")
    started = client.post(f"{URL}/{job['id']}/reschedule", json=body, headers=jobs.service)
    assert started.status_code == 409
    assert started.get_json()["current_status"] == "in_progress"
    jobs.must(job["id"], "hold")
    assert client.post(f"{URL}/{job['id']}/reschedule", json=body, headers=jobs.service).status_code == 200


def test_start_records_the_technician_and_odometer(client, jobs):
    job = jobs.create()
    started = jobs.must(job["id"], "start", {"odometer_in": 5000, "odometer_unit": "mi"})
    assert started["assigned_technician"] == jobs.technician_id
    assert (started["odometer_in"], started["odometer_unit"]) == (5000, "mi")
    assert started["actual_start"] is not None
    other = jobs.create()
    assigned = jobs.must(other["id"], "start", {"assigned_technician": "tech-bo"})
    assert assigned["assigned_technician"] == "tech-bo"


def test_complete_records_actual_end_and_notes(client, jobs):
    job = jobs.in_status("in_progress")
    done = jobs.must(job["id"], "complete", {"technician_notes": "rear tyres at 3 mm"})
    assert done["technician_notes"] == "rear tyres at 3 mm"
    assert done["actual_end"] is not None and done["completed_at"] is not None
    started = jobs.in_status("in_progress")
    future = (jobs.soon(days=1)).isoformat()
    assert jobs.act(started["id"], "complete", {"actual_end": future}).status_code == 422
    before = "2000-01-01T00:00:00+00:00"
    assert jobs.act(started["id"], "complete", {"actual_end": before}).status_code == 422


def test_cancel_needs_a_reason_and_keeps_it(client, jobs):
    job = jobs.create()
    assert jobs.act(job["id"], "cancel", {}).status_code == 422
    assert jobs.act(job["id"], "cancel", {"reason": "  "}).status_code == 422
    cancelled = jobs.must(job["id"], "cancel", {"reason": "customer sold the car"})
    assert cancelled["cancel_reason"] == "customer sold the car"
    assert cancelled["cancelled_at"] is not None


def test_cancelling_a_cancelled_job_again_is_a_harmless_repeat(client, jobs):
    job = jobs.in_status("cancelled")
    again = jobs.act(job["id"], "cancel", headers=jobs.service)
    assert again.status_code == 200
    assert again.get_json()["version"] == job["version"]
