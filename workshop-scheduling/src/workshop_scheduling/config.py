"""workshop-scheduling settings: the kit's and the outbox's, the services it calls, and
its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from service_kit.config import env_int, kit_settings
from service_kit.http_client import downstream_settings
from service_kit.links import service_link_settings
from service_kit.outbox import outbox_settings

SERVICE = "workshop-scheduling"
SCHEMA = "scheduling"
# Called inline (vehicles, jobs) or through the outbox (notifications); `<NAME>_URL`
# is required in production.
DOWNSTREAMS = {
    "vehicle-management": "http://127.0.0.1:8002",
    "maintenance-job-management": "http://127.0.0.1:8004",
    "notification-management": "http://127.0.0.1:8006",
}


def _own_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        # A booking, reschedule or cancel that did not commit within this time left the
        # job in maintenance-job-management unreconciled: `check-jobs` puts it right.
        # Longer than any request can take (timeouts and retries included).
        "JOB_CHECK_GRACE_SECONDS": env_int(env, "JOB_CHECK_GRACE_SECONDS", 120, low=0),
        "JOB_CHECK_POLL_SECONDS": env_int(env, "JOB_CHECK_POLL_SECONDS", 30, low=0),
        # Planning views ask maintenance-job-management for job statuses this many at a time.
        "PLANNING_JOB_LOOKUPS": env_int(env, "PLANNING_JOB_LOOKUPS", 8, low=0) or 1,
        # A customer moves or cancels through the portal until this many hours before the
        # start; later only the front desk can (docs/customer-portal.md).
        "PORTAL_CHANGE_CUTOFF_HOURS": env_int(env, "PORTAL_CHANGE_CUTOFF_HOURS", 24, low=0),
        # How long a booking link sent with booking_invitation (and issue 19's follow-ups) works.
        "BOOKING_LINK_DAYS": env_int(env, "BOOKING_LINK_DAYS", 30, low=1),
    }


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    config = kit_settings(service=SERVICE, schema=SCHEMA)
    config.update(outbox_settings(env))
    for name, default_url in DOWNSTREAMS.items():
        config.update(downstream_settings(name, default_url=default_url, env=env))
    config.update(_own_settings(env))
    # The customer portal's links this service issues and checks (appointments, bookings):
    # PORTAL_URL for the messages, PORTAL_LINK_KEY its own signing key (docs/customer-portal.md).
    config.update(service_link_settings(config, env))
    config.update(MIGRATIONS_LOCATION="workshop_scheduling:migrations")
    config.update(overrides or {})
    return config
