"""The three services as the portal calls them: the kit's HTTP client (timeouts, retries,
breaker, a 503 naming the service) with the portal's own service identity, the
customer's link in ``Portal-Link`` and their address in ``Portal-Client-Address``. The
portal never reads the link: the service that issued it decides what it allows, and a
refusal comes back as ``LinkRefused`` (the link) or ``ServiceRefused`` (anything else below 500)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from flask import Flask, current_app, request

from customer_portal.config import SERVICES
from service_kit.http_client import ClientSettings, DependencyFailed, ServiceClient, ServiceToken
from service_kit.links import CLIENT_ADDRESS_HEADER, CLIENT_ADDRESS_MAX_LENGTH, LINK_HEADER
from service_kit.web import ServiceRefused

EXTENSION = "customer_portal_services"
# What a link token may look like before it is passed on at all (a JWT: three base64url
# parts). Anything else cannot be a link, and is not worth a call.
TOKEN_SHAPE = re.compile(r"^[A-Za-z0-9_-]{8,1200}\.[A-Za-z0-9_-]{8,2400}\.[A-Za-z0-9_-]{8,700}$")
LINK_PROBLEMS = {"link-not-valid": "not-valid", "link-expired": "expired", "link-revoked": "revoked"}


class LinkRefused(Exception):
    """The link will not do: ``not-valid`` (tampered, unknown, another purpose: 403),
    ``expired`` or ``revoked`` (410)."""

    def __init__(self, kind: str, status: int) -> None:
        super().__init__(kind)
        self.kind = kind
        self.status = status


def init_services(app: Flask) -> None:
    token = ServiceToken(app.config)  # identity's client credentials, shared by the three
    app.extensions[EXTENSION] = {
        name: ServiceClient(
            name,
            ClientSettings.from_config(app.config, name),
            token=token,
            user_agent="garage-customer-portal",
        )
        for name in SERVICES
    }


def client(service: str) -> ServiceClient:
    return current_app.extensions[EXTENSION][service]


def client_address() -> str:
    return (request.remote_addr or "")[:CLIENT_ADDRESS_MAX_LENGTH]


def check_shape(token: str) -> None:
    """A token that cannot be a link is refused as one, without asking anybody."""
    if not TOKEN_SHAPE.match(token):
        raise LinkRefused("not-valid", 403)


def send(
    service: str,
    method: str,
    path: str,
    token: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotency_key: str | None = None,
    accept: str = "application/json",
) -> Any:
    """One call for the customer holding ``token``: the raw response below 400, else
    ``LinkRefused``/``ServiceRefused``; ``DependencyFailed`` when the service is not answering."""
    check_shape(token)
    headers = {LINK_HEADER: token, CLIENT_ADDRESS_HEADER: client_address(), "Accept": accept}
    clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
    response = client(service).request(
        method, path, params=clean, json=json, headers=headers, idempotency_key=idempotency_key
    )
    if response.status_code < 400:
        return response
    try:
        problem = response.json()
    except ValueError:
        problem = {"title": response.reason}
    if not isinstance(problem, dict):
        problem = {}
    kind = LINK_PROBLEMS.get(str(problem.get("type") or "").rsplit(":", 1)[-1])
    if kind:
        raise LinkRefused(kind, response.status_code)
    if response.status_code == 401:
        # The portal's own identity was refused (a wrong client secret, identity's keys not
        # trusted): nothing the customer did; the page says the service is unavailable.
        current_app.logger.error("%s refused the portal's service token: %s", service, problem)
        raise DependencyFailed(service, f"{service} refused the portal's identity")
    if response.status_code in (403, 404):
        # Not the link's own refusal but still nothing this link may see (a thing that is
        # gone, a role the service refuses): the same plain page, nothing shown.
        current_app.logger.warning("%s refused the portal: %s %s", service, response.status_code, problem)
        raise LinkRefused("not-valid", response.status_code)
    raise ServiceRefused(service, response.status_code, problem)


def call(
    service: str,
    method: str,
    path: str,
    token: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    idempotency_key: str | None = None,
) -> Any:
    """``send``, the JSON answer (None for an empty one)."""
    response = send(service, method, path, token, params=params, json=json, idempotency_key=idempotency_key)
    if response.status_code == 204 or not response.content:
        return None
    return response.json()


def get(service: str, path: str, token: str, **params: Any) -> Any:
    return call(service, "GET", path, token, params=params)
