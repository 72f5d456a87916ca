"""Tables of the ``customers`` schema (created by migrations, never by create_all)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ColumnElement,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    func,
    literal_column,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute, Mapped, mapped_column

from service_kit.clock import utcnow
from service_kit.db import make_database, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.ids import uuid7

SCHEMA = "customers"


class Model(DeclarativeBase):
    """The base of this service's tables: all of them live in its schema."""

    metadata = schema_metadata(SCHEMA)


db = make_database(Model, tables=(define_idempotency_table,))


# Everything `q` can match, lower-cased, in one trigram-indexed column.
SEARCH_TEXT = (
    "lower(name || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '') || ' ' "
    "|| coalesce(contact_person, '') || ' ' || coalesce(vat_number, ''))"
)


# Search ranks a name whose first, second, third or fourth word starts with `q` first
# ("jan" finds Jan Bakker, "vries" Ann de Vries, "transport" Van Dijk Transport BV):
# each of those four parts of the name has an index of its own.
NAME_WORDS_INDEXED = 4


def name_from_word(
    name_lower: ColumnElement[Any] | InstrumentedAttribute[Any], word: int
) -> ColumnElement[str]:
    """``name_lower`` from its ``word``-th word on (1: all of it; NULL when the name has
    fewer words). In byte order, as ``name_lower`` is: ``LIKE 'x%'`` on it is a range
    scan of its index, in the index's order, whatever the database's collation."""
    column = name_lower if isinstance(name_lower, ColumnElement) else name_lower.expression
    if word == 1:
        return column
    # Constants written into the SQL, as in the index's expression: as bound values, a
    # prepared statement's expression would differ from the index's and miss it.
    pattern = "'^" + "[^ ]* " * (word - 1) + "(.*)$'"
    return func.regexp_substr(column, *(literal_column(part) for part in (pattern, "1", "1", "''", "1")))


def email_start(email: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[str]:
    """The lower-cased email address in byte order: ``LIKE 'x%'`` is a range scan. (Under
    collation C, lower() changes ASCII letters only; an address is nearly always ASCII.)"""
    return func.lower(email.collate("C"))


def search_digits(search_text: ColumnElement[Any] | InstrumentedAttribute[Any]) -> ColumnElement[Any]:
    """The digit grams of the search text (``domain.digit_grams``, in SQL: migration
    0005's ``customers.digit_grams``), as ix_customers_search_digits indexes them."""
    column = search_text if isinstance(search_text, ColumnElement) else search_text.expression
    return func.customers.digit_grams(column, type_=ARRAY(Text))


class Customer(Model):
    __tablename__ = "customers"
    __table_args__ = (
        CheckConstraint("kind IN ('person', 'business')", name="kind"),
        CheckConstraint("status IN ('active', 'erased')", name="status"),
        CheckConstraint("preferred_channel IN ('email', 'sms', 'none')", name="preferred_channel"),
        CheckConstraint("status = 'erased' OR email IS NOT NULL OR phone IS NOT NULL", name="contactable"),
        CheckConstraint("payment_terms_days BETWEEN 0 AND 365", name="payment_terms_days"),
        Index(
            "uq_customers_active_email",
            func.lower(text("email")),
            unique=True,
            postgresql_where=text("status = 'active' AND email IS NOT NULL"),
        ),
        Index(
            "ix_customers_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        Index(
            "ix_customers_search_digits",
            search_digits(literal_column("search_text")),
            postgresql_using="gin",
            postgresql_with={"fastupdate": "off"},
        ),
        Index("ix_customers_phone", "phone"),
        *(
            Index(f"ix_customers_name_word_{word}", name_from_word(literal_column("name_lower"), word), "id")
            for word in range(1, NAME_WORDS_INDEXED + 1)
        ),
        Index("ix_customers_email_start", email_start(literal_column("email")), "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    vat_number: Mapped[str | None] = mapped_column(String(20))
    contact_person: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(20))
    street: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    preferred_channel: Mapped[str] = mapped_column(String(8), default="email")
    preferred_language: Mapped[str] = mapped_column(String(10), default="en")
    notes: Mapped[str | None] = mapped_column(Text)
    payment_terms_days: Mapped[int] = mapped_column(Integer)
    consents: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)
    search_text: Mapped[str] = mapped_column(Text, Computed(SEARCH_TEXT, persisted=True))
    # The name lower-cased in the database's locale ("Şahin" -> "şahin"), compared byte-wise
    # (collation C): what the name word indexes are made of (name_from_word).
    name_lower: Mapped[str] = mapped_column(Text(collation="C"), Computed("lower(name)", persisted=True))
    # The customer as the API shows it up to its times, rendered by a trigger whenever the
    # row is written (rendering.HEAD_MEMBERS, migration 0006): the reads render the rest.
    # The ORM never loads it, nor asks for it back (as a FetchedValue, every INSERT brought
    # it back with RETURNING for nothing); the trigger overwrites the NULL an INSERT sends.
    rendered_head: Mapped[str] = mapped_column(Text, deferred=True)

    # UPDATE ... WHERE version = <read version>: a concurrent writer cannot be overwritten.
    __mapper_args__ = {"version_id_col": version}

    @property
    def address(self) -> dict[str, str | None]:
        return {
            "street": self.street,
            "postal_code": self.postal_code,
            "city": self.city,
            "country": self.country,
        }

    @property
    def marketing_consent(self) -> bool:
        return any(purposes.get("marketing") for purposes in self.consents.values())


class ConsentRecord(Model):
    """One grant or withdrawal, as it happened; never updated or deleted."""

    __tablename__ = "consent_records"
    __table_args__ = (
        CheckConstraint("channel IN ('email', 'sms')", name="channel"),
        CheckConstraint("purpose IN ('service', 'marketing')", name="purpose"),
        Index("ix_consent_records_customer_recorded", "customer_id", "recorded_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid7)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey(f"{SCHEMA}.customers.id"))
    channel: Mapped[str] = mapped_column(String(8))
    purpose: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(16))
    wording: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(200))
    recorded_by_name: Mapped[str] = mapped_column(String(200))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
