"""The console's tests run against the real garage, in this process: identity and the six
services as Flask apps served on loopback ports (service_kit.testing.served) on one fresh
PostgreSQL database, the six trusting identity's key set and calling each other with the
service tokens identity issues (client credentials), as production is wired. Nothing is
faked: a page that works here works against the services' real code. The outbox relays
do not run by themselves; ``drain`` delivers what is due, as the relay processes would."""

from __future__ import annotations

import base64
import contextlib
import html
import importlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urljoin

import requests
from flask import Flask
from staff_console.config import SERVICES as CONSOLE_CALLS

from service_kit.config import DEV_JWT_SECRET, development_client_secret
from service_kit.fakes import free_port
from service_kit.migrations import upgrade
from service_kit.outbox.relay import OutboxRelay
from service_kit.testing import served

SERVICES = tuple(CONSOLE_CALLS)  # the six, as the console's own settings name them
WITH_OUTBOX = ("workshop-scheduling", "maintenance-job-management", "invoicing")
FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_KIB": 8 * 1024}
# Eight apps in one process beside the rest of the run's tests, on one server: small pools,
# or the server's max_connections (100 for the embedded one) runs out.
SMALL_POOL = {"DB_POOL_SIZE": 2, "DB_MAX_OVERFLOW": 3}


def package(name: str) -> str:
    return name.replace("-", "_")


def env_prefix(name: str) -> str:
    return name.upper().replace("-", "_")


@dataclass
class Garage:
    database_url: str
    urls: dict[str, str] = field(default_factory=dict)
    apps: dict[str, Flask] = field(default_factory=dict)
    accounts: dict[str, tuple[str, str]] = field(default_factory=dict)  # role -> (email, password)

    @property
    def issuer(self) -> str:
        return self.urls["identity"]

    @property
    def console_url(self) -> str:
        return self.urls["staff-console"]

    def service_settings(self, name: str) -> dict[str, Any]:
        settings: dict[str, Any] = {
            "TESTING": True,
            "DATABASE_URL": self.database_url,
            "RATE_LIMIT_ENABLED": False,
            **SMALL_POOL,
            "JWT_ISSUER": self.issuer,
            "JWT_JWKS_URL": self.issuer + "/.well-known/jwks.json",
            "JWT_ALGORITHMS": ["ES256"],
            "SERVICE_TOKEN_URL": self.issuer + "/oauth/token",
            "SERVICE_CLIENT_ID": name,
            "SERVICE_CLIENT_SECRET": development_client_secret(DEV_JWT_SECRET, name),
        }
        for peer in SERVICES:
            settings[f"{env_prefix(peer)}_URL"] = self.urls[peer]
            settings[f"{env_prefix(peer)}_READ_TIMEOUT_SECONDS"] = 5.0
        return settings

    def drain(self, rounds: int = 3) -> None:
        """Deliver every outbox message that is due, a few rounds (a delivery may cause more)."""
        for _ in range(rounds):
            for name in WITH_OUTBOX:
                app = self.apps[name]
                with app.app_context():
                    OutboxRelay.for_app(app).run_once()

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


