"""notification-management: ``POST /api/v1/notifications`` with ``customer_id``,
``type`` and ``data`` for the template; answered 202. Sent through the outbox.

The appointment messages (but the cancellation) and the invitations to book carry the
customer portal's page for their link in ``data.link_url`` (docs/customer-portal.md).

And ``POST /api/v1/notifications/push-subscriptions`` (role service): a customer's Web
Push subscription, made from the portal's appointment page; the customer is the one the
appointment link names, checked here, since notification-management cannot check
another service's link. Sent through the outbox too."""

from __future__ import annotations

import hashlib
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


PUSH_SUBSCRIPTIONS = "/api/v1/notifications/push-subscriptions"


def subscribe_push(*, customer_id: uuid.UUID, endpoint: str, p256dh: str, auth: str) -> OutboxRequest:
    """The customer's browser subscription (``PushSubscription.toJSON()``'s endpoint and
    keys). The key is derived from the customer, the endpoint and the keys: the same
    subscription sent twice is one request, a renewed one (new keys) or the device given to
    another customer is a new one."""
    digest = hashlib.sha256(f"{customer_id}\n{endpoint}\n{p256dh}\n{auth}".encode()).hexdigest()[:40]
    return OutboxRequest(
        target=TARGET,
        method="POST",
        path=PUSH_SUBSCRIPTIONS,
        body={
            "customer_id": str(customer_id),
            "endpoint": endpoint,
            "keys": {"p256dh": p256dh, "auth": auth},
        },
        idempotency_key=f"push-subscription-{digest}",
    )
