"""The OpenID Connect provider, on Authlib's Flask OAuth 2.0 server: which clients
exist (from configuration), the grants (authorization code with PKCE and OpenID
Connect, refresh tokens with rotation, client credentials), revocation and userinfo.
Authlib runs the protocol; this module tells it where things are stored and signs
the access tokens as the services expect them (``sub``, ``name``, ``roles``, ``aud``,
``iss``, ``iat``, ``exp``)."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from datetime import timedelta
from typing import Any

import jwt
from authlib.common.security import generate_token
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2.rfc6749 import ClientMixin, grants
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo, UserInfoEndpoint
from authlib.oidc.core.grants import OpenIDCode
from flask import Flask, current_app, request
from sqlalchemy import select, update

from identity.models import Account, AuthorizationCode, RefreshToken, db
from identity.service import audit, keys
from service_kit.clock import utcnow

SCOPES = ("openid", "profile", "email", "offline_access")
# Clients that act as themselves (client credentials), and the one role each kind gets.
MACHINE_KINDS = {"service": "service", "portal": "portal"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def client_address() -> str:
    return request.remote_addr or "unknown"


class Client(ClientMixin):
    """A registered client, from configuration (OAUTH_CLIENTS)."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.client_id: str = settings["client_id"]
        self._secret: str = settings["client_secret"]
        self.kind: str = settings["kind"]
        # A name for people (the sign-in page); the id when none is registered.
        self.name: str = settings.get("name") or settings["client_id"]
        self.redirect_uris: list[str] = list(settings["redirect_uris"])
        self.client_metadata: dict[str, Any] = {}

    @property
    def grant_types(self) -> set[str]:
        if self.kind in MACHINE_KINDS:
            return {"client_credentials"}
        return {"authorization_code", "refresh_token"}

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return self.redirect_uris[0] if self.redirect_uris else None

    def get_allowed_scope(self, scope: str) -> str:
        if self.kind in MACHINE_KINDS or not scope:
            return ""
        return " ".join(s for s in scope.split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        # Exact match only (no prefixes, no wildcards).
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        # A client without a secret authenticates no one.
        given = (client_secret or "").encode()
        return bool(self._secret) and hmac.compare_digest(self._secret.encode(), given)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return self.kind == "console" and response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types


def clients() -> dict[str, Client]:
    return current_app.extensions["identity_clients"]


def query_client(client_id: str) -> Client | None:
    return clients().get(client_id)


# ------------------------------------------------------------------------------ tokens


def access_token_claims(client: Client, account: Account | None) -> dict[str, Any]:
    config = current_app.config
    now = int(time.time())
    if account is None:  # a service or the portal, by client credentials
        subject, name, roles = client.client_id, client.client_id, [MACHINE_KINDS[client.kind]]
    else:
        subject, name, roles = str(account.id), account.name, sorted(account.roles)
    return {
        "iss": config["IDENTITY_ISSUER"],
        "sub": subject,
        "aud": config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + config["ACCESS_TOKEN_TTL_SECONDS"],
        "name": name,
        "roles": roles,
    }


def generate_access_token(client: Client, grant_type: str, user: Account | None, scope: str) -> str:
    return keys.sign(db.session(), access_token_claims(client, user))


def expires_in(client: Client, grant_type: str) -> int:
    return int(current_app.config["ACCESS_TOKEN_TTL_SECONDS"])


def save_token(token: dict[str, Any], oauth_request: Any) -> None:
    """Access tokens are JWTs and are not stored; refresh tokens are, as hashes, in the
    family of the one they replace (or a new family on a sign-in)."""
    session = db.session()
    client: Client = oauth_request.client
    user: Account | None = oauth_request.user
    if user is None:
        audit.record(
            session,
            "token_issued",
            actor=client.client_id,
            client_id=client.client_id,
            address=client_address(),
            grant="client_credentials",
        )
        return
    if "refresh_token" in token:
        previous: RefreshToken | None = getattr(oauth_request, "refresh_token", None)
        code: AuthorizationCode | None = getattr(oauth_request, "authorization_code", None)
        now = utcnow()
        session.add(
            RefreshToken(
                token_hash=token_hash(token["refresh_token"]),
                family_id=previous.family_id if previous else uuid.uuid4(),
                client_id=client.client_id,
                account_id=user.id,
                scope=token.get("scope") or "",
                auth_time=previous.auth_time if previous else (code.auth_time if code else now),
                issued_at=now,
                expires_at=now + timedelta(seconds=current_app.config["REFRESH_TOKEN_TTL_SECONDS"]),
            )
        )
    audit.record(
        session,
        "token_issued",
        actor=client.client_id,
        account_id=user.id,
        client_id=client.client_id,
        address=client_address(),
        grant=oauth_request.payload.grant_type,
    )
    session.flush()


class AuthorizationCodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, oauth_request: Any) -> AuthorizationCode:
        payload = oauth_request.payload
        now = utcnow()
        row = AuthorizationCode(
            code_hash=token_hash(code),
            client_id=oauth_request.client.client_id,
            account_id=oauth_request.user.id,
            redirect_uri=payload.redirect_uri or "",
            scope=payload.scope or "",
            nonce=payload.data.get("nonce"),
            code_challenge=payload.data.get("code_challenge"),
            code_challenge_method=payload.data.get("code_challenge_method"),
            auth_time=now,
            expires_at=now + timedelta(seconds=current_app.config["AUTHORIZATION_CODE_TTL_SECONDS"]),
        )
        db.session.add(row)
        db.session.flush()
        return row

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        # Deleted as it is read (FOR UPDATE): of two exchanges of one code, one wins.
        row = db.session.scalar(
            select(AuthorizationCode)
            .where(
                AuthorizationCode.code_hash == token_hash(code),
                AuthorizationCode.client_id == client.client_id,
            )
            .with_for_update()
        )
        if row is None or row.is_expired():
            return None
        return row

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        db.session.delete(authorization_code)
        db.session.flush()

    def authenticate_user(self, authorization_code: AuthorizationCode) -> Account | None:
        account = db.session.get(Account, authorization_code.account_id)
        return account if account is not None and account.status == "active" else None


