"""Signing people in and out through the garage's OpenID provider (identity, or the
garage's own with OIDC_ISSUER), as the backend-for-frontend guidance for browser apps
has it: the authorization code flow with PKCE runs between this server and the
provider (Authlib's client), the tokens stay in the session row, and the browser only
ever holds the session cookie."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import Any, cast
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, g, redirect, render_template, request, session, url_for
from sqlalchemy import select, update
from werkzeug.wrappers import Response

from service_kit.auth import EXTENSION, Principal, TokenVerifier
from service_kit.clock import utcnow
from service_kit.http_client import DependencyFailed
from staff_console.models import BrowserSession, db
from staff_console.sessions import ConsoleSession, id_hash

log = logging.getLogger("staff_console.sign_in")

blp = Blueprint("sign_in", __name__)
PROVIDER = "provider"
OAUTH = "staff_console_oauth"  # the app's own Authlib registry (one per app, not per process)
# An access token this close to its end is renewed before a page uses it: a page makes
# several calls, and each service allows the kit's 30 s of leeway only.
RENEW_BEFORE = timedelta(seconds=45)
METADATA_URLS = ("token_endpoint", "jwks_uri", "revocation_endpoint", "userinfo_endpoint")


@dataclass(frozen=True)
class Person:
    subject: str
    name: str
    email: str
    roles: frozenset[str]

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


class SignInAgain(Exception):
    """The session can no longer act (refresh token refused, account disabled)."""


def init_sign_in(app: Flask) -> None:
    oauth = OAuth(app)
    app.extensions[OAUTH] = oauth
    oauth.register(
        PROVIDER,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_PROVIDER_INTERNAL_URL"] + "/.well-known/openid-configuration",
        client_kwargs={
            "scope": app.config["OIDC_SCOPE"],
            "code_challenge_method": "S256",
            "token_endpoint_auth_method": "client_secret_basic",  # nosec B105 - a method name, not a secret
            "timeout": (2.0, 5.0),
        },
    )
    app.extensions[EXTENSION] = TokenVerifier(app.config)

    @app.errorhandler(SignInAgain)
    def _sign_in_again(_: SignInAgain) -> Response:
        session.clear()
        return redirect(url_for("sign_in.start", next=_here()))


def _client() -> Any:
    client = current_app.extensions[OAUTH].create_client(PROVIDER)
    metadata = client.load_server_metadata()
    # The browser reaches the provider at its issuer; this server may reach it at an
    # in-cluster address: the back-channel endpoints are rewritten to that one.
    public, internal = (
        current_app.config["OIDC_PROVIDER_ISSUER"],
        current_app.config["OIDC_PROVIDER_INTERNAL_URL"],
    )
    if public != internal:
        for key in METADATA_URLS:
            if str(metadata.get(key, "")).startswith(public + "/"):
                metadata[key] = internal + metadata[key][len(public) :]
    return client


def _here() -> str:
    return request.full_path.rstrip("?") if request.method == "GET" else "/"


def _safe_next(target: str | None) -> str:
    """Only a path of this app: never an open redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or urlsplit(target).netloc:
        return url_for("board.today")
    return target


def _provider_unavailable(exc: Exception) -> Response:
    log.warning("the sign-in provider could not be reached: %s", exc)
    return cast(Response, (render_template("unavailable.html", dependency="identity"), 503))


@blp.get("/auth/sign-in")
def start() -> Response:
    session["next"] = _safe_next(request.args.get("next"))
    try:
        return cast(
            Response,
            _client().authorize_redirect(current_app.config["CONSOLE_URL"] + url_for("sign_in.callback")),
        )
    except requests.RequestException as exc:
        return _provider_unavailable(exc)


@blp.get("/auth/callback")
def callback() -> Response:
    if "error" in request.args:
        log.info("sign-in ended by the provider: %s", request.args.get("error"))
        return redirect(url_for("sign_in.signed_out"))
    try:
        token = _client().authorize_access_token()
    except requests.RequestException as exc:
        return _provider_unavailable(exc)
    except OAuthError as exc:
        # A replayed or stale callback (the state is used once): start again.
        log.info("sign-in callback refused: %s", exc.error)
        return redirect(url_for("sign_in.start"))
    principal = _verified(token["access_token"])
    claims = token.get("userinfo") or {}
    target = _safe_next(session.get("next"))
    console_session = cast(ConsoleSession, session._get_current_object())  # type: ignore[attr-defined]
    console_session.clear()
    console_session.renew_id()  # a new id now that someone is signed in: no fixation
    console_session["person"] = {
        "subject": principal.subject,
        "name": str(claims.get("name") or principal.subject),
        "email": str(claims.get("email") or ""),
        "roles": sorted(principal.roles),
    }
    console_session.new_tokens = _token_columns(token, principal.subject)
    return redirect(target)


