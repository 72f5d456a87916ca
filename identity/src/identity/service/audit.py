"""The audit record: every sign-in, failure, lock, token issued to a service and account
change, with who, when and from where."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from identity.models import AuditEvent
from service_kit.pagination import Page, keyset_page


def record(
    session: Session,
    kind: str,
    *,
    actor: str | None = None,
    account_id: uuid.UUID | None = None,
    client_id: str | None = None,
    address: str | None = None,
    **detail: Any,
) -> AuditEvent:
    event = AuditEvent(
        kind=kind, actor=actor, account_id=account_id, client_id=client_id, address=address, detail=detail
    )
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class AuditFilters:
    kind: str | None = None
    account_id: uuid.UUID | None = None
    address: str | None = None
    since: datetime | None = None


def list_events(*, session: Session, filters: AuditFilters, limit: int, cursor: str | None) -> Page:
    """Newest first."""
    stmt = select(AuditEvent)
    if filters.kind:
        stmt = stmt.where(AuditEvent.kind == filters.kind)
    if filters.account_id:
        stmt = stmt.where(AuditEvent.account_id == filters.account_id)
    if filters.address:
        stmt = stmt.where(AuditEvent.address == filters.address)
    if filters.since:
        stmt = stmt.where(AuditEvent.at >= filters.since)
    return keyset_page(
        session, stmt, key_columns=[AuditEvent.id], limit=limit, cursor=cursor, descending=True
    )


def failures_from(session: Session, address: str, since: datetime) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.kind == "sign_in_failed", AuditEvent.address == address, AuditEvent.at >= since)
        )
        or 0
    )
