"""The six services as the console calls them: the kit's HTTP client (timeouts, retries,
breaker, a 503 naming the service) with the signed-in person's token, the committed
contracts as the only agreement. A page asks for what it shows; what a service answers
below 500 comes back as data or as a ``ServiceRefused`` carrying the problem."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask import Flask, current_app

from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient
from service_kit.web import ServiceRefused
from staff_console.config import SERVICES
from staff_console.sign_in import access_token

EXTENSION = "staff_console_services"
T = TypeVar("T")


def init_services(app: Flask) -> None:
    app.extensions[EXTENSION] = {
        name: ServiceClient(
            name,
            ClientSettings.from_config(app.config, name),
            token=access_token,
            user_agent="garage-staff-console",
        )
        for name in SERVICES
    }
    # identity's admin API (staff accounts), only when identity is the provider (config.py).
    if app.config.get("IDENTITY_URL") and not app.config.get("OIDC_ISSUER"):
        app.extensions[EXTENSION]["identity"] = ServiceClient(
            "identity",
            ClientSettings.from_config(app.config, "identity"),
            token=access_token,
            user_agent="garage-staff-console",
        )


def _client(service: str) -> ServiceClient:
    return current_app.extensions[EXTENSION][service]


def call(
    service: str,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotency_key: str | None = None,
    if_match: str | None = None,
) -> Any:
    """One call; the JSON answer (None for 204), else ``ServiceRefused`` (4xx) or
    ``DependencyFailed`` (the service is not answering)."""
    if "//" in path or path.endswith("/"):
        # A form that named no id (an empty field): no such resource, and nothing to ask.
        raise ServiceRefused(service, 404, {"title": "Not Found", "detail": "no id was given"})
    headers = {"If-Match": if_match} if if_match else None
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    response = _client(service).request(
        method, path, params=clean, json=json, headers=headers, idempotency_key=idempotency_key
    )
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"title": response.reason}
        raise ServiceRefused(service, response.status_code, problem if isinstance(problem, dict) else {})
    if response.status_code == 204 or not response.content:
        return None
    body = response.json()
    if response.headers.get("ETag") and isinstance(body, dict):
        body.setdefault("_etag", response.headers["ETag"])
    return body


def get(service: str, path: str, **params: Any) -> Any:
    return call(service, "GET", path, params=params)


def get_bytes(service: str, path: str, **params: Any) -> tuple[bytes, str]:
    """A document (a PDF): its bytes and content type."""
    response = _client(service).request("GET", path, params=params, headers={"Accept": "application/pdf"})
    if response.status_code >= 400:
        raise ServiceRefused(service, response.status_code, {"title": response.reason})
    return response.content, response.headers.get("Content-Type", "application/octet-stream")


def every(service: str, path: str, *, limit: int = 500, **params: Any) -> list[dict[str, Any]]:
    """All items of a list endpoint (its ``items`` and ``next_cursor``), up to ``limit``."""
    items: list[dict[str, Any]] = []
    cursor = None
    while len(items) < limit:
        page = get(service, path, cursor=cursor, **params)
        items.extend(page.get("items", []))
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return items[:limit]


def new_form_key() -> str:
    """An ``Idempotency-Key`` made when a create form is shown and sent with it: a
    double-click or a resend posts the same key, so the service does the work once."""
    return str(uuid.uuid4())


@dataclass
class Part(Generic[T]):
    """A part of a page: its data, or the service that did not answer for it."""

    value: T | None = None
    unavailable: str | None = None
    error: ServiceRefused | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def part(load: Callable[[], T]) -> Part[T]:
    """Load one part of a page; a service that is down spoils only this part."""
    try:
        return Part(value=load())
    except DependencyFailed as exc:
        return Part(unavailable=exc.dependency or "a service")
    except ServiceRefused as exc:
        return Part(error=exc)
