"""The portal's payments table and outbox, its relay command, what invoicing's refusal of
a link does to a record, the webhook's rate limit, and a garage without online payment."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from customer_portal.models import db
from fake_mollie import FakeMollie
from flask import Flask
from flask.testing import FlaskClient
from payment_helpers import INVOICING, Invoicing, clean, pay_settings, run_relay, start_payment, webhook
from portal_fakes import PortalService

from service_kit.provider_testing import assert_migrations_match_models


def test_the_migrations_create_what_the_models_describe(pay_app: Flask, portal_database: str) -> None:
    assert_migrations_match_models(portal_database, db.metadata)
    assert {"customer_portal.payments", "customer_portal.outbox_messages"} <= set(db.metadata.tables)


def test_relay_outbox_delivers_what_is_due(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    assert webhook(pay_client, payment_id) == 200
    result = pay_app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert result.exit_code == 0, result.output
    assert served.records(), result.output  # by the command, or right after the webhook's answer
    assert len(served.records()) == 1


def test_a_record_invoicing_refuses_for_its_link_goes_dead_at_once_and_is_listed(
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
    fakes[INVOICING].refuse(link, "revoked")  # the invoice was credited and its link withdrawn meanwhile
    assert webhook(pay_client, payment_id) == 200
    run_relay(pay_app)
    (row,) = outbox_rows()
    assert row.status == "dead" and row.last_status == 410
    assert served.recorded == {}
    listed = pay_app.test_cli_runner().invoke(args=["outbox", "list"])
    assert str(row.id) in listed.output
    assert run_relay(pay_app, later=timedelta(days=1)).processed == 0


def test_the_webhook_is_rate_limited_per_address_at_the_services_quota(
    portal_database: str, fake_services: dict[str, PortalService], mollie: FakeMollie
) -> None:
    # Mollie calls from a few addresses with every customer's payments: the quota the
    # services get (service_kit.security.provider_webhook), not one person's writes.
    from customer_portal import create_app

    app = create_app(
        pay_settings(
            portal_database,
            fake_services,
            mollie,
            RATE_LIMIT_ENABLED=True,
            RATE_LIMIT_WRITE="1 per minute",
            RATE_LIMIT_SERVICE="3 per minute",
        )
    )
    clean(app)
    client = app.test_client()
    statuses = [client.post("/webhooks/mollie", data={"id": f"tr_Unknown{n}"}).status_code for n in range(5)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[3:] == [429, 429]
    assert len(mollie.received("/v2/payments/")) == 3  # Mollie is not asked once over the limit


def test_without_a_mollie_key_the_portal_takes_no_payments(
    portal_database: str, fake_services: dict[str, PortalService], mollie: FakeMollie
) -> None:
    from customer_portal import create_app

    app = create_app(pay_settings(portal_database, fake_services, mollie, MOLLIE_API_KEY=""))
    assert "invoice_pay" not in app.view_functions and "mollie_webhook" not in app.view_functions
    client = app.test_client()
    assert client.post("/webhooks/mollie", data={"id": "tr_Abc"}).status_code == 404
    with app.test_request_context():
        assert app.jinja_env.globals["payments_enabled"]() is False
    assert mollie.received() == []
