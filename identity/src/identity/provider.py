"""The OpenID Connect endpoints (HTTP layer): discovery, JWKS, the sign-in page behind
the authorization endpoint, token, revocation and userinfo. Authlib answers the
protocol; these views parse, call it (or the sign-in service) and commit.

They are protocol endpoints, not the JSON API: the discovery document is their
contract, so they are left out of /openapi.json."""

from __future__ import annotations

import hmac
import secrets
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Response, current_app, jsonify, render_template, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from identity import domain, oauth
from identity.config import endpoint
from identity.models import db
from identity.service import accounts, keys, sign_in

# The page's stylesheet is under /oauth too: the ingress routes /oauth and /.well-known
# to identity (tools/services.py public_paths), not /static.
blp = Blueprint("oidc", __name__, static_folder="static", static_url_path="/oauth/static")

CSRF_COOKIE = "identity_csrf"
CSRF_MAX_AGE = 30 * 60  # seconds a sign-in page stays usable


# ------------------------------------------------------------------------------ discovery


@blp.get("/.well-known/openid-configuration")
def discovery() -> Response:
    issuer = current_app.config["IDENTITY_ISSUER"]
    base = endpoint(issuer, "")
    response = jsonify(
        {
            "issuer": issuer,
            "authorization_endpoint": f"{base}/oauth/authorize",
            "token_endpoint": f"{base}/oauth/token",
            "userinfo_endpoint": f"{base}/oauth/userinfo",
            "revocation_endpoint": f"{base}/oauth/revoke",
            "jwks_uri": f"{base}/.well-known/jwks.json",
            "scopes_supported": list(oauth.SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [keys.ALGORITHM],
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": [
                "sub",
                "name",
                "email",
                "roles",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
            ],
            "ui_locales_supported": list(domain.LANGUAGES),
        }
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@blp.get("/.well-known/jwks.json")
def jwks() -> Response:
    response = jsonify(keys.jwks(db.session()))
    db.session.commit()
    # Shorter than the time a new key is published ahead (KEY_PUBLISH_AHEAD_SECONDS).
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


# ------------------------------------------------------------------------------ token endpoints


def _committed(response: Any) -> Any:
    # A refused request may still have changed something that must stay (a reused refresh
    # token's family revoked, an audit record): commit whatever the answer.
    db.session.commit()
    return response


@blp.post("/oauth/token")
def token() -> Any:
    return _committed(oauth.oauth_server().create_token_response())


@blp.post("/oauth/revoke")
def revoke() -> Any:
    return _committed(oauth.oauth_server().create_endpoint_response("revocation"))


@blp.route("/oauth/userinfo", methods=["GET", "POST"])
def userinfo() -> Any:
    return oauth.oauth_server().create_endpoint_response("userinfo")


# ------------------------------------------------------------------------------ the sign-in page


def _language() -> str:
    return domain.pick_language(list(request.accept_languages))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="identity-sign-in")


def _page(
    *,
    status: int,
    client: oauth.Client | None,
    error: str | None = None,
    minutes: int = 0,
    email: str = "",
    ask_code: bool = False,
) -> Response:
    """The sign-in form with a fresh CSRF token: a random value in a cookie, and its
    signature in the form (a cross-site page can read neither)."""
    language = _language()
    words = domain.WORDS[language]
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    html = render_template(
        "sign_in.html",
        lang=language,
        words=words,
        error=words[error].format(minutes=minutes) if error else None,
        email=email,
        ask_code=ask_code,
        csrf_token=_serializer().dumps(nonce),
        action=request.full_path if request.query_string else request.path,
        client_name=client.name if client else None,
        show_form=client is not None,
    )
    response = Response(html, status=status, mimetype="text/html")
    secure = current_app.config["IDENTITY_ISSUER"].startswith("https://")
    response.set_cookie(
        CSRF_COOKIE, nonce, max_age=CSRF_MAX_AGE, httponly=True, secure=secure, samesite="Lax", path="/oauth"
    )
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language"
    # The form posts here, and the answer redirects to the client: form-action allows both.
    origins = {"'self'"}
    for uri in client.redirect_uris if client else []:
        parts = urlsplit(uri)
        origins.add(f"{parts.scheme}://{parts.netloc}")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action {' '.join(sorted(origins))}; frame-ancestors 'none'"
    )
    return response


def _csrf_valid() -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    try:
        signed = _serializer().loads(request.form.get("csrf_token", ""), max_age=CSRF_MAX_AGE)
    except BadSignature:
        return False
    return bool(cookie) and hmac.compare_digest(str(signed), cookie)


@blp.route("/oauth/authorize", methods=["GET", "POST"])
def authorize() -> Any:
    server = oauth.oauth_server()
    client = oauth.query_client(request.values.get("client_id", ""))
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if getattr(error, "redirect_uri", None):
            return server.handle_error_response(None, error)
        # An unknown client or a redirect URI it did not register: never redirect there.
        return _page(status=400, client=None, error="bad_request")
    if request.method == "GET":
        return _page(status=200, client=client)
    if not _csrf_valid():
        return _page(status=400, client=client, error="expired")
    email = request.form.get("email", "")
    try:
        account = sign_in.sign_in(
            session=db.session(),
            hasher=accounts.password_hasher(current_app.config),
            policy=sign_in.policy_from(current_app.config),
            email=email,
            password=request.form.get("password", ""),
            code=request.form.get("otp", ""),
            address=oauth.client_address(),
            client_id=grant.client.client_id,
        )
    except sign_in.SignInRefused as refused:
        db.session.commit()  # the failure counts, and is on record
        status = 429 if refused.reason in ("locked", "address_blocked") else 401
        ask_code = refused.reason in ("code_needed", "code_wrong")
        return _page(
            status=status,
            client=client,
            error=refused.reason,
            minutes=refused.minutes,
            email=email,
            ask_code=ask_code,
        )
    response = server.create_authorization_response(grant_user=account, grant=grant)
    db.session.commit()
    return response
