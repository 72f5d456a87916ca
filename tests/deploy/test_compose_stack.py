"""The whole stack under Docker Compose, end to end, with no registry: every image built here
(the services on the Debian base, PostgreSQL, nginx and the mail catcher as stand-ins from
Debian packages, docker-compose.local.yml), `docker compose up`, and then the console served
through the ingress: signed in through identity's page, and the garage's day
(tests/browser/test_console_day.py) in Debian's chromium against it.

Expensive (the images, the stack's start, the browser): it runs with GARAGE_COMPOSE_E2E=1
only (`make compose-e2e`), not in `make test`.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import compose_local
import images
import pytest
import requests
from deploy_testing import ROOT, SUMMARY, unavailable

pytestmark = pytest.mark.skipif(
    os.environ.get("GARAGE_COMPOSE_E2E") != "1", reason="the compose stack runs with GARAGE_COMPOSE_E2E=1"
)

# Whose outbox an invoice waits on (the job's completion asks invoicing for it), by the path
# of its outbox messages behind the ingress.
OUTBOXES = (
    "/api/v1/workshop/outbox-messages",
    "/api/v1/maintenance-jobs/outbox-messages",
    "/api/v1/invoices/outbox-messages",
)


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The browser tests' fixtures (chromium, contexts that reach loopback only, axe, sign-in)
# and the garage's day itself, taken as they are.
sys.path.insert(0, str(ROOT / "staff-console" / "tests"))
_browser = _load("browser_conftest", ROOT / "tests" / "browser" / "conftest.py")
_day = _load("browser_console_day", ROOT / "tests" / "browser" / "test_console_day.py")
browser = _browser.browser
offline_context = _browser.offline_context
console_sign_in = _browser.console_sign_in
accessibility_violations = _browser.accessibility_violations
screenshot = _browser.screenshot


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def stack() -> Iterator[compose_local.Stack]:
    started = time.monotonic()
    try:
        engine = images.engine()
    except images.Unavailable as exc:
        unavailable(f"no Docker engine for the compose stack: {exc}")
    stack = compose_local.Stack(engine, port=free_port(), mail_port=free_port(), project="garage-e2e")
    try:
        stack.build()
        built = time.monotonic()
        stack.up()
        SUMMARY.append(
            f"compose stack: images built in {built - started:.0f} s, up and answering in "
            f"{time.monotonic() - built:.0f} s ({stack.url})"
        )
        yield stack
    except Exception:
        sys.stderr.write(stack.logs())
        raise
    finally:
        stack.down()
        engine.keep()


@dataclass
class _IdentityCommands:
    """What tests/browser's helpers ask of identity's app (its CLI), run in its container."""

    stack: compose_local.Stack

    def test_cli_runner(self) -> _IdentityCommands:
        return self

    def invoke(self, args: list[str]) -> Any:
        command = ("exec", "-T", "identity", "flask", "--app", "identity", *args)
        result = self.stack.compose(*command, check=False)
        return type("Result", (), {"exit_code": result.returncode, "output": result.stdout + result.stderr})


@dataclass
class ComposeGarage:
    """The stack in the shape tests/browser's garage-day test uses (console_harness.Garage):
    the console's URL, the development accounts, every service behind the ingress, identity's
    commands, and drain() - here the relays run in their containers, so it waits for them."""

    stack: compose_local.Stack
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def console_url(self) -> str:
        return self.stack.url

    @property
    def urls(self) -> dict[str, str]:
        return _Everywhere(self.stack.url)

    @property
    def apps(self) -> dict[str, Any]:
        return {"identity": _IdentityCommands(self.stack)}

    def _pending(self, path: str, headers: dict[str, str]) -> bool:
        answer = requests.get(f"{self.stack.url}{path}?status=pending", headers=headers, timeout=10)
        assert answer.status_code == 200, (path, answer.status_code, answer.text[:300])
        return bool(answer.json()["items"])

    def drain(self, timeout: float = 60) -> None:
        headers = {"Authorization": f"Bearer {self.stack.token('admin')}"}
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pending = [path for path in OUTBOXES if self._pending(path, headers)]
            if not pending:
                return
            time.sleep(1)
        pytest.fail(f"the relays left messages pending for {timeout:.0f} s: {pending}")


class _Everywhere(dict):  # type: ignore[type-arg]
    """Every service at the ingress's address."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url

    def __missing__(self, key: str) -> str:
        return self.url


@pytest.fixture(scope="module")
def console_garage(stack: compose_local.Stack) -> ComposeGarage:
    return ComposeGarage(stack, stack.accounts())


def test_the_console_signs_in_through_identity_behind_the_ingress(console_garage: ComposeGarage) -> None:
    """The code flow as a browser follows it, all through the one ingress address; the board;
    the browser files the image carries; an API behind the same ingress with identity's token."""
    base = console_garage.console_url
    email, password = console_garage.accounts["advisor"]
    browser = requests.Session()
    page = browser.get(base + "/board", timeout=10)
    assert page.status_code == 200 and page.url.startswith(base + "/oauth/"), page.url
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf, page.text[:500]
    answer = browser.post(
        page.url, data={"csrf_token": csrf.group(1), "email": email, "password": password}, timeout=10
    )
    assert answer.status_code == 200 and answer.url.startswith(base + "/board"), answer.url
    assert 'name="csrf_token"' in answer.text
    assert browser.get(base + "/vendor/htmx.min.js", timeout=10).status_code == 200
    token = console_garage.stack.token("advisor")
    headers = {"Authorization": f"Bearer {token}"}
    customers = requests.get(base + "/api/v1/customers", headers=headers, timeout=10)
    assert customers.status_code == 200, customers.text[:300]
    assert requests.get(base + "/api/v1/nothing", timeout=10).status_code == 404


@pytest.fixture(scope="module")
def owner_set_up(console_garage: ComposeGarage) -> dict[str, Any]:
    """What tests/browser/test_console_day.py's owner_set_up makes, made the same way."""
    with contextlib.suppress(AttributeError):
        return _day.owner_set_up.__wrapped__(console_garage)  # type: ignore[no-any-return]
    return _day.owner_set_up._get_wrapped_function()(console_garage)  # type: ignore[no-any-return]


def test_a_day_at_the_garage_in_chromium(
    console_garage: ComposeGarage,
    owner_set_up: dict[str, Any],
    offline_context: Any,  # the browser tests' fixture
    console_sign_in: Any,
    accessibility_violations: Any,
    screenshot: Any,
) -> None:
    started = time.monotonic()
    _day.test_a_day_at_the_garage(
        console_garage, owner_set_up, offline_context, console_sign_in, accessibility_violations, screenshot
    )
    SUMMARY.append(f"compose stack: the garage's day in chromium in {time.monotonic() - started:.0f} s")
