"""Server-side sessions in PostgreSQL (Flask's ``SessionInterface``).

The browser holds one HttpOnly, SameSite=Lax cookie with a random id (``__Host-`` and
Secure behind HTTPS); everything else - the person, the CSRF secret, the sign-in's
state and PKCE verifier, the tokens - stays in the ``sessions`` table. Signing in gives
the browser a new id (no session fixation); signing out deletes the row.

Flask-Session's SQLAlchemy store was the library choice, but it creates its table
outside migrations and keeps the raw id as the key; this is a few dozen lines on the
kit's database instead."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert
from werkzeug.datastructures import CallbackDict

from service_kit.clock import utcnow
from staff_console.models import BrowserSession, db

# Writing "still here" on every request would make every page a write; once a minute
# is precise enough for an idle timeout counted in hours.
TOUCH_AFTER = timedelta(minutes=1)


def id_hash(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ConsoleSession(CallbackDict[str, Any], SessionMixin):
    def __init__(self, data: dict[str, Any] | None = None, session_id: str | None = None) -> None:
        def changed(_: Any) -> None:
            self.modified = True

        super().__init__(data or {}, changed)
        self.session_id = session_id
        self.modified = False
        self.renew = False  # sign-in: a new id for the browser, the old row gone
        self.last_seen_at: datetime | None = None
        self.new_tokens: dict[str, Any] | None = None  # set at sign-in, stored with the new id

    def renew_id(self) -> None:
        self.renew = True
        self.modified = True


def cookie_name(app: Flask) -> str:
    # __Host- cookies are only accepted over HTTPS, for path / and without a domain.
    return "__Host-console" if app.config["SESSION_COOKIE_SECURE"] else "console"


class DatabaseSessionInterface(SessionInterface):
    def open_session(self, app: Flask, request: Request) -> ConsoleSession:
        session_id = request.cookies.get(cookie_name(app), "")
        if not session_id or len(session_id) > 100:
            return ConsoleSession()
        now = utcnow()
        idle = timedelta(seconds=app.config["SESSION_IDLE_SECONDS"])
        with db.engine.connect() as connection:
            row = connection.execute(
                select(BrowserSession.data, BrowserSession.last_seen_at).where(
                    BrowserSession.id_hash == id_hash(session_id),
                    BrowserSession.expires_at > now,
                    BrowserSession.last_seen_at > now - idle,
                )
            ).first()
        if row is None:
            return ConsoleSession()
        session = ConsoleSession(dict(row.data), session_id)
        session.last_seen_at = row.last_seen_at
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ConsoleSession)  # nosec B101 - the interface above made it
        name = cookie_name(app)
        now = utcnow()
        if session.session_id and (session.renew or not session):
            with db.engine.begin() as connection:
                connection.execute(
                    delete(BrowserSession).where(BrowserSession.id_hash == id_hash(session.session_id))
                )
            if not session:
                response.delete_cookie(
                    name, path="/", secure=app.config["SESSION_COOKIE_SECURE"], httponly=True
                )
                return
            session.session_id = None
        if not session:
            return
        if session.session_id is None:
            session.session_id = secrets.token_urlsafe(32)
            session.modified = True
        if not session.modified and session.last_seen_at and now - session.last_seen_at < TOUCH_AFTER:
            return
        values: dict[str, Any] = {"last_seen_at": now}
        if session.modified:
            values["data"] = dict(session)
        if session.new_tokens:
            values.update(session.new_tokens)
        with db.engine.begin() as connection:
            if session.modified:
                statement = insert(BrowserSession).values(
                    id_hash=id_hash(session.session_id),
                    created_at=now,
                    expires_at=now + timedelta(seconds=app.config["SESSION_MAX_SECONDS"]),
                    **values,
                )
                connection.execute(
                    statement.on_conflict_do_update(index_elements=[BrowserSession.id_hash], set_=values)
                )
            else:
                connection.execute(
                    update(BrowserSession)
                    .where(BrowserSession.id_hash == id_hash(session.session_id))
                    .values(**values)
                )
        response.set_cookie(
            name,
            session.session_id,
            httponly=True,
            secure=app.config["SESSION_COOKIE_SECURE"],
            samesite="Lax",
            path="/",
        )


def forget_expired(now: datetime | None = None) -> int:
    """Delete sessions past their end (a scheduled command): what rows they held is gone."""
    with db.engine.begin() as connection:
        result = connection.execute(
            delete(BrowserSession).where(BrowserSession.expires_at <= (now or utcnow()))
        )
    return int(result.rowcount or 0)
