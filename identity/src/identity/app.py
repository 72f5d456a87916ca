"""``create_app``: the identity Flask app (nothing connects at import)."""

from __future__ import annotations

import logging
from typing import Any

import jwt
from flask import Flask
from sqlalchemy.exc import OperationalError, ProgrammingError

from identity import cli, outbox
from identity.api import audit_blp, blp
from identity.config import SERVICE, load_config
from identity.models import db
from identity.oauth import init_oauth
from identity.provider import blp as provider_blp
from identity.service import keys
from service_kit.app import create_service_app
from service_kit.auth import EXTENSION, Principal, TokenVerifier
from service_kit.outbox import outbox_blueprint
from service_kit.problems import Unauthorized

log = logging.getLogger("identity")

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="garage", error="invalid_token"'}


class OwnKeysTokenVerifier(TokenVerifier):
    """The kit's token check for every token but identity's own: those are verified
    against its signing keys in its database (a service would fetch them from the JWKS;
    identity need not ask itself over HTTP). Only the kit's public interface, ``verify``,
    is overridden: the kit's verifier is free to change inside."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.own_issuer = config["IDENTITY_ISSUER"]

    def verify(self, token: str) -> Principal:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            kid = None
        key = keys.public_key(db.session(), kid) if isinstance(kid, str) and kid else None
        if key is None:
            return super().verify(token)
        try:
            claims = jwt.decode(
                token,
                key,  # a PyJWK: verified with the key's own algorithm, whatever the header says
                algorithms=[keys.ALGORITHM],
                audience=self.audience,
                issuer=self.own_issuer,
                leeway=self.leeway,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("the token has expired", headers=CHALLENGE) from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("the token is not valid", headers=CHALLENGE) from exc
        roles = claims.get("roles", [])
        return Principal(subject=str(claims["sub"]), roles=frozenset(r for r in roles if isinstance(r, str)))


def check_signing_keys(app: Flask) -> None:
    """Refuse to start when the stored signing keys do not decrypt with the configured
    IDENTITY_KEY_ENCRYPTION_KEY (``keys.KeyDecryptionFailed`` names the key). A database
    not reachable or not migrated yet is not a reason to refuse: the keys are then
    checked at their first use, with the same error."""
    with app.app_context():
        try:
            keys.check_decryption(db.session(), keys.cipher_from(app.config))
        except (OperationalError, ProgrammingError) as exc:
            log.info("signing keys not checked at start: %s", type(exc).__name__)
        finally:
            db.session.remove()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    app = create_service_app(
        __name__,
        title=SERVICE,
        version="1.0.0",
        description="Staff accounts, sign-in and the OpenID Connect provider that issues the tokens "
        "people and services call the garage's APIs with. The protocol endpoints (discovery at "
        "/.well-known/openid-configuration, /oauth/authorize, /oauth/token, /oauth/revoke, "
        "/oauth/userinfo, /.well-known/jwks.json) are described by the discovery document; "
        "this contract is the admin API.",
        config=load_config(config),
        db=db,
        blueprints=[
            blp,
            audit_blp,
            # Dead requests to other services (the reset email), for an admin to see and send again.
            outbox_blueprint(url_prefix="/api/v1/accounts/outbox-messages"),
        ],
    )
    app.extensions[EXTENSION] = OwnKeysTokenVerifier(app.config)
    init_oauth(app)
    app.register_blueprint(provider_blp)
    cli.register(app)
    outbox.register(app)
    check_signing_keys(app)
    return app