class RefreshTokenGrant(grants.RefreshTokenGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True  # rotation: each use hands out a new one

    def authenticate_refresh_token(self, refresh_token: str) -> RefreshToken | None:
        session = db.session()
        row = session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash(refresh_token)).with_for_update()
        )
        if row is None or row.revoked_at is not None or row.is_expired():
            return None
        if row.rotated_at is not None:
            # Used before: a copy is in someone else's hands. End the whole family.
            session.execute(
                update(RefreshToken)
                .where(RefreshToken.family_id == row.family_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )
            audit.record(
                session,
                "refresh_token_reused",
                account_id=row.account_id,
                client_id=row.client_id,
                address=client_address(),
                family_id=str(row.family_id),
            )
            return None
        account = session.get(Account, row.account_id)
        if account is None or account.status != "active":
            return None
        return row

    def authenticate_user(self, refresh_token: RefreshToken) -> Account | None:
        return db.session.get(Account, refresh_token.account_id)

    def revoke_old_credential(self, refresh_token: RefreshToken) -> None:
        refresh_token.rotated_at = utcnow()
        db.session.flush()


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


def user_info(account: Account, scope: str) -> UserInfo:
    info = UserInfo(sub=str(account.id), name=account.name, roles=sorted(account.roles))
    if "email" in (scope or "").split():
        info["email"] = account.email
        info["email_verified"] = False
    return info


class OpenIDConnectCode(OpenIDCode):
    def exists_nonce(self, nonce: str, oauth_request: Any) -> bool:
        return bool(
            db.session.scalar(
                select(AuthorizationCode.code_hash).where(
                    AuthorizationCode.client_id == oauth_request.payload.client_id,
                    AuthorizationCode.nonce == nonce,
                )
            )
        )

    def resolve_client_private_key(self, client: Client) -> Any:
        from joserfc.jwk import ECKey

        key = keys.current(db.session())
        return ECKey.import_key(keys.private_pem(key), {"kid": key.kid})

    def get_client_algorithm(self, client: Client) -> str:
        return keys.ALGORITHM

    def get_encode_header(self, client: Client) -> dict[str, str]:
        return {"alg": keys.ALGORITHM, "kid": keys.current(db.session()).kid}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(time.time())
        return {
            "iss": current_app.config["IDENTITY_ISSUER"],
            "aud": [client.client_id],
            "iat": now,
            "exp": now + current_app.config["ID_TOKEN_TTL_SECONDS"],
        }

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return user_info(user, scope)


class AccessToken:
    """A verified access token, as Authlib's resource protector wants one."""

    def __init__(self, claims: dict[str, Any], account: Account | None, client: Client | None) -> None:
        self.claims = claims
        self.account = account
        self.client = client
        self.scope = "openid profile email"

    def get_scope(self) -> str:
        return self.scope

    def is_expired(self) -> bool:
        return bool(self.claims["exp"] <= time.time())

    def is_revoked(self) -> bool:
        return self.account is None or self.account.status != "active"

    def check_client(self, client: Client) -> bool:
        return True

    def get_user(self) -> Account | None:
        return self.account

    def get_client(self) -> Client:
        # No client (a token from elsewhere): an empty one that authenticates nobody.
        return self.client or Client(
            {"client_id": "", "client_secret": "", "kind": "console", "redirect_uris": []}  # nosec B105
        )


def verify_access_token(token: str) -> dict[str, Any] | None:
    """Claims of an access token identity signed with a key it still publishes, else None."""
    try:
        kid = jwt.get_unverified_header(token).get("kid", "")
        key = keys.public_key(db.session(), kid) if isinstance(kid, str) else None
        if key is None:
            return None
        return jwt.decode(
            token,
            key,
            algorithms=[keys.ALGORITHM],
            audience=current_app.config["JWT_AUDIENCE"],
            issuer=current_app.config["IDENTITY_ISSUER"],
            options={"require": ["exp", "iat", "iss", "aud", "sub"]},
        )
    except (jwt.PyJWTError, ValueError):
        return None


class JWTAccessTokenValidator(BearerTokenValidator):
    def authenticate_token(self, token_string: str) -> AccessToken | None:
        claims = verify_access_token(token_string)
        if claims is None:
            return None
        try:
            account = db.session.get(Account, uuid.UUID(str(claims["sub"])))
        except ValueError:
            account = None  # a service's token: no person behind it
        return AccessToken(claims, account, None)


class IdentityUserInfo(UserInfoEndpoint):
    def get_issuer(self) -> str:
        return str(current_app.config["IDENTITY_ISSUER"])

    def generate_user_info(self, user: Account, scope: str) -> UserInfo:
        return user_info(user, scope)


class Revocation(RevocationEndpoint):
    """Refresh tokens are revoked (with the rest of their family); access tokens are
    short-lived JWTs and expire on their own (RFC 7009 allows not revoking them)."""

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> RefreshToken | None:
        if token_type_hint == "access_token":  # nosec B105 - RFC 7009's hint name, not a token
            return None
        return db.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash(token_string))
        )

    def revoke_token(self, token: RefreshToken, oauth_request: Any) -> None:
        db.session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == token.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        audit.record(
            db.session(),
            "token_revoked",
            account_id=token.account_id,
            client_id=token.client_id,
            address=client_address(),
        )


def init_oauth(app: Flask) -> AuthorizationServer:
    """The app's own Authlib server (kept in app.extensions, so apps do not share one)."""
    app.extensions["identity_clients"] = {c["client_id"]: Client(c) for c in app.config["OAUTH_CLIENTS"]}
    app.config["OAUTH2_SCOPES_SUPPORTED"] = list(SCOPES)
    server = AuthorizationServer()
    server.init_app(app, query_client=query_client, save_token=save_token)
    server.register_token_generator(
        "default",
        BearerTokenGenerator(generate_access_token, lambda *_, **__: generate_token(48), expires_in),
    )
    server.register_grant(
        AuthorizationCodeGrant, [CodeChallenge(required=True), OpenIDConnectCode(require_nonce=False)]
    )
    server.register_grant(RefreshTokenGrant)
    server.register_grant(ClientCredentialsGrant)
    server.register_endpoint(Revocation)
    protector = ResourceProtector()
    protector.register_token_validator(JWTAccessTokenValidator())
    server.register_endpoint(IdentityUserInfo(resource_protector=protector))
    app.extensions["identity_oauth"] = server
    return server


def oauth_server() -> AuthorizationServer:
    return current_app.extensions["identity_oauth"]
