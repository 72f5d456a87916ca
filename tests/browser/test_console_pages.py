"""Every page of the console's accounts and set-up in chromium for the role that uses it:
axe finds no serious or critical violation, in English and in Dutch, and nothing loads
from beyond loopback. (The front desk's, the job card's and the workshop's pages are
checked on the way through a day in test_console.py and test_console_day.py.)"""

from __future__ import annotations

from typing import Any

import pytest

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
    "accountant": [
        "/accounts/invoices",
        "/accounts/receivables",
        "/accounts/cash-up",
        "/accounts/credit-notes",
    ],
}
SHOTS = {"/setup": "setup", "/accounts/invoices": "invoices", "/accounts/cash-up": "cash-up"}


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
) -> None:
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