@blp.post("/auth/sign-out")
def sign_out() -> Response:
    tokens = _stored_tokens()
    if tokens and tokens.refresh_token:
        try:
            # RFC 7009: the provider ends the refresh token (and identity its whole family).
            answer = requests.post(
                _client().server_metadata["revocation_endpoint"],
                data={"token": tokens.refresh_token, "token_type_hint": "refresh_token"},  # nosec B105 - a hint name
                auth=(current_app.config["OIDC_CLIENT_ID"], current_app.config["OIDC_CLIENT_SECRET"]),
                timeout=(2.0, 5.0),
            )
            answer.raise_for_status()
        except (requests.RequestException, KeyError) as exc:
            # The session row goes anyway; the refresh token then dies at its own end.
            log.warning("could not revoke the refresh token at sign-out: %s", exc)
    session.clear()
    return redirect(url_for("sign_in.signed_out"))


@blp.get("/auth/signed-out")
def signed_out() -> str:
    return render_template("signed_out.html")


def _verified(access_token: str) -> Principal:
    verifier: TokenVerifier = current_app.extensions[EXTENSION]
    return verifier.verify(access_token)


def _token_columns(token: dict[str, Any], subject: str) -> dict[str, Any]:
    expires_at = token.get("expires_at") or (time.time() + float(token.get("expires_in", 60)))
    columns: dict[str, Any] = {
        "subject": subject,
        "access_token": token["access_token"],
        "access_expires_at": utcnow() + timedelta(seconds=max(0.0, float(expires_at) - time.time())),
    }
    if token.get("refresh_token"):
        columns["refresh_token"] = token["refresh_token"]
    return columns


def _stored_tokens() -> Any:
    session_id = getattr(session, "session_id", None)
    if not session_id:
        return None
    with db.engine.connect() as connection:
        return connection.execute(
            select(
                BrowserSession.access_token, BrowserSession.access_expires_at, BrowserSession.refresh_token
            ).where(BrowserSession.id_hash == id_hash(session_id))
        ).first()


def access_token() -> str:
    """The signed-in person's access token, renewed through the refresh token when it is
    about to end. Renewal holds the session row, so two pages loading at once renew once
    (the provider treats a refresh token used twice as stolen and ends the family)."""
    cached = g.get("access_token")
    if cached:
        return cast(str, cached)
    tokens = _stored_tokens()
    if tokens is None or not tokens.access_token:
        raise SignInAgain()
    if tokens.access_expires_at - RENEW_BEFORE > utcnow():
        g.access_token = tokens.access_token
        return cast(str, tokens.access_token)
    key = id_hash(session.session_id)  # type: ignore[attr-defined]
    with db.engine.begin() as connection:
        row = connection.execute(
            select(
                BrowserSession.access_token, BrowserSession.access_expires_at, BrowserSession.refresh_token
            )
            .where(BrowserSession.id_hash == key)
            .with_for_update()
        ).first()
        if row is None:
            raise SignInAgain()
        if row.access_expires_at - RENEW_BEFORE > utcnow():
            g.access_token = row.access_token  # another request renewed it meanwhile
            return cast(str, row.access_token)
        if not row.refresh_token:
            raise SignInAgain()
        try:
            token = _client().fetch_access_token(grant_type="refresh_token", refresh_token=row.refresh_token)
        except OAuthError as exc:
            log.info("refresh refused (%s): the person signs in again", exc.error)
            raise SignInAgain() from exc
        except requests.RequestException as exc:
            raise DependencyFailed("identity", "identity could not renew the sign-in") from exc
        principal = _verified(token["access_token"])
        connection.execute(
            update(BrowserSession)
            .where(BrowserSession.id_hash == key)
            .values(**_token_columns(token, principal.subject))
        )
    g.access_token = token["access_token"]
    return cast(str, token["access_token"])


def current_person() -> Person | None:
    stored = session.get("person")
    if not stored:
        return None
    return Person(
        subject=stored["subject"],
        name=stored["name"],
        email=stored["email"],
        roles=frozenset(stored["roles"]),
    )


def signed_in(*roles: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A page for signed-in people (with one of ``roles``, when given): anyone else is
    sent to sign in, and comes back here afterwards."""

    def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            person = current_person()
            if person is None:
                return redirect(url_for("sign_in.start", next=_here()))
            if roles and not person.has(*roles):
                return render_template("forbidden.html"), 403
            g.person = person
            return view(*args, **kwargs)

        return wrapper

    return decorator
