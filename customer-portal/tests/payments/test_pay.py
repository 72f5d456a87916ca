"""Paying an invoice from its link: the Pay button, the provider's checkout, the return
page that shows the invoice paid at once."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from customer_portal.payments.models import Payment
from fake_mollie import FakeMollie
from flask import Flask
from flask.testing import FlaskClient
from payment_helpers import INVOICING, PORTAL_URL, Invoicing, csrf_token, run_relay, start_payment
from portal_fakes import PortalService
from portal_pages import text_of
from sqlalchemy import select


def rows(app: Flask) -> list[Payment]:
    with app.app_context():
        db = app.extensions["sqlalchemy"]
        found = list(db.session.execute(select(Payment).order_by(Payment.created_at)).scalars())
        db.session.remove()
        return found


def test_pay_makes_a_mollie_payment_for_the_balance_and_sends_the_customer_to_its_checkout(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, served = invoicing(balance_due=8050, number="2026-0042")
    answer = pay_client.post(f"/invoice/{link}/pay", data={"csrf_token": csrf_token(pay_client)})
    assert answer.status_code == 303
    created = mollie.only_payment()
    assert answer.headers["Location"] == created["_links"]["checkout"]["href"]
    assert created["amount"] == {"value": "80.50", "currency": "EUR"}
    assert "2026-0042" in created["description"] and "Garage De Vries" in created["description"]
    assert created["redirectUrl"] == f"{PORTAL_URL}/invoice/{link}/paid"
    assert created["webhookUrl"] == f"{PORTAL_URL}/webhooks/mollie"
    (row,) = rows(pay_app)
    assert created["metadata"] == {"invoice_number": "2026-0042", "portal_payment_id": str(row.id)}
    assert (row.provider, row.provider_payment_id, row.status) == ("mollie", created["id"], "open")
    assert (row.amount, row.currency, row.invoice_number, row.link_token) == (8050, "EUR", "2026-0042", link)
    (create,) = mollie.received("/v2/payments")
    assert create.headers["Idempotency-Key"] == str(row.id)
    assert json.loads(create.body)["amount"]["value"] == "80.50"
    (asked,) = served.fake.received("/api/v1/portal/invoice")
    assert asked.headers["Portal-Link"] == link


def test_pay_needs_the_forms_csrf_token(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, _served = invoicing()
    answer = pay_client.post(f"/invoice/{link}/pay")
    assert answer.status_code == 400
    assert mollie.received() == [] and rows(pay_app) == []


def test_nothing_to_pay_starts_no_payment(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, _served = invoicing(balance_due=0, paid=12100, status="paid")
    answer = pay_client.post(f"/invoice/{link}/pay", data={"csrf_token": csrf_token(pay_client)})
    assert answer.status_code == 303
    assert answer.headers["Location"].endswith(f"/invoice/{link}/paid")
    assert mollie.received() == [] and rows(pay_app) == []
    # ... and the return page, with no payment of this link, sends the customer to the invoice.
    back = pay_client.get(f"/invoice/{link}/paid")
    assert back.status_code == 303 and back.headers["Location"].endswith(f"/invoice/{link}")


def test_a_link_invoicing_refuses_starts_no_payment(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    fakes: dict[str, PortalService],
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, _served = invoicing()
    fakes[INVOICING].refuse(link, "expired")
    answer = pay_client.post(f"/invoice/{link}/pay", data={"csrf_token": csrf_token(pay_client)})
    assert answer.status_code == 410
    assert "expired" in text_of(answer)
    for junk in ("not-a-token", "a.b.c"):
        assert (
            pay_client.post(f"/invoice/{junk}/pay", data={"csrf_token": csrf_token(pay_client)}).status_code
            == 403
        )
    assert mollie.received() == [] and rows(pay_app) == []


def test_when_mollie_is_down_nothing_is_paid_and_the_customer_is_told(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, _served = invoicing()
    mollie.failing = 503
    answer = pay_client.post(
        f"/invoice/{link}/pay", data={"csrf_token": csrf_token(pay_client)}, headers={"Accept-Language": "en"}
    )
    assert answer.status_code == 503
    assert "payment provider is not answering" in text_of(answer)
    (row,) = rows(pay_app)
    assert row.status == "not_started" and row.provider_payment_id is None


def test_the_return_page_shows_the_invoice_paid_and_records_the_payment_at_once(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing(balance_due=12100)
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id, method="creditcard")
    page = pay_client.get(f"/invoice/{link}/paid", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    words = text_of(page)
    assert "Thank you, your payment was received" in words
    assert "€121.00" in words and "Balance due €0.00" in words
    assert 'data-status="paid"' in page.get_data(as_text=True)
    (record,) = served.records()  # delivered before the page was shown
    assert record.json["method"] == "creditcard" and record.headers["Portal-Link"] == link
    (row,) = outbox_rows()
    assert row.status == "delivered"
    assert rows(pay_app)[0].recorded_at is not None


def test_the_return_page_shows_paid_from_the_portals_row_while_invoicing_is_down(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    fakes: dict[str, PortalService],
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing(balance_due=12100)
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    fakes[INVOICING].stop()
    try:
        page = pay_client.get(f"/invoice/{link}/paid", headers={"Accept-Language": "en"})
        assert page.status_code == 200
        words = text_of(page)
        assert "Thank you, your payment was received" in words and "Paid €121.00" in words
        assert "will show in our records shortly" in words
        (row,) = outbox_rows()
        assert row.status == "pending" and row.attempts == 1
    finally:
        fakes[INVOICING].start()
    from datetime import timedelta

    assert run_relay(pay_app, later=timedelta(hours=1)).delivered == 1
    assert len(served.records()) == 1


def test_the_return_page_while_the_bank_has_not_confirmed_records_nothing(
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, served = invoicing()
    start_payment(pay_client, link)
    page = pay_client.get(f"/invoice/{link}/paid", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "waiting for confirmation" in text_of(page)
    assert outbox_rows() == [] and served.records() == []


def test_a_cancelled_payment_can_be_tried_again(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
    outbox_rows: Callable[..., list[Any]],
) -> None:
    link, _served = invoicing(balance_due=12100)
    first = start_payment(pay_client, link)
    mollie.settle(first, "canceled")
    page = pay_client.get(f"/invoice/{link}/paid", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    words = text_of(page)
    assert "not completed" in words and "Pay €121.00 now" in words
    assert f'action="/invoice/{link}/pay"' in page.get_data(as_text=True)
    second = start_payment(pay_client, link)
    assert second != first
    mollie.settle(second)
    assert "Thank you" in text_of(pay_client.get(f"/invoice/{link}/paid", headers={"Accept-Language": "en"}))
    assert [row.status for row in rows(pay_app)] == ["canceled", "paid"]
    assert len(outbox_rows()) == 1


def test_paying_again_after_paying_starts_no_second_payment(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    fakes: dict[str, PortalService],
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, served = invoicing(balance_due=12100)
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    fakes[INVOICING].stop()
    try:  # paid, invoicing not told yet: it still says 121.00 is due
        pay_client.get(f"/invoice/{link}/paid")
    finally:
        fakes[INVOICING].start()
    served_before = served.invoice["balance_due"]
    assert served_before == 12100
    answer = pay_client.post(f"/invoice/{link}/pay", data={"csrf_token": csrf_token(pay_client)})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/invoice/{link}/paid")
    assert len(mollie.payments) == 1


def test_another_links_return_page_shows_nothing_of_this_payment(
    pay_app: Flask,
    pay_client: FlaskClient,
    mollie: FakeMollie,
    invoicing: Callable[..., tuple[str, Invoicing]],
) -> None:
    link, _served = invoicing()
    other, _other_served = invoicing()
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    answer = pay_client.get(f"/invoice/{other}/paid")
    assert answer.status_code == 303  # no payment of that link: to its invoice page
    assert rows(pay_app)[0].status == "open"  # this link's payment was not even asked about


def test_a_dutch_customer_reads_the_return_page_in_dutch(
    pay_client: FlaskClient, mollie: FakeMollie, invoicing: Callable[..., tuple[str, Invoicing]]
) -> None:
    link, _served = invoicing(language="nl")
    payment_id = start_payment(pay_client, link)
    mollie.settle(payment_id)
    words = text_of(pay_client.get(f"/invoice/{link}/paid"))
    assert "Dank u wel, uw betaling is ontvangen" in words and "€ 121,00" in words
    assert mollie.payment(payment_id)["description"] == "Factuur 2026-0042, Garage De Vries"


def test_a_return_with_something_that_is_not_a_link_is_refused_and_asks_nobody(
    pay_app: Flask, pay_client: FlaskClient, mollie: FakeMollie, fakes: dict[str, PortalService]
) -> None:
    for junk in ("not-a-token", "a.b.c", "x" * 3000):
        answer = pay_client.get(f"/invoice/{junk}/paid")
        assert answer.status_code == 403 and "text/html" in answer.headers["Content-Type"]
    assert mollie.received() == [] and fakes[INVOICING].received() == []
