"""Web Push subscriptions (issue 19): a customer's browsers and phones, stored to push
to (push.py), removed when staff or the customer's side say so, or when the push
service says they are gone. Each use case flushes but never commits."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from notification_management import push
from notification_management.models import PushSubscription
from service_kit.pagination import Page, keyset_page
from service_kit.problems import NotFound, Unprocessable


class SubscriptionNotFound(NotFound):
    def __init__(self, subscription_id: object) -> None:
        super().__init__(f"push subscription {subscription_id} does not exist")


def subscribe(
    *,
    session: Session,
    customer_id: uuid.UUID,
    endpoint: str,
    p256dh: str,
    auth: str,
    created_by: str,
    patterns: Iterable[str],
) -> tuple[PushSubscription, bool]:
    """Store a subscription; one endpoint is one subscription (subscribing again
    renews its keys, and a device handed to another customer is theirs now). True
    when it is new."""
    errors = push.check_subscription(endpoint, p256dh, auth, patterns=patterns)
    if errors:
        raise Unprocessable("the push subscription breaks one or more rules", errors=errors)
    existing = session.scalar(
        select(PushSubscription).where(PushSubscription.endpoint == endpoint).with_for_update()
    )
    if existing is not None:
        existing.customer_id, existing.p256dh, existing.auth = customer_id, p256dh, auth
        session.flush()
        return existing, False
    subscription = PushSubscription(
        customer_id=customer_id, endpoint=endpoint, p256dh=p256dh, auth=auth, created_by=created_by
    )
    session.add(subscription)
    session.flush()
    return subscription, True


def list_subscriptions(
    *, session: Session, customer_id: uuid.UUID | None, limit: int, cursor: str | None
) -> Page:
    stmt = select(PushSubscription)
    if customer_id is not None:
        stmt = stmt.where(PushSubscription.customer_id == customer_id)
    return keyset_page(session, stmt, key_columns=[PushSubscription.id], limit=limit, cursor=cursor)


def unsubscribe(*, session: Session, subscription_id: uuid.UUID) -> None:
    subscription = session.get(PushSubscription, subscription_id)
    if subscription is None:
        raise SubscriptionNotFound(subscription_id)
    session.delete(subscription)
    session.flush()
