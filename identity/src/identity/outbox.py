"""identity's outbox: the requests it makes of other services because of a change (the
password reset email), written in the change's transaction and delivered by the kit's
relay (docs/outbox.md), with one difference: the token.

identity calls as the service ``identity`` with a token it signs itself, with its current
signing key: it is the issuer every service that runs beside it trusts (make run,
compose and Kubernetes point them at its key set), and asking itself for a
client-credentials token over HTTP would only add a secret and a hop.

``flask --app identity relay-outbox`` (and ``outbox relay``) run the relay with that
token; ``deliver_soon`` runs one pass right after a reset request has been answered."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from flask import Flask

from identity.models import db
from identity.service import keys
from service_kit.auth import SERVICE_TOKEN_TTL_SECONDS
from service_kit.http_client import ClientSettings, ServiceClient
from service_kit.outbox import HttpSender, OutboxRelay, register_outbox_commands, target_setting

log = logging.getLogger("identity.outbox")

EXTENSION = "identity_outbox_relay"
REFRESH_MARGIN_SECONDS = 60


def own_service_token(app: Flask) -> Callable[[], str]:
    """A token naming the service ``identity`` (role ``service``), signed with identity's
    current key, reused until a minute before it expires."""
    lock = threading.Lock()
    cached: dict[str, Any] = {"value": None, "exp": 0}

    def token() -> str:
        with lock:
            if cached["value"] is None or time.time() >= cached["exp"] - REFRESH_MARGIN_SECONDS:
                now = int(time.time())
                claims = {
                    "iss": app.config["IDENTITY_ISSUER"],
                    "sub": app.config["SERVICE_NAME"],
                    "aud": app.config["JWT_AUDIENCE"],
                    "iat": now,
                    "exp": now + SERVICE_TOKEN_TTL_SECONDS,
                    "name": app.config["SERVICE_NAME"],
                    "roles": ["service"],
                }
                with app.app_context():
                    try:
                        cached["value"] = keys.sign(db.session(), claims, keys.cipher_from(app.config))
                        db.session.commit()  # the first key, if this made it
                    finally:
                        db.session.remove()
                cached["exp"] = claims["exp"]
            return str(cached["value"])

    return token


def sender(app: Flask) -> HttpSender:
    """The kit's HttpSender, its clients carrying identity's token."""
    token = own_service_token(app)
    clients: dict[str, ServiceClient] = {}
    lock = threading.Lock()

    def client_for(target: str) -> ServiceClient | None:
        if not app.config.get(target_setting(target)):
            return None
        with lock:
            if target not in clients:
                clients[target] = ServiceClient(
                    target,
                    ClientSettings.from_config(app.config, target),
                    token=token,
                    user_agent=f"garage-{app.config['SERVICE_NAME']}",
                )
            return clients[target]

    return HttpSender(client_for)


def relay(app: Flask) -> OutboxRelay:
    """This app's relay (one per app: its clients keep their connections and breakers)."""
    if EXTENSION not in app.extensions:
        with app.app_context():
            app.extensions[EXTENSION] = OutboxRelay.for_app(app, send=sender(app))
    relay: OutboxRelay = app.extensions[EXTENSION]
    return relay


def deliver_soon(app: Flask, *, limit: int = 10) -> None:
    """One pass of the relay, for after an answer has gone out (``call_on_close``): what
    fails stays in the outbox for the relay process, with its backoff. Never raises."""
    try:
        with app.app_context():
            stats = relay(app).run_once(limit=limit)
            if stats.processed:
                log.info(
                    "outbox: %d delivered, %d to retry, %d dead", stats.delivered, stats.retried, stats.dead
                )
    except Exception:  # the answer is gone; the relay process tries again
        log.warning("outbox: delivering after the answer failed; the relay tries again", exc_info=True)


def register(app: Flask) -> None:
    """The kit's outbox commands, relaying with identity's own token."""
    register_outbox_commands(app, make_relay=relay)
