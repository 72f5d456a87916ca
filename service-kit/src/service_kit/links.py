"""Links a customer follows from a message to the customer portal.

A link is a token that lets the portal do one thing for one customer: see and decide
one estimate, manage one appointment, pay one invoice, book for one vehicle, rate one
visit. The service that owns the thing issues the token, puts the portal's URL for it
in the message, and is the one that checks it when the portal comes back with it, so
what a link allows is enforced by the receiver, not only by the portal:

- the token is an HS256 JWT signed with the issuing service's own ``PORTAL_LINK_KEY``
  (``iss`` the service, ``aud`` ``customer-portal``, ``pur`` the purpose, ``sub`` the
  thing's id, ``cus`` the customer's id, ``jti``, ``exp``): nobody else can make one,
  and changing the id in it breaks the signature;
- the service records every link it issued in its ``portal_links`` table, so a link
  can be revoked and its uses are counted;
- ``@blp.link(purpose)`` lets a view run only for the ``portal`` role *and* a valid
  token of that purpose in the ``Portal-Link`` header; the view then acts on
  ``current_link().resource_id`` and nothing else. A tampered, unknown or other-purpose
  token is a 403 ``link-not-valid``; an expired one a 410 ``link-expired``; a revoked
  one a 410 ``link-revoked``.

docs/customer-portal.md records why.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any

import jwt
from alembic import op
from flask import current_app, g, request
from sqlalchemy import Column, DateTime, Index, Integer, MetaData, String, Table, select, update
from sqlalchemy.orm import Session

from service_kit.auth import authenticate
from service_kit.clock import utcnow
from service_kit.config import ConfigError
from service_kit.db import NAMING_CONVENTION, current_db
from service_kit.problems import Forbidden, Problem

PORTAL_ROLE = "portal"
AUDIENCE = "customer-portal"
LINK_HEADER = "Portal-Link"
# The customer's address as the portal saw it, recorded with what they decided.
CLIENT_ADDRESS_HEADER = "Portal-Client-Address"
CLIENT_ADDRESS_MAX_LENGTH = 100
LINKS_TABLE = "portal_links"
ALGORITHM = "HS256"

# What a link may be for, and the portal's page for it (``{PORTAL_URL}/<page>/<token>``).
PURPOSES: dict[str, str] = {
    "estimate": "estimate",  # see one estimate and decide its lines
    "appointment": "appointment",  # confirm, move or cancel one appointment
    "booking": "book",  # book a visit for one vehicle of a known customer
    "invoice": "invoice",  # see and pay one invoice
    "visit": "feedback",  # rate one visit (a completed job)
}


class LinkNotValid(Problem):
    """Tampered, unknown, meant for something else or made by another service."""

    status = 403


class LinkExpired(Problem):
    status = 410


class LinkRevoked(Problem):
    status = 410


@dataclass(frozen=True)
class Link:
    id: str  # the token's jti
    purpose: str
    resource_id: str
    customer_id: str
    expires_at: datetime


# ---------------------------------------------------------------------------- settings


def link_settings(
    *, service: str, env: Mapping[str, str], jwt_secret: str, production: bool
) -> dict[str, Any]:
    """The settings of a service that issues links: ``PORTAL_URL`` (the portal's public
    address, for the messages) and ``PORTAL_LINK_KEY`` (this service's own signing key;
    in development derived from the development secret, in production required)."""
    key = env.get("PORTAL_LINK_KEY", "")
    if not key:
        if production:
            raise ConfigError("missing production settings: PORTAL_LINK_KEY")
        key = hmac.new(jwt_secret.encode(), f"portal-link:{service}".encode(), hashlib.sha256).hexdigest()
    elif len(key) < 32:
        raise ConfigError("PORTAL_LINK_KEY must be at least 32 characters")
    return {
        "PORTAL_URL": env.get("PORTAL_URL", "http://127.0.0.1:8009").rstrip("/"),
        "PORTAL_LINK_KEY": key,
    }


def service_link_settings(config: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, Any]:
    """``link_settings`` for the service whose kit settings are ``config`` (its name, its
    development secret, production or not): what a link-issuing service's config adds."""
    return link_settings(
        service=config["SERVICE_NAME"],
        env=env,
        jwt_secret=config["JWT_SECRET"] or "",
        production=config["GARAGE_ENV"] == "production",
    )


# ---------------------------------------------------------------------------- the table


def define_links_table(metadata: MetaData) -> Table:
    return Table(
        LINKS_TABLE,
        metadata,
        Column("id", String(64), primary_key=True),  # the token's jti
        Column("purpose", String(32), nullable=False),
        Column("resource_id", String(64), nullable=False),
        Column("customer_id", String(64), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True), nullable=False),
        Column("revoked_at", DateTime(timezone=True), nullable=True),
        Column("uses", Integer, nullable=False, server_default="0"),
        Column("last_used_at", DateTime(timezone=True), nullable=True),
        Index("ix_portal_links_resource", "purpose", "resource_id"),
    )


def create_links_table(schema: str) -> None:
    """Create ``portal_links`` in a service's schema (call from a migration)."""
    define_links_table(MetaData(schema=schema, naming_convention=NAMING_CONVENTION)).create(op.get_bind())


def drop_links_table(schema: str) -> None:
    op.drop_table(LINKS_TABLE, schema=schema)


