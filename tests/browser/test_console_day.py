"""A garage's day through the staff console in chromium, against the real identity and six
services: the front desk registers a customer and a vehicle and books; the vehicle
arrives and is checked in; the technician, on a tablet-sized screen, starts the job,
clocks in, adds the booked work from the catalogue, ticks it off and completes; the front
desk takes the payment at checkout, prints the receipt and records the hand-over (which
asks the customer how the visit went). Then a stale edit (two people on one job card)
offers to reload. axe checks each page on the way; with GARAGE_SCREENSHOTS=1 the main
pages land in docs/screenshots."""

from __future__ import annotations

from typing import Any

import pytest

WIDE = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}
EVERYONE = "all"  # the workshop page's choice of every technician's jobs (pages/workshop.py)


@pytest.fixture(scope="module")
def owner_set_up(console_garage: Any) -> dict[str, Any]:
    """What the owner set up before the day (the set-up pages' own tests cover those
    pages): a bay, the labour rate and a canned job."""
    from console_harness import Api

    admin = Api(console_garage, "admin")
    scheduling = "workshop-scheduling"
    if not admin(scheduling, "GET", "/api/v1/workshop/bays", active="true")["items"]:
        for name in ("Lift 1", "Lift 2"):
            admin(scheduling, "POST", "/api/v1/workshop/bays", {"kind": "lift", "name": name})
    jobs = "maintenance-job-management"
    admin(jobs, "PUT", "/api/v1/labour-rates/default", {"name": "Workshop labour", "hourly_rate": 7850})
    canned = admin(
        jobs,
        "POST",
        "/api/v1/canned-jobs",
        {
            "code": "brake-pads-day",
            "name": "Brake pads, front",
            "work_kind": "default",
            "lines": [
                {"kind": "labour", "description": "Replace front brake pads", "hours": "1.00"},
                {"kind": "part", "description": "Brake pad set", "quantity": "1.00", "unit_price": 5495},
            ],
        },
    )
    return {"canned": canned}


