"""notification-management, as ``contracts/notification-management.yaml`` describes it:
``POST /api/v1/notifications`` with a stable ``Idempotency-Key``, sent through identity's
outbox (outbox.py). A password reset is addressed to the person directly (staff are not
customers): ``addressee`` {email, name, language}, type ``password_reset``, the link in
``data``; notification-management sends it as a service email, by email only."""

from __future__ import annotations

import uuid

from service_kit.outbox import OutboxRequest

NAME = "notification-management"


def password_reset_email(
    *, reset_id: uuid.UUID, email: str, name: str, language: str, link: str, expires_minutes: int
) -> OutboxRequest:
    return OutboxRequest(
        target=NAME,
        method="POST",
        path="/api/v1/notifications",
        body={
            "type": "password_reset",
            "addressee": {"email": email, "name": name, "language": language},
            "data": {"link": link, "expires_minutes": expires_minutes},
        },
        # One link, one email: a repeat (relay retry, crash) is the same notification.
        idempotency_key=f"password-reset-{reset_id}",
    )
