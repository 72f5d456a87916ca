"""The three services the portal calls, faked at the HTTP boundary (service_kit.fakes):
each answers the ``/api/v1/portal/...`` operations a test gives it, only for a link it
was told about, and every answer is checked against the service's committed contract
and so is every body the portal sends (an operation the contract lacks is noted in
``missing``, which the ``fakes`` fixture holds empty).
A link the fake was told to refuse is answered as service_kit.links answers it."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service_kit.contract_testing import contract_document, find_contract, validate_request
from service_kit.fakes import ContractServer, Received, problem

Handler = Callable[[Received], tuple[int, Any]]
LINK_REFUSALS = {
    "not-valid": (403, "link-not-valid"),
    "expired": (410, "link-expired"),
    "revoked": (410, "link-revoked"),
}


class PortalService(ContractServer):
    def __init__(self, service: str) -> None:
        self.service = service
        self.routes: dict[tuple[str, str], Handler] = {}
        self.links: dict[str, str] = {}  # token -> purpose
        self.refusals: dict[str, str] = {}  # token -> not-valid | expired | revoked
        self.missing: set[str] = set()
        super().__init__(find_contract(service, start=Path(__file__)))

    def route(self, method: str, path: str, handler: Handler | tuple[int, Any]) -> None:
        """``method path`` answers ``handler(request)``, or always the (status, body) given."""
        if isinstance(handler, tuple):
            status, body = handler
            self.routes[(method, path)] = lambda _request: (status, copy.deepcopy(body))
        else:
            self.routes[(method, path)] = handler

    def link(self, token: str, purpose: str) -> str:
        self.links[token] = purpose
        return token

    def refuse(self, token: str, kind: str) -> str:
        self.refusals[token] = kind
        return token

    def handle(self, request: Received) -> tuple[int, Any, str]:
        documented = request.path
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return 401, problem(401, "no token"), documented
        token = request.headers.get("Portal-Link", "")
        if token in self.refusals:
            status, kind = LINK_REFUSALS[self.refusals[token]]
            return status, problem(status, "the link will not do", kind=kind), documented
        if token not in self.links:
            return 403, problem(403, "not a link of ours", kind="link-not-valid"), documented
        operation = (
            contract_document(self.contract)["paths"].get(request.path, {}).get(request.method.lower())
        )
        if operation is not None and "requestBody" in operation:
            # What the portal sends is held to the contract too.
            validate_request(self.contract, request.method, request.path, request.json)
        handler = self.routes.get((request.method, request.path))
        if handler is None:
            return 404, problem(404, f"no {request.method} {request.path} in this fake"), documented
        status, body = handler(request)
        return status, body, documented

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        if path in contract_document(self.contract)["paths"]:
            super().check(method, path, status, body)
        else:
            self.missing.add(f"{self.service}: {method} {path}")

    def reset(self) -> None:
        super().reset()
        self.routes.clear()
        self.links.clear()
        self.refusals.clear()
        self.missing.clear()


def portal_settings(database_url: str, fakes: dict[str, PortalService], **extra: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "RATE_LIMIT_ENABLED": False,
        "DB_POOL_SIZE": 2,
        "DB_MAX_OVERFLOW": 3,
        # The portal's identity without identity: a ready token (ServiceToken takes it as is).
        "SERVICE_TOKEN": "portal-test-token",
        "GARAGE_NAME": "Garage De Vries",
        "GARAGE_PHONE": "+31 20 123 4567",
    }
    for name, fake in fakes.items():
        prefix = name.upper().replace("-", "_")
        settings[f"{prefix}_URL"] = fake.url
        settings[f"{prefix}_RETRIES"] = 0
    settings.update(extra)
    return settings