def csrf_of(page: requests.Response) -> str:
    """The CSRF token of the first form on a console page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return match.group(1)


def absolute(base: str, location: str) -> str:
    return urljoin(base, location)


@contextlib.contextmanager
def running_garage(database_url: str, console_settings: dict[str, Any] | None = None) -> Iterator[Garage]:
    garage = Garage(database_url)
    ports = {name: free_port() for name in ("identity", *SERVICES, "staff-console")}
    garage.urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    from identity.config import client_settings

    identity = importlib.import_module("identity").create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "RATE_LIMIT_ENABLED": False,
            "IDENTITY_ISSUER": garage.issuer,
            # Its development clients (the six, the console), the console's on this port.
            "OAUTH_CLIENTS": client_settings(
                {"CONSOLE_REDIRECT_URIS": garage.console_url + "/auth/callback"}, DEV_JWT_SECRET, False
            ),
            **FAST_ARGON2,
            **SMALL_POOL,
        }
    )
    upgrade(identity)
    result = identity.test_cli_runner().invoke(args=["development-accounts"])
    assert result.exit_code == 0, result.output
    garage.accounts = {role: (email, pw) for role, email, pw in map(str.split, result.output.splitlines())}
    garage.apps["identity"] = identity
    for name in SERVICES:
        app = importlib.import_module(package(name)).create_app(garage.service_settings(name))
        upgrade(app)
        garage.apps[name] = app
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
    console = create_app(load_config({**overrides, **(console_settings or {})}, env=environment))
    upgrade(console)
    garage.apps["staff-console"] = console
    with contextlib.ExitStack() as stack:
        for name, app in garage.apps.items():
            stack.enter_context(served(app, ports[name]))
        yield garage


@contextlib.contextmanager
def service_stopped(garage: Garage, name: str) -> Iterator[None]:
    """``name`` stopped, as the console sees it: its client points at an address nobody
    answers on (service_kit.fakes.closed_url) until the block ends; the service itself and
    everyone else's calls to it are untouched."""
    from dataclasses import replace

    from staff_console.garage import EXTENSION
    from staff_console.sign_in import access_token

    from service_kit.fakes import closed_url
    from service_kit.http_client import ServiceClient

    clients = garage.apps["staff-console"].extensions[EXTENSION]
    running = clients[name]
    clients[name] = ServiceClient(
        name, replace(running.settings, base_url=closed_url(), retries=0), token=access_token
    )
    try:
        yield
    finally:
        clients[name] = running


# --------------------------------------------------------- data made through the APIs


@dataclass
class Api:
    """A service's API as a person of one role calls it (an identity development token for
    that role's development account: the same subject as ``garage.signed_in(role)``)."""

    garage: Garage
    role: str
    token: str = ""

    def __post_init__(self) -> None:
        result = self.garage.apps["identity"].test_cli_runner().invoke(args=["development-token", self.role])
        assert result.exit_code == 0, result.output
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
        assert answer.status_code < 300, (method, path, answer.status_code, answer.text[:500])
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
) -> dict[str, Any]:
    """A new customer and vehicle booked at the first free hour from today (a bay made
    when there is none; with ``technician_name``, that technician planned: the one linked
    to ``account_subject`` when given, else the one of that name, made when there is
    none): the appointment, with ``customer`` and ``vehicle``. Its job is in
    maintenance-job-management as ``job_id``."""
    admin = Api(garage, "admin")
    customer = admin(
        "customer-management",
        "POST",
        "/api/v1/customers",
        {"kind": "person", "name": customer_name, "email": f"{uuid.uuid4().hex[:10]}@example.nl"},
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
    today = date.today()
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


def form_fields(page: requests.Response, action_end: str) -> dict[str, str]:
    """The first form on a console page posting to a path ending in ``action_end``: its
    ``action`` and hidden fields (CSRF token, idempotency key, ETag ...), unescaped as a
    browser sends them."""
    pattern = r'<form method="post" action="([^"]*' + re.escape(action_end) + r')"[^>]*>(.*?)</form>'
    match = re.search(pattern, page.text, re.S)
    assert match, f"no form posting to ...{action_end}"
    hidden = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', match.group(2))
    return {"action": html.unescape(match.group(1)), **{name: html.unescape(value) for name, value in hidden}}


def submit(browser: requests.Session, garage: Garage, form: dict[str, str], **data: str) -> requests.Response:
    """Send a form read with ``form_fields`` (a copy: the same one may be sent again), with
    the fields a person fills in."""
    fields = dict(form)
    action = fields.pop("action")
    return browser.post(garage.console_url + action, data={**fields, **data}, timeout=10)


@contextlib.contextmanager
def calls_held_to_the_contracts(garage: Garage) -> Iterator[list[str]]:
    """Every call the console makes meanwhile, held to the committed contract of the
    service it goes to (the only agreement): an operation of that contract, each body
    sent that was taken what the operation accepts, each answer what it promises. The
    problems found are in the list when the block ends."""
    from pathlib import Path

    from staff_console.garage import EXTENSION

    from service_kit.contract_testing import (
        contract_document,
        find_contract,
        validate_request,
        validate_response,
    )

    clients = garage.apps["staff-console"].extensions[EXTENSION]
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

        client.request = recorded
    problems: list[str] = []
    try:
        yield problems
    finally:
        for name, client in clients.items():
            client.request = originals[name]
    for service, method, path, sent, status, answer in calls:
        contract = find_contract(service, start=Path(__file__))
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
