"""workshop-scheduling, as vehicle-management writes to it: through the outbox only.

``POST /api/v1/booking-invitations`` (docs/customer-portal.md): workshop-scheduling
issues the customer's booking link and asks notification-management to send the
message of ``type`` (``service_due``, ``inspection_due``) with ``data``; consent, quiet
hours and the channel are notification-management's. The ``Idempotency-Key`` is stable
per vehicle and due date, so each due date is asked for once, whoever sends it twice.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "workshop-scheduling"
PATH = "/api/v1/booking-invitations"
TYPES = {"service": "service_due", "inspection": "inspection_due"}


def idempotency_key(kind: str, vehicle_id: uuid.UUID, due_on: date) -> str:
    return f"{kind}-due-{vehicle_id}-{due_on.isoformat()}"


def booking_invitation(
    *, kind: str, vehicle_id: uuid.UUID, due_on: date, data: dict[str, Any]
) -> OutboxRequest:
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path=PATH,
        body={"vehicle_id": str(vehicle_id), "type": TYPES[kind], "data": data},
        idempotency_key=idempotency_key(kind, vehicle_id, due_on),
    )
