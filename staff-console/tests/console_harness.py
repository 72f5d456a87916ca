"""The console's tests run against the real garage, in this process: identity and the six
services on one fresh PostgreSQL database, as production is wired
(service_kit.garage_harness), and the console beside them. What is the console's own is
here: its address, signing in through identity's page, its settings, and its service
clients for ``service_stopped`` and the contract check."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests
from flask import Flask
from staff_console.config import SERVICES as CONSOLE_CALLS

from service_kit import garage_harness
from service_kit.garage_harness import (
    SMALL_POOL,
    Api,
    absolute,
    booked_appointment,
    csrf_of,
    env_prefix,
    form_fields,
    package,
)

__all__ = [
    "SERVICES",
    "Api",
    "Garage",
    "absolute",
    "booked_appointment",
    "calls_held_to_the_contracts",
    "csrf_of",
    "env_prefix",
    "form_fields",
    "package",
    "running_garage",
    "service_stopped",
    "submit",
]

SERVICES = tuple(CONSOLE_CALLS)  # the six, as the console's own settings name them


class Garage(garage_harness.Garage):
    @property
    def console_url(self) -> str:
        return self.urls["staff-console"]

    def identity_environment(self) -> dict[str, str]:
        # The console's callback on this run's port.
        return {"CONSOLE_REDIRECT_URIS": self.console_url + "/auth/callback"}

    def signed_in(self, role: str) -> requests.Session:
        """A browser-less person of ``role`` signed in to the console through identity's
        sign-in page (the code flow as a browser follows it): a session with the cookie."""
        email, password = self.accounts[role]
        browser = requests.Session()
        page = browser.get(self.console_url + "/auth/sign-in", timeout=10)
        assert page.status_code == 200 and "csrf_token" in page.text, page.text[:500]
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        answer = browser.post(
            page.url,
            data={"csrf_token": csrf.group(1), "email": email, "password": password},
            timeout=10,
        )
        assert answer.url.startswith(self.console_url), answer.url
        return browser


@contextlib.contextmanager
def running_garage(database_url: str, console_settings: dict[str, Any] | None = None) -> Iterator[Garage]:
    def console(garage: Garage) -> Flask:
        from staff_console import create_app
        from staff_console.config import load_config

        # The console's settings as its environment would give them (it derives the
        # provider's endpoints from the issuer), then the test's own.
        environment = {
            "CONSOLE_URL": garage.console_url,
            "IDENTITY_ISSUER": garage.issuer,
            **{f"{env_prefix(name)}_URL": garage.urls[name] for name in SERVICES},
        }
        overrides = {"TESTING": True, "DATABASE_URL": database_url, "RATE_LIMIT_ENABLED": False, **SMALL_POOL}
        return create_app(load_config({**overrides, **(console_settings or {})}, env=environment))

    with garage_harness.running_garage(Garage(database_url, SERVICES), {"staff-console": console}) as garage:
        yield garage


def _clients(garage: Garage) -> dict[str, Any]:
    from staff_console.garage import EXTENSION

    clients: dict[str, Any] = garage.apps["staff-console"].extensions[EXTENSION]
    return clients


@contextlib.contextmanager
def service_stopped(garage: Garage, name: str) -> Iterator[None]:
    """``name`` stopped, as the console sees it (service_kit.garage_harness.service_stopped)."""
    with garage_harness.service_stopped(_clients(garage), name):
        yield


def submit(browser: requests.Session, garage: Garage, form: dict[str, str], **data: str) -> requests.Response:
    """Send a console form read with ``form_fields``, with the fields a person fills in."""
    return garage_harness.submit(browser, garage.console_url, form, **data)


@contextlib.contextmanager
def calls_held_to_the_contracts(garage: Garage) -> Iterator[list[str]]:
    """Every call the console makes meanwhile, held to the committed contracts."""
    with garage_harness.calls_held_to_the_contracts(_clients(garage), Path(__file__)) as problems:
        yield problems
