"""A whole garage in the test process, for the web apps' tests (the staff console, the
customer portal): identity and the services as Flask apps served on loopback ports
(service_kit.testing.served) on one fresh PostgreSQL database, the services trusting
identity's key set and calling each other with the service tokens identity issues
(client credentials), as production is wired, and the web apps the test names beside
them. Nothing is faked: a page that works here works against the services' real code.
The outbox relays do not run by themselves; ``Garage.drain`` delivers what is due, as
the relay processes would.

An app's own harness (staff-console/tests/console_harness.py,
customer-portal/tests/portal_harness.py) subclasses ``Garage`` with what is its own
(signing in, its URL) and gives ``running_garage`` the factory of its app.
"""

from __future__ import annotations

import base64
import contextlib
import html
import importlib
import json
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urljoin

import requests
from flask import Flask

from service_kit.config import DEV_JWT_SECRET, development_client_secret
from service_kit.fakes import closed_url, free_port
from service_kit.http_client import ServiceClient
from service_kit.migrations import upgrade
from service_kit.outbox.relay import OutboxRelay
from service_kit.outbox.table import OUTBOX_TABLE
from service_kit.testing import served

# The six services of the garage, in the order they are started.
SIX = (
    "customer-management",
    "vehicle-management",
    "workshop-scheduling",
    "maintenance-job-management",
    "invoicing",
    "notification-management",
)
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8 * 1024}
# Many apps in one process beside the rest of the run's tests, on one server: small pools,
# or the server's max_connections (100 for the embedded one) runs out.
SMALL_POOL = {"DB_POOL_SIZE": 2, "DB_MAX_OVERFLOW": 3}


def expect(condition: Any, what: Any) -> None:
    """A test helper's failure, as an assert would fail (kept when Python optimises)."""
    if not condition:
        raise AssertionError(what)


def package(name: str) -> str:
    return name.replace("-", "_")


def env_prefix(name: str) -> str:
    return name.upper().replace("-", "_")


@dataclass
class Garage:
    database_url: str
    services: tuple[str, ...] = SIX
    urls: dict[str, str] = field(default_factory=dict)
    apps: dict[str, Flask] = field(default_factory=dict)
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (email, password)

    @property
    def issuer(self) -> str:
        return self.urls["identity"]

    def identity_environment(self) -> dict[str, str]:
        """What identity's client registrations read from its environment (a web app's
        callback, say); a subclass adds its own."""
        return {}

    def service_settings(self, name: str) -> dict[str, Any]:
        """A service's settings in this garage: the database, identity's key set, its
        client credentials, its peers' addresses, and the portal's when one runs."""
        settings: dict[str, Any] = {
            "TESTING": True,
            "DATABASE_URL": self.database_url,
            "RATE_LIMIT_ENABLED": False,
            **SMALL_POOL,
            "JWT_ISSUER": self.issuer,
            "JWT_JWKS_URL": self.issuer + "/.well-known/jwks.json",
            "JWT_ALGORITHMS": ["ES256"],
            **self.client_settings(name),
        }
        for peer in self.services:
            settings[f"{env_prefix(peer)}_URL"] = self.urls[peer]
            settings[f"{env_prefix(peer)}_READ_TIMEOUT_SECONDS"] = 5.0
        if "customer-portal" in self.urls:
            settings["PORTAL_URL"] = self.urls["customer-portal"]
        return settings

    def client_settings(self, client_id: str) -> dict[str, Any]:
        """How an app gets its own token from identity: client credentials as ``client_id``
        (its development secret)."""
        return {
            "SERVICE_TOKEN_URL": self.issuer + "/oauth/token",
            "SERVICE_CLIENT_ID": client_id,
            "SERVICE_CLIENT_SECRET": development_client_secret(DEV_JWT_SECRET, client_id),
        }

    def drain(self, rounds: int = 3) -> None:
        """Deliver every outbox message that is due, a few rounds (a delivery may cause more)."""
        for _ in range(rounds):
            for name in self.services:
                app = self.apps[name]
                if has_outbox(app):
                    with app.app_context():
                        OutboxRelay.for_app(app).run_once()


def has_outbox(app: Flask) -> bool:
    metadata = app.extensions["sqlalchemy"].metadata
    return f"{metadata.schema}.{OUTBOX_TABLE}" in metadata.tables


G = TypeVar("G", bound=Garage)
AppFactory = Callable[[G], Flask]


