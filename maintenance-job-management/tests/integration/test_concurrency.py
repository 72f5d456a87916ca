"""Concurrency rules with real concurrent requests against PostgreSQL."""

from __future__ import annotations

from collections import Counter

from service_kit.testing import run_concurrently

URL = "/api/v1/maintenance-jobs"


def test_concurrent_creates_for_one_appointment_make_one_job(app, client, jobs):
    body = jobs.body()

    def create(n):
        return app.test_client().post(URL, json={**body, "description": f"try {n}"}, headers=jobs.service)

    responses = run_concurrently(create, range(4))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert len(client.get(URL, headers=jobs.advisor).get_json()["items"]) == 1


def test_concurrent_creates_with_the_appointment_as_idempotency_key_make_one_job(app, client, jobs):
    body = jobs.body()
    headers = {**jobs.service, "Idempotency-Key": body["appointment_id"]}
    responses = run_concurrently(lambda _: app.test_client().post(URL, json=body, headers=headers), range(4))
    assert [r.status_code for r in responses] == [201] * 4
    assert len({r.get_json()["id"] for r in responses}) == 1


def test_two_concurrent_transitions_one_wins_the_other_is_told_the_new_status(app, client, jobs):
    for _ in range(4):
        job = jobs.create()

        def act(verb, job=job):
            headers = jobs.technician if verb == "start" else jobs.advisor
            body = {} if verb == "start" else {"reason": "customer called"}
            return app.test_client().post(f"{URL}/{job['id']}/{verb}", json=body, headers=headers)

        start, cancel = run_concurrently(act, ["start", "cancel"])
        assert sorted([start.status_code, cancel.status_code]) == [200, 409]
        winner, loser = (start, cancel) if start.status_code == 200 else (cancel, start)
        final = jobs.get(job["id"])
        assert final["status"] == winner.get_json()["status"]
        assert loser.get_json()["current_status"] == final["status"]
        assert final["version"] == 2


def test_two_concurrent_completions_invoice_once(app, client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    responses = run_concurrently(
        lambda _: app.test_client().post(f"{URL}/{job['id']}/complete", json={}, headers=jobs.technician),
        range(2),
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert Counter(row.target for row in outbox_rows()) == {
        "invoicing": 1,
        "notification-management": 1,
        "workshop-scheduling": 2,  # started, completed
    }


def test_concurrent_line_changes_on_one_job_are_serialised_not_lost(app, client, jobs):
    job = jobs.create()

    def add(n):
        body = {"kind": "labour", "description": f"task {n}", "hours": "0.10", "hourly_rate": 100}
        return app.test_client().post(f"{URL}/{job['id']}/lines", json=body, headers=jobs.technician)

    responses = run_concurrently(add, range(4))
    assert [r.status_code for r in responses] == [201] * 4
    after = jobs.get(job["id"])
    assert len(after["lines"]) == 4
    assert after["version"] == 5


def test_one_technician_clocking_in_on_two_jobs_at_once_gets_one_clock(app, client, jobs):
    first, second = jobs.in_status("in_progress"), jobs.in_status("in_progress")
    responses = run_concurrently(
        lambda job: app.test_client().post(f"{URL}/{job['id']}/clock-in", json={}, headers=jobs.technician),
        [first, second],
    )
    assert sorted(r.status_code for r in responses) == [201, 409]
    running = [jobs.get(j["id"])["time"]["clocked_in"] for j in (first, second)]
    assert sorted(running) == [[], [jobs.technician_id]]
