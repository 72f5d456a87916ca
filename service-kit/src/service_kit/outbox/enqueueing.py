"""Putting a request to another service in the outbox, in the caller's transaction."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service_kit.clock import utcnow
from service_kit.ids import uuid7
from service_kit.observability import current_request_id
from service_kit.outbox.table import PENDING, current_outbox_table

METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class OutboxRequest:
    """One request to ``target`` (a service name, e.g. ``invoicing``), as a service's
    client builds it; ``idempotency_key`` is stable per event."""

    target: str
    method: str
    path: str
    body: Any
    idempotency_key: str


def _jsonable(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def enqueue(session: Session, request: OutboxRequest) -> uuid.UUID | None:
    """Put ``request`` in the outbox, in the session's transaction, and nothing else
    (no I/O). Returns the row id, or None when a row with this target and key is
    already there (enqueueing is idempotent too)."""
    method = request.method.upper()
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    if not request.path.startswith("/"):
        raise ValueError("path must start with /")
    if not request.idempotency_key or len(request.idempotency_key) > 255:
        raise ValueError("idempotency_key must be 1 to 255 characters")
    table = current_outbox_table()
    now = utcnow()
    stmt = (
        insert(table)
        .values(
            id=uuid7(),
            target=request.target,
            method=method,
            path=request.path,
            body=json.loads(json.dumps(request.body, default=_jsonable)),
            idempotency_key=request.idempotency_key,
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
