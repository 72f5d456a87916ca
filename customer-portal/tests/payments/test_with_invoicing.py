"""Paying against the real garage (portal_harness: identity, the six services and the
portal in this process, on a database of their own), Mollie faked on loopback: the pay
link comes from the invoice_issued message invoicing sent, and the payment is read back
from invoicing - recorded once, method online, however often Mollie's webhook comes and
also when invoicing was down while it came."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import requests
from fake_mollie import FakeMollie
from payment_helpers import run_relay
from portal_harness import (
    JOBS,
    PORTAL,
    PortalGarage,
    calls_held_to_the_contracts,
    portal_clients,
    running_portal,
    started_job,
)

from service_kit.garage_harness import Api, csrf_of, service_stopped
from service_kit.testing import database_of_its_own


@pytest.fixture(scope="module")
def paying(postgres_server_url: str) -> Iterator[tuple[PortalGarage, FakeMollie]]:
    mollie = FakeMollie()
    paying_settings = {
        "MOLLIE_API_KEY": mollie.api_key,
        "MOLLIE_API_URL": mollie.url,
        "PAYMENT_FORM_TARGETS": [mollie.url],
    }
    try:
        with (
            database_of_its_own(postgres_server_url, "garage_portal_pay") as url,
            running_portal(url, paying_settings) as garage,
            calls_held_to_the_contracts(garage) as problems,
        ):
            yield garage, mollie
            assert not problems, "\n".join(problems)
    finally:
        mollie.stop()
    assert not mollie.violations, "\n".join(mollie.violations)


def issued_invoice(garage: PortalGarage, name: str) -> dict[str, Any]:
    """A job done (the booked hour's labour): invoicing invoiced it and sent
    invoice_issued with the pay link (``link``)."""
    appointment = started_job(garage, name)
    technician = Api(garage, "technician")
    job = f"/api/v1/maintenance-jobs/{appointment['job_id']}"
    technician(
        JOBS,
        "POST",
        f"{job}/lines",
        {
            "kind": "labour",
            "description": "Small service",
            "hours": "1.00",
            "hourly_rate": 6000,
            "covered_by_booking": True,
        },
    )
    technician(JOBS, "POST", f"{job}/complete", {})
    link = garage.message_link(appointment["customer"]["id"], "invoice_issued")
    [found] = Api(garage, "accountant")(
        "invoicing", "GET", "/api/v1/invoices", customer_id=appointment["customer"]["id"]
    )["items"]
    return {**appointment, "link": link, "invoice": found}


def invoice_now(garage: PortalGarage, invoice_id: str) -> dict[str, Any]:
    found: dict[str, Any] = Api(garage, "accountant")("invoicing", "GET", f"/api/v1/invoices/{invoice_id}")
    return found


def pay(garage: PortalGarage, mollie: FakeMollie, link: str) -> tuple[requests.Session, str]:
    """The customer opens the link and presses Pay: the browser, at Mollie's checkout."""
    browser = requests.Session()
    page = browser.get(link, headers={"Accept-Language": "en"}, timeout=10)
    assert page.status_code == 200, page.text[:500]
    answer = browser.post(
        f"{link}/pay", data={"csrf_token": csrf_of(page)}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 303, answer.text[:500]
    assert answer.headers["Location"].startswith(mollie.url + "/checkout/")
    return browser, answer.headers["Location"]


def test_paid_through_mollie_it_is_recorded_in_invoicing_once(
    paying: tuple[PortalGarage, FakeMollie],
) -> None:
    garage, mollie = paying
    issued = issued_invoice(garage, "Anna Jansen")
    gross = issued["invoice"]["totals"]["gross"]
    browser, checkout = pay(garage, mollie, issued["link"])
    payment_id = checkout.rsplit("/", 1)[1]
    assert mollie.payment(payment_id)["amount"]["value"] == f"{gross / 100:.2f}"

    # At Mollie's checkout: paid; Mollie calls the webhook and sends the customer back.
    back = browser.post(checkout, data={"method": "ideal"}, timeout=10)
    assert back.url == f"{issued['link']}/paid" and back.status_code == 200
    assert "Thank you, your payment was received" in back.text
    assert mollie.webhook_calls == [(payment_id, 200)]
    # Mollie calls again, twice; the relays run; the customer reloads the page.
    assert mollie.call_webhook(payment_id) == 200
    assert mollie.call_webhook(payment_id) == 200
    run_relay(garage.apps[PORTAL], later=timedelta(hours=1))
    assert browser.get(f"{issued['link']}/paid", timeout=10).status_code == 200

    invoice = invoice_now(garage, issued["invoice"]["id"])
    [payment] = invoice["payments"]
    assert (payment["amount"], payment["method"], payment["provider"], payment["provider_payment_id"]) == (
        gross,
        "online",
        "mollie",
        payment_id,
    )
    assert payment["provider_method"] == "ideal"
    assert invoice["status"] == "paid" and invoice["totals"]["outstanding"] == 0
    # The invoice page shows it paid, from invoicing.
    shown = browser.get(issued["link"], headers={"Accept-Language": "en"}, timeout=10)
    assert "Paid" in shown.text and "/pay" not in shown.text


def test_while_invoicing_is_down_the_payment_waits_and_is_recorded_once_when_it_is_back(
    paying: tuple[PortalGarage, FakeMollie],
) -> None:
    garage, mollie = paying
    issued = issued_invoice(garage, "Bram de Boer")
    _browser, checkout = pay(garage, mollie, issued["link"])
    payment_id = checkout.rsplit("/", 1)[1]
    mollie.settle(payment_id, method="creditcard")
    portal = garage.apps[PORTAL]
    with service_stopped(portal_clients(garage), "invoicing"):
        assert mollie.call_webhook(payment_id) == 200  # Mollie is answered; the record waits
        assert mollie.call_webhook(payment_id) == 200
        run_relay(portal, later=timedelta(minutes=1))
        assert invoice_now(garage, issued["invoice"]["id"])["payments"] == []
    stats = run_relay(portal, later=timedelta(hours=2))
    assert stats.delivered == 1
    run_relay(portal, later=timedelta(hours=3))
    [payment] = invoice_now(garage, issued["invoice"]["id"])["payments"]
    assert payment["provider_payment_id"] == payment_id and payment["provider_method"] == "creditcard"
