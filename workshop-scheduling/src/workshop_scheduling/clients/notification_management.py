"""notification-management: ``POST /api/v1/notifications`` with ``customer_id``,
``type`` and ``data`` for the template; answered 202. Sent through the outbox.

The appointment messages (but the cancellation) and the invitations to book carry the
customer portal's page for their link in ``data.link_url`` (docs/customer-portal.md)."""

from __future__ import annotations

import uuid
from typing import Any

from service_kit.outbox import OutboxRequest

TARGET = "notification-management"  # base URL from NOTIFICATION_MANAGEMENT_URL
APPOINTMENT_TYPES = (
    "appointment_confirmed",
    "appointment_rescheduled",
    "appointment_cancelled",
    "appointment_reminder",
)
# Invitations to book, each with a booking link: the garage's own, and issue 19's
# follow-ups (service or inspection due, work declined on the last visit) that the
# services owning those facts ask for through POST /api/v1/booking-invitations.
INVITATION_TYPES = ("booking_invitation", "service_due", "inspection_due", "declined_work")
TYPES = APPOINTMENT_TYPES + INVITATION_TYPES


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
