"""Labour and parts lines through the API: integer money, validation, tasks and
progress, removal, and the freeze once a job is finished."""

from __future__ import annotations

import uuid

import pytest

URL = "/api/v1/maintenance-jobs"


def test_labour_line_is_hours_times_rate_with_the_default_vat(client, jobs):
    job = jobs.create()
    response = jobs.add_line(
        job["id"], kind="labour", description="replace pads", hours="0.75", hourly_rate=7250
    )
    assert response.status_code == 201
    line = response.get_json()
    assert response.headers["Location"].endswith(f"/lines/{line['id']}")
    assert response.headers["ETag"] == '"2"', "a line is part of the job: the job has a new version"
    assert (line["quantity"], line["unit_price"]) == ("0.75", 7250)
    assert (line["hours"], line["hourly_rate"], line["part_number"]) == ("0.75", 7250, None)
    assert (line["net_amount"], line["vat_rate"], line["vat_amount"]) == (5438, "21.00", 1142)  # 5437.5 up
    assert (line["approval"], line["approved"], line["covered_by_booking"]) == ("pending", False, False)
    assert line["created_by"] == jobs.technician_id
    fetched = client.get(response.headers["Location"], headers=jobs.accountant)
    assert fetched.get_json() == line


def test_part_line_with_decimal_quantity_and_own_vat_rate(client, jobs):
    job = jobs.create()
    line = jobs.part(job["id"], quantity="4.5", price=1199, vat_rate="9", part_number="OIL-5W30")
    assert (line["quantity"], line["net_amount"], line["vat_rate"], line["vat_amount"]) == (
        "4.50",
        5396,
        "9.00",
        486,
    )
    assert (line["hours"], line["hourly_rate"]) == (None, None)
    # One representation: a decimal quantity is a string, a JSON number is refused, not read via a float.
    numeric = jobs.add_line(
        job["id"], kind="part", description="wiper", part_number="W-1", quantity=2.5, unit_price=899
    )
    assert numeric.status_code == 422
    assert "decimal string" in numeric.get_json()["errors"]["quantity"][0]


def test_totals_add_up_in_minor_units(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"], hours="1.50", rate=6000)  # 9000, VAT 1890
    jobs.part(job["id"], quantity="3", price=333)  # 999, VAT 209.79 -> 210
    jobs.part(job["id"], quantity="1", price=5000, booked=False)  # pending
    totals = jobs.get(job["id"])["totals"]
    assert totals == {
        "approved_net": 9999,
        "billable_net": 9999,
        "billable_vat": 2100,
        "billable_gross": 12099,
        "pending_net": 5000,
        "declined_net": 0,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "kind": "labour",
                "description": "x",
                "hours": "1.00",
                "hourly_rate": 1,
                "part_number": "P",
            },
            "part_number",
        ),
        ({"kind": "labour", "description": "x", "hourly_rate": 100}, "hours"),
        (
            {"kind": "part", "description": "x", "part_number": "P", "quantity": "1.005", "unit_price": 1},
            "quantity",
        ),
        (
            {"kind": "part", "description": "x", "part_number": "P", "quantity": "0", "unit_price": 1},
            "quantity",
        ),
        (
            {"kind": "part", "description": "x", "part_number": "P", "quantity": "1", "unit_price": -5},
            "unit_price",
        ),
        (
            {
                "kind": "part",
                "description": "x",
                "part_number": "P",
                "quantity": "1",
                "unit_price": 1,
                "vat_rate": "120",
            },
            "vat_rate",
        ),
        (
            {
                "kind": "part",
                "description": "x",
                "part_number": "P",
                "quantity": "1",
                "unit_price": 1,
                "vat_rate": "abc",
            },
            "vat_rate",
        ),
        ({"kind": "tyres", "description": "x"}, "kind"),
        (
            {"kind": "labour", "description": "a\u0000b", "hours": "0.01", "hourly_rate": 1},
            "description",
        ),
        (
            {"kind": "labour", "description": "a\ud800b", "hours": "0.01", "hourly_rate": 1},
            "description",
        ),
    ],
)
def test_invalid_lines_are_422_naming_the_field(client, jobs, body, field):
    job = jobs.create()
    response = jobs.add_line(job["id"], **body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_a_line_on_an_unknown_job_is_404(client, jobs):
    response = jobs.add_line(str(uuid.uuid4()), kind="labour", description="x", hours="0.01", hourly_rate=1)
    assert response.status_code == 404


def test_changing_a_line_recomputes_its_amounts(client, jobs):
    job = jobs.create()
    line = jobs.part(job["id"], quantity="1", price=1000, booked=False)
    changed = jobs.patch_line(
        job["id"], line["id"], quantity="2", unit_price=1500, description="better filter"
    )
    assert changed.status_code == 200
    body = changed.get_json()
    assert (body["quantity"], body["unit_price"], body["net_amount"], body["description"]) == (
        "2.00",
        1500,
        3000,
        "better filter",
    )
    wrong_kind = jobs.patch_line(job["id"], line["id"], hours="1.00")
    assert wrong_kind.status_code == 422
    assert jobs.patch_line(job["id"], str(uuid.uuid4()), quantity="1").status_code == 404


def test_line_changes_honour_if_match_on_the_job_version(client, jobs):
    job = jobs.create()
    line = jobs.labour(job["id"], booked=False)
    version = jobs.get(job["id"])["version"]
    stale = {**jobs.technician, "If-Match": f'"{version - 1}"'}
    assert jobs.patch_line(job["id"], line["id"], headers=stale, description="y").status_code == 412
    fresh = {**jobs.technician, "If-Match": f'"{version}"'}
    response = jobs.patch_line(job["id"], line["id"], headers=fresh, description="y")
    assert response.status_code == 200
    assert response.headers["ETag"] == f'"{version + 1}"'


def test_tasks_are_marked_done_during_work_and_give_progress(client, jobs):
    job = jobs.create()
    a = jobs.labour(job["id"])
    b = jobs.part(job["id"])
    not_yet = jobs.patch_line(job["id"], a["id"], done=True)
    assert not_yet.status_code == 409
    assert not_yet.get_json()["current_status"] == "scheduled"
    jobs.must(job["id"], "start")
    done = jobs.patch_line(job["id"], a["id"], done=True)
    assert done.status_code == 200 and done.get_json()["done"] and done.get_json()["done_at"]
    assert jobs.get(job["id"])["progress"] == {"done": 1, "total": 2}
    jobs.patch_line(job["id"], b["id"], done=True)
    assert jobs.get(job["id"])["progress"] == {"done": 2, "total": 2}
    undone = jobs.patch_line(job["id"], b["id"], done=False).get_json()
    assert (undone["done"], undone["done_at"]) == (False, None)


def test_work_awaiting_approval_cannot_be_marked_done(client, jobs):
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], booked=False)
    refused = jobs.patch_line(job["id"], line["id"], done=True)
    assert refused.status_code == 409
    assert "pending" in refused.get_json()["detail"]