def _table() -> Table:
    metadata = current_db().metadata
    try:
        return metadata.tables[f"{metadata.schema}.{LINKS_TABLE}"]
    except KeyError:
        raise RuntimeError(
            "this service issues no links: add define_links_table to make_database(schema, tables=...)"
        ) from None


# ---------------------------------------------------------------------------- issuing


def issue_link(
    session: Session,
    *,
    purpose: str,
    resource_id: uuid.UUID | str,
    customer_id: uuid.UUID | str,
    valid_for: timedelta | None = None,
    expires_at: datetime | None = None,
) -> str:
    """Record a link and return its token (in the caller's transaction)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}; purposes are {sorted(PURPOSES)}")
    now = utcnow()
    if expires_at is None:
        if valid_for is None:
            raise ValueError("give valid_for or expires_at")
        expires_at = now + valid_for
    link_id = secrets.token_urlsafe(16)
    session.execute(
        _table()
        .insert()
        .values(
            id=link_id,
            purpose=purpose,
            resource_id=str(resource_id),
            customer_id=str(customer_id),
            created_at=now,
            expires_at=expires_at,
            uses=0,
        )
    )
    config = current_app.config
    claims = {
        "iss": config["SERVICE_NAME"],
        "aud": AUDIENCE,
        "pur": purpose,
        "sub": str(resource_id),
        "cus": str(customer_id),
        "jti": link_id,
        "iat": int(now.timestamp()),
        "exp": int(expires_at.timestamp()),
    }
    return jwt.encode(claims, config["PORTAL_LINK_KEY"], algorithm=ALGORITHM)


def link_url(purpose: str, token: str) -> str:
    """The portal's page for a link, as the message carries it."""
    return f"{current_app.config['PORTAL_URL']}/{PURPOSES[purpose]}/{token}"


def revoke_links(session: Session, *, purpose: str, resource_id: uuid.UUID | str) -> int:
    """Revoke every link of ``purpose`` to one thing; returns how many were live."""
    table = _table()
    result = session.execute(
        update(table)
        .where(
            table.c.purpose == purpose,
            table.c.resource_id == str(resource_id),
            table.c.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]  # CursorResult of an UPDATE has rowcount


# ---------------------------------------------------------------------------- checking


def verify_link(
    session: Session,
    token: str,
    *,
    purpose: str,
    count_use: bool = True,
    expired_grace: timedelta = timedelta(0),
) -> Link:
    """The link ``token`` stands for, if this service issued it for ``purpose``, it has
    not expired (or expired less than ``expired_grace`` ago) and it was not revoked; else
    a problem saying which."""
    config = current_app.config
    try:
        claims = jwt.decode(
            token,
            config["PORTAL_LINK_KEY"],
            algorithms=[ALGORITHM],
            audience=AUDIENCE,
            issuer=config["SERVICE_NAME"],
            leeway=expired_grace,
            options={"require": ["exp", "jti", "sub", "pur", "cus", "iss", "aud"]},
        )
    except jwt.ExpiredSignatureError:
        raise LinkExpired("this link has expired") from None
    except jwt.PyJWTError:
        raise LinkNotValid("this link is not valid") from None
    if claims["pur"] != purpose:
        raise LinkNotValid(f"this link is not for a {purpose.replace('_', ' ')}")
    table = _table()
    row = session.execute(select(table).where(table.c.id == claims["jti"])).one_or_none()
    if row is None or row.purpose != purpose or row.resource_id != claims["sub"]:
        raise LinkNotValid("this link is not valid")
    if row.revoked_at is not None:
        raise LinkRevoked("this link has been withdrawn")
    if row.expires_at + expired_grace <= utcnow():
        raise LinkExpired("this link has expired")
    if count_use:
        session.execute(
            update(table).where(table.c.id == row.id).values(uses=table.c.uses + 1, last_used_at=utcnow())
        )
    return Link(
        id=row.id,
        purpose=row.purpose,
        resource_id=row.resource_id,
        customer_id=row.customer_id,
        expires_at=row.expires_at.astimezone(UTC),
    )


def requires_link(
    purpose: str, *, expired_grace: timedelta = timedelta(0)
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Let a view run only for the ``portal`` role with a valid ``purpose`` link.
    ``expired_grace``: how long after its expiry the link still opens this operation (the
    record of a payment the customer made while it was valid, arriving later)."""
    if purpose not in PURPOSES:
        raise ValueError(f"unknown link purpose {purpose!r}; purposes are {sorted(PURPOSES)}")

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = authenticate()
            if PORTAL_ROLE not in principal.roles:
                raise Forbidden(f"this needs the role: {PORTAL_ROLE}")
            token = request.headers.get(LINK_HEADER, "").strip()
            if not token:
                raise LinkNotValid(f"a {LINK_HEADER} header is required")
            g.portal_link = verify_link(
                current_db().session(), token, purpose=purpose, expired_grace=expired_grace
            )
            return view(*args, **kwargs)

        return wrapper

    return decorator


def current_link() -> Link:
    return g.portal_link


def portal_client_address() -> str:
    """The customer's address as the portal passed it on ("" when it did not)."""
    return request.headers.get(CLIENT_ADDRESS_HEADER, "").strip()[:CLIENT_ADDRESS_MAX_LENGTH]
