"""Replies heard (issue 19): a text message a customer sends us is stored once per
provider message id, matched to the customers with that number (customer-management),
and lands in their conversation; STOP and START change their SMS consent in
customer-management through the outbox; staff read the conversations and answer,
the answer being an ``sms_reply`` notification delivered as any other.

Each use case takes its dependencies as keyword arguments, flushes but never commits
(the HTTP layer makes one request one transaction), and knows no HTTP.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from notification_management import domain, replies
from notification_management.clients.customer_management import (
    CustomerContact,
    CustomerManagement,
    record_consent,
)
from notification_management.models import (
    Conversation,
    ConversationMessage,
    InboundSms,
    Notification,
)
from notification_management.service.notifications import accept_notification
from notification_management.twilio import InboundSms as ReceivedSms
from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from service_kit.ids import uuid7
from service_kit.outbox import enqueue
from service_kit.pagination import Page, keyset_page
from service_kit.problems import NotFound

PREVIEW_LENGTH = 160


class ConversationNotFound(NotFound):
    def __init__(self, customer_id: object) -> None:
        super().__init__(
            f"customer {customer_id} has not texted the garage: there is no conversation to answer"
        )


@dataclass(frozen=True)
class Received:
    """What the webhook answers: nothing for a replay, else the answer (or None)."""

    replay: bool
    answer: str | None = None


def receive_sms(
    *,
    session: Session,
    provider: str,
    sms: ReceivedSms,
    customers: CustomerManagement,
    garage_name: str,
    default_language: str,
) -> Received:
    """Store a message once (a replay of its provider id changes nothing and is not
    answered again), match it to customers now if customer-management answers (else
    later: ``match_pending``), and work out the answer to a keyword."""
    kind = replies.keyword(sms.text)
    inserted = session.execute(
        insert(InboundSms)
        .values(
            id=uuid7(),
            provider=provider,
            provider_message_id=sms.message_sid,
            sender=sms.sender,
            sender_masked=domain.mask_address("sms", sms.sender),
            text=sms.text,
            keyword=kind,
            status=replies.PENDING,
            customer_ids=[],
            received_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["provider", "provider_message_id"])
        .returning(InboundSms.id)
    ).scalar_one_or_none()
    if inserted is None:
        return Received(replay=True)
    row = session.get_one(InboundSms, inserted)
    try:
        contacts: list[CustomerContact] | None = customers.find_by_phone(sms.sender)
    except DependencyFailed:
        contacts = None  # matched later; the keyword is answered now all the same
    if kind is not None:
        language = contacts[0].preferred_language if contacts else ""
        row.answer = replies.answer(kind, language=language or default_language, garage_name=garage_name)
    if contacts is not None:
        _match(session, row, contacts)
    session.flush()
    return Received(replay=False, answer=row.answer)


def match_pending(*, session: Session, customers: CustomerManagement, limit: int = 100) -> int:
    """Match messages received while customer-management could not answer; stops at
    the first failure (it is still down). The number matched."""
    rows = session.scalars(
        select(InboundSms)
        .where(InboundSms.status == replies.PENDING)
        .order_by(InboundSms.received_at, InboundSms.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    matched = 0
    for row in rows:
        if row.sender is None:  # a pending row keeps its number until it is matched
            raise RuntimeError(f"pending inbound SMS {row.id} has lost its sender's number")
        try:
            contacts = customers.find_by_phone(row.sender)
        except DependencyFailed:
            break
        _match(session, row, contacts)
        matched += 1
    session.flush()
    return matched


def _match(session: Session, row: InboundSms, contacts: list[CustomerContact]) -> None:
    """Put the message (and our answer) in each customer's conversation, and ask
    customer-management to record what a keyword changes in their consent."""
    now = utcnow()
    row.customer_ids = [str(c.id) for c in contacts]
    row.status = replies.MATCHED if contacts else replies.UNKNOWN
    row.matched_at = now
    row.sender = None  # the number is customer-management's to keep
    for contact in contacts:
        conversation = _conversation(session, contact.id)
        _add(
            session,
            conversation,
            direction=replies.INBOUND,
            kind=row.keyword or replies.MESSAGE,
            text=row.text,
            at=row.received_at,
            inbound_sms_id=row.id,
        )
        if row.answer is not None:
            _add(
                session,
                conversation,
                direction=replies.OUTBOUND,
                kind=replies.AUTO_REPLY,
                text=row.answer,
                at=row.received_at,
                inbound_sms_id=row.id,
            )
        word = row.text.strip().rstrip(".!").strip().upper()
        for change in replies.consent_changes(row.keyword):
            enqueue(
                session,
                record_consent(
                    contact.id,
                    channel="sms",
                    purpose=change.purpose,
                    granted=change.granted,
                    wording=f'The customer texted "{word}" to the garage\'s number',
                    key=f"sms-{row.keyword}-{row.id}-{contact.id}-{change.purpose}",
                ),
            )


def _conversation(session: Session, customer_id: uuid.UUID) -> Conversation:
    """The customer's conversation, locked; made when this is their first message."""
    session.execute(
        insert(Conversation)
        .values(
            customer_id=customer_id,
            last_message_at=utcnow(),
            last_direction=replies.INBOUND,
            last_text="",
            message_count=0,
            awaiting_reply=False,
            version=1,
        )
        .on_conflict_do_nothing(index_elements=["customer_id"])
    )
    return session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _add(
    session: Session,
    conversation: Conversation,
    *,
    direction: str,
    kind: str,
    text: str,
    at: datetime,
    inbound_sms_id: uuid.UUID | None = None,
    notification_id: uuid.UUID | None = None,
    author: str | None = None,
) -> ConversationMessage:
    message = ConversationMessage(
        customer_id=conversation.customer_id,
        direction=direction,
        kind=kind,
        text=text,
        created_at=at,
        inbound_sms_id=inbound_sms_id,
        notification_id=notification_id,
        author=author,
    )
    session.add(message)
    conversation.message_count += 1
    conversation.last_message_at = (
        max(conversation.last_message_at, at) if conversation.message_count > 1 else at
    )
    conversation.last_direction = direction
    conversation.last_text = text[:PREVIEW_LENGTH]
    if kind == replies.MESSAGE:
        conversation.awaiting_reply = True
    elif kind == replies.REPLY:
        conversation.awaiting_reply = False
    return message


