"""notification-management: ``POST /api/v1/notifications`` with ``customer_id``,
``type`` and ``data`` for the template; answered 202. Sent through the outbox."""

from __future__ import annotations

import uuid
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "notification-management"  # base URL from NOTIFICATION_MANAGEMENT_URL
TYPES = ("appointment_confirmed", "appointment_rescheduled", "appointment_cancelled", "appointment_reminder")


def notify(
    *, customer_id: uuid.UUID, type_: str, data: dict[str, Any], idempotency_key: str
) -> OutboxRequest:
    if type_ not in TYPES:
        raise ValueError(f"scheduling sends only {TYPES}")
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path="/api/v1/notifications",
        body={"customer_id": str(customer_id), "type": type_, "data": data},
        idempotency_key=idempotency_key,
    )
