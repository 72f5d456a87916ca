"""Mollie's webhook records a paid payment in invoicing exactly once: however often it
comes, in whatever order with the customer's return, and while invoicing is down. It
proves nothing by itself: only what Mollie's API says counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from customer_portal.payments.models import Payment
from fake_mollie import FakeMollie
from flask import Flask
from flask.testing import FlaskClient
from payment_helpers import INVOICING, Invoicing, run_relay, start_payment, webhook
from portal_fakes import PortalService
from sqlalchemy import select


def payment_row(app: Flask, provider_payment_id: str) -> Payment:
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        row = db.session.execute(
            select(Payment).where(Payment.provider_payment_id == provider_payment_id)
        ).scalar_one()
        db.session.remove()
        return row


def test_a_paid_webhook_records_the_payment_with_the_link_and_key(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing(balance_due=12100)
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id, "paid", method="ideal")

    assert webhook(pay_client, payment_id) == 200
    (row,) = outbox_rows()
    assert (row.target, row.method, row.path, row.idempotency_key) == (
        INVOICING,
        "POST",
        "/api/v1/portal/invoice/payments",
        f"mollie-{payment_id}",
    )
    assert row.body["amount"] == 12100 and row.body["method"] == "ideal" and row.body["provider"] == "mollie"
    run_relay(pay_app)  # (unless the delivery right after the webhook's answer did it)

    (record,) = served.records()
    assert record.headers["Portal-Link"] == link
    assert record.headers["Idempotency-Key"] == f"mollie-{payment_id}"
    assert record.headers["Authorization"] == "Bearer portal-test-token"
    assert record.json["provider_payment_id"] == payment_id
    assert record.json["paid_at"].startswith(mollie.payment(payment_id)["paidAt"][:19])
    assert payment_row(pay_app, payment_id).recorded_at is not None
    assert served.invoice["balance_due"] == 0


def test_the_same_webhook_twice_records_once(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    assert webhook(pay_client, payment_id) == 200
    assert webhook(pay_client, payment_id) == 200
    run_relay(pay_app)
    assert webhook(pay_client, payment_id) == 200  # and again after it was recorded
    run_relay(pay_app, later=timedelta(hours=1))
    assert len(outbox_rows()) == 1
    assert len(served.records()) == 1
    assert len(served.recorded) == 1


def test_an_open_then_a_paid_webhook_records_once_and_the_return_adds_nothing(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    assert webhook(pay_client, payment_id) == 200  # still open: nothing to record
    assert outbox_rows() == []
    mollie.settle(payment_id)
    assert webhook(pay_client, payment_id) == 200
    page = pay_client.get(f"/invoice/{link}/paid")  # the customer comes back after the webhook
    assert page.status_code == 200
    run_relay(pay_app, later=timedelta(hours=1))
    assert len(outbox_rows()) == 1
    assert len(served.records()) == 1


def test_the_return_before_the_webhook_records_once(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    assert pay_client.get(f"/invoice/{link}/paid").status_code == 200  # recorded at once
    assert len(served.records()) == 1
    assert webhook(pay_client, payment_id) == 200  # Mollie's webhook comes late
    run_relay(pay_app, later=timedelta(hours=1))
    assert len(outbox_rows()) == 1
    assert len(served.records()) == 1


def test_while_invoicing_is_down_the_record_waits_and_goes_once_it_is_back(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    fakes: dict[str, PortalService],
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    fakes[INVOICING].stop()
    try:
        assert webhook(pay_client, payment_id) == 200  # Mollie is answered all the same
        stats = run_relay(pay_app)
        assert (stats.delivered, stats.retried) == (0, 1)
        (row,) = outbox_rows()
        assert row.status == "pending" and row.attempts == 1 and row.last_error
        assert run_relay(pay_app).processed == 0  # not due again before its backoff
        assert webhook(pay_client, payment_id) == 200  # Mollie calls again: still one row
        assert len(outbox_rows()) == 1
    finally:
        fakes[INVOICING].start()
    assert run_relay(pay_app, later=timedelta(hours=1)).delivered == 1
    assert run_relay(pay_app, later=timedelta(hours=2)).processed == 0
    (row,) = outbox_rows()
    assert row.status == "delivered"
    assert len(served.records()) == 1
    assert payment_row(pay_app, payment_id).recorded_at is not None


def test_a_forged_webhook_for_an_id_mollie_does_not_know_does_nothing(
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    start_payment(pay_client, link)
    asked = len(mollie.received("/v2/payments/"))
    assert webhook(pay_client, "tr_Forged12345") == 200
    assert len(mollie.received("/v2/payments/")) == asked + 1  # Mollie was asked, said 404
    for junk in ("", "../../v2/payments", "tr_", "x" * 500, "tr_a/../b"):
        assert webhook(pay_client, junk) == 200
    assert len(mollie.received("/v2/payments/")) == asked + 1  # not even asked about those
    assert outbox_rows() == []
    assert served.records() == []


def test_a_webhook_for_a_payment_the_portal_did_not_start_does_nothing(
    pay_client: FlaskClient, mollie: FakeMollie, outbox_rows: Callable[..., list[Any]]
) -> None:
    # A paid payment Mollie knows, made by someone else on the garage's account.
    from customer_portal.payments.mollie import MollieProvider

    other = MollieProvider(api_key=mollie.api_key, api_url=mollie.url).create_payment(
        amount=500,
        currency="EUR",
        description="shop sale",
        redirect_url="https://shop.example/back",
        webhook_url="https://shop.example/hook",
        metadata={},
        idempotency_key="other",
    )
    mollie.settle(other.id)
    assert webhook(pay_client, other.id) == 200
    assert outbox_rows() == []


def test_a_webhook_for_an_unpaid_payment_records_nothing(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    for status in ("canceled", "failed", "expired"):
        payment_id = start_payment(pay_client, link)
        mollie.settle(payment_id, status)
        assert webhook(pay_client, payment_id) == 200
        assert payment_row(pay_app, payment_id).status == status
    assert outbox_rows() == []
    run_relay(pay_app)
    assert served.records() == []


def test_when_mollie_cannot_be_asked_the_webhook_fails_so_that_mollie_calls_again(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, _served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    mollie.failing = 503
    assert webhook(pay_client, payment_id) == 503
    assert outbox_rows() == []
    assert payment_row(pay_app, payment_id).status == "open"
    mollie.failing = None
    assert webhook(pay_client, payment_id) == 200
    assert len(outbox_rows()) == 1


def test_webhooks_at_the_same_moment_enqueue_one_record(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    from service_kit.testing import run_concurrently

    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    statuses = run_concurrently(
        lambda _: pay_app.test_client().post("/webhooks/mollie", data={"id": payment_id}).status_code,
        range(4),
    )
    assert statuses == [200] * 4
    assert len(outbox_rows()) == 1
    run_relay(pay_app, later=timedelta(hours=1))
    assert len(served.records()) == 1


def test_a_webhook_that_is_not_mollies_form_does_nothing_and_never_fails(
    pay_client: FlaskClient, mollie: FakeMollie, outbox_rows: Callable[..., list[Any]]
) -> None:
    answers = [
        pay_client.post("/webhooks/mollie", json={"id": "tr_Abc123"}),
        pay_client.post(
            "/webhooks/mollie", data=b"\xff\xfe=\x00", content_type="application/x-www-form-urlencoded"
        ),
        pay_client.post("/webhooks/mollie", data={"id": ["tr_A1", "tr_B2"]}),
        pay_client.post("/webhooks/mollie", data={"ID": "tr_A1", "id ": "x"}),
        pay_client.post("/webhooks/mollie"),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 200]
    assert outbox_rows() == []


def test_the_webhook_takes_no_csrf_token_and_only_a_post(pay_client: FlaskClient, mollie: FakeMollie) -> None:
    assert pay_client.post("/webhooks/mollie", data={"id": "tr_Unknown1"}).status_code == 200
    assert pay_client.get("/webhooks/mollie").status_code == 405
