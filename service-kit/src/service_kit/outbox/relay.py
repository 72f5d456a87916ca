"""Delivering the outbox: a relay claims one due row at a time and sends it through a
``send(message)`` seam (by default ``HttpSender``, the kit's ``ServiceClient`` for
the row's target); ``classify`` says what an answer means for the row."""

from __future__ import annotations

import logging
import os
import random
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from flask import Flask
from prometheus_client import Counter
from sqlalchemy import Table, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from service_kit.clock import utcnow
from service_kit.config import ConfigError
from service_kit.http_client import ServiceClient
from service_kit.observability import REQUEST_ID_HEADER
from service_kit.outbox.table import DEAD, DELIVERED, PENDING, outbox_table
from service_kit.retry import RetryPolicy

log = logging.getLogger("service_kit.outbox")

RETRY = "retry"  # an outcome, not a status: the row stays pending
# Answers that may be different next time: a timeout, a conflict with a concurrent
# change (the kit answers serialization failures and unique races with 409), "too
# early", "too many requests". Every other 4xx is the receiver refusing this request.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
MAX_ERROR_LENGTH = 2000

DELIVERIES = Counter(
    "outbox_deliveries_total",
    "Outbox delivery attempts, by outcome (delivered, retry, dead)",
    ["service", "target", "outcome"],
)


# ----------------------------------------------------------------------------- policy


def classify(status: int) -> str:
    """``delivered``, ``retry`` or ``dead`` for an HTTP status."""
    if 200 <= status < 300:
        return DELIVERED
    if status >= 500 or status in RETRYABLE_4XX:
        return RETRY
    return DEAD


# ----------------------------------------------------------------------------- sending


@dataclass(frozen=True)
class OutboxMessage:
    id: uuid.UUID
    target: str
    method: str
    path: str
    body: Any
    idempotency_key: str
    attempts: int
    request_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    status: int
    detail: str = ""
    retry_after: float | None = None


# The seam between the relay and the network: send one message, say what came back.
# Raising means "no answer" (refused, timed out) and is retried.
Sender = Callable[[OutboxMessage], "SendResult | int"]


class UnknownTarget(Exception):
    """No base URL is configured for a message's target: it cannot be sent."""


def target_setting(target: str) -> str:
    """The configuration key holding a target's base URL: ``invoicing`` -> ``INVOICING_URL``."""
    return target.upper().replace("-", "_") + "_URL"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


class HttpSender:
    """Sends a message through the kit's ``ServiceClient`` for its target: the
    target's base URL (``<TARGET>_URL``), connect and read timeouts, a pooled session,
    the service token, the message's Idempotency-Key and request id, and the target's
    circuit breaker. No answer or a 5xx comes back from the client as
    ``DependencyFailed``, which the relay retries with its own backoff."""

    def __init__(self, client_for: Callable[[str], ServiceClient | None]) -> None:
        self.client_for = client_for

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> HttpSender:
        clients: dict[str, ServiceClient] = {}
        lock = threading.Lock()

        def client_for(target: str) -> ServiceClient | None:
            if not config.get(target_setting(target)):
                return None
            with lock:
                if target not in clients:
                    clients[target] = ServiceClient.from_config(config, target)
                return clients[target]

        return cls(client_for)

    def __call__(self, message: OutboxMessage) -> SendResult:
        client = self.client_for(message.target)
        if client is None:
            raise UnknownTarget(f"no {target_setting(message.target)} is configured")
        response = client.request(
            message.method,
            message.path,
            json=message.body,
            headers={REQUEST_ID_HEADER: message.request_id} if message.request_id else None,
            idempotency_key=message.idempotency_key,
        )
        detail = "" if response.ok else response.text[:500]
        return SendResult(response.status_code, detail, _retry_after(response.headers.get("Retry-After")))


# ------------------------------------------------------------------------------- relay


@dataclass
class RelayStats:
    delivered: int = 0
    retried: int = 0
    dead: int = 0

    @property
    def processed(self) -> int:
        return self.delivered + self.retried + self.dead


