"""Sending: issuing (or an explicit send) puts a request to notification-management in
the outbox, in the issuing transaction, with the PDF's URL as attachment; the relay
delivers it once, also after notification-management was down for a while. Payment
reminders go out for overdue invoices, at most so often."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from invoicing.models import db
from invoicing.service import reminders
from invoicing.service.settings import Settings

from service_kit.contract_testing import find_contract
from service_kit.contracts import load_contract
from service_kit.outbox import OutboxRelay

URL = "/api/v1/invoices"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable`` -> JSON Schema null types."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _nullable(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable") and isinstance(converted.get("type"), str):
        converted["type"] = [converted["type"], "null"]
    return converted


def assert_notification_request_in_contract(body: dict[str, Any]) -> None:
    """What invoicing sends is what notification-management's contract accepts."""
    contract = load_contract(find_contract("notification-management"))
    operation = contract["paths"]["/api/v1/notifications"]["post"]
    assert "service" in operation["x-roles"]
    schema = {
        "$ref": operation["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        "components": _nullable(contract["components"]),
    }
    jsonschema.validate(body, schema)


def test_issuing_asks_notification_management_to_email_the_pdf(garage, outbox_rows):
    invoice = garage.invoice()
    [row] = outbox_rows()
    assert (row.target, row.method, row.path, row.status) == (
        "notification-management",
        "POST",
        "/api/v1/notifications",
        "pending",
    )
    assert row.idempotency_key == f"invoice-{invoice['id']}-send-1"
    assert row.body["data"]["pay_url"].startswith("http://127.0.0.1:8009/invoice/")
    assert row.body == {
        "customer_id": invoice["customer"]["id"],
        "type": "invoice_issued",
        "channel": "email",
        "data": {
            "invoice_id": invoice["id"],
            "number": invoice["number"],
            "issue_date": invoice["issue_date"],
            "due_date": invoice["due_date"],
            "total_gross": invoice["totals"]["gross"],
            "outstanding": invoice["totals"]["gross"],
            "currency": "EUR",
            "plate": "AB-123-C",
            "pay_url": row.body["data"]["pay_url"],  # the portal's pay link (test_portal)
        },
        "attachments": [
            {
                "url": f"http://invoicing.test{URL}/{invoice['id']}/pdf",
                "filename": f"invoice-{invoice['number']}.pdf",
                "content_type": "application/pdf",
            }
        ],
    }
    assert_notification_request_in_contract(row.body)


def test_a_customer_without_email_is_sent_on_their_own_channel(garage, outbox_rows):
    customer = garage.customers.add(email=None, preferred_channel="sms")
    garage.invoice(customer=customer)
    [row] = outbox_rows()
    assert "channel" not in row.body
    assert_notification_request_in_contract(row.body)


def test_a_customer_who_wants_no_messages_gets_paper_until_sent_explicitly(garage, outbox_rows):
    customer = garage.customers.add(preferred_channel="none")
    invoice = garage.invoice(customer=customer)
    assert (invoice["status"], invoice["sent_at"], invoice["send_count"]) == ("issued", None, 0)
    assert outbox_rows() == []
    response = garage.client.post(
        f"{URL}/{invoice['id']}/send", json={"channel": "sms"}, headers=garage.advisor
    )
    assert response.status_code == 200, response.get_json()
    sent = response.get_json()
    assert (sent["status"], sent["send_count"]) == ("sent", 1)
    assert response.headers["ETag"] == f'"{sent["version"]}"'
    [row] = outbox_rows()
    assert row.body["channel"] == "sms"
    assert row.idempotency_key == f"invoice-{invoice['id']}-send-1"


def test_each_explicit_send_is_a_new_message_and_a_repeat_of_one_is_not(garage, outbox_rows):
    invoice = garage.invoice()
    headers = {**garage.advisor, "Idempotency-Key": "resend-after-phone-call"}
    first = garage.client.post(f"{URL}/{invoice['id']}/send", json={}, headers=headers)
    again = garage.client.post(f"{URL}/{invoice['id']}/send", json={}, headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [row.idempotency_key for row in outbox_rows()] == [
        f"invoice-{invoice['id']}-send-1",
        f"invoice-{invoice['id']}-send-2",
    ]
    assert garage.get(invoice["id"])["send_count"] == 2
    assert (
        garage.client.post(
            f"{URL}/{invoice['id']}/send", json={"channel": "fax"}, headers=garage.advisor
        ).status_code
        == 422
    )
    missing = garage.client.post(
        f"{URL}/00000000-0000-7000-8000-000000000000/send", json={}, headers=garage.advisor
    )
    assert missing.status_code == 404


def test_the_relay_delivers_once_with_key_token_and_request_id(app, garage):
    job = garage.job()
    response = garage.create(job["id"], headers={**garage.service, "X-Request-ID": "req-issue-9"})
    invoice = response.get_json()
    result = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert result.exit_code == 0, result.output
    assert "delivered 1, to retry 0, dead 0" in result.output
    again = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert "delivered 0" in again.output
    [hit] = garage.notifications.received()
    assert hit.json["type"] == "invoice_issued"
    assert hit.json["attachments"][0]["url"].endswith(f"/api/v1/invoices/{invoice['id']}/pdf")
    assert hit.headers["Idempotency-Key"] == f"invoice-{invoice['id']}-send-1"
    assert hit.headers["X-Request-ID"] == "req-issue-9"
    assert hit.headers["Authorization"].startswith("Bearer ")


def test_notification_management_down_for_a_while_gets_the_invoice_once_when_back(app, garage, outbox_rows):
    invoice = garage.invoice()
    garage.notifications.stop()
    with app.app_context():
        assert OutboxRelay.for_app(app).run_once().retried == 1
    [row] = outbox_rows()
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error
    garage.notifications.default = 503
    garage.notifications.start()
    later = row.next_attempt_at + timedelta(seconds=1)
    with app.app_context():
        assert OutboxRelay.for_app(app, clock=lambda: later).run_once().retried == 1
    garage.notifications.default = 202
    muchlater = later + timedelta(hours=2)
    with app.app_context():
        assert OutboxRelay.for_app(app, clock=lambda: muchlater).run_once().delivered == 1
        assert OutboxRelay.for_app(app, clock=lambda: muchlater).run_once().processed == 0
    [delivered] = outbox_rows()
    assert (delivered.status, delivered.attempts) == ("delivered", 3)
    received = garage.notifications.received()
    assert [hit.json["data"]["number"] for hit in received] == [invoice["number"], invoice["number"]]
    assert {hit.headers["Idempotency-Key"] for hit in received} == {f"invoice-{invoice['id']}-send-1"}


def test_the_outbox_is_visible_to_admins(garage):
    invoice = garage.invoice()
    response = garage.client.get(f"{URL}/outbox-messages?status=pending", headers=garage.admin)
    assert response.status_code == 200
    assert [m["idempotency_key"] for m in response.get_json()["items"]] == [f"invoice-{invoice['id']}-send-1"]
    assert garage.client.get(f"{URL}/outbox-messages", headers=garage.accountant).status_code == 403


# --------------------------------------------------------------------------- reminders


@pytest.fixture
def overdue_invoice(garage, monkeypatch, clock):
    moment = datetime.now(UTC) - timedelta(days=30)
    clock(moment)
    invoice = garage.invoice()
    monkeypatch.undo()
    return invoice


def reminder_rows(outbox_rows) -> list[Any]:
    return [row for row in outbox_rows() if row.body["type"] == "payment_reminder"]


def test_overdue_invoices_get_a_reminder_once_per_interval(app, garage, outbox_rows, overdue_invoice):
    garage.invoice()  # not due yet: no reminder
    paid = garage.invoice()
    garage.pay(paid["id"], paid["totals"]["gross"])
    garage.pay(overdue_invoice["id"], 1000)
    result = app.test_cli_runner().invoke(args=["send-payment-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 payment reminders queued" in result.output
    [row] = reminder_rows(outbox_rows)
    assert row.idempotency_key == f"payment-reminder-{overdue_invoice['id']}-1"
    assert row.body["data"]["outstanding"] == overdue_invoice["totals"]["gross"] - 1000
    assert row.body["data"]["number"] == overdue_invoice["number"]
    assert_notification_request_in_contract(row.body)
    assert (
        "0 payment reminders queued" in app.test_cli_runner().invoke(args=["send-payment-reminders"]).output
    )
    settings = Settings.from_config(app.config)
    with app.app_context():
        for days in (8, 16, 24, 32):
            reminders.send_payment_reminders(
                session=db.session, settings=settings, now=datetime.now(UTC) + timedelta(days=days)
            )
            db.session.commit()
    keys = [
        row.idempotency_key
        for row in reminder_rows(outbox_rows)
        if overdue_invoice["id"] in row.idempotency_key
    ]
    assert keys == [f"payment-reminder-{overdue_invoice['id']}-{n}" for n in (1, 2, 3)]  # at most 3
    assert garage.get(overdue_invoice["id"])["reminders_sent"] == 3
    assert garage.get(paid["id"])["reminders_sent"] == 0
