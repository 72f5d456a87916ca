"""Tables of the ``notifications`` schema (created by migrations, never by create_all)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from notification_management.direct import HIDDEN_DATA_TYPES
from notification_management.domain import DUE_STATUSES, OUTCOMES, REQUEST_CHANNELS, STATUSES, TYPES
from notification_management.replies import DIRECTIONS, INBOUND_STATUSES, KEYWORD_KINDS, MESSAGE_KINDS
from service_kit.clock import utcnow
from service_kit.db import make_database, one_of, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7
from service_kit.outbox import define_outbox_table

SCHEMA = "notifications"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


# The outbox: consent changes an SMS STOP or START asks of customer-management.
db = make_database(Model, tables=(define_idempotency_table, define_outbox_table))


class Notification(Model):
    """A request to tell a customer something, and how its delivery went."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(one_of("type", TYPES), name="type"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint(f"channel IS NULL OR {one_of('channel', REQUEST_CHANNELS)}", name="channel"),
        # To a customer, or (direct.py: staff) to an addressee; never both, never neither.
        CheckConstraint("num_nonnulls(customer_id, addressee) = 1", name="one_recipient"),
        # History of one customer, newest first: one index range scan.
        Index("ix_notifications_customer_id_id", "customer_id", "id"),
        Index("ix_notifications_status_id", "status", "id"),
        # The dispatcher's claim: only rows still to deliver, in the order they are due.
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'failed')"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # {email, name, language} of someone who is not a customer (direct.py), else null.
    addressee: Mapped[dict[str, Any] | None] = mapped_column(JSONB(none_as_null=True))
    type: Mapped[str] = mapped_column(String(40))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    channel: Mapped[str | None] = mapped_column(String(8))  # asked for; null: the customer's choice
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    # Kept beyond the kit's key retention: one key is one notification, for good.
    idempotency_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    request_id: Mapped[str | None] = mapped_column(String(128))
    requested_by: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    # Failed tries since staff's last retry; drives backoff and `dead`.
    failures: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    delivered_channel: Mapped[str | None] = mapped_column(String(8))
    recipient: Mapped[str | None] = mapped_column(String(100))  # masked: proof, not a copy
    language: Mapped[str | None] = mapped_column(String(10))
    provider_reference: Mapped[str | None] = mapped_column(String(255))
    skip_reason: Mapped[str | None] = mapped_column(String(40))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)

    attempts: Mapped[list[NotificationAttempt]] = relationship(
        back_populates="notification",
        order_by="NotificationAttempt.number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    # UPDATE ... WHERE version = <read version>: a concurrent writer cannot be overwritten.
    __mapper_args__ = {"version_id_col": version}

    @property
    def shown_data(self) -> dict[str, Any]:
        """``data`` as answers show it: nothing of a type whose data is a secret (a reset link)."""
        return {} if self.type in HIDDEN_DATA_TYPES else self.data

    @property
    def due_at(self) -> datetime | None:
        """When the dispatcher tries it next; None once it is settled."""
        return self.next_attempt_at if self.status in DUE_STATUSES else None


class NotificationAttempt(Model):
    """One delivery try, as it happened; never updated."""

    __tablename__ = "notification_attempts"
    __table_args__ = (
        CheckConstraint(one_of("outcome", OUTCOMES), name="outcome"),
        UniqueConstraint("notification_id", "number"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    notification_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.notifications.id"))
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    channel: Mapped[str | None] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text)
    provider_reference: Mapped[str | None] = mapped_column(String(255))

    notification: Mapped[Notification] = relationship(back_populates="attempts")


class NotificationTemplate(Model):
    """The texts of one notification type in one language (Jinja2, rendered sandboxed)."""

    __tablename__ = "notification_templates"
    __table_args__ = (CheckConstraint(one_of("type", TYPES), name="type"),)

    type: Mapped[str] = mapped_column(String(40), primary_key=True)
    language: Mapped[str] = mapped_column(String(10), primary_key=True)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    sms_body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str] = mapped_column(String(200))
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class InboundSms(Model):
    """A text message a customer sent us, as the SMS provider delivered it: once per
    provider message id, however often the provider calls (a replay is ignored)."""

    __tablename__ = "inbound_sms"
    __table_args__ = (
        UniqueConstraint("provider", "provider_message_id"),
        CheckConstraint(one_of("status", INBOUND_STATUSES), name="status"),
        CheckConstraint(f"keyword IS NULL OR {one_of('keyword', KEYWORD_KINDS)}", name="keyword"),
        # The ones still to match to a customer (customer-management was down).
        Index("ix_inbound_sms_pending", "received_at", postgresql_where=text("status = 'pending'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    provider: Mapped[str] = mapped_column(String(20))
    provider_message_id: Mapped[str] = mapped_column(String(64))
    # The number, until the message is matched to customers (then null: the customer's
    # number is customer-management's); masked, for good.
    sender: Mapped[str | None] = mapped_column(String(20))
    sender_masked: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    keyword: Mapped[str | None] = mapped_column(String(8))
    # What we answered (a keyword's confirmation), in the reply to the provider.
    answer: Mapped[str | None] = mapped_column(Text)
    # pending: not matched yet; matched: in the customers' conversations; unknown: no
    # customer has this number.
    status: Mapped[str] = mapped_column(String(10))
    customer_ids: Mapped[list[str]] = mapped_column(JSONB, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    matched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Conversation(Model):
    """One customer's text messages with the garage: what the list shows."""

    __tablename__ = "conversations"
    __table_args__ = (Index("ix_conversations_last_message", "last_message_at", "customer_id"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    last_message_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_direction: Mapped[str] = mapped_column(String(8))
    last_text: Mapped[str] = mapped_column(Text)
    message_count: Mapped[int] = mapped_column(Integer, default=0)
    # The customer wrote last (not a keyword): staff have something to answer.
    awaiting_reply: Mapped[bool] = mapped_column(default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}


class ConversationMessage(Model):
    """A message in a conversation: the customer's (inbound), or ours (outbound: an
    automatic answer to a keyword, or staff's reply, sent as a notification)."""

    __tablename__ = "conversation_messages"
    __table_args__ = (
        CheckConstraint(one_of("direction", DIRECTIONS), name="direction"),
        CheckConstraint(one_of("kind", MESSAGE_KINDS), name="kind"),
        Index("ix_conversation_messages_customer_id_id", "customer_id", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.conversations.customer_id"))
    direction: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    inbound_sms_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.inbound_sms.id"))
    notification_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey(f"{SCHEMA}.notifications.id"))
    author: Mapped[str | None] = mapped_column(String(200))  # staff's reply: who

    notification: Mapped[Notification | None] = relationship(lazy="selectin")

    @property
    def delivery_status(self) -> str | None:
        """Staff's reply: how its delivery goes (pending, sent, skipped ...)."""
        return self.notification.status if self.notification is not None else None

    @property
    def skip_reason(self) -> str | None:
        return self.notification.skip_reason if self.notification is not None else None


class PushSubscription(Model):
    """A browser's or phone's Web Push subscription for a customer (RFC 8030/8291):
    the push service's endpoint and the keys the payload is encrypted to. Removed when
    the push service says it is gone (404, 410)."""

    __tablename__ = "push_subscriptions"
    __table_args__ = (Index("ix_push_subscriptions_customer_id", "customer_id"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    # A capability URL: whoever has it can push to the device; never shown in full.
    endpoint: Mapped[str] = mapped_column(Text, unique=True)
    p256dh: Mapped[str] = mapped_column(String(100))
    auth: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def push_service(self) -> str:
        """Where it goes, without the secret part: the push service's origin."""
        parts = urlsplit(self.endpoint)
        return f"{parts.scheme}://{parts.netloc}"
