"""Every page of the console's accounts, set-up and feedback in chromium for the role that uses it:
axe finds no serious or critical violation, in English and in Dutch, and nothing loads
from beyond loopback. (The front desk's, the job card's and the workshop's pages are
checked on the way through a day in test_console.py and test_console_day.py.)"""

from __future__ import annotations

from typing import Any

import pytest
import requests

WIDE = {"width": 1280, "height": 900}
PAGES = {
    "admin": [
        "/setup",
        "/setup/hours",
        "/setup/bays",
        "/setup/technicians",
        "/setup/labour-rates",
        "/setup/canned-jobs",
        "/setup/canned-jobs/new",
        "/setup/templates",
        "/setup/templates/add",
        "/setup/staff",
        "/setup/staff/new",
        "/setup/dead-messages",
    ],
    "advisor": ["/feedback"],
    "accountant": [
        "/accounts/invoices",
        "/accounts/receivables",
        "/accounts/cash-up",
        "/accounts/credit-notes",
    ],
}
SHOTS = {
    "/setup": "setup",
    "/accounts/invoices": "invoices",
    "/accounts/cash-up": "cash-up",
    "/feedback": "feedback",
}
JOBS = "maintenance-job-management"


@pytest.fixture(scope="module")
def rated_visit(console_garage: Any) -> None:
    """A visit done, handed over and rated with a comment, so the feedback page has a
    rating, its technician and month to show (the customer's part as the portal calls)."""
    from console_harness import Api, booked_appointment

    garage = console_garage
    appointment = booked_appointment(garage, "Fleur Jacobs")
    job = f"/api/v1/maintenance-jobs/{appointment['job_id']}"
    technician = Api(garage, "technician")
    technician(JOBS, "POST", job + "/start", {"assigned_technician": technician.subject})
    line = {"kind": "labour", "description": "Small service", "hours": "1.00", "hourly_rate": 6000}
    technician(JOBS, "POST", job + "/lines", {**line, "covered_by_booking": True})
    technician(JOBS, "POST", job + "/complete", {})
    Api(garage, "advisor")(JOBS, "POST", job + "/hand-over")
    garage.drain()
    (request,) = Api(garage, "admin")(
        "notification-management",
        "GET",
        "/api/v1/notifications",
        customer_id=appointment["customer"]["id"],
        type="feedback_request",
    )["items"]
    portal = garage.client_settings("customer-portal")
    token = requests.post(
        portal["SERVICE_TOKEN_URL"],
        data={"grant_type": "client_credentials"},
        auth=(portal["SERVICE_CLIENT_ID"], portal["SERVICE_CLIENT_SECRET"]),
        timeout=10,
    ).json()["access_token"]
    given = requests.post(
        garage.urls[JOBS] + "/api/v1/portal/visit/feedback",
        json={"rating": 4, "comment": "Friendly, and ready on time"},
        headers={
            "Authorization": f"Bearer {token}",
            "Portal-Link": request["data"]["link_url"].rsplit("/", 1)[1],
        },
        timeout=10,
    )
    assert given.status_code == 201, given.text


@pytest.mark.parametrize("locale", ["en-GB", "nl-NL"])
@pytest.mark.parametrize("role", sorted(PAGES))
def test_every_page_is_accessible(
    role: str,
    locale: str,
    console_garage: Any,
    offline_context: Any,
    console_sign_in: Any,
    accessibility_violations: Any,
    screenshot: Any,
    request: pytest.FixtureRequest,
) -> None:
    if role == "advisor":
        request.getfixturevalue("rated_visit")
    context = offline_context(locale=locale, viewport=WIDE, bypass_csp=True)
    page = console_sign_in(context, console_garage, role, PAGES[role][0])
    found: dict[str, list[tuple[str, str]]] = {}
    for path in PAGES[role]:
        answer = page.goto(console_garage.console_url + path)
        assert answer is not None and answer.status == 200, path
        assert page.locator("html").get_attribute("lang") == locale[:2]
        violations = accessibility_violations(page)
        if violations:
            found[path] = violations
        if locale == "en-GB" and path in SHOTS:
            screenshot(page, SHOTS[path])
    assert found == {}
    assert not context.refused
