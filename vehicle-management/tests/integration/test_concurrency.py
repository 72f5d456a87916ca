"""Concurrency rules with real concurrent requests against PostgreSQL."""

import json
import threading
import uuid

from service_kit.contract_testing import validate_response
from service_kit.testing import run_concurrently

VEHICLES = "/api/v1/vehicles"


def test_two_concurrent_registrations_of_one_plate_one_wins(app, client, advisor, customers):
    """Both requests pass every check in Python (the owner check, which comes after
    the plate check, holds them until both got there): the database's partial
    unique index decides, and the loser gets a 409 problem, not a 500."""
    owner = uuid.uuid4()
    answer = customers.body(owner)
    validate_response(customers.contract, "GET", customers.path, 200, answer)
    both_checked = threading.Barrier(2, timeout=5)

    def customer_management(request):
        both_checked.wait()
        return 200, {"Content-Type": "application/json"}, json.dumps(answer)

    customers.mock.add_callback(
        "GET", customers.fake.url(customers.path, customer_id=owner), customer_management
    )
    for attempt in range(3):
        both_checked.reset()
        body = {"owner_id": str(owner), "plate": f"AB-12-C{attempt}", "make": "Volvo", "model": "V60"}
        responses = run_concurrently(
            lambda _, body=body: app.test_client().post(VEHICLES, json=body, headers=advisor), "ab"
        )
        assert sorted(r.status_code for r in responses) == [201, 409], [r.get_json() for r in responses]
        loser = next(r for r in responses if r.status_code == 409)
        assert loser.mimetype == "application/problem+json"
        assert loser.get_json()["type"] == "urn:garage:problem:unique-violation"
    listed = client.get(VEHICLES, query_string={"limit": 200}, headers=advisor).get_json()["items"]
    assert len(listed) == 3


def test_concurrent_creates_with_one_idempotency_key_make_one_vehicle(app, client, advisor, customers):
    body = {"owner_id": str(customers.customer()), "plate": "AB-12-CD", "make": "Volvo", "model": "V60"}
    headers = {**advisor, "Idempotency-Key": "double-click"}
    responses = run_concurrently(
        lambda _: app.test_client().post(VEHICLES, json=body, headers=headers), range(4)
    )
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.get_json()["id"] for r in responses}) == 1


def test_two_contradicting_readings_at_once_one_is_refused(app, client, advisor, register):
    vehicle = register()
    url = f"{VEHICLES}/{vehicle['id']}/odometer-readings"
    first = {"value": 10_000, "read_at": "2026-01-01T08:00:00+00:00"}
    assert client.post(url, json=first, headers=advisor).status_code == 201
    # Each fits the stored reading; together they say the meter went back.
    contradicting = [
        {"value": 30_000, "read_at": "2026-02-01T08:00:00+00:00"},
        {"value": 20_000, "read_at": "2026-03-01T08:00:00+00:00"},
    ]
    statuses = run_concurrently(
        lambda body: app.test_client().post(url, json=body, headers=advisor).status_code, contradicting
    )
    assert sorted(statuses) == [201, 422], statuses
    values = [r["value"] for r in client.get(url, headers=advisor).get_json()["items"]]
    assert values == sorted(values, reverse=True)
