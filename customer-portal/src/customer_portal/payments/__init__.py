"""Paying an invoice from its pay link (issue 18; docs/customer-portal.md, "Payments").

The portal holds the payment provider's adapter (``mollie.MollieProvider``, on Mollie's
maintained client, behind the ``provider.PaymentProvider`` interface): it makes the
payment for the balance due, sends the customer to the provider's checkout, and takes
the provider's webhook. The webhook proves nothing, so the payment is fetched from the
provider and only that answer counts. A paid payment is written, with the row that
remembers it, to the portal's own outbox and delivered to invoicing by the kit's relay
(``Idempotency-Key: mollie-<id>``, the customer's link in ``Portal-Link``): recorded
once however often and in whatever order the webhook comes, and when invoicing is back
if it was down.

Settings (per garage, ``settings``): ``MOLLIE_API_KEY`` (the garage's ``live_``/
``test_`` key; without one the portal takes no payments and shows no pay button),
``MOLLIE_API_URL`` (Mollie's API; the loopback fake in tests), ``MOLLIE_CHECKOUT_ORIGINS``
(where the pay form's redirect may go, for the pages' Content-Security-Policy),
``PORTAL_URL`` (the portal's public address: the provider's redirect and webhook URLs),
and the kit's ``OUTBOX_*``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask

from service_kit.config import ConfigError, env_float, env_list
from service_kit.outbox import outbox_settings, register_outbox_commands

DEFAULT_CHECKOUT_ORIGINS = ("https://www.mollie.com",)
API_KEY = re.compile(r"^(live|test)_\w+$")


def settings(env: Mapping[str, str], production: bool) -> dict[str, Any]:
    """The payment settings, from the environment (customer_portal.config reads them)."""
    from customer_portal.payments.mollie import DEFAULT_API_URL

    key = env.get("MOLLIE_API_KEY", "").strip()
    if key and not API_KEY.match(key):
        raise ConfigError("MOLLIE_API_KEY must be a Mollie API key (live_... or test_...)")
    api_url = (env.get("MOLLIE_API_URL") or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(api_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"MOLLIE_API_URL must be an http(s) address, got {api_url!r}")
    if production and key and parts.scheme != "https":
        raise ConfigError("MOLLIE_API_URL must be https in production: the API key travels with every call")
    return {
        "MOLLIE_API_KEY": key,
        "MOLLIE_API_URL": api_url,
        "MOLLIE_CONNECT_TIMEOUT_SECONDS": env_float(env, "MOLLIE_CONNECT_TIMEOUT_SECONDS", 2.0, low=0.1),
        "MOLLIE_READ_TIMEOUT_SECONDS": env_float(env, "MOLLIE_READ_TIMEOUT_SECONDS", 10.0, low=0.1),
        # The pay form answers with a redirect to the provider's checkout: the browser
        # holds that redirect to the pages' form-action policy.
        "PAYMENT_FORM_TARGETS": env_list(env, "MOLLIE_CHECKOUT_ORIGINS", DEFAULT_CHECKOUT_ORIGINS),
        **outbox_settings(env),
    }


def init_app(app: Flask) -> None:
    """The pay and return pages (``invoice_pay``, ``invoice_paid``), Mollie's webhook,
    the provider, and the outbox commands (``relay-outbox``, ``outbox ...``)."""
    from customer_portal.payments import (
        models,  # noqa: F401  # the tables, in the metadata
        relay,
        views,
    )
    from customer_portal.payments.mollie import MollieProvider

    for name, value in outbox_settings({}).items():
        app.config.setdefault(name, value)
    # Without a key the garage takes no payments online: no pay route (the invoice page
    # shows no Pay button), no webhook; the outbox commands are there all the same.
    if app.config.get("MOLLIE_API_KEY"):
        app.extensions[views.PROVIDER] = MollieProvider.from_config(app.config)
        views.register(app)
    app.add_template_global(views.payments_enabled, "payments_enabled")
    register_outbox_commands(app, make_relay=relay.relay)
