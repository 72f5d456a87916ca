"""The console's one table, in the ``staff_console`` schema: server-side sessions. It
keeps no garage data; that stays in the six services."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from service_kit.clock import utcnow
from service_kit.db import make_database, schema_metadata

SCHEMA = "staff_console"


class Model(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


db = make_database(Model)


class BrowserSession(Model):
    """One signed-in browser. The cookie carries a random id; the table keeps its SHA-256
    only, so a copy of the table opens no session. The person's tokens never leave the
    server: the access token is sent to the services, the refresh token only to the
    provider."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    subject: Mapped[str | None] = mapped_column(String(200))
    access_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_token: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
