"""Prices the garage sets once: labour rates (default and per kind of work) and canned
jobs added to a job in one call, whose lines keep the prices they were added with."""

from __future__ import annotations

import uuid

import pytest

RATES = "/api/v1/labour-rates"
CANNED = "/api/v1/canned-jobs"

SMALL_SERVICE = {
    "code": "small-service",
    "name": "Small service",
    "description": "oil and filter, checks",
    "lines": [
        {"kind": "labour", "description": "Small service", "hours": "1.25"},
        {"kind": "part", "description": "Engine oil 5W-30 (litres)", "quantity": "4.5", "unit_price": 1450},
        {
            "kind": "part",
            "description": "Oil filter",
            "part_number": "OF-123",
            "quantity": "1",
            "unit_price": 1250,
        },
        {"kind": "part", "description": "Screen wash", "quantity": "1", "unit_price": 399, "vat_rate": "9"},
    ],
}


def put_rate(client, jobs, code: str, rate: int, headers=None, **more):
    return client.put(
        f"{RATES}/{code}",
        json={"name": more.pop("name", code), "hourly_rate": rate},
        headers=headers or jobs.admin,
    )


def create_canned(client, jobs, body=None):
    response = client.post(CANNED, json=body or SMALL_SERVICE, headers=jobs.admin)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_canned(client, jobs, job_id: str, canned_id: str, key: str | None = None, **more):
    headers = {**jobs.advisor, **({"Idempotency-Key": key} if key else {})}
    return client.post(
        f"/api/v1/maintenance-jobs/{job_id}/canned-jobs",
        json={"canned_job_id": canned_id, **more},
        headers=headers,
    )


def test_labour_rates_are_set_by_an_admin_and_read_by_staff(client, jobs):
    created = put_rate(client, jobs, "default", 7850, name="Workshop")
    assert created.status_code == 201 and created.headers["ETag"] == '"1"'
    assert put_rate(client, jobs, "diagnosis", 9500).status_code == 201
    changed = client.put(
        f"{RATES}/default",
        json={"name": "Workshop", "hourly_rate": 7950},
        headers={**jobs.admin, "If-Match": '"1"'},
    )
    assert changed.status_code == 200 and changed.get_json()["hourly_rate"] == 7950
    stale = client.put(
        f"{RATES}/default",
        json={"name": "Workshop", "hourly_rate": 1},
        headers={**jobs.admin, "If-Match": '"1"'},
    )
    assert stale.status_code == 412
    listed = client.get(RATES, headers=jobs.technician).get_json()["items"]
    assert [(rate["code"], rate["hourly_rate"]) for rate in listed] == [
        ("default", 7950),
        ("diagnosis", 9500),
    ]
    assert put_rate(client, jobs, "default", 1, headers=jobs.advisor).status_code == 403
    assert client.get(f"{RATES}/bodywork", headers=jobs.advisor).status_code == 404
    bad = put_rate(client, jobs, "Body%20Work", 100)
    assert bad.status_code == 422 and "code" in bad.get_json()["errors"]
    assert put_rate(client, jobs, "cheap", 78.5).status_code == 422  # money is integer minor units


def test_a_labour_line_without_a_rate_takes_the_rate_of_its_kind_of_work(client, jobs):
    job = jobs.create()
    refused = jobs.add_line(job["id"], kind="labour", description="service", hours="1")
    assert refused.status_code == 422 and "hourly_rate" in refused.get_json()["errors"]
    put_rate(client, jobs, "default", 7850)
    put_rate(client, jobs, "diagnosis", 9500)
    plain = jobs.add_line(job["id"], kind="labour", description="service", hours="1")
    diagnosis = jobs.add_line(
        job["id"], kind="labour", description="read codes", hours="0.5", work_kind="diagnosis"
    )
    own = jobs.add_line(job["id"], kind="labour", description="agreed", hours="1", hourly_rate=5000)
    assert [r.get_json()["hourly_rate"] for r in (plain, diagnosis, own)] == [7850, 9500, 5000]
    unknown = jobs.add_line(job["id"], kind="labour", description="x", hours="1", work_kind="diagnosys")
    assert unknown.status_code == 422 and "work_kind" in unknown.get_json()["errors"]
    part = jobs.add_line(
        job["id"], kind="part", description="x", quantity="1", unit_price=1, work_kind="diagnosis"
    )
    assert part.status_code == 422 and "work_kind" in part.get_json()["errors"]


def test_a_canned_job_is_added_to_a_job_in_one_call_at_todays_prices(client, jobs):
    put_rate(client, jobs, "default", 8000)
    canned = create_canned(client, jobs)
    assert [line["position"] for line in canned["lines"]] == [1, 2, 3, 4]
    assert canned["lines"][0] | {"id": None} == {
        "id": None,
        "position": 1,
        "kind": "labour",
        "description": "Small service",
        "part_number": None,
        "quantity": "1.25",
        "hours": "1.25",
        "hourly_rate": None,
        "unit_price": None,
        "vat_rate": None,
    }
    job = jobs.create()
    response = add_canned(client, jobs, job["id"], canned["id"], covered_by_booking=True)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert response.headers["ETag"] == f'"{body["job"]["version"]}"'
    added = body["lines"]
    assert [
        (line["description"], line["quantity"], line["unit_price"], line["vat_rate"]) for line in added
    ] == [
        ("Small service", "1.25", 8000, "21.00"),
        ("Engine oil 5W-30 (litres)", "4.50", 1450, "21.00"),
        ("Oil filter", "1.00", 1250, "21.00"),
        ("Screen wash", "1.00", 399, "9.00"),
    ]
    assert {line["canned_job_id"] for line in added} == {canned["id"]}
    assert {line["approval"] for line in added} == {"approved"}  # covered by the booking
    assert [line["part_number"] for line in added] == [None, None, "OF-123", None]  # not every part has one
    assert [line["id"] for line in body["job"]["lines"]] == [line["id"] for line in added]
    # 1.25 h x 80.00 = 100.00; 4.5 x 14.50 = 65.25; 12.50; 3.99
    assert body["job"]["totals"]["billable_net"] == 10000 + 6525 + 1250 + 399


