"""Signing keys (ES256, P-256). The JWKS lists every key from its creation until the
tokens it signed have expired; a rotation publishes the new key ahead of its first
signature, so services that cached the JWKS know it before they meet it."""

from __future__ import annotations

import functools
import json
import secrets
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from identity.models import SigningKey
from service_kit.clock import utcnow

ALGORITHM = "ES256"


def _new_key(signs_from: datetime) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(12)
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg=ALGORITHM, use="sig")
    return SigningKey(kid=kid, algorithm=ALGORITHM, private_pem=pem, public_jwk=public, signs_from=signs_from)


def _lock(session: Session) -> None:
    # One rotation (or first key) at a time, across workers and pods.
    session.execute(text("SELECT pg_advisory_xact_lock(hashtext('identity.signing_keys'))"))


def published(session: Session, now: datetime | None = None) -> list[SigningKey]:
    now = now or utcnow()
    stmt = select(SigningKey).where(
        or_(SigningKey.published_until.is_(None), SigningKey.published_until > now)
    )
    return list(session.scalars(stmt.order_by(SigningKey.created_at)))


def jwks(session: Session) -> dict[str, Any]:
    return {"keys": [key.public_jwk for key in published(session)]}


def current(session: Session) -> SigningKey:
    """The key that signs now: the newest whose time has come and that is not retired.
    The very first key is made on first use (there is nothing to publish it ahead of)."""
    now = utcnow()
    stmt = (
        select(SigningKey)
        .where(
            SigningKey.signs_from <= now,
            or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > now),
        )
        .order_by(SigningKey.signs_from.desc())
        .limit(1)
    )
    key = session.scalar(stmt)
    if key is None:
        _lock(session)
        key = session.scalar(stmt)
        if key is None:
            key = _new_key(signs_from=now)
            session.add(key)
            session.flush()
    return key


def public_key(session: Session, kid: str) -> jwt.PyJWK | None:
    """A published key by its kid (for verifying identity's own tokens)."""
    key = session.get(SigningKey, kid)
    if key is None or (key.published_until is not None and key.published_until <= utcnow()):
        return None
    return jwt.PyJWK(key.public_jwk, algorithm=key.algorithm)


def rotate(session: Session, *, publish_ahead: timedelta, token_lifetime: timedelta) -> SigningKey:
    """A new key, published now, signing from ``publish_ahead`` on; the keys signing
    until then retire at that moment and stay published for ``token_lifetime`` more.
    Keys whose tokens have all expired are deleted."""
    _lock(session)
    now = utcnow()
    key = _new_key(signs_from=now + publish_ahead)
    signing = or_(SigningKey.retired_at.is_(None), SigningKey.retired_at > key.signs_from)
    for old in session.scalars(select(SigningKey).where(signing)):
        old.retired_at = key.signs_from
        old.published_until = key.signs_from + token_lifetime
    session.add(key)
    for gone in session.scalars(select(SigningKey).where(SigningKey.published_until <= now)):
        session.delete(gone)
    session.flush()
    return key


@functools.lru_cache(maxsize=8)
def _private_key(kid: str, pem: str) -> Any:
    # Parsed once per key and process, not once per token.
    return serialization.load_pem_private_key(pem.encode(), password=None)


def private_key(key: SigningKey) -> Any:
    return _private_key(key.kid, key.private_pem)


def sign(session: Session, claims: dict[str, Any]) -> str:
    key = current(session)
    return jwt.encode(claims, private_key(key), algorithm=key.algorithm, headers={"kid": key.kid})
