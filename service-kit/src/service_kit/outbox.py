"""The transactional outbox: requests to other services that are consequences of a
change ("the job is done, so invoice it"), written in the same transaction as the
change and delivered afterwards by a relay, with retries, until the receiver has them.

- ``make_database(schema, outbox=True)`` puts the ``outbox_messages`` table in the
  service's metadata; the service's migration calls ``create_outbox_table(schema)``.
- ``enqueue(session, target=..., method=..., path=..., body=..., idempotency_key=...)``
  adds a row in the caller's transaction and nothing else: no I/O, so the change and
  its requests commit or roll back together. One (target, key) is one row.
- ``OutboxRelay`` (``flask --app <package> relay-outbox [--once]``) claims one due row
  at a time with ``SELECT ... FOR UPDATE SKIP LOCKED`` and holds that row lock while it
  delivers, so relays running side by side never send one row at the same time. It
  sends through a ``send(message)`` seam; the default (``HttpSender``) is the kit's
  ``ServiceClient`` for the row's target (``<TARGET>_URL``, timeouts, breaker, service
  token). Every request carries the row's ``Idempotency-Key``; after a crash a row may
  go out again, and the receiver's idempotency makes that harmless (at-least-once
  delivery, effect exactly once).
- Outcomes: 2xx is delivered; no answer, a timeout, 5xx, 408, 409, 425 and 429 are
  retried with exponential backoff and jitter; any other answer (400, 401, 403, 404,
  422, a redirect ...) would be the same next time, so the row goes ``dead`` at once,
  as it does when the attempts run out. Dead rows stay, visible through the admin
  endpoints (``outbox_blueprint``) and ``flask outbox list``, and staff send them
  again with ``retry``. Rows are never deleted except delivered ones past retention.

docs/outbox.md records why.
"""

from __future__ import annotations

import json
import logging
import random
import signal
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import click
import marshmallow as ma
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask.views import MethodView
from prometheus_client import Counter
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID, insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from service_kit.config import ConfigError
from service_kit.db import NAMING_CONVENTION, current_db
from service_kit.http_client import ServiceClient
from service_kit.ids import uuid7
from service_kit.observability import REQUEST_ID_HEADER, current_request_id
from service_kit.pagination import PageArgsSchema, decode_cursor, encode_cursor, page_schema
from service_kit.problems import Conflict, NotFound
from service_kit.retry import RetryPolicy

log = logging.getLogger("service_kit.outbox")

OUTBOX_TABLE = "outbox_messages"
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATUSES = (PENDING, DELIVERED, DEAD)
RETRY = "retry"  # an outcome, not a status: the row stays pending
METHODS = ("POST", "PUT", "PATCH", "DELETE")
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


def utcnow() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------- table


