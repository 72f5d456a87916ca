"""Concurrency rules with real concurrent requests against PostgreSQL."""

import threading

from service_kit.testing import run_concurrently


def test_two_patches_with_the_same_if_match_exactly_one_wins(app, client, advisor, register):
    customer = register()
    url = f"/api/v1/customers/{customer['id']}"

    def patch(note):
        with app.test_client() as own_client:
            return own_client.patch(
                url, json={"notes": note}, headers={**advisor, "If-Match": '"1"'}
            ).status_code

    for attempt in range(5):
        version = client.get(url, headers=advisor).get_json()["version"]
        statuses = run_concurrently(
            lambda note, version=version: (
                app.test_client()
                .patch(url, json={"notes": note}, headers={**advisor, "If-Match": f'"{version}"'})
                .status_code
            ),
            [f"left {attempt}", f"right {attempt}"],  # two real changes: neither is a no-op
        )
        assert sorted(statuses) == [200, 412], statuses
    assert client.get(url, headers=advisor).get_json()["version"] == 6
    assert patch("late") == 412


def test_concurrent_creates_with_one_idempotency_key_make_one_customer(app, client, advisor):
    body = {"kind": "person", "name": "Ann", "email": "ann@example.com"}
    headers = {**advisor, "Idempotency-Key": "double-click"}
    responses = run_concurrently(
        lambda _: app.test_client().post("/api/v1/customers", json=body, headers=headers), range(4)
    )
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert len(client.get("/api/v1/customers", headers=advisor).get_json()["items"]) == 1


def test_concurrent_creates_with_one_email_make_one_customer(app, client, advisor):
    barrier = threading.Barrier(4)

    def create(n):
        barrier.wait()
        body = {"kind": "person", "name": f"Ann {n}", "email": "ann@example.com"}
        return app.test_client().post("/api/v1/customers", json=body, headers=advisor).status_code

    statuses = run_concurrently(create, range(4))
    assert sorted(statuses) == [201, 409, 409, 409]
