"""A service invoicing needs fails while it issues: the caller gets a 503 naming it,
no invoice is stored and no number is taken. When it is back, the retry (the job
service's outbox) gets the invoice, with the number the failed try did not use."""

from __future__ import annotations

import time

import pytest

from service_kit.outbox import RETRY, classify

URL = "/api/v1/invoices"


def assert_nothing_issued(garage, counters, outbox_rows):
    listed = garage.client.get(URL, headers=garage.accountant).get_json()
    assert listed["items"] == []
    assert counters() == {}
    assert outbox_rows() == []


@pytest.mark.parametrize(
    ("fake", "dependency"),
    [
        ("jobs", "maintenance-job-management"),
        ("customers", "customer-management"),
        ("vehicles", "vehicle-management"),
    ],
)
@pytest.mark.parametrize("failure", ["down", "failing", "slow"])
def test_a_failing_dependency_is_a_503_naming_it_and_leaves_nothing(
    garage, counters, outbox_rows, fake, dependency, failure
):
    job = garage.job()
    server = getattr(garage, fake)
    if failure == "down":
        server.stop()
    elif failure == "failing":
        server.failing = 500
    else:
        server.delay = 2.5  # past the 2 s read timeout (conftest.READ_TIMEOUT)
    started = time.monotonic()
    response = garage.create(job["id"], headers={**garage.service, "Idempotency-Key": f"invoice-{job['id']}"})
    assert time.monotonic() - started < 5, "a failing dependency must not make the caller hang"
    assert response.status_code == 503, response.get_json()
    problem = response.get_json()
    assert problem["dependency"] == dependency
    assert response.content_type == "application/problem+json"
    assert classify(response.status_code) == RETRY  # the job service's outbox tries again
    assert_nothing_issued(garage, counters, outbox_rows)

    server.failing = None
    server.delay = 0
    server.start()
    retried = garage.create(job["id"], headers={**garage.service, "Idempotency-Key": f"invoice-{job['id']}"})
    assert retried.status_code == 201, retried.get_json()
    assert retried.get_json()["number"].endswith("-000001")


def test_a_downstream_not_consulted_is_not_needed_after_issue(garage):
    """Reading an invoice, its PDF, paying and crediting it need no other service."""
    invoice = garage.invoice()
    for fake in (garage.jobs, garage.customers, garage.vehicles):
        fake.stop()
    garage.notifications.stop()
    assert garage.client.get(f"{URL}/{invoice['id']}", headers=garage.accountant).status_code == 200
    assert garage.client.get(f"{URL}/{invoice['id']}/pdf", headers=garage.accountant).status_code == 200
    assert garage.pay(invoice["id"], 100).status_code == 201
    assert garage.credit(invoice["id"]).status_code == 201
    assert (
        garage.client.post(f"{URL}/{invoice['id']}/send", json={}, headers=garage.advisor).status_code == 200
    )


def test_an_answer_invoicing_cannot_read_is_a_503(garage, counters, outbox_rows, monkeypatch):
    job = garage.job()
    monkeypatch.setattr(garage.jobs, "check", lambda *args: None)  # deliberately beyond the contract
    garage.jobs.resources[job["id"]] = {"id": job["id"], "status": "completed"}  # no customer, no lines
    response = garage.create(job["id"])
    assert response.status_code == 503
    assert response.get_json()["dependency"] == "maintenance-job-management"
    assert_nothing_issued(garage, counters, outbox_rows)


def test_the_request_id_and_a_service_token_go_to_every_downstream(app, garage):
    from service_kit.auth import EXTENSION

    job = garage.job()
    response = garage.create(job["id"], headers={**garage.service, "X-Request-ID": "req-invoice-1"})
    assert response.status_code == 201
    verifier = app.extensions[EXTENSION]
    for fake in (garage.jobs, garage.customers, garage.vehicles):
        [hit] = fake.received(fake.prefix)
        assert hit.headers["X-Request-ID"] == "req-invoice-1"
        principal = verifier.verify(hit.headers["Authorization"].removeprefix("Bearer "))
        assert principal.subject == "invoicing" and principal.roles == {"service"}