def test_lines_keep_their_price_when_the_catalogue_and_the_rates_change(client, jobs):
    put_rate(client, jobs, "default", 8000)
    canned = create_canned(client, jobs)
    job = jobs.create()
    first = add_canned(client, jobs, job["id"], canned["id"]).get_json()["lines"]
    put_rate(client, jobs, "default", 9000)
    changed_lines = [dict(SMALL_SERVICE["lines"][1], unit_price=1600)]
    patched = client.patch(
        f"{CANNED}/{canned['id']}",
        json={"lines": changed_lines, "name": "Small service 2027"},
        headers={**jobs.admin, "If-Match": f'"{canned["version"]}"'},
    )
    assert patched.status_code == 200, patched.get_json()
    assert [line["unit_price"] for line in patched.get_json()["lines"]] == [1600]
    kept = jobs.get(job["id"])["lines"]
    assert [(line["unit_price"], line["net_amount"]) for line in kept] == [
        (line["unit_price"], line["net_amount"]) for line in first
    ]
    assert kept[0]["unit_price"] == 8000
    later = add_canned(client, jobs, jobs.create()["id"], canned["id"]).get_json()["lines"]
    assert [line["unit_price"] for line in later] == [1600]


def test_adding_twice_with_one_idempotency_key_adds_the_lines_once(client, jobs):
    put_rate(client, jobs, "default", 8000)
    canned = create_canned(client, jobs)
    job = jobs.create()
    key = str(uuid.uuid4())
    first = add_canned(client, jobs, job["id"], canned["id"], key=key)
    again = add_canned(client, jobs, job["id"], canned["id"], key=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(jobs.get(job["id"])["lines"]) == 4


def test_a_retired_or_unknown_canned_job_or_job_adds_nothing(client, jobs):
    put_rate(client, jobs, "default", 8000)
    canned = create_canned(client, jobs)
    job = jobs.create()
    assert add_canned(client, jobs, job["id"], str(uuid.uuid4())).status_code == 404
    assert add_canned(client, jobs, str(uuid.uuid4()), canned["id"]).status_code == 404
    client.patch(f"{CANNED}/{canned['id']}", json={"active": False}, headers=jobs.admin)
    retired = add_canned(client, jobs, job["id"], canned["id"])
    assert retired.status_code == 409 and "retired" in retired.get_json()["detail"]
    assert jobs.get(job["id"])["lines"] == []
    active = client.get(CANNED, query_string={"active": "true"}, headers=jobs.advisor).get_json()["items"]
    assert active == []
    finished = jobs.in_status("completed")
    client.patch(f"{CANNED}/{canned['id']}", json={"active": True}, headers=jobs.admin)
    assert add_canned(client, jobs, finished["id"], canned["id"]).status_code == 409


def test_a_canned_labour_line_needs_a_rate_from_somewhere(client, jobs):
    canned = create_canned(client, jobs, {**SMALL_SERVICE, "work_kind": None})
    refused = add_canned(client, jobs, jobs.create()["id"], canned["id"])
    assert refused.status_code == 422 and "hourly_rate" in refused.get_json()["errors"]
    unknown = client.post(
        CANNED, json={**SMALL_SERVICE, "code": "x", "work_kind": "tyres"}, headers=jobs.admin
    )
    assert unknown.status_code == 422 and "work_kind" in unknown.get_json()["errors"]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ({"kind": "labour", "description": "x"}, "hours"),
        ({"kind": "part", "description": "x", "quantity": "1"}, "unit_price"),
        ({"kind": "part", "description": "x", "quantity": "1.005", "unit_price": 1}, "quantity"),
        ({"kind": "labour", "description": "x", "hours": "1", "quantity": "2"}, "quantity"),
    ],
)
def test_a_canned_job_with_an_impossible_line_is_refused_whole(client, jobs, line, field):
    response = client.post(CANNED, json={**SMALL_SERVICE, "lines": [line]}, headers=jobs.admin)
    assert response.status_code == 422, response.get_json()
    assert field in str(response.get_json()["errors"])
    assert client.get(CANNED, headers=jobs.admin).get_json()["items"] == []


def test_codes_are_unique_and_only_admins_change_the_catalogue(client, jobs):
    create_canned(client, jobs)
    assert client.post(CANNED, json=SMALL_SERVICE, headers=jobs.admin).status_code == 409
    assert client.post(CANNED, json={**SMALL_SERVICE, "code": "x2"}, headers=jobs.advisor).status_code == 403