# ------------------------------------------------------------------------ staff's side


@dataclass(frozen=True)
class ConversationFilters:
    awaiting_reply: bool | None = None


def list_conversations(
    *, session: Session, filters: ConversationFilters, limit: int, cursor: str | None
) -> Page:
    """The latest conversation first."""
    stmt = select(Conversation)
    if filters.awaiting_reply is not None:
        stmt = stmt.where(Conversation.awaiting_reply.is_(filters.awaiting_reply))
    return keyset_page(
        session,
        stmt,
        key_columns=[Conversation.last_message_at, Conversation.customer_id],
        limit=limit,
        cursor=cursor,
        descending=True,
    )


@dataclass(frozen=True)
class ConversationView:
    customer_id: uuid.UUID
    last_message_at: datetime
    last_direction: str
    last_text: str
    message_count: int
    awaiting_reply: bool
    messages: list[ConversationMessage]
    earlier_messages: bool


def get_conversation(*, session: Session, customer_id: uuid.UUID, limit: int) -> ConversationView:
    """The conversation with its latest ``limit`` messages, oldest first."""
    conversation = session.get(Conversation, customer_id)
    if conversation is None:
        raise ConversationNotFound(customer_id)
    latest = list(
        session.scalars(
            select(ConversationMessage)
            .where(ConversationMessage.customer_id == customer_id)
            .order_by(ConversationMessage.created_at.desc(), ConversationMessage.id.desc())
            .limit(limit + 1)
        )
    )
    return ConversationView(
        customer_id=conversation.customer_id,
        last_message_at=conversation.last_message_at,
        last_direction=conversation.last_direction,
        last_text=conversation.last_text,
        message_count=conversation.message_count,
        awaiting_reply=conversation.awaiting_reply,
        messages=list(reversed(latest[:limit])),
        earlier_messages=len(latest) > limit,
    )


def answer(
    *,
    session: Session,
    customer_id: uuid.UUID,
    text: str,
    author: str,
    idempotency_key: str | None,
    request_id: str | None,
) -> ConversationMessage:
    """Staff answer a customer who texted: an ``sms_reply`` notification, delivered by
    the dispatcher like any other (consent, quiet hours and all), recorded in the
    conversation. The same Idempotency-Key is the same answer."""
    if session.get(Conversation, customer_id) is None:
        raise ConversationNotFound(customer_id)
    notification = accept_notification(
        session=session,
        data={"customer_id": customer_id, "type": "sms_reply", "data": {"text": text}, "channel": "sms"},
        idempotency_key=f"conversation-{customer_id}-{idempotency_key}" if idempotency_key else None,
        request_id=request_id,
        requested_by=author,
        attachment_bases=(),
    )
    existing = session.scalar(
        select(ConversationMessage).where(ConversationMessage.notification_id == notification.id)
    )
    if existing is not None:
        return existing
    conversation = _conversation(session, customer_id)
    message = _add(
        session,
        conversation,
        direction=replies.OUTBOUND,
        kind=replies.REPLY,
        text=text,
        at=utcnow(),
        notification_id=notification.id,
        author=author,
    )
    session.flush()
    message.notification = session.get(Notification, notification.id)
    return message
