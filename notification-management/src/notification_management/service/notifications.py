"""Notification use cases (accept, read, list, retry). Each takes its dependencies as keyword
arguments, flushes but never commits (the HTTP layer makes one request one
transaction), and knows no HTTP. Delivery itself is the dispatcher's."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notification_management import domain
from notification_management.models import Notification
from service_kit.clock import utcnow
from service_kit.pagination import Page, keyset_page


def accept_notification(
    *,
    session: Session,
    data: dict[str, Any],
    idempotency_key: str | None,
    request_id: str | None,
    requested_by: str,
    attachment_bases: Iterable[str],
) -> Notification:
    """Store a request for the dispatcher. One Idempotency-Key is one notification for
    good, also after the kit's stored answer for the key has expired."""
    request = {
        "customer_id": data.get("customer_id"),
        "addressee": data.get("addressee"),
        "type": data["type"],
        "data": data["data"],
        "channel": data.get("channel"),
        "attachments": data.get("attachments") or [],
    }
    domain.check_attachments(request["attachments"], allowed_bases=attachment_bases)
    if idempotency_key:
        existing = session.scalar(select(Notification).where(Notification.idempotency_key == idempotency_key))
        if existing is not None:
            stored = {field: getattr(existing, field) for field in request}
            if not domain.same_request(stored, request):
                raise domain.IdempotencyKeyReused()
            return existing
    notification = Notification(
        **request,
        idempotency_key=idempotency_key,
        request_id=request_id,
        requested_by=requested_by,
        status=domain.PENDING,
        next_attempt_at=utcnow(),
    )
    session.add(notification)
    session.flush()
    return notification


def get_notification(*, session: Session, notification_id: uuid.UUID) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None:
        raise domain.NotificationNotFound(notification_id)
    return notification


@dataclass(frozen=True)
class NotificationFilters:
    customer_id: uuid.UUID | None = None
    status: str | None = None
    type: str | None = None


def list_notifications(
    *, session: Session, filters: NotificationFilters, limit: int, cursor: str | None
) -> Page:
    """Newest first (ids are time-ordered)."""
    stmt = select(Notification)
    if filters.customer_id:
        stmt = stmt.where(Notification.customer_id == filters.customer_id)
    if filters.status:
        stmt = stmt.where(Notification.status == filters.status)
    if filters.type:
        stmt = stmt.where(Notification.type == filters.type)
    return keyset_page(
        session, stmt, key_columns=[Notification.id], limit=limit, cursor=cursor, descending=True
    )


def retry_notification(*, session: Session, notification_id: uuid.UUID) -> Notification:
    """Staff send a dead (or skipped) notification again: due now, with a fresh count
    of failures; the attempts so far stay in its history."""
    notification = session.scalar(
        select(Notification).where(Notification.id == notification_id).with_for_update()
    )
    if notification is None:
        raise domain.NotificationNotFound(notification_id)
    if notification.status not in domain.RETRYABLE_STATUSES:
        raise domain.NotRetryable(notification_id, notification.status)
    notification.status = domain.PENDING
    notification.failures = 0
    notification.next_attempt_at = utcnow()
    notification.skip_reason = None
    notification.last_error = None
    session.flush()
    return notification
