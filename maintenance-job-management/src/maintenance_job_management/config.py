"""maintenance-job-management settings: the kit's and the outbox's, the services the
outbox delivers to, the customer portal's links, the garage's details for its documents
(estimates, work orders), and its own."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from service_kit.config import ConfigError, env_decimal, env_int, kit_settings
from service_kit.documents.settings import document_problems, document_settings
from service_kit.http_client import downstream_settings
from service_kit.links import service_link_settings
from service_kit.outbox import outbox_settings

SERVICE = "maintenance-job-management"
SCHEMA = "jobs"
# Where the outbox delivers (`<NAME>_URL`, required in production).
DOWNSTREAMS = {
    "invoicing": "http://127.0.0.1:8005",
    "notification-management": "http://127.0.0.1:8006",
    # Each change of a job's status, for its appointment (docs/visits.md), and the
    # declined work followed up as a booking invitation (docs/feedback.md).
    "workshop-scheduling": "http://127.0.0.1:8003",
}
# An estimate goes to the customer: it names the garage.
DOCUMENTS_REQUIRED_IN_PRODUCTION = ("GARAGE_NAME", "GARAGE_ADDRESS")


def _own_settings(env: Mapping[str, str]) -> dict[str, Any]:
    return {
        # A job whose approved work grows by more than this goes on hold for a new approval.
        "APPROVAL_MARGIN_PERCENT": env_int(env, "APPROVAL_MARGIN_PERCENT", 10, low=0, high=100),
        "DEFAULT_VAT_RATE": env_decimal(env, "DEFAULT_VAT_RATE", "21", low=0, high=100),
        "CURRENCY": env.get("CURRENCY", "EUR"),
        # send-declined-work-follow-ups (docs/feedback.md): the work a customer declined
        # is followed up this many days after the visit (its hand-over, else completion) ...
        "DECLINED_WORK_FOLLOW_UP_DAYS": env_int(env, "DECLINED_WORK_FOLLOW_UP_DAYS", 14, low=1, high=365),
        # ... and, when the command did not run that day, up to this many days later; a
        # visit longer ago is never followed up (switching it on messages no one's history).
        "DECLINED_WORK_FOLLOW_UP_LATE_DAYS": env_int(
            env, "DECLINED_WORK_FOLLOW_UP_LATE_DAYS", 7, low=0, high=90
        ),
    }


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    env = os.environ
    config = kit_settings(service=SERVICE, schema=SCHEMA)
    config.update(outbox_settings(env))
    for name, default_url in DOWNSTREAMS.items():
        config.update(downstream_settings(name, default_url=default_url, env=env))
    config.update(_own_settings(env))
    # The customer portal's links this service issues and checks (estimates, visits):
    # PORTAL_URL for the messages, PORTAL_LINK_KEY its own signing key (docs/customer-portal.md).
    config.update(service_link_settings(config, env))
    # The letterhead (GARAGE_NAME, GARAGE_ADDRESS, GARAGE_CHAMBER_OF_COMMERCE ...), the
    # default language (GARAGE_LANGUAGE), GARAGE_TIMEZONE and PDF_FONT_PATH, as invoicing reads them.
    documents = document_settings(env)
    problems = document_problems(
        documents,
        production=config["GARAGE_ENV"] == "production",
        required_in_production=DOCUMENTS_REQUIRED_IN_PRODUCTION,
    )
    if problems:
        raise ConfigError("; ".join(problems))
    config.update(documents)
    config.update(MIGRATIONS_LOCATION="maintenance_job_management:migrations")
    config.update(overrides or {})
    return config