@contextlib.contextmanager
def running_garage(garage: G, web_apps: Mapping[str, AppFactory[G]] | None = None) -> Iterator[G]:
    """identity, ``garage.services`` and the ``web_apps`` (name -> factory, given the
    garage with every address known) migrated and served, each on a port of its own,
    until the block ends."""
    web_apps = dict(web_apps or {})
    ports = {name: free_port() for name in ("identity", *garage.services, *web_apps)}
    garage.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    from identity.config import client_settings

    identity = importlib.import_module("identity").create_app(
        {
            "TESTING": True,
            "DATABASE_URL": garage.database_url,
            "RATE_LIMIT_ENABLED": False,
            "IDENTITY_ISSUER": garage.issuer,
            # Its development clients (the services, the portal, the console).
            "OAUTH_CLIENTS": client_settings(garage.identity_environment(), DEV_JWT_SECRET, False),
            **FAST_ARGON2,
            **SMALL_POOL,
        }
    )
    upgrade(identity)
    result = identity.test_cli_runner().invoke(args=["development-accounts"])
    expect(result.exit_code == 0, result.output)
    garage.accounts = {role: (email, pw) for role, email, pw in map(str.split, result.output.splitlines())}
    garage.apps["identity"] = identity
    for name in garage.services:
        app = importlib.import_module(package(name)).create_app(garage.service_settings(name))
        upgrade(app)
        garage.apps[name] = app
    for name, make in web_apps.items():
        app = make(garage)
        upgrade(app)
        garage.apps[name] = app
    with contextlib.ExitStack() as stack:
        for name, app in garage.apps.items():
            stack.enter_context(served(app, ports[name]))
        yield garage


@contextlib.contextmanager
def service_stopped(clients: dict[str, ServiceClient], name: str) -> Iterator[None]:
    """``name`` stopped, as the app holding ``clients`` (its ServiceClients by service) sees
    it: its client points at an address nobody answers on until the block ends; the
    service itself and everyone else's calls to it are untouched."""
    running = clients[name]
    clients[name] = ServiceClient(
        name,
        replace(running.settings, base_url=closed_url(), retries=0),
        token=running._token,
    )
    try:
        yield
    finally:
        clients[name] = running


# --------------------------------------------------------- data made through the APIs


