"""The ``outbox_messages`` table: its columns, its statuses, and its place in a
service's schema (the service lists ``define_outbox_table`` in ``make_database``;
its migration calls ``create_outbox_table``)."""

from __future__ import annotations

from alembic import op
from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

from service_kit.db import NAMING_CONVENTION, current_db

OUTBOX_TABLE = "outbox_messages"
PENDING, DELIVERED, DEAD = "pending", "delivered", "dead"
STATUSES = (PENDING, DELIVERED, DEAD)


def define_outbox_table(metadata: MetaData) -> Table:
    return Table(
        OUTBOX_TABLE,
        metadata,
        Column("id", UUID(as_uuid=True), primary_key=True),
        Column("target", String(100), nullable=False),
        Column("method", String(10), nullable=False),
        Column("path", String(500), nullable=False),
        Column("body", JSONB, nullable=True),
        Column("idempotency_key", String(255), nullable=False),
        Column("request_id", String(128), nullable=True),
        Column("status", String(16), nullable=False),
        Column("attempts", Integer, nullable=False),
        Column("next_attempt_at", DateTime(timezone=True), nullable=False),
        Column("last_attempt_at", DateTime(timezone=True), nullable=True),
        Column("last_status", Integer, nullable=True),
        Column("last_error", Text, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("delivered_at", DateTime(timezone=True), nullable=True),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        UniqueConstraint("target", "idempotency_key"),
        # The relay's claim is an index range scan over due rows only.
        Index("ix_outbox_messages_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
        Index("ix_outbox_messages_status_id", "status", "id"),
    )


def create_outbox_table(schema: str) -> None:
    """Create the outbox in a service's schema (call from a migration)."""
    define_outbox_table(MetaData(schema=schema, naming_convention=NAMING_CONVENTION)).create(op.get_bind())


def drop_outbox_table(schema: str) -> None:
    op.drop_table(OUTBOX_TABLE, schema=schema)


def outbox_table(metadata: MetaData) -> Table:
    try:
        return metadata.tables[f"{metadata.schema}.{OUTBOX_TABLE}"]
    except KeyError:
        raise RuntimeError(
            "this service has no outbox: add define_outbox_table to make_database(schema, tables=...)"
        ) from None


def current_outbox_table() -> Table:
    """The outbox of the app in context."""
    return outbox_table(current_db().metadata)
