"""``Idempotency-Key`` for creating POSTs, and one transaction per write request.

The key is inserted in the same transaction as the work it protects, so either both
commit or neither does. A concurrent request with the same key blocks on the key's
primary key until the first one finishes, then replays its answer: one key makes one
record, however many times or however concurrently it is sent.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, cast

from flask import Response, current_app, g, request
from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, delete, select
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import CursorResult

from service_kit.clock import utcnow
from service_kit.db import current_db
from service_kit.problems import BadRequest, Unprocessable

IDEMPOTENCY_TABLE = "idempotency_keys"
MAX_KEY_LENGTH = 255
REPLAYED_HEADERS = ("Location", "ETag", "Content-Type")


def define_idempotency_table(metadata: MetaData) -> Table:
    return Table(
        IDEMPOTENCY_TABLE,
        metadata,
        Column("scope", String(300), primary_key=True),
        Column("key", String(MAX_KEY_LENGTH), primary_key=True),
        Column("fingerprint", String(64), nullable=False),
        Column("status_code", Integer, nullable=True),
        Column("body", Text, nullable=True),
        Column("headers", JSONB, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    )


def _table() -> Table:
    db = current_db()
    return db.metadata.tables[f"{current_app.config['DB_SCHEMA']}.{IDEMPOTENCY_TABLE}"]


def _fingerprint() -> str:
    raw = request.get_data(cache=True)
    try:
        canonical = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except ValueError:
        canonical = raw.decode("utf-8", "replace")
    return hashlib.sha256(canonical.encode()).hexdigest()


def _finish(response: Response) -> Response:
    """Commit a successful write, roll back anything else."""
    session = current_db().session
    if response.status_code < 400:
        session.commit()
    else:
        session.rollback()
    return response


def transactional(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a write view as one transaction: committed if it answers < 400."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            current_db().session.rollback()
            raise
        return _finish(response)

    return wrapper


def _scope() -> str:
    """Where a key counts: the method and path, and for the customer portal (one identity
    for every customer) the link it came with, so a key sent for one customer's link never
    replays another's answer."""
    link = g.get("portal_link")
    return f"{request.method} {request.path}" + (f" link:{link.id}" if link is not None else "")


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Honour ``Idempotency-Key`` on a creating POST (and make it transactional)."""
    transactional_view = transactional(view)

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        key = request.headers.get("Idempotency-Key")
        if key is None:
            return transactional_view(*args, **kwargs)
        if not key.strip() or len(key) > MAX_KEY_LENGTH:
            raise BadRequest(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} characters")
        table = _table()
        session = current_db().session
        scope = _scope()
        fingerprint = _fingerprint()
        claimed = session.execute(
            insert(table)
            .values(scope=scope, key=key, fingerprint=fingerprint, created_at=utcnow())
            .on_conflict_do_nothing()
            .returning(table.c.key)
        ).first()
        if claimed is None:
            return _replay(session, table, scope, key, fingerprint)
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except BaseException:
            session.rollback()
            raise
        if response.status_code < 400:
            session.execute(
                table.update()
                .where(table.c.scope == scope, table.c.key == key)
                .values(
                    status_code=response.status_code,
                    body=response.get_data(as_text=True),
                    headers={h: response.headers[h] for h in REPLAYED_HEADERS if h in response.headers},
                )
            )
        return _finish(response)

    return wrapper


def _replay(session: Any, table: Table, scope: str, key: str, fingerprint: str) -> Response:
    row = session.execute(select(table).where(table.c.scope == scope, table.c.key == key)).one()
    session.rollback()
    if row.fingerprint != fingerprint:
        raise Unprocessable(
            "this Idempotency-Key was already used with a different request body",
            errors={"Idempotency-Key": ["already used with a different request body"]},
        )
    response = Response(row.body, status=row.status_code, headers=row.headers or {})
    response.headers["Idempotent-Replayed"] = "true"
    return response


def purge_expired_keys(*, older_than_hours: int) -> int:
    """Delete keys past their retention; returns how many went."""
    table = _table()
    session = current_db().session
    cutoff = utcnow() - timedelta(hours=older_than_hours)
    result = cast("CursorResult[Any]", session.execute(delete(table).where(table.c.created_at < cutoff)))
    session.commit()
    return result.rowcount