def test_a_day_at_the_garage(
    console_garage: Any,
    owner_set_up: dict[str, Any],
    offline_context: Any,
    console_sign_in: Any,
    accessibility_violations: Any,
    screenshot: Any,
) -> None:
    garage = console_garage
    sign_in = console_sign_in
    desk = sign_in(offline_context(locale="en-GB", viewport=WIDE, bypass_csp=True), garage, "advisor")

    # The front desk: a new customer and her car, booked for the brake pads.
    desk.goto(garage.console_url + "/customers/new")
    desk.fill("#f-name", "Femke Bakker")
    desk.fill("#f-email", "femke.bakker@example.nl")
    desk.click("button:has-text('Register')")
    desk.click("text=Register a vehicle")
    desk.fill("#f-plate", "GZ-481-K")
    desk.fill("#f-make", "Kia")
    desk.fill("#f-model", "Picanto")
    desk.click("button:has-text('Register')")
    desk.click("a:has-text('Book')")
    desk.select_option("#f-canned_job", "brake-pads-day")
    desk.fill("#f-work_description", "Brake pads, front")
    desk.click("button:has-text('Show free times')")
    desk.locator("input[name=slot]").first.check()
    desk.click("button:has-text('Book this time')")
    desk.wait_for_selector("text=Booked.")
    booked_day = desk.url.split("day=")[1][:10]  # the board of the booked day

    # She arrives: checked in on the board, which links to the job card.
    # Her car's own buttons and links (they name the plate): other tests book that day too.
    desk.click("button:has-text('Check in GZ-481-K')")
    desk.wait_for_selector("text=Checked in.")
    assert accessibility_violations(desk) == []
    job_url = desk.locator("a:has-text('Job card GZ-481-K')").get_attribute("href")
    assert job_url

    # The technician on the tablet: start, clock in, the booked work from the catalogue,
    # ticked off, clock out, complete.
    tablet = sign_in(
        offline_context(locale="en-GB", viewport=TABLET, bypass_csp=True), garage, "technician", job_url
    )
    tablet.click("button:has-text('Start')")
    tablet.click("button:has-text('Clock in')")
    tablet.select_option("#f-canned_job_id", owner_set_up["canned"]["id"])
    tablet.check("#f-canned-covered")
    tablet.click("button:has-text('Add from the catalogue')")
    tablet.wait_for_selector("text=Replace front brake pads")
    for _ in range(2):
        tablet.locator("button:has-text('Mark done')").first.click()
        tablet.wait_for_load_state()
    assert accessibility_violations(tablet) == []
    screenshot(tablet, "job-card-tablet")
    tablet.goto(garage.console_url + f"/workshop?day={booked_day}&technician={EVERYONE}")
    assert accessibility_violations(tablet) == []
    screenshot(tablet, "workshop-tablet")
    tablet.goto(garage.console_url + job_url)
    tablet.click("button:has-text('Clock out')")
    tablet.click("button:has-text('Complete')")
    tablet.wait_for_selector(".job-status.status-completed")

    # The invoice: maintenance's outbox asks invoicing for it (the relay's work).
    garage.drain()

    # Checkout at the counter: the invoice, the payment, the receipt.
    desk.goto(garage.console_url + job_url)
    screenshot(desk, "job-card")
    desk.click("a:has-text('Checkout')")
    desk.wait_for_selector("text=Record the payment")
    assert accessibility_violations(desk) == []
    screenshot(desk, "checkout")
    desk.select_option("#f-method", "card")
    desk.click("button:has-text('Record the payment')")
    desk.wait_for_selector("text=Payment recorded.")
    receipt_url = desk.locator("a:has-text('Receipt')").first.get_attribute("href")
    receipt = desk.request.get(garage.console_url + receipt_url)
    assert receipt.status == 200 and receipt.headers["content-type"] == "application/pdf"
    assert receipt.body().startswith(b"%PDF")

    from console_harness import Api

    [invoice] = Api(garage, "accountant")(
        "invoicing", "GET", "/api/v1/invoices", job_id=job_url.rsplit("/", 1)[-1]
    )["items"]
    assert invoice["status"] == "paid"
    assert invoice["totals"]["outstanding"] == 0

    # The customer drives off: the desk records the hand-over, which asks them how it went.
    desk.goto(garage.console_url + job_url)
    assert accessibility_violations(desk) == []
    desk.click("button:has-text('Handed over')")
    desk.wait_for_selector("text=the customer is asked how the visit went")
    assert desk.locator("button:has-text('Handed over')").count() == 0
    assert accessibility_violations(desk) == []

    # The accountant's view of it, in Dutch: the invoice page and the credit note form.
    books = sign_in(
        offline_context(locale="nl-NL", viewport=WIDE, bypass_csp=True),
        garage,
        "accountant",
        f"/accounts/invoices/{invoice['id']}",
    )
    assert accessibility_violations(books) == []
    books.goto(garage.console_url + f"/accounts/invoices/{invoice['id']}/credit-notes/new")
    assert accessibility_violations(books) == []


def test_two_people_on_one_job_card_the_second_is_offered_a_reload(
    console_garage: Any, offline_context: Any, owner_set_up: dict[str, Any], console_sign_in: Any
) -> None:
    from console_harness import booked_appointment

    sign_in = console_sign_in
    appointment = booked_appointment(console_garage, "Joost Mulder")
    path = f"/jobs/{appointment['job_id']}"
    first = sign_in(offline_context(locale="en-GB", viewport=WIDE), console_garage, "advisor", path)
    second = sign_in(offline_context(locale="en-GB", viewport=WIDE), console_garage, "admin", path)
    first.fill("#f-technician_notes", "Noise from the left front wheel")
    first.click("#notes-heading ~ form button:has-text('Save')")
    first.wait_for_load_state()
    second.fill("#f-technician_notes", "Customer waits in the shop")
    second.click("#notes-heading ~ form button:has-text('Save')")
    second.wait_for_selector("text=Someone else changed this")
    assert second.locator("a:has-text('Reload')").count() >= 1
