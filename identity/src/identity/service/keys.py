"""Signing keys (ES256, P-256). The JWKS lists every key from its creation until the
tokens it signed have expired; a rotation publishes the new key ahead of its first
signature, so services that cached the JWKS know it before they meet it.

A key's private part is stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256) with
the key-encryption key from the environment (IDENTITY_KEY_ENCRYPTION_KEY), never as
PEM: a copy of the database alone signs nothing."""

from __future__ import annotations

import functools
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import jwt
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import current_app
from sqlalchemy import or_, select, text
from sqlalchemy.orm import Session

from identity.models import SigningKey
from service_kit.clock import utcnow
from service_kit.config import ConfigError

ALGORITHM = "ES256"


class KeyDecryptionFailed(ConfigError):
    """A stored signing key does not decrypt with IDENTITY_KEY_ENCRYPTION_KEY: the wrong
    key is configured (or the row was tampered with)."""

    def __init__(self, kid: str) -> None:
        super().__init__(
            f"signing key {kid} does not decrypt with IDENTITY_KEY_ENCRYPTION_KEY: the key "
            "configured is not the one the signing keys were encrypted with"
        )


@functools.lru_cache(maxsize=4)
def _cipher(names: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(name) for name in names])


def cipher_from(config: Mapping[str, Any]) -> MultiFernet:
    """The key-encryption key(s) of IDENTITY_KEY_ENCRYPTION_KEY: the first encrypts,
    every one decrypts."""
    configured = config["IDENTITY_KEY_ENCRYPTION_KEY"]
    return _cipher((configured,) if isinstance(configured, str) else tuple(configured))


def _or_the_apps(cipher: MultiFernet | None) -> MultiFernet:
    return cipher if cipher is not None else cipher_from(current_app.config)


def encrypt_pem(cipher: MultiFernet, pem: str) -> str:
    return cipher.encrypt(pem.encode()).decode()


def decrypt_pem(cipher: MultiFernet, kid: str, encrypted: str) -> str:
    try:
        return cipher.decrypt(encrypted.encode()).decode()
    except InvalidToken as exc:
        raise KeyDecryptionFailed(kid) from exc


def _new_key(signs_from: datetime, cipher: MultiFernet) -> SigningKey:
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    kid = secrets.token_urlsafe(12)
    public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(private.public_key()))
    public.update(kid=kid, alg=ALGORITHM, use="sig")
    return SigningKey(
        kid=kid,
        algorithm=ALGORITHM,
        private_key_encrypted=encrypt_pem(cipher, pem),
        public_jwk=public,
        signs_from=signs_from,
    )


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


def current(session: Session, cipher: MultiFernet | None = None) -> SigningKey:
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
            key = _new_key(signs_from=now, cipher=_or_the_apps(cipher))
            session.add(key)
            session.flush()
    return key


def public_key(session: Session, kid: str) -> jwt.PyJWK | None:
    """A published key by its kid (for verifying identity's own tokens)."""
    key = session.get(SigningKey, kid)
    if key is None or (key.published_until is not None and key.published_until <= utcnow()):
        return None
    return jwt.PyJWK(key.public_jwk, algorithm=key.algorithm)


def rotate(
    session: Session,
    *,
    publish_ahead: timedelta,
    token_lifetime: timedelta,
    cipher: MultiFernet | None = None,
) -> SigningKey:
    """A new key, published now, signing from ``publish_ahead`` on; the keys signing
    until then retire at that moment and stay published for ``token_lifetime`` more.
    Keys whose tokens have all expired are deleted."""
    _lock(session)
    now = utcnow()
    key = _new_key(signs_from=now + publish_ahead, cipher=_or_the_apps(cipher))
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
def _private_pem(cipher: MultiFernet, kid: str, encrypted: str) -> str:
    # Decrypted once per key and process, not once per token.
    return decrypt_pem(cipher, kid, encrypted)


@functools.lru_cache(maxsize=8)
def _private_key(cipher: MultiFernet, kid: str, encrypted: str) -> Any:
    # Parsed once per key and process, not once per token.
    return serialization.load_pem_private_key(_private_pem(cipher, kid, encrypted).encode(), password=None)


def private_pem(key: SigningKey, cipher: MultiFernet | None = None) -> str:
    return _private_pem(_or_the_apps(cipher), key.kid, key.private_key_encrypted)


def private_key(key: SigningKey, cipher: MultiFernet | None = None) -> Any:
    return _private_key(_or_the_apps(cipher), key.kid, key.private_key_encrypted)


def sign(session: Session, claims: dict[str, Any], cipher: MultiFernet | None = None) -> str:
    """``claims`` signed by the current key (``cipher``: the app's key-encryption key when not given)."""
    cipher = _or_the_apps(cipher)
    key = current(session, cipher)
    return jwt.encode(claims, private_key(key, cipher), algorithm=key.algorithm, headers={"kid": key.kid})


def check_decryption(session: Session, cipher: MultiFernet) -> int:
    """Every stored key decrypts with ``cipher`` (``KeyDecryptionFailed`` names the first
    that does not); how many there are."""
    stored = list(session.scalars(select(SigningKey)))
    for key in stored:
        decrypt_pem(cipher, key.kid, key.private_key_encrypted)
    return len(stored)