@dataclass
class OutboxRelay:
    engine: Engine
    table: Table
    send: Sender
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Callable[[], datetime] = utcnow
    rng: Callable[[], float] = random.random
    service: str = "service"

    @classmethod
    def for_app(cls, app: Flask, *, send: Sender | None = None, **kwargs: Any) -> OutboxRelay:
        """The relay of a service (inside its app context)."""
        db = app.extensions["sqlalchemy"]
        return cls(
            engine=db.engine,
            table=outbox_table(db.metadata),
            send=send or HttpSender.from_config(app.config),
            policy=RetryPolicy(
                max_attempts=app.config["OUTBOX_MAX_ATTEMPTS"],
                base_seconds=app.config["OUTBOX_BACKOFF_BASE_SECONDS"],
                max_seconds=app.config["OUTBOX_BACKOFF_MAX_SECONDS"],
            ),
            service=app.config["SERVICE_NAME"],
            **kwargs,
        )

    def deliver_one(self, due_by: datetime) -> str | None:
        """Claim one row due by ``due_by`` and try it; the outcome, or None when no
        row is due (or every due row is being delivered by another relay)."""
        table = self.table
        with self.engine.connect() as connection, connection.begin():
            row = connection.execute(
                select(table)
                .where(table.c.status == PENDING, table.c.next_attempt_at <= due_by)
                .order_by(table.c.next_attempt_at, table.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            ).first()
            if row is None:
                return None
            message = OutboxMessage(
                id=row.id,
                target=row.target,
                method=row.method,
                path=row.path,
                body=row.body,
                idempotency_key=row.idempotency_key,
                attempts=row.attempts,
                request_id=row.request_id,
            )
            outcome, values = self._attempt(message)
            connection.execute(update(table).where(table.c.id == row.id).values(**values))
        DELIVERIES.labels(self.service, message.target, outcome).inc()
        return outcome

    def _attempt(self, message: OutboxMessage) -> tuple[str, dict[str, Any]]:
        retry_after: float | None = None
        status: int | None = None
        error: str | None
        try:
            result = self.send(message)
            if isinstance(result, int):
                result = SendResult(result)
        except UnknownTarget as exc:
            outcome, error = DEAD, str(exc)
        except Exception as exc:  # no answer at all: refused, timed out, reset
            outcome, error = RETRY, f"{type(exc).__name__}: {exc}"
        else:
            status, retry_after = result.status, result.retry_after
            outcome = classify(status)
            error = None if outcome == DELIVERED else f"HTTP {status}: {result.detail}".rstrip(": ")
        attempts = message.attempts + 1
        now = self.clock()
        values: dict[str, Any] = {
            "attempts": attempts,
            "last_attempt_at": now,
            "last_status": status,
            "last_error": error[:MAX_ERROR_LENGTH] if error else None,
        }
        if outcome == RETRY and self.policy.gives_up(attempts):
            outcome = DEAD
        if outcome == DELIVERED:
            values.update(status=DELIVERED, delivered_at=now)
        elif outcome == DEAD:
            values.update(status=DEAD)
            log.warning(
                "outbox message %s to %s is dead after %d attempts: %s",
                message.id,
                message.target,
                attempts,
                error,
            )
        else:
            delay = self.policy.delay(attempts, rng=self.rng, at_least=retry_after or 0)
            values.update(next_attempt_at=now + timedelta(seconds=delay))
            log.info("outbox message %s to %s: retry in %.1fs (%s)", message.id, message.target, delay, error)
        return outcome, values

    def run_once(self, *, limit: int | None = None, stop: threading.Event | None = None) -> RelayStats:
        """Try every row due now (at most ``limit``) once; a row that fails is due
        again only later, so this always ends. ``stop`` ends it after the row in hand."""
        stats = RelayStats()
        due_by = self.clock()
        while (limit is None or stats.processed < limit) and not (stop and stop.is_set()):
            outcome = self.deliver_one(due_by)
            if outcome is None:
                break
            if outcome == DELIVERED:
                stats.delivered += 1
            elif outcome == DEAD:
                stats.dead += 1
            else:
                stats.retried += 1
        return stats

    def run_forever(self, stop: threading.Event, *, poll_seconds: float = 1.0, batch: int = 100) -> None:
        """Deliver until ``stop`` is set; sleep ``poll_seconds`` when nothing is due.
        A database outage is waited out, not fatal."""
        log.info("outbox relay for %s started", self.service)
        while not stop.is_set():
            try:
                stats = self.run_once(limit=batch, stop=stop)
            except DBAPIError:
                log.warning("outbox relay: database unavailable, waiting", exc_info=True)
                stop.wait(max(poll_seconds, 5.0))
                continue
            if stats.processed < batch:
                stop.wait(poll_seconds)
        log.info("outbox relay for %s stopped", self.service)


# ---------------------------------------------------------------------------- settings


def outbox_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Flask config keys the outbox reads, from the environment."""
    env = os.environ if env is None else env

    def number(name: str, default: float, cast: type) -> Any:
        raw = env.get(name)
        if raw in (None, ""):
            return cast(default)
        try:
            return cast(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} must be a {cast.__name__}, got {raw!r}") from exc

    return {
        "OUTBOX_MAX_ATTEMPTS": number("OUTBOX_MAX_ATTEMPTS", 20, int),
        "OUTBOX_BACKOFF_BASE_SECONDS": number("OUTBOX_BACKOFF_BASE_SECONDS", 2.0, float),
        "OUTBOX_BACKOFF_MAX_SECONDS": number("OUTBOX_BACKOFF_MAX_SECONDS", 3600.0, float),
        "OUTBOX_POLL_SECONDS": number("OUTBOX_POLL_SECONDS", 1.0, float),
        "OUTBOX_RETENTION_DAYS": number("OUTBOX_RETENTION_DAYS", 30, int),
    }
