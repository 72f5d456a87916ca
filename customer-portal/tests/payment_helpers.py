"""Paying in tests: the portal with Mollie (the loopback fake, fake_mollie) and invoicing
faked at the HTTP boundary (portal_fakes; its answers, and the record the relay sends,
held to invoicing's contract). The fixtures are in payments/conftest.py."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from customer_portal.payments.relay import LinkSender
from fake_mollie import FakeMollie
from flask import Flask
from flask.testing import FlaskClient
from portal_fakes import PortalService

from service_kit.contract_testing import ContractViolation, validate_request
from service_kit.fakes import Received, problem
from service_kit.outbox import OutboxRelay, RelayStats
from service_kit.testing import empty_tables

INVOICING = "invoicing"
INVOICE_PATH = "/api/v1/portal/invoice"
RECORD_PATH = "/api/v1/portal/invoice/payments"
PORTAL_URL = "http://portal.test"


def pay_settings(
    database_url: str, fakes: dict[str, PortalService], mollie: FakeMollie, **extra: Any
) -> dict[str, Any]:
    from portal_fakes import portal_settings

    paying = {
        "MOLLIE_API_KEY": mollie.api_key,
        "MOLLIE_API_URL": mollie.url,
        "PAYMENT_FORM_TARGETS": [mollie.url],
        "PORTAL_URL": PORTAL_URL,
    }
    return portal_settings(database_url, fakes, **{**paying, **extra})


def clean(app: Flask) -> None:
    with app.app_context():
        empty_tables(app.extensions["sqlalchemy"])
    for service_client in app.extensions["customer_portal_services"].values():
        service_client.breaker.reset()


# ----------------------------------------------------------------------------- invoicing


class Invoicing:
    """invoicing's pay-link operations as the fake answers them: the invoice, and one
    payment per provider payment id, ever (the same again answers the first, 200)."""

    def __init__(self, fake: PortalService, body: dict[str, Any]) -> None:
        self.fake = fake
        self.invoice = body
        self.recorded: dict[str, dict[str, Any]] = {}
        fake.route("GET", INVOICE_PATH, lambda _request: (200, self.invoice))
        fake.route("POST", RECORD_PATH, self._record)

    def _record(self, request: Received) -> tuple[int, Any]:
        try:
            validate_request(self.fake.contract, "POST", RECORD_PATH, request.json)
        except ContractViolation as exc:
            self.fake.violations.append(str(exc))
            return 422, problem(422, str(exc))
        body = request.json
        first = self.recorded.get(body["provider_payment_id"])
        if first is not None:
            return 200, first
        paid = self.invoice["paid"] + body["amount"]
        balance = max(0, self.invoice["balance_due"] - body["amount"])
        status = "paid" if balance == 0 else "partially_paid"
        self.invoice = {
            **self.invoice,
            "paid": paid,
            "balance_due": balance,
            "status": status,
            "totals": {**self.invoice["totals"], "paid": paid, "outstanding": balance},
            "online_payments": [
                *self.invoice.get("online_payments", []),
                {k: body[k] for k in ("provider", "provider_payment_id", "amount")},
            ],
        }
        now = datetime.now(UTC).isoformat()
        first = {
            "id": str(uuid.uuid4()),
            "amount": body["amount"],
            "currency": self.invoice["currency"],
            "provider": body["provider"],
            "provider_payment_id": body["provider_payment_id"],
            "method": body["method"],
            "paid_at": body["paid_at"],
            "recorded_at": now,
            "invoice": {"status": status, "paid": paid, "balance_due": balance, "refund_due": 0},
        }
        self.recorded[body["provider_payment_id"]] = first
        return 201, first

    def records(self) -> list[Received]:
        """Every record the portal sent (POST), oldest first."""
        return [r for r in self.fake.received(RECORD_PATH) if r.method == "POST"]


# ------------------------------------------------------------------------------ helpers


def relay_at(app: Flask, *, later: timedelta = timedelta()) -> OutboxRelay:
    """A relay of the app whose clock is ``later`` on (past any backoff)."""
    with app.app_context():
        return OutboxRelay.for_app(
            app, send=LinkSender.for_app(app), clock=lambda: datetime.now(UTC) + later, rng=lambda: 0.5
        )


def run_relay(app: Flask, *, later: timedelta = timedelta()) -> RelayStats:
    return relay_at(app, later=later).run_once()


def start_payment(client: FlaskClient, link: str) -> str:
    """The customer presses Pay: the Mollie payment's id (the browser is sent to its checkout)."""
    answer = client.post(f"/invoice/{link}/pay", data={"csrf_token": csrf_token(client)})
    assert answer.status_code == 303, answer.get_data(as_text=True)[:500]
    return answer.headers["Location"].rsplit("/", 1)[-1]


def csrf_token(client: FlaskClient) -> str:
    """A CSRF token for the client's session (as a page's form carries it)."""
    app = client.application
    with app.test_request_context():
        from flask import session
        from flask_wtf.csrf import generate_csrf

        value = generate_csrf()
        raw = session.get("csrf_token")
    with client.session_transaction() as stored:
        stored["csrf_token"] = raw
    return str(value)


def webhook(client: FlaskClient, payment_id: str) -> int:
    """Mollie calls the webhook (form-encoded id, no CSRF token)."""
    return client.post("/webhooks/mollie", data={"id": payment_id}).status_code
