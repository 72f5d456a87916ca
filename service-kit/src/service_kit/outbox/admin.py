"""What staff see and do with the outbox: read messages, send dead ones again, purge
delivered ones; as functions and as the ``outbox_blueprint`` endpoints."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, cast

import marshmallow as ma
from flask.views import MethodView
from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from service_kit.blueprint import ServiceBlueprint
from service_kit.clock import utcnow
from service_kit.db import current_db
from service_kit.outbox.table import DEAD, DELIVERED, PENDING, STATUSES, current_outbox_table
from service_kit.pagination import PageArgsSchema, decode_cursor, encode_cursor, page_schema
from service_kit.problems import Conflict, NotFound


def get_message(session: Session, message_id: uuid.UUID) -> Any:
    table = current_outbox_table()
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
    table = current_outbox_table()
    stmt = select(table)
    if status:
        stmt = stmt.where(table.c.status == status)
    if target:
        stmt = stmt.where(table.c.target == target)
    if cursor:
        (after,) = decode_cursor(cursor, [table.c.id])  # type: ignore[list-item]  # a Core column reads as well
        stmt = stmt.where(table.c.id < after)
    rows = session.execute(stmt.order_by(table.c.id.desc()).limit(limit + 1)).all()
    if len(rows) <= limit:
        return {"items": rows, "next_cursor": None}
    return {"items": rows[:limit], "next_cursor": encode_cursor([rows[limit - 1].id])}


def retry_message(session: Session, message_id: uuid.UUID) -> Any:
    """Send a dead message again, with a fresh count of attempts."""
    table = current_outbox_table()
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
    table = current_outbox_table()
    result = session.execute(
        update(table)
        .where(table.c.status == DEAD)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow())
    )
    return cast("CursorResult[Any]", result).rowcount


def purge_delivered(session: Session, *, older_than_days: int) -> int:
    table = current_outbox_table()
    cutoff = utcnow() - timedelta(days=older_than_days)
    result = session.execute(delete(table).where(table.c.status == DELIVERED, table.c.delivered_at < cutoff))
    return cast("CursorResult[Any]", result).rowcount


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


def outbox_blueprint(*, url_prefix: str, roles: tuple[str, ...] = ("admin",)) -> ServiceBlueprint:
    """Staff endpoints: list and read outbox messages, send a dead one again."""
    blp = ServiceBlueprint(
        "outbox",
        __name__,
        url_prefix=url_prefix,
        description="Internal, admins only: requests to other services waiting in this "
        "service's outbox (not for front ends)",
    )

    def session() -> Session:
        return current_db().session()

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