def define_outbox_table(metadata: MetaData) -> Table:
    return Table(
        OUTBOX_TABLE,
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("target", String(100), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", String(500), nullable=False),
        Column("body", JSONB, nullable=True),
        Column("idempotency_key", String(255), nullable=False),
        Column("request_id", String(128), nullable=True),
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("last_attempt_at", DateTime(timezone=True), nullable=True),
        Column("last_status", Integer, nullable=True),
        Column("last_error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        UniqueConstraint("target", "idempotency_key"),
        # The relay's claim is an index range scan over due rows only.
        Index("ix_outbox_messages_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_messages_status_id", "status", "id"),
    )


def create_outbox_table(schema: str) -> None:
    """Create the outbox in a service's schema (call from a migration)."""
    from alembic import op

    define_outbox_table(MetaData(schema=schema, naming_convention=NAMING_CONVENTION)).create(op.get_bind())


def drop_outbox_table(schema: str) -> None:
    from alembic import op

    op.drop_table(OUTBOX_TABLE, schema=schema)


def outbox_table(metadata: MetaData) -> Table:
    try:
        return metadata.tables[f"{metadata.schema}.{OUTBOX_TABLE}"]
    except KeyError:
        raise RuntimeError("this service has no outbox: use make_database(schema, outbox=True)") from None


def _current_table() -> Table:
    return outbox_table(current_db().metadata)


# ----------------------------------------------------------------------------- enqueue


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def enqueue(
    session: Session,
    *,
    target: str,
    method: str,
    path: str,
    body: Any,
    idempotency_key: str,
) -> uuid.UUID | None:
    """Put a request to ``target`` (a service name, e.g. ``invoicing``) in the outbox,
    in the session's transaction. Returns the row id, or None when a row with this
    target and key is already there (enqueueing is idempotent too)."""
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if not path.startswith("/"):
        raise ValueError("path must start with /")
    if not idempotency_key or len(idempotency_key) > 255:
        raise ValueError("idempotency_key must be 1 to 255 characters")
    table = _current_table()
    now = utcnow()
    stmt = (
        insert(table)
        .values(
            id=uuid7(),
            target=target,
            method=method,
            path=path,
            body=json.loads(json.dumps(body, default=_jsonable)),
            idempotency_key=idempotency_key,
            request_id=current_request_id(),
            status=PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["target", "idempotency_key"])
        .returning(table.c.id)
    )
    return session.execute(stmt).scalar_one_or_none()


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
    import os

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


# -------------------------------------------------------------------- staff operations


def get_message(session: Session, message_id: uuid.UUID) -> Any:
    table = _current_table()
    row = session.execute(select(table).where(table.c.id == message_id)).first()
    if row is None:
        raise NotFound(f"outbox message {message_id} does not exist")
    return row


def list_messages(
    session: Session,
    *,
    status: str | None = None,
    target: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    """Newest first: ``{items, next_cursor}``."""
    table = _current_table()
    stmt = select(table)
    if status:
        stmt = stmt.where(table.c.status == status)
    if target:
        stmt = stmt.where(table.c.target == target)
    if cursor:
        (after,) = decode_cursor(cursor, [table.c.id])  # type: ignore[list-item]
        stmt = stmt.where(table.c.id < after)
    rows = session.execute(stmt.order_by(table.c.id.desc()).limit(limit + 1)).all()
    if len(rows) <= limit:
        return {"items": rows, "next_cursor": None}
    return {"items": rows[:limit], "next_cursor": encode_cursor([rows[limit - 1].id])}


def retry_message(session: Session, message_id: uuid.UUID) -> Any:
    """Send a dead message again, with a fresh count of attempts."""
    table = _current_table()
    row = session.execute(select(table).where(table.c.id == message_id).with_for_update()).first()
    if row is None:
        raise NotFound(f"outbox message {message_id} does not exist")
    if row.status != DEAD:
        raise Conflict(f"outbox message {message_id} is {row.status}; only a dead one can be retried")
    session.execute(
        update(table)
        .where(table.c.id == message_id)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow())
    )
    return get_message(session, message_id)


def retry_dead_messages(session: Session) -> int:
    table = _current_table()
    result = session.execute(
        update(table)
        .where(table.c.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow())
    )
    return result.rowcount


def purge_delivered(session: Session, *, older_than_days: int) -> int:
    table = _current_table()
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = session.execute(delete(table).where(table.c.status == DELIVERED, table.c.delivered_at < cutoff))
    return result.rowcount


# ------------------------------------------------------------------------------- HTTP


class OutboxMessageSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    target = ma.fields.String(required=True, metadata={"description": "the receiving service"})
    method = ma.fields.String(required=True)
    path = ma.fields.String(required=True)
    body = ma.fields.Raw(required=True, allow_none=True)
    idempotency_key = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(STATUSES))
    attempts = ma.fields.Integer(required=True)
    next_attempt_at = ma.fields.DateTime(required=True)
    last_attempt_at = ma.fields.DateTime(required=True, allow_none=True)
    last_status = ma.fields.Integer(required=True, allow_none=True)
    last_error = ma.fields.String(required=True, allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    delivered_at = ma.fields.DateTime(required=True, allow_none=True)


OutboxMessagePageSchema = page_schema(OutboxMessageSchema)


class OutboxMessageQueryArgsSchema(PageArgsSchema):
    status = ma.fields.String(validate=ma.validate.OneOf(STATUSES))
    target = ma.fields.String(
        validate=ma.validate.Regexp(r"^[a-z0-9-]{1,100}$"), metadata={"description": "a service name"}
    )


def outbox_blueprint(*, url_prefix: str, roles: tuple[str, ...] = ("admin",)) -> Any:
    """Staff endpoints: list and read outbox messages, send a dead one again."""
    from service_kit.blueprint import ServiceBlueprint

    blp = ServiceBlueprint(
        "outbox",
        __name__,
        url_prefix=url_prefix,
        description="Requests to other services waiting in this service's outbox",
    )

    def session() -> Session:
        return current_db().session

    @blp.route("")
    class OutboxMessages(MethodView):
        @blp.auth(*roles)
        @blp.arguments(OutboxMessageQueryArgsSchema, location="query")
        @blp.response(200, OutboxMessagePageSchema)
        def get(self, args: dict[str, Any]) -> Any:
            """List outbox messages, newest first; `status=dead` shows the ones that gave up"""
            return list_messages(session(), **args)

    @blp.route("/<uuid:message_id>")
    class OutboxMessageItem(MethodView):
        @blp.auth(*roles)
        @blp.alt_response(404, response="NOT_FOUND")
        @blp.response(200, OutboxMessageSchema)
        def get(self, message_id: uuid.UUID) -> Any:
            """Get one outbox message with its attempts and last error"""
            return get_message(session(), message_id)

    @blp.route("/<uuid:message_id>/retry")
    class OutboxMessageRetry(MethodView):
        @blp.auth(*roles)
        @blp.alt_response(404, response="NOT_FOUND")
        @blp.transactional
        @blp.response(200, OutboxMessageSchema)
        def post(self, message_id: uuid.UUID) -> Any:
            """Send a dead message again (409 unless it is dead)"""
            return retry_message(session(), message_id)

    return blp


# -------------------------------------------------------------------------------- CLI


def register_outbox_commands(app: Flask) -> None:
    """``flask relay-outbox [--once]`` and ``flask outbox relay|list|retry|purge``."""

    @click.command("relay")
    @click.option("--once", is_flag=True, help="deliver what is due now, then exit")
    @with_appcontext
    def relay(once: bool) -> None:
        """Deliver the outbox to the other services (long-running)."""
        runner = OutboxRelay.for_app(current_app)
        if once:
            stats = runner.run_once()
            click.echo(f"delivered {stats.delivered}, to retry {stats.retried}, dead {stats.dead}")
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        runner.run_forever(stop, poll_seconds=current_app.config["OUTBOX_POLL_SECONDS"])

    group = AppGroup("outbox", help="Requests to other services waiting in the outbox.")
    group.add_command(relay)

    @group.command("list")
    @click.option("--status", type=click.Choice(STATUSES), default=DEAD, show_default=True)
    @click.option("--limit", default=50, show_default=True)
    def list_command(status: str, limit: int) -> None:
        """List outbox messages with a status, newest first."""
        for row in list_messages(current_db().session, status=status, limit=limit)["items"]:
            click.echo(
                f"{row.id} {row.target} {row.method} {row.path} attempts={row.attempts} "
                f"last_error={row.last_error or '-'}"
            )

    @group.command("retry")
    @click.argument("message_ids", nargs=-1, type=click.UUID)
    @click.option("--all-dead", is_flag=True, help="every dead message")
    def retry_command(message_ids: tuple[uuid.UUID, ...], all_dead: bool) -> None:
        """Send dead messages again."""
        session = current_db().session
        if all_dead:
            count = retry_dead_messages(session)
        else:
            for message_id in message_ids:
                retry_message(session, message_id)
            count = len(message_ids)
        session.commit()
        click.echo(f"{count} messages will be sent again")

    @group.command("purge")
    def purge_command() -> None:
        """Delete delivered messages older than OUTBOX_RETENTION_DAYS."""
        session = current_db().session
        removed = purge_delivered(session, older_than_days=current_app.config["OUTBOX_RETENTION_DAYS"])
        session.commit()
        click.echo(f"removed {removed} delivered messages")

    app.cli.add_command(group)
    app.cli.add_command(relay, "relay-outbox")
