"""Pages in a real browser: Debian's headless chromium driven by Playwright, with every
request to another host refused, as on a machine without internet."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from service_kit.testing import served

CHROMIUM = os.environ.get("GARAGE_CHROMIUM", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def offline_page(browser: Any) -> Iterator[Any]:
    """A page that may reach loopback only; ``page.refused`` lists what it tried beyond."""
    context = browser.new_context()
    refused: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.refused = refused
    yield page
    context.close()


@pytest.fixture
def serve() -> Iterator[Any]:
    """``serve(app)``: the WSGI app on a loopback port, its base URL back."""
    with contextlib.ExitStack() as servers:
        yield lambda app: servers.enter_context(served(app))


AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture(scope="session")
def accessibility_violations() -> Any:
    """``accessibility_violations(page)``: axe-core's serious and critical findings on
    the page as it is now, as ``(rule, selector)`` pairs (axe from npm: make test)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: make test installs it (npm ci --prefix tests/browser)")
    script = AXE.read_text()

    def check(page: Any) -> list[tuple[str, str]]:
        page.add_script_tag(content=script)
        violations = page.evaluate("axe.run().then(result => result.violations)")
        return [
            (violation["id"], " ".join(node["target"]))
            for violation in violations
            if violation["impact"] in {"serious", "critical"}
            for node in violation["nodes"]
        ]

    return check


@pytest.fixture
def offline_context(browser: Any) -> Iterator[Any]:
    """``offline_context(**options)``: a new browser context with Playwright's context
    options (``locale``, ``bypass_csp``...) that may reach loopback only, as
    ``offline_page``; ``context.refused`` lists what it tried beyond."""
    contexts = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**options)
        context.refused = []

        def only_loopback(route: Any) -> None:
            if urlsplit(route.request.url).hostname in {"127.0.0.1", "localhost"}:
                route.continue_()
            else:
                context.refused.append(route.request.url)
                route.abort("internetdisconnected")

        context.route("**/*", only_loopback)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def console_garage(postgres_server_url: str) -> Iterator[Any]:
    """The staff console with identity and the six services, real, in this process, on a
    database of their own (staff-console/tests/console_harness.py)."""
    import sys

    from service_kit.testing import database_of_its_own

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "staff-console" / "tests"))
    from console_harness import running_garage

    with database_of_its_own(postgres_server_url, "garage_browser") as url, running_garage(url) as garage:
        yield garage


SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def screenshot() -> Any:
    """``screenshot(page, name)``: the page as it looks, into docs/screenshots/<name>.png
    (the README shows them), when GARAGE_SCREENSHOTS=1; otherwise nothing."""

    def take(page: Any, name: str) -> None:
        if os.environ.get("GARAGE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(exist_ok=True)
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


WIDE = {"width": 1280, "height": 900}
TABLET = {"width": 768, "height": 1024}


@pytest.fixture(scope="session")
def console_sign_in() -> Any:
    """``console_sign_in(context, garage, role, path="/board")``: a new page of the
    context, at ``path`` of the console after signing in through identity's page as the
    development account of ``role``."""

    def sign_in(context: Any, garage: Any, role: str, path: str = "/board") -> Any:
        page = context.new_page()
        page.goto(garage.console_url + path)
        email, password = garage.accounts[role]
        page.fill("#email", email)
        page.fill("#password", password)
        page.click("button[type=submit]")
        page.wait_for_url(garage.console_url + path + "*")
        return page

    return sign_in
