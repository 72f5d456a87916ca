"""Completing a job and its requests to invoicing, notification-management and
workshop-scheduling commit or roll back together; the relay then delivers them to real
HTTP receivers (local stand-ins), exactly once each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

# Aliased: the tests' ``jobs`` fixture has the plain name.
from maintenance_job_management.service import jobs as job_use_cases

from service_kit.auth import TokenVerifier
from service_kit.outbox import OutboxRelay

URL = "/api/v1/maintenance-jobs"


@pytest.fixture
def downstreams(app, receiver):
    """Point invoicing, notification-management and workshop-scheduling at the local receiver."""
    names = [
        f"{prefix}_{key}"
        for prefix in ("INVOICING", "NOTIFICATION_MANAGEMENT", "WORKSHOP_SCHEDULING")
        for key in ("URL", "RETRIES")
    ]
    before = {name: app.config[name] for name in names}
    # No quick retries inside the HTTP client: every hit the receiver counts is one attempt.
    app.config.update({name: receiver.url if name.endswith("_URL") else 0 for name in names})
    yield receiver
    app.config.update(before)


def test_a_completed_job_has_exactly_its_three_requests(client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"])
    started = outbox_rows()
    done = jobs.must(job["id"], "complete")
    told, invoice, ready = outbox_rows()[len(started) :]
    assert (told.target, told.method, told.path) == (
        "workshop-scheduling",
        "PUT",
        f"/api/v1/appointments/{job['appointment_id']}/job",
    )
    assert told.body == {
        "job_id": job["id"],
        "job_status": "completed",
        "job_version": done["version"],
        "changed_at": done["completed_at"],
        "reason": None,
    }
    assert told.idempotency_key == f"job-status-{job['id']}-v{done['version']}"
    assert (invoice.target, invoice.method, invoice.path) == ("invoicing", "POST", "/api/v1/invoices")
    assert invoice.body == {"job_id": job["id"]}
    assert invoice.idempotency_key == f"invoice-{job['id']}"
    assert (ready.target, ready.method, ready.path) == (
        "notification-management",
        "POST",
        "/api/v1/notifications",
    )
    assert ready.idempotency_key == f"vehicle-ready-{job['id']}"
    assert ready.body == {
        "customer_id": job["customer_id"],
        "type": "vehicle_ready",
        "data": {
            "job_id": job["id"],
            "vehicle_id": job["vehicle_id"],
            "description": "annual service",
            "completed_at": done["completed_at"],
        },
    }
    assert {row.status for row in outbox_rows()} == {"pending"}


def test_a_refused_completion_writes_nothing(client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"], booked=False)
    before = outbox_rows()
    assert jobs.act(job["id"], "complete").status_code == 409
    assert outbox_rows() == before
    scheduled = jobs.create()
    assert jobs.act(scheduled["id"], "complete").status_code == 409
    assert outbox_rows() == before


def test_a_completion_failing_after_its_first_request_leaves_neither_change_nor_request(
    client, jobs, outbox_rows, monkeypatch
):
    job = jobs.in_status("in_progress")
    before = outbox_rows()
    real_enqueue = job_use_cases.enqueue
    calls = []

    def fail_on_second(session, request):
        calls.append(request.target)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        real_enqueue(session, request)

    monkeypatch.setattr(job_use_cases, "enqueue", fail_on_second)
    response = jobs.act(job["id"], "complete")
    assert response.status_code == 500
    assert calls == ["workshop-scheduling", "invoicing"]
    assert outbox_rows() == before
    after = jobs.get(job["id"])
    assert (after["status"], after["completed_at"], after["version"]) == ("in_progress", None, job["version"])


def test_the_relay_delivers_the_completion_once_with_key_token_and_request_id(app, client, jobs, downstreams):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"])
    response = client.post(
        f"{URL}/{job['id']}/complete", json={}, headers={**jobs.technician, "X-Request-ID": "req-complete-1"}
    )
    assert response.status_code == 200
    result = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert result.exit_code == 0, result.output
    assert "delivered 4, to retry 0, dead 0" in result.output, "started, completed, invoice, ready"
    again = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert "delivered 0" in again.output
    hits = {hit["path"]: hit for hit in downstreams.hits}
    assert len(downstreams.hits) == 4
    told = [hit for hit in downstreams.hits if hit["method"] == "PUT"]
    assert [hit["body"]["job_status"] for hit in told] == ["in_progress", "completed"]
    assert told[1]["headers"]["X-Request-Id"] == "req-complete-1"
    invoice = hits["/api/v1/invoices"]
    assert invoice["body"] == {"job_id": job["id"]}
    assert invoice["headers"]["Idempotency-Key"] == f"invoice-{job['id']}"
    assert invoice["headers"]["X-Request-Id"] == "req-complete-1"
    token = invoice["headers"]["Authorization"].removeprefix("Bearer ")
    caller = TokenVerifier(app.config).verify(token)
    assert caller.roles == {"service"} and caller.calling_service == "maintenance-job-management"
    ready = hits["/api/v1/notifications"]
    assert ready["body"]["type"] == "vehicle_ready"
    assert ready["headers"]["Idempotency-Key"] == f"vehicle-ready-{job['id']}"


def test_invoicing_down_for_a_while_gets_the_invoice_once_when_back(
    app, client, jobs, downstreams, outbox_rows
):
    job = jobs.in_status("in_progress")
    now = [datetime.now(UTC)]
    with app.app_context():
        relay = OutboxRelay.for_app(app, clock=lambda: now[0])
    assert relay.run_once().delivered == 1, "the start, to workshop-scheduling"
    jobs.must(job["id"], "complete")
    now[0] = datetime.now(UTC)
    downstreams.default = 503
    for _ in range(3):
        assert relay.run_once().retried == 3, "the completion to workshop-scheduling, invoice, ready"
        now[0] += timedelta(hours=2)
    assert {(row.status, row.attempts) for row in outbox_rows(status="pending")} == {("pending", 3)}
    downstreams.default = 201
    assert relay.run_once().delivered == 3
    now[0] += timedelta(days=1)
    assert relay.run_once().processed == 0
    delivered = [
        hit["headers"]["Idempotency-Key"] for hit in downstreams.hits if hit["path"] == "/api/v1/invoices"
    ]
    assert delivered == [f"invoice-{job['id']}"] * 4, "three failed tries, then one that arrived"
    assert {row.status for row in outbox_rows()} == {"delivered"}


def test_staff_see_dead_requests_and_send_them_again(app, client, jobs, downstreams, outbox_rows):
    job = jobs.in_status("in_progress")
    jobs.must(job["id"], "complete")
    downstreams.default = 422
    with app.app_context():
        assert OutboxRelay.for_app(app).run_once().dead == 4
    dead = client.get(f"{URL}/outbox-messages?status=dead&target=invoicing", headers=jobs.admin)
    assert dead.status_code == 200
    (message,) = dead.get_json()["items"]
    assert (message["last_status"], message["idempotency_key"]) == (422, f"invoice-{job['id']}")
    assert client.get(f"{URL}/outbox-messages", headers=jobs.advisor).status_code == 403
    retried = client.post(f"{URL}/outbox-messages/{message['id']}/retry", headers=jobs.admin)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    downstreams.default = 201
    with app.app_context():
        assert OutboxRelay.for_app(app).run_once().delivered == 1
    statuses = {row.target: row.status for row in outbox_rows()}
    assert statuses == {
        "invoicing": "delivered",
        "notification-management": "dead",
        "workshop-scheduling": "dead",
    }


def test_a_hold_tells_the_customer_once_per_hold(client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    jobs.must(job["id"], "hold", {"reason": "waiting for a turbo"})
    jobs.must(job["id"], "resume")
    jobs.must(job["id"], "hold", {"reason": "waiting for the customer"})
    rows = outbox_rows(target="notification-management")
    assert [row.body["type"] for row in rows] == ["job_on_hold", "job_on_hold"]
    assert [row.body["data"]["reason"] for row in rows] == ["waiting for a turbo", "waiting for the customer"]
    assert len({row.idempotency_key for row in rows}) == 2
