"""Delivering the portal's outbox: the kit's relay (``flask --app customer_portal
relay-outbox``, ``outbox list|retry|purge``), sending through ``LinkSender``.

invoicing takes a payment only with the customer's link (``@blp.link("invoice")``), and
the kit's outbox row has no header of its own: the sender finds the link of the payment
a record is about (the row's Idempotency-Key is ``<provider>-<payment id>``) and sends it
in ``Portal-Link``, with the portal's own service token, as every portal call. When
invoicing answers, the payment is marked recorded."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from flask import Flask
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from customer_portal.payments import service
from customer_portal.payments.models import Payment
from customer_portal.services import EXTENSION as SERVICES
from service_kit.http_client import ServiceClient
from service_kit.links import LINK_HEADER
from service_kit.observability import REQUEST_ID_HEADER
from service_kit.outbox import OutboxMessage, OutboxRelay, RelayStats, SendResult, UnknownTarget

log = logging.getLogger("customer_portal.payments")

EXTENSION = "customer_portal_outbox_relay"


def _payment_key(idempotency_key: str) -> tuple[str, str] | None:
    provider, dash, payment_id = idempotency_key.partition("-")
    return (provider, payment_id) if dash and provider and payment_id else None


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None


class LinkSender:
    """Sends an outbox message to its target with the portal's client for it, carrying
    the link of the payment it reports (``Portal-Link``) and its Idempotency-Key."""

    def __init__(self, engine: Engine, client_for: Callable[[str], ServiceClient | None]) -> None:
        self.engine = engine
        self.client_for = client_for

    @classmethod
    def for_app(cls, app: Flask) -> LinkSender:
        clients: dict[str, ServiceClient] = app.extensions[SERVICES]
        return cls(app.extensions["sqlalchemy"].engine, clients.get)

    def link_for(self, message: OutboxMessage) -> str | None:
        key = _payment_key(message.idempotency_key)
        if key is None:
            return None
        with Session(self.engine) as session:
            return session.execute(
                select(Payment.link_token).where(
                    Payment.provider == key[0], Payment.provider_payment_id == key[1]
                )
            ).scalar_one_or_none()

    def recorded(self, message: OutboxMessage) -> None:
        key = _payment_key(message.idempotency_key)
        if key is None:
            return
        with Session(self.engine) as session, session.begin():
            service.mark_recorded(session, provider=key[0], provider_payment_id=key[1])

    def __call__(self, message: OutboxMessage) -> SendResult:
        client = self.client_for(message.target)
        if client is None:
            raise UnknownTarget(f"the portal does not call {message.target}")
        headers = {REQUEST_ID_HEADER: message.request_id} if message.request_id else {}
        token = self.link_for(message)
        if token:
            headers[LINK_HEADER] = token
        response = client.request(
            message.method,
            message.path,
            json=message.body,
            headers=headers,
            idempotency_key=message.idempotency_key,
        )
        if response.ok:
            self.recorded(message)
            return SendResult(response.status_code)
        return SendResult(
            response.status_code, response.text[:500], _retry_after(response.headers.get("Retry-After"))
        )


_lock = threading.Lock()


def relay(app: Flask) -> OutboxRelay:
    """This app's relay (one per app, its clients and breakers shared with the pages)."""
    with _lock:
        if EXTENSION not in app.extensions:
            with app.app_context():
                app.extensions[EXTENSION] = OutboxRelay.for_app(app, send=LinkSender.for_app(app))
    found: OutboxRelay = app.extensions[EXTENSION]
    return found


def deliver_now(app: Flask, *, limit: int = 5) -> RelayStats:
    """One pass of the relay for what is due (the record just enqueued among it): what
    fails stays in the outbox, with its backoff, for the relay process. Never raises."""
    try:
        with app.app_context():
            stats = relay(app).run_once(limit=limit)
    except Exception:
        log.warning("outbox: delivering at once failed; the relay tries again", exc_info=True)
        return RelayStats()
    if stats.processed:
        log.info("outbox: %d delivered, %d to retry, %d dead", stats.delivered, stats.retried, stats.dead)
    return stats
