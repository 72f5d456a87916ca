"""An invoice paid from its pay link in a real browser on a phone-sized screen (390 px):
the invoice page's Pay button, the payment provider's checkout (the loopback fake of
Mollie, customer-portal/tests/fake_mollie.py), Mollie's webhook to the portal, and the
invoice shown paid; axe finds no serious or critical violation on the portal's pages.
Twice: with invoicing faked at the HTTP boundary (customer-portal/tests/portal_fakes.py,
its answers and the record held to its contract), and against the real garage
(customer-portal/tests/portal_harness.py): a completed job's invoice, the pay link from
the invoice_issued message invoicing sent, the payment read back from invoicing."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from service_kit.fakes import free_port
from service_kit.migrations import upgrade
from service_kit.testing import served

PORTAL_TESTS = Path(__file__).resolve().parents[2] / "customer-portal" / "tests"
sys.path.insert(0, str(PORTAL_TESTS))

from fake_mollie import FakeMollie  # noqa: E402
from payment_helpers import Invoicing, run_relay  # noqa: E402
from portal_fakes import PortalService  # noqa: E402
from portal_samples import invoice, token  # noqa: E402

CALLED = ("workshop-scheduling", "maintenance-job-management", "invoicing")
PHONE = {"width": 390, "height": 844}
MOBILE = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@pytest.fixture(scope="module")
def portal(fresh_database_url: str) -> Iterator[dict[str, Any]]:
    """The portal served on loopback (its public address is where it is served: Mollie's
    redirect and webhook come back to it), paying through the fake Mollie."""
    from customer_portal import create_app

    fakes = {name: PortalService(name) for name in CALLED}
    mollie = FakeMollie()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": fresh_database_url,
        "RATE_LIMIT_ENABLED": False,
        "DB_POOL_SIZE": 2,
        "DB_MAX_OVERFLOW": 3,
        "SERVICE_TOKEN": "portal-test-token",
        "GARAGE_NAME": "Garage De Vries",
        "GARAGE_PHONE": "+31 20 123 4567",
        "PORTAL_URL": base,
        "MOLLIE_API_KEY": mollie.api_key,
        "MOLLIE_API_URL": mollie.url,
        "PAYMENT_FORM_TARGETS": [mollie.url],
    }
    for name, fake in fakes.items():
        prefix = name.upper().replace("-", "_")
        settings[f"{prefix}_URL"] = fake.url
        settings[f"{prefix}_RETRIES"] = 0
    app = create_app(settings)
    upgrade(app)
    try:
        with served(app, port):
            yield {"base": base, "fakes": fakes, "mollie": mollie}
    finally:
        for server in (*fakes.values(), mollie):
            server.stop()
    problems = [*mollie.violations, *(v for fake in fakes.values() for v in fake.violations)]
    assert not problems, "\n".join(problems)


def test_an_invoice_is_paid_through_the_provider_and_shown_paid(
    portal: dict[str, Any], offline_context: Any, accessibility_violations: Any
) -> None:
    invoicing = portal["fakes"]["invoicing"]
    mollie: FakeMollie = portal["mollie"]
    link = invoicing.link(token("invoice"), "invoice")
    served_invoice = Invoicing(invoicing, invoice(language="en", balance_due=12100))
    # Under the pages' own Content-Security-Policy (the pay form's redirect to the provider
    # is held to its form-action); axe runs in a second context that lets its script in.
    context = offline_context(viewport=PHONE, locale="en-GB", is_mobile=True, has_touch=True)
    checker = offline_context(viewport=PHONE, locale="en-GB", bypass_csp=True).new_page()
    page = context.new_page()

    page.goto(f"{portal['base']}/invoice/{link}")
    page.get_by_role("button", name="Pay €121.00").click()

    page.wait_for_url(f"{mollie.url}/checkout/*")  # the provider's checkout
    assert mollie.only_payment()["amount"] == {"value": "121.00", "currency": "EUR"}
    page.get_by_role("button", name="Pay EUR 121.00 with iDEAL").click()

    page.wait_for_url(f"{portal['base']}/invoice/{link}/paid")
    page.get_by_role("heading", name="Thank you, your payment was received").wait_for()
    assert page.locator("[data-status]").get_attribute("data-status") == "paid"
    assert page.locator("[data-status]").inner_text() == "Paid"
    checker.goto(page.url)
    assert accessibility_violations(checker) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    (called,) = mollie.webhook_calls  # Mollie's webhook reached the portal
    assert called[1] == 200
    assert len(served_invoice.records()) == 1  # recorded in invoicing, once
    assert served_invoice.records()[0].headers["Portal-Link"] == link

    page.get_by_role("link", name="See the invoice").click()
    page.wait_for_url(f"{portal['base']}/invoice/{link}")
    assert "Paid" in page.locator("main .notice").inner_text()
    assert page.get_by_role("button", name="Pay €121.00").count() == 0
    assert context.refused == [] and checker.context.refused == []


# ------------------------------------------------------------------ the real garage


@pytest.fixture(scope="module")
def paying_garage(postgres_server_url: str) -> Iterator[tuple[Any, FakeMollie]]:
    """identity, the six services and the portal, real, in this process (portal_harness),
    the portal paying through the fake Mollie; every call it makes held to the contracts."""
    from portal_harness import calls_held_to_the_contracts, running_portal

    from service_kit.testing import database_of_its_own

    mollie = FakeMollie()
    paying = {
        "MOLLIE_API_KEY": mollie.api_key,
        "MOLLIE_API_URL": mollie.url,
        "PAYMENT_FORM_TARGETS": [mollie.url],
    }
    try:
        with (
            database_of_its_own(postgres_server_url, "garage_browser_pay") as url,
            running_portal(url, paying) as garage,
            calls_held_to_the_contracts(garage) as problems,
        ):
            yield garage, mollie
            assert not problems, "\n".join(problems)
    finally:
        mollie.stop()
    assert not mollie.violations, "\n".join(mollie.violations)


def test_an_invoice_of_the_real_garage_is_paid_on_a_phone_and_invoicing_shows_it_paid(
    paying_garage: tuple[Any, FakeMollie],
    offline_context: Any,
    accessibility_violations: Any,
    screenshot: Any,
) -> None:
    from portal_harness import PORTAL, issued_invoice

    from service_kit.garage_harness import Api

    garage, mollie = paying_garage
    issued = issued_invoice(garage, "Anouk Visser")  # the link from invoice_issued
    link = issued["link"]
    accountant = Api(garage, "accountant")
    customer_id = issued["customer"]["id"]
    [listed] = accountant("invoicing", "GET", "/api/v1/invoices", customer_id=customer_id)["items"]
    gross = listed["totals"]["gross"]
    assert listed["status"] != "paid" and gross > 0
    amount = f"{gross // 100}.{gross % 100:02d}"
    # The pages under their own Content-Security-Policy (the pay form's redirect to the
    # provider is held to its form-action); axe in a second context that lets its script in.
    context = offline_context(locale="en-GB", **MOBILE)
    checker = offline_context(locale="en-GB", bypass_csp=True, **MOBILE).new_page()
    page = context.new_page()

    assert page.goto(link).status == 200
    pay = page.get_by_role("button", name=f"Pay €{amount}")
    pay.wait_for()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "portal-invoice")
    checker.goto(link)
    assert accessibility_violations(checker) == []  # the invoice page
    pay.click()

    page.wait_for_url(f"{mollie.url}/checkout/*")  # the provider's checkout
    payment = mollie.payment(page.url.rsplit("/", 1)[1])
    assert payment["amount"] == {"value": amount, "currency": "EUR"}
    page.get_by_role("button", name=f"Pay EUR {amount} with iDEAL").click()

    page.wait_for_url(f"{link}/paid")
    page.get_by_role("heading", name="Thank you, your payment was received").wait_for()
    assert page.locator("[data-status]").get_attribute("data-status") == "paid"
    assert page.locator("[data-status]").inner_text() == "Paid"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    screenshot(page, "portal-paid")
    checker.goto(page.url)
    assert accessibility_violations(checker) == []  # the paid page
    # Mollie's webhook reached the portal, once
    assert [call for call in mollie.webhook_calls if call[0] == payment["id"]] == [(payment["id"], 200)]

    # invoicing itself, as staff see it: paid at once, one online payment; Mollie's webhook
    # again and the relay later record nothing more.
    invoice = accountant("invoicing", "GET", f"/api/v1/invoices/{listed['id']}")
    assert invoice["status"] == "paid" and invoice["totals"]["outstanding"] == 0
    assert mollie.call_webhook(payment["id"]) == 200
    assert run_relay(garage.apps[PORTAL], later=timedelta(hours=1)).delivered == 0
    invoice = accountant("invoicing", "GET", f"/api/v1/invoices/{listed['id']}")
    assert invoice["status"] == "paid" and invoice["totals"]["outstanding"] == 0
    [paid] = invoice["payments"]
    assert (paid["amount"], paid["method"], paid["provider"], paid["provider_payment_id"]) == (
        gross,
        "online",
        "mollie",
        payment["id"],
    )

    page.get_by_role("link", name="See the invoice").click()  # the invoice page, from invoicing
    page.wait_for_url(link)
    assert "Paid" in page.locator("main .notice").inner_text()
    assert page.get_by_role("button", name=f"Pay €{amount}").count() == 0
    assert context.refused == [] and checker.context.refused == []


# The return page and Mollie's webhook race to record the payment in invoicing: whichever
# wins, the page counts it once (invoicing's online_payments say whether it has it).
def test_the_paid_page_counts_the_payment_once(
    paying_garage: tuple[Any, FakeMollie], offline_context: Any
) -> None:
    from portal_harness import issued_invoice

    garage, mollie = paying_garage
    link = issued_invoice(garage, "Sem Mulder")["link"]
    page = offline_context(locale="en-GB", **MOBILE).new_page()
    page.goto(link)
    page.locator("form[action$='/pay'] button").click()
    page.wait_for_url(f"{mollie.url}/checkout/*")
    page.get_by_role("button", name=re.compile("with iDEAL$")).click()
    page.wait_for_url(f"{link}/paid")
    shown = {
        dt.inner_text(): dt.locator("xpath=following-sibling::dd[1]").inner_text()
        for dt in page.locator("dl.facts dt").all()
    }
    assert shown["Paid"] == shown["Total"] and shown["Balance due"] == "€0.00"
    assert page.get_by_text("Your payment will show in our records shortly.").count() == 0
