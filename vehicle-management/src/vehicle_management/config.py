"""vehicle-management settings: the kit's and the outbox's, the services it calls, and
its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service_kit.config import ConfigError, env_int, kit_settings
from service_kit.http_client import downstream_settings
from service_kit.outbox import outbox_settings

SERVICE = "vehicle-management"
SCHEMA = "vehicles"
# Read inline: customer-management (owners), maintenance-job-management (a vehicle's
# completed jobs, for the service due). Written to through the outbox:
# workshop-scheduling (the booking invitations of the due-date reminders).
DOWNSTREAMS = {
    "customer-management": "http://127.0.0.1:8001",
    "maintenance-job-management": "http://127.0.0.1:8004",
    "workshop-scheduling": "http://127.0.0.1:8003",
}


def due_date_settings(env: Mapping[str, str]) -> dict[str, Any]:
    zone = env.get("GARAGE_TIMEZONE", "Europe/Amsterdam")
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"GARAGE_TIMEZONE must be an IANA time zone such as Europe/Amsterdam, not {zone!r}"
        ) from exc
    return {
        # The garage's days: "today" for due dates and reminders.
        "GARAGE_TIMEZONE": zone,
        # send-due-reminders invites owners whose service or inspection falls due within
        # this many days (the Dutch APK may be done up to two months early)...
        "DUE_REMINDER_LOOK_AHEAD_DAYS": env_int(env, "DUE_REMINDER_LOOK_AHEAD_DAYS", 30, low=1, high=366),
        # ... or fell due at most this many days ago (a missed run catches up; older
        # dates, such as a long-overdue service nobody recorded, are not sent).
        "DUE_REMINDER_OVERDUE_DAYS": env_int(env, "DUE_REMINDER_OVERDUE_DAYS", 14, low=0, high=366),
    }


def load_config(
    overrides: dict[str, Any] | None = None, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    env = os.environ if env is None else env
    config = kit_settings(service=SERVICE, schema=SCHEMA, env=env)
    config.update(outbox_settings(env))
    for name, default_url in DOWNSTREAMS.items():
        config.update(downstream_settings(name, default_url=default_url, env=env))
    config.update(
        MIGRATIONS_LOCATION="vehicle_management:migrations",
        # A plate entered without a country is registered in the garage's own country.
        DEFAULT_REGISTRATION_COUNTRY=env.get("DEFAULT_REGISTRATION_COUNTRY", "NL").upper(),
    )
    config.update(due_date_settings(env))
    config.update(overrides or {})
    return config
