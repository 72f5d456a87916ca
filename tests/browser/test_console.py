"""The staff console in a real browser (Debian's chromium), against the real identity and
six services: signing in through identity's page, the front desk's forms by keyboard, the
search answering as one types (htmx), booking from the free times, a double-submitted
booking making one appointment, check-in; axe finds no serious or critical violation on
any page; nothing loads from beyond loopback."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def advisor_page(console_garage: Any, offline_context: Any, console_sign_in: Any) -> Any:
    # axe is injected as a script: the console's CSP would refuse it (as it should).
    context = offline_context(locale="en-GB", viewport={"width": 1280, "height": 900}, bypass_csp=True)
    page = console_sign_in(context, console_garage, "advisor")
    yield page
    assert not context.refused, f"the console asked beyond loopback: {context.refused}"


@pytest.fixture(scope="module")
def workshop_ready(console_garage: Any) -> None:
    """A bay to book into (the owner's set-up, made through the API)."""
    from console_harness import Api

    admin = Api(console_garage, "admin")
    if not admin("workshop-scheduling", "GET", "/api/v1/workshop/bays", active="true")["items"]:
        # Two: a second booking of the same form would find room, so only idempotency stops it.
        for name in ("Lift 1", "Lift 2"):
            admin("workshop-scheduling", "POST", "/api/v1/workshop/bays", {"kind": "lift", "name": name})


def test_signed_out_the_console_sends_to_identity_and_back(
    console_garage: Any, offline_context: Any, console_sign_in: Any
) -> None:
    """Under the pages' own CSP: htmx loads from the console and the search works with no
    policy violation reported."""
    context = offline_context(locale="en-GB")
    page = console_sign_in(context, console_garage, "advisor", "/customers")
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.reload()
    assert page.url.startswith(console_garage.console_url + "/customers")
    assert page.locator(".person").inner_text() == "Development advisor"
    page.fill("#q", "nobody-is-called-this")
    page.wait_for_selector("#results >> text=No customer matches")
    assert errors == []


def test_register_by_keyboard_alone_then_find_and_book(
    console_garage: Any,
    advisor_page: Any,
    workshop_ready: None,
    accessibility_violations: Any,
    screenshot: Any,
) -> None:
    page = advisor_page
    assert accessibility_violations(page) == []
    screenshot(page, "board")
    page.goto(console_garage.console_url + "/customers/new")
    assert accessibility_violations(page) == []
    # Keyboard only: focus the first field, type, Tab from field to field, Enter sends.
    page.focus("#f-kind")
    page.keyboard.press("Tab")
    page.keyboard.type("Bram Visser")
    page.keyboard.press("Tab")
    page.keyboard.type("bram.visser@example.nl")
    page.keyboard.press("Tab")
    page.keyboard.type("0612345678")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Bram Visser')")
    assert accessibility_violations(page) == []
    page.click("text=Register a vehicle")
    assert accessibility_violations(page) == []
    page.fill("#f-plate", "12-ABC-3")
    page.fill("#f-make", "Peugeot")
    page.fill("#f-model", "208")
    page.click("button:has-text('Register')")
    page.wait_for_selector("text=12-ABC-3")
    screenshot(page, "customer-card")
    # The search answers while one types, without leaving the page.
    page.goto(console_garage.console_url + "/customers")
    page.fill("#q", "visser")
    page.wait_for_selector("#results a:has-text('Bram Visser')")
    assert accessibility_violations(page) == []
    screenshot(page, "find")
    page.click("#results a:has-text('Bram Visser')")
    page.click("a:has-text('Book')")
    page.fill("#f-work_description", "Brakes squeak")
    page.click("button:has-text('Show free times')")
    page.wait_for_selector("fieldset.slots")
    assert accessibility_violations(page) == []
    screenshot(page, "book")
    page.locator("input[name=slot]").first.check()
    # A double-click: the same form sent twice at once (both requests reach the console,
    # with the form's one idempotency key) makes one appointment.
    statuses = page.evaluate(
        """async () => {
            const form = document.querySelector("main form[method=post]");
            const send = () => fetch(form.action, {method: "POST", body: new FormData(form)});
            const answers = await Promise.all([send(), send()]);
            const booked = async answer => [answer.status, (await answer.text()).includes("Booked.")];
            return Promise.all(answers.map(booked));
        }"""
    )
    # Both answered as a success (the second replayed the first), not one of them as a clash.
    assert statuses == [[200, True], [200, True]]
    appointments = _appointments_of(console_garage, "12-ABC-3")
    assert len(appointments) == 1
    assert appointments[0]["work_description"] == "Brakes squeak"
    # On the board, checked in by the front desk.
    page.goto(console_garage.console_url + f"/board?day={appointments[0]['start'][:10]}")
    page.click("button:has-text('Check in 12-ABC-3')")  # its own: other tests book that day too
    page.wait_for_selector("text=Checked in.")
    assert _appointments_of(console_garage, "12-ABC-3")[0]["status"] == "checked_in"
    # Moving or cancelling a booking: its page too.
    appointment_id = _appointments_of(console_garage, "12-ABC-3")[0]["id"]
    page.goto(console_garage.console_url + f"/appointments/{appointment_id}/move")
    assert accessibility_violations(page) == []


def _appointments_of(garage: Any, plate: str) -> list[dict[str, Any]]:
    from console_harness import Api

    admin = Api(garage, "admin")
    return admin("workshop-scheduling", "GET", "/api/v1/appointments", plate=plate)["items"]


def test_a_service_down_shows_in_its_part_of_the_page(console_garage: Any, advisor_page: Any) -> None:
    from console_harness import service_stopped

    page = advisor_page
    with service_stopped(console_garage, "vehicle-management"):
        page.goto(console_garage.console_url + "/customers?q=visser")
        message = page.locator(".unavailable").first
        assert "vehicle-management is not answering, try again" in message.inner_text()
        assert page.locator("#customers-heading").is_visible()  # the rest of the page is there
