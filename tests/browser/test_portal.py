"""The customer portal in chromium on a phone (390 px wide), against the real garage
(customer-portal/tests/portal_harness.py): the links come from the messages the services
sent. An estimate approved line by line, an appointment moved, feedback given; axe finds
no serious or critical violation on any page, in English and in Dutch; nothing loads
from beyond loopback; nothing is wider than the phone; every target is at least 44 px."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "customer-portal" / "tests"))

PHONE = {"width": 390, "height": 844}
MOBILE = {"viewport": PHONE, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}
# What a page must not do on a phone: be wider than it, or offer a target smaller than a finger.
LAYOUT = """() => {
  const targets = 'a, button, input[type=radio] + label, textarea, ' +
    'input:not([type=hidden]):not([type=radio])';
  const small = [...document.querySelectorAll(targets)]
    .filter(e => e.offsetParent !== null && !e.closest('.skip'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.height < 44 || r.width < 44; })
    .map(e => e.outerHTML.slice(0, 80));
  return {width: document.documentElement.scrollWidth, small: small};
}"""


@pytest.fixture(scope="module")
def portal(postgres_server_url: str) -> Iterator[Any]:
    """identity, the six services and the portal, real, in this process."""
    from portal_harness import running_portal

    from service_kit.testing import database_of_its_own

    with (
        database_of_its_own(postgres_server_url, "garage_browser_portal") as url,
        running_portal(url) as garage,
    ):
        yield garage


def fits_a_phone(page: Any) -> None:
    # After a form's submit the new page may still be loading its stylesheet (CI saw every
    # target "under 44 px" on an unstyled page): measure the page as it is shown.
    page.wait_for_load_state("load")
    layout = page.evaluate(LAYOUT)
    assert layout["width"] <= PHONE["width"], f"{page.url}: {layout['width']} px wide"
    assert layout["small"] == [], f"{page.url}: targets under 44 px: {layout['small']}"


def test_an_estimate_is_approved_line_by_line_from_the_emailed_link(
    portal: Any, offline_context: Any, screenshot: Any, accessibility_violations: Any
) -> None:
    from portal_harness import JOBS, sent_estimate

    from service_kit.garage_harness import Api

    sent = sent_estimate(portal)
    context = offline_context(locale="en-GB", bypass_csp=True, **MOBILE)
    page = context.new_page()
    assert page.goto(sent["link"]).status == 200
    fits_a_phone(page)
    screenshot(page, "portal-estimate")
    pads, fitting = (line["id"] for line in sent["lines"])
    page.click(f"label[for='line-{pads}-approved']")
    page.click(f"label[for='line-{fitting}-declined']")
    page.fill("#signature", "Jan de Vries")
    page.click("button[type=submit]")
    page.wait_for_selector("text=signed by Jan de Vries")
    fits_a_phone(page)
    screenshot(page, "portal-estimate-decided")
    assert accessibility_violations(page) == []  # the decided estimate
    job = Api(portal, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{sent['job_id']}")
    approvals = {line["id"]: line["approval"] for line in job["lines"]}
    assert approvals[pads] == "approved" and approvals[fitting] == "declined"
    assert not context.refused


def test_an_appointment_is_moved_to_another_free_time(
    portal: Any, offline_context: Any, screenshot: Any
) -> None:
    from portal_harness import SCHEDULING, confirmed_appointment

    from service_kit.garage_harness import Api

    booked = confirmed_appointment(portal)
    context = offline_context(locale="en-GB", **MOBILE)
    page = context.new_page()
    assert page.goto(booked["link"]).status == 200
    fits_a_phone(page)
    screenshot(page, "portal-appointment")
    page.click("text=Move to another time")
    for days in range(4, 20):
        page.fill("#date", (date.today() + timedelta(days=days)).isoformat())
        page.click("text=Show free times")
        page.wait_for_load_state("load")  # the day's free times, not the page before
        if page.locator("input[name=start]").count():
            break
    fits_a_phone(page)
    last = page.locator("input[name=start]").last
    chosen = last.get_attribute("value")
    page.click(f"label[for='{last.get_attribute('id')}']")
    page.click("text=Move my appointment")
    page.wait_for_selector("text=Your appointment has been moved.")
    moved = Api(portal, "advisor")(SCHEDULING, "GET", f"/api/v1/appointments/{booked['id']}")
    assert chosen and moved["start"][:16] == chosen[:16]
    assert not context.refused


def test_feedback_is_given_with_stars_and_a_comment(
    portal: Any, offline_context: Any, accessibility_violations: Any, screenshot: Any
) -> None:
    from portal_harness import JOBS, handed_over

    from service_kit.garage_harness import Api

    visit = handed_over(portal)
    context = offline_context(locale="nl-NL", bypass_csp=True, **MOBILE)
    page = context.new_page()
    assert page.goto(visit["link"]).status == 200
    assert page.locator("h1").inner_text() == "Hoe was uw bezoek?"
    fits_a_phone(page)
    page.click("label[for='rating-4']")
    page.fill("#comment", "Snel en vriendelijk")
    screenshot(page, "portal-feedback")
    page.click("button[type=submit]")
    page.wait_for_selector("text=Bedankt voor uw beoordeling")
    assert accessibility_violations(page) == []
    given = Api(portal, "advisor")(JOBS, "GET", "/api/v1/feedback")["items"]
    assert [(f["rating"], f["comment"]) for f in given if f["job_id"] == visit["job_id"]] == [
        (4, "Snel en vriendelijk")
    ]
    assert not context.refused


@pytest.fixture(scope="module")
def every_page(portal: Any) -> list[tuple[str, int]]:
    """Every page of the portal as a customer meets it, with the status it answers."""
    from portal_harness import booking_invitation, confirmed_appointment, issued_invoice, sent_estimate

    estimate = sent_estimate(portal, "Axe Estimate")
    appointment = confirmed_appointment(portal, "Axe Appointment")
    invited = booking_invitation(portal, "Axe Booking")
    invoiced = issued_invoice(portal, "Axe Invoice")
    tomorrow = (date.today() + timedelta(days=4)).isoformat()
    bad = portal.portal_url + "/estimate/" + "x" * 20 + "." + "y" * 20 + "." + "z" * 20
    return [
        (portal.portal_url + "/", 200),
        (estimate["link"], 200),
        (appointment["link"], 200),
        (appointment["link"] + f"/move?date={tomorrow}", 200),
        (appointment["link"] + "/cancel", 200),
        (invited["link"], 200),
        (invited["link"] + f"?work=other&description=Rattle&date={tomorrow}", 200),
        (invoiced["link"], 200),
        (invoiced["visit_link"], 200),
        (bad, 403),
        (portal.portal_url + "/nothing/here", 404),
    ]


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
def test_every_page_is_accessible_on_a_phone(
    locale: str,
    portal: Any,
    every_page: list[tuple[str, int]],
    offline_context: Any,
    accessibility_violations: Any,
) -> None:
    context = offline_context(locale=locale, bypass_csp=True, **MOBILE)
    page = context.new_page()
    # The language switch, so the invoice page (which speaks the customer's language as the
    # garage knows it, English here) is checked in Dutch too.
    page.goto(f"{portal.portal_url}/?lang={locale[:2]}")
    found: dict[str, list[tuple[str, str]]] = {}
    for url, status in every_page:
        answer = page.goto(url)
        assert answer is not None and answer.status == status, url
        assert page.locator("html").get_attribute("lang") == locale[:2]
        fits_a_phone(page)
        violations = accessibility_violations(page)
        if violations:
            found[url.replace(portal.portal_url, "")[:40]] = violations
    assert found == {}
    assert not context.refused
