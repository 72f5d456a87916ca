"""The payments the portal started, in its own schema (``customer_portal.payments``),
beside the outbox (``outbox_messages``) that carries each paid one to invoicing."""

from __future__ import annotations

import hashlib
import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from customer_portal.models import Model
from customer_portal.payments.provider import STATUSES as PROVIDER_STATUSES
from service_kit.clock import utcnow
from service_kit.db import one_of
from service_kit.ids import uuid7
from service_kit.outbox import OUTBOX_TABLE, define_outbox_table

# Before the provider has answered: the row exists so its id can go in the payment's
# metadata; it becomes the provider's status, or ``not_started`` when the provider refused.
CREATED, NOT_STARTED = "created", "not_started"
STATUSES = (CREATED, NOT_STARTED, *PROVIDER_STATUSES)


def link_hash(token: str) -> str:
    """The rows of one link are found by the SHA-256 of its token (an index on 300
    characters would be a waste)."""
    return hashlib.sha256(token.encode()).hexdigest()


class Payment(Model):
    """One payment the customer started from an invoice's pay link."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("provider", "provider_payment_id"),
        CheckConstraint(one_of("status", STATUSES), name="status"),
        CheckConstraint("amount > 0", name="amount_positive"),
        Index("ix_payments_link_hash_created_at", "link_hash", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    provider: Mapped[str] = mapped_column(String(20))
    provider_payment_id: Mapped[str | None] = mapped_column(String(100))
    # The portal never sees the invoice's id (the link names it, invoicing reads it): the
    # number is what it knows, and what the garage sees in the provider's dashboard.
    invoice_number: Mapped[str] = mapped_column(String(64))
    # The customer's link, presented again by the relay when it reports the payment
    # (Portal-Link), and its hash to find the link's payments.
    link_token: Mapped[str] = mapped_column(Text)
    link_hash: Mapped[str] = mapped_column(String(64))
    amount: Mapped[int] = mapped_column(Integer)  # minor units, as asked of the provider
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=CREATED)
    method: Mapped[str | None] = mapped_column(String(32))
    checkout_url: Mapped[str | None] = mapped_column(Text)
    paid_amount: Mapped[int | None] = mapped_column(Integer)  # what the provider says was paid
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When invoicing answered the record (the relay's delivery): until then the portal
    # shows the invoice paid from this row.
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    @property
    def record_key(self) -> str:
        """The record's Idempotency-Key at invoicing: ``<provider>-<payment id>``."""
        return f"{self.provider}-{self.provider_payment_id}"


# The outbox lives beside the payments, in the portal's schema (the kit's table).
if f"{Model.metadata.schema}.{OUTBOX_TABLE}" not in Model.metadata.tables:
    define_outbox_table(Model.metadata)
