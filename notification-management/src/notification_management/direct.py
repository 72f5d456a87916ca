"""Messages addressed to someone who is not a customer: a member of staff, by email,
e.g. the link identity sends to reset a password (``password_reset``).

Such a notification carries an ``addressee`` (email, name, language) instead of a
``customer_id``: customer-management is not asked, and no consent applies. It is a
service (transactional) message the person asked for themselves, sent whatever any
marketing preference; staff have no customer record to hold one. The channel is email."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from notification_management import domain

# Types whose data no one reads back through the API: a password reset's data is the
# link that sets the password (answers show {} instead).
HIDDEN_DATA_TYPES = ("password_reset",)


def plan(addressee: Mapping[str, Any], *, default_language: str) -> tuple[domain.Deliver, str]:
    """How to reach the addressee, and the name the message greets."""
    return (
        domain.Deliver(
            channel="email",
            address=str(addressee["email"]),
            languages=domain.language_candidates(addressee.get("language"), default=default_language),
        ),
        str(addressee.get("name") or ""),
    )


def check(request: Mapping[str, Any]) -> dict[str, list[str]]:
    """What is wrong with who a request is addressed to (empty when nothing): a customer
    type to a customer_id, a direct type to an addressee, by email."""
    errors: dict[str, list[str]] = {}
    direct = request.get("type") in domain.DIRECT_TYPES
    if request.get("customer_id") is not None and request.get("addressee") is not None:
        errors["addressee"] = ["give a customer_id or an addressee, not both"]
    elif direct and request.get("addressee") is None:
        errors["addressee"] = [f"{request.get('type')} is sent to an addressee, not to a customer"]
    elif not direct and request.get("customer_id") is None:
        errors["customer_id"] = ["required: only " + ", ".join(domain.DIRECT_TYPES) + " takes an addressee"]
    if direct and request.get("channel") not in (None, "email"):
        errors["channel"] = [f"{request.get('type')} is sent by email"]
    return errors