def test_only_lines_awaiting_a_decision_can_be_removed(client, jobs):
    job = jobs.create()
    pending = jobs.part(job["id"], booked=False)
    approved = jobs.part(job["id"])
    removed = client.delete(f"{URL}/{job['id']}/lines/{pending['id']}", headers=jobs.technician)
    assert removed.status_code == 204
    assert removed.headers["ETag"]
    assert client.get(f"{URL}/{job['id']}/lines/{pending['id']}", headers=jobs.technician).status_code == 404
    kept = client.delete(f"{URL}/{job['id']}/lines/{approved['id']}", headers=jobs.technician)
    assert kept.status_code == 409
    assert [line["id"] for line in jobs.get(job["id"])["lines"]] == [approved["id"]]
    missing = client.delete(f"{URL}/{job['id']}/lines/{uuid.uuid4()}", headers=jobs.technician)
    assert missing.status_code == 404


@pytest.mark.parametrize("status", ["completed", "cancelled"])
def test_lines_of_a_finished_job_are_frozen(client, jobs, status):
    job = jobs.create()
    line = jobs.labour(job["id"])
    if status == "completed":
        jobs.must(job["id"], "start")
        jobs.must(job["id"], "complete")
    else:
        jobs.must(job["id"], "cancel")
    for response in (
        jobs.add_line(job["id"], kind="labour", description="more", hours="0.10", hourly_rate=1),
        jobs.patch_line(job["id"], line["id"], hours="0.10"),
        client.delete(f"{URL}/{job['id']}/lines/{line['id']}", headers=jobs.technician),
        jobs.estimate(job["id"]),
    ):
        assert response.status_code == 409
        assert response.get_json()["current_status"] == status
    assert jobs.get(job["id"])["lines"][0]["quantity"] == "1.50"


def test_adding_a_line_with_the_same_idempotency_key_adds_it_once(client, jobs):
    job = jobs.create()
    headers = {**jobs.technician, "Idempotency-Key": "tablet-retry-1"}
    body = {"kind": "labour", "description": "x", "hours": "0.10", "hourly_rate": 100}
    first = jobs.add_line(job["id"], headers=headers, **body)
    again = jobs.add_line(job["id"], headers=headers, **body)
    assert first.get_json()["id"] == again.get_json()["id"]
    assert len(jobs.get(job["id"])["lines"]) == 1


def test_a_part_line_without_a_part_number_is_added_and_read_back(client, jobs):
    """Not every part has a number: oil from the drum, a bulb."""
    job = jobs.create()
    response = client.post(
        f"/api/v1/maintenance-jobs/{job['id']}/lines",
        json={"kind": "part", "description": "bulb H7", "quantity": "2", "unit_price": 450},
        headers=jobs.advisor,
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["part_number"] is None
    lines = client.get(f"/api/v1/maintenance-jobs/{job['id']}", headers=jobs.advisor).get_json()["lines"]
    assert [(line["description"], line["part_number"]) for line in lines] == [("bulb H7", None)]