@dataclass
class Api:
    """A service's API as a person of one role calls it (an identity development token for
    that role's development account)."""

    garage: Garage
    role: str
    token: str = ""

    def __post_init__(self) -> None:
        result = self.garage.apps["identity"].test_cli_runner().invoke(args=["development-token", self.role])
        expect(result.exit_code == 0, result.output)
        self.token = result.output.strip()

    def __call__(self, service: str, method: str, path: str, body: Any = None, **params: Any) -> Any:
        answer = requests.request(
            method,
            self.garage.urls[service] + path,
            json=body,
            params=params or None,
            headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        expect(answer.status_code < 300, (method, path, answer.status_code, answer.text[:500]))
        return answer.json() if answer.content else None

    @property
    def subject(self) -> str:
        """The account's id, as its token names it (``sub``)."""
        payload = self.token.split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def booked_appointment(
    garage: Garage,
    customer_name: str,
    *,
    technician_name: str | None = None,
    account_subject: str | None = None,
    work: str = "Small service",
    email: str | None = None,
    days_ahead: int = 0,
) -> dict[str, Any]:
    """A new customer and vehicle booked at the first free hour from today (or
    ``days_ahead`` days from today; a bay made
    when there is none; with ``technician_name``, that technician planned: the one linked
    to ``account_subject`` when given, else the one of that name, made when there is
    none): the appointment, with ``customer`` and ``vehicle``. Its job is in
    maintenance-job-management as ``job_id``."""
    admin = Api(garage, "admin")
    customer = admin(
        "customer-management",
        "POST",
        "/api/v1/customers",
        {"kind": "person", "name": customer_name, "email": email or f"{uuid.uuid4().hex[:10]}@example.nl"},
    )
    n = uuid.uuid4().int
    letters = "".join("BDFGHJKLNPRSTVXZ"[(n >> (4 * i)) % 16] for i in range(3))
    plate = f"{n % 90 + 10}-{letters}-{n % 9 + 1}"  # the Dutch side code 99-XXX-9
    vehicle = admin(
        "vehicle-management",
        "POST",
        "/api/v1/vehicles",
        {"owner_id": customer["id"], "plate": plate, "make": "Toyota", "model": "Yaris"},
    )
    scheduling = "workshop-scheduling"
    if not admin(scheduling, "GET", "/api/v1/workshop/bays", active="true")["items"]:
        admin(scheduling, "POST", "/api/v1/workshop/bays", {"kind": "lift", "name": "Lift A"})
    body: dict[str, Any] = {"vehicle_id": vehicle["id"], "work_description": work}
    if technician_name:
        known = admin(scheduling, "GET", "/api/v1/workshop/technicians", active="true", limit=200)["items"]
        technician = next(
            (
                t
                for t in known
                if (
                    t["account_subject"] == account_subject
                    if account_subject
                    else t["name"] == technician_name
                )
            ),
            None,
        ) or admin(
            scheduling,
            "POST",
            "/api/v1/workshop/technicians",
            {"name": technician_name, **({"account_subject": account_subject} if account_subject else {})},
        )
        body["technician_id"] = technician["id"]
    today = date.today() + timedelta(days=days_ahead)
    slots = admin(
        scheduling,
        "GET",
        "/api/v1/availability",
        **{"from": today.isoformat(), "to": (today + timedelta(days=13)).isoformat(), "duration": 60},
    )["slots"]
    for slot in slots:
        answer = requests.post(
            garage.urls[scheduling] + "/api/v1/appointments",
            json={**body, "start": slot["start"], "end": slot["end"]},
            headers={"Authorization": f"Bearer {admin.token}", "Idempotency-Key": str(uuid.uuid4())},
            timeout=10,
        )
        if answer.status_code == 201:  # else the technician is busy then: the next slot
            return {**answer.json(), "customer": customer, "vehicle": vehicle}
    raise AssertionError("no free hour in two weeks")


# ------------------------------------------------------------------ pages and forms


def csrf_of(page: requests.Response) -> str:
    """The CSRF token of the first form on a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if match is None:
        raise AssertionError(page.text[:500])
    return match.group(1)


def absolute(base: str, location: str) -> str:
    return urljoin(base, location)


def form_fields(page: requests.Response, action_end: str) -> dict[str, str]:
    """The first form on a page posting to a path ending in ``action_end``: its ``action``
    and hidden fields (CSRF token, idempotency key, ETag ...), unescaped as a browser
    sends them."""
    pattern = r'<form method="post" action="([^"]*' + re.escape(action_end) + r')"[^>]*>(.*?)</form>'
    match = re.search(pattern, page.text, re.S)
    if match is None:
        raise AssertionError(f"no form posting to ...{action_end}")
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(2))
    return {"action": html.unescape(match.group(1)), **{name: html.unescape(value) for name, value in hidden}}


def submit(browser: requests.Session, base_url: str, form: dict[str, str], **data: str) -> requests.Response:
    """Send a form read with ``form_fields`` (a copy: the same one may be sent again) to the
    app at ``base_url``, with the fields a person fills in."""
    fields = dict(form)
    action = fields.pop("action")
    return browser.post(base_url + action, data={**fields, **data}, timeout=10)


@contextlib.contextmanager
def calls_held_to_the_contracts(clients: dict[str, ServiceClient], start: Path) -> Iterator[list[str]]:
    """Every call made meanwhile through ``clients`` (an app's ServiceClients by service),
    held to the committed contract of the service it goes to (the only agreement; found
    above ``start``): an operation of that contract, each body sent what the operation
    accepts, each answer what it promises. The problems found are in the list when the
    block ends."""
    from service_kit.contract_testing import (
        contract_document,
        find_contract,
        validate_request,
        validate_response,
    )

    calls: list[tuple[str, str, str, Any, int, Any]] = []
    originals = {name: client.request for name, client in clients.items()}
    for name, client in clients.items():

        def recorded(
            method: str, path: str, *args: Any, _name: str = name, _send: Any = client.request, **kw: Any
        ) -> Any:
            answer = _send(method, path, *args, **kw)
            json_answer = answer.content and "json" in answer.headers.get("Content-Type", "")
            calls.append(
                (
                    _name,
                    method.upper(),
                    path,
                    kw.get("json"),
                    answer.status_code,
                    answer.json() if json_answer else None,
                )
            )
            return answer

        client.request = recorded  # type: ignore[method-assign]
    problems: list[str] = []
    try:
        yield problems
    finally:
        for name, client in clients.items():
            client.request = originals[name]  # type: ignore[method-assign]
    for service, method, path, sent, status, answer in calls:
        contract = find_contract(service, start=start)
        document = contract_document(contract)
        templates = [
            template
            for template, operations in document["paths"].items()
            if method.lower() in operations
            and re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path.split("?")[0])
        ]
        if not templates:
            problems.append(f"{service}: no {method} {path} in its contract")
            continue
        template = min(templates, key=lambda t: t.count("{"))
        try:
            if sent is not None and status < 300:
                validate_request(contract, method, template, sent)
            if answer is not None and status < 500:
                validate_response(contract, method, template, status, answer)
        except AssertionError as exc:
            problems.append(str(exc))
