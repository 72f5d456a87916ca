"""notification-management: ``POST /api/v1/notifications`` with ``customer_id``,
``type``, ``data`` for the template and an optional ``channel``; answered 202."""

from __future__ import annotations

import uuid
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "notification-management"  # base URL from NOTIFICATION_MANAGEMENT_URL
# feedback_request: after the hand-over, a link to rate the visit. A service message,
# sent whatever the customer's marketing consent (docs/feedback.md).
TYPES = ("estimate_ready", "job_on_hold", "vehicle_ready", "feedback_request")


def notify(
    *,
    customer_id: uuid.UUID,
    type_: str,
    data: dict[str, Any],
    idempotency_key: str,
    channel: str | None = None,
) -> OutboxRequest:
    if type_ not in TYPES:
        raise ValueError(f"jobs send only {TYPES}")
    body: dict[str, Any] = {"customer_id": str(customer_id), "type": type_, "data": data}
    if channel:
        body["channel"] = channel
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path="/api/v1/notifications",
        body=body,
        idempotency_key=idempotency_key,
    )
