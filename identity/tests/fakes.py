"""notification-management faked at the HTTP boundary (``service_kit.fakes``): a real
server on loopback taking ``POST /api/v1/notifications``, each request body checked
against ``contracts/notification-management.yaml`` and each answer too."""

from __future__ import annotations

import uuid
from typing import Any

from service_kit.contract_testing import find_contract, validate_request
from service_kit.fakes import ContractServer, Received, problem

PATH = "/api/v1/notifications"


class FakeNotificationManagement(ContractServer):
    """Accepts notifications (202, as notification-management answers them); ``failing =
    503`` while it is down. ``notifications`` are the request bodies it took."""

    def __init__(self) -> None:
        super().__init__(find_contract("notification-management"))

    @property
    def notifications(self) -> list[dict[str, Any]]:
        return [request.json for request in self.received(PATH) if request.method == "POST"]

    def handle(self, request: Received) -> tuple[int, Any, str]:
        if request.method != "POST" or request.path != PATH:
            return 404, problem(404, f"no {request.method} {request.path} here"), PATH
        sent = request.json
        validate_request(self.contract, "POST", PATH, sent)
        now = "2026-12-07T00:00:00+00:00"
        return (
            202,
            {
                "id": str(uuid.uuid4()),
                "customer_id": sent.get("customer_id"),
                "type": sent["type"],
                "data": {},
                "channel": sent.get("channel"),
                "attachments": [],
                "status": "pending",
                "skip_reason": None,
                "last_error": None,
                "attempt_count": 0,
                "next_attempt_at": now,
                "delivered_channel": None,
                "recipient": None,
                "language": None,
                "provider_reference": None,
                "created_at": now,
                "updated_at": now,
                "sent_at": None,
                "version": 1,
                "attempts": [],
            },
            PATH,
        )
