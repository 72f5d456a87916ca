"""The OpenID Connect endpoints (HTTP layer): discovery, JWKS, the sign-in page behind
the authorization endpoint, token, revocation and userinfo. Authlib answers the
protocol; these views parse, call it (or the sign-in service) and commit.

They are protocol endpoints, not the JSON API: the discovery document is their
contract, so they are left out of /openapi.json."""

from __future__ import annotations

import hmac
import secrets
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2 import OAuth2Error
from flask import Blueprint, Flask, Response, current_app, jsonify, render_template, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from identity import domain, oauth, outbox
from identity.config import endpoint
from identity.models import db
from identity.service import accounts, keys, password_reset, sign_in

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


def _html(
    template: str, *, status: int, form_origins: list[str], action: str | None = None, **context: Any
) -> Response:
    """A server-rendered page with a fresh CSRF token: a random value in a cookie, and its
    signature in the form (a cross-site page can read neither). Its forms post to this
    issuer and to ``form_origins``."""
    language = _language()
    nonce = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(24)
    html = render_template(
        template,
        lang=language,
        words=domain.WORDS[language],
        csrf_token=_serializer().dumps(nonce),
        action=action or (request.full_path if request.query_string else request.path),
        **context,
    )
    response = Response(html, status=status, mimetype="text/html")
    secure = current_app.config["IDENTITY_ISSUER"].startswith("https://")
    response.set_cookie(
        CSRF_COOKIE, nonce, max_age=CSRF_MAX_AGE, httponly=True, secure=secure, samesite="Lax", path="/oauth"
    )
    response.headers["Content-Language"] = language
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept-Language"
    response.headers["Referrer-Policy"] = "no-referrer"
    origins = {"'self'", *form_origins}
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
        f"form-action {' '.join(sorted(origins))}; frame-ancestors 'none'"
    )
    return response


def _page(
    *,
    status: int,
    client: oauth.Client | None,
    error: str | None = None,
    minutes: int = 0,
    email: str = "",
    ask_code: bool = False,
) -> Response:
    """The sign-in form. Its answer redirects to the client: form-action allows that too."""
    words = domain.WORDS[_language()]
    origins = []
    for uri in client.redirect_uris if client else []:
        parts = urlsplit(uri)
        origins.append(f"{parts.scheme}://{parts.netloc}")
    here = request.full_path if request.query_string else request.path
    return _html(
        "sign_in.html",
        status=status,
        form_origins=origins,
        error=words[error].format(minutes=minutes) if error else None,
        email=email,
        ask_code=ask_code,
        client_name=client.name if client else None,
        show_form=client is not None,
        forgot_url=url_for("oidc.password_reset_request", return_to=here),
    )


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


# ------------------------------------------------------------------------------ password reset


def _reset_page(mode: str, *, status: int = 200, error: str | None = None, **context: Any) -> Response:
    words = domain.WORDS[_language()]
    minutes = password_reset.policy_from(current_app.config).minutes
    return _html(
        "password_reset.html",
        status=status,
        form_origins=[],
        action=request.path,  # what the form needs travels in it (return_to, the link's token)
        mode=mode,
        error=words[error].format(minutes=minutes) if error else None,
        **context,
    )


def _send_soon(response: Response) -> Response:
    """Deliver the outbox right after the answer has gone out (the relay process takes
    what fails); the same for every request, so the answer's timing says nothing."""
    if current_app.config["PASSWORD_RESET_SEND_AT_ONCE"]:
        app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]  # the app, not its proxy
        response.call_on_close(lambda: outbox.deliver_soon(app))
    return response


@blp.route("/oauth/password-reset", methods=["GET", "POST"])
def password_reset_request() -> Any:
    """Ask for a link: the same answer whatever the email (no account enumeration)."""
    return_to = password_reset.safe_return_to(request.values.get("return_to")) or ""
    if request.method == "GET":
        return _reset_page("request", return_to=return_to, back_url=return_to)
    email = request.form.get("email", "")[:254]
    if not _csrf_valid():
        return _reset_page("request", status=400, error="expired", return_to=return_to, email=email)
    language = _language()
    link = endpoint(current_app.config["IDENTITY_ISSUER"], "/oauth/password-reset/new")
    started = time.monotonic()
    try:
        password_reset.request_reset(
            session=db.session(),
            policy=password_reset.policy_from(current_app.config),
            email=email,
            address=oauth.client_address(),
            language=language,
            link_for=lambda token: f"{link}?{urlencode({'token': token})}",
            return_to=return_to,
        )
    except password_reset.ResetRefused as refused:
        db.session.commit()  # the request is on record, and counts
        return _reset_page(
            "request", status=429, error=refused.reason, return_to=return_to, email=email, back_url=return_to
        )
    db.session.commit()
    # An account that exists costs a few more statements than one that does not: every
    # answer takes at least this long, so its timing does not tell them apart.
    time.sleep(max(0.0, current_app.config["PASSWORD_RESET_ANSWER_SECONDS"] - (time.monotonic() - started)))
    words = domain.WORDS[language]
    minutes = password_reset.policy_from(current_app.config).minutes
    return _send_soon(
        _reset_page("sent", message=words["reset_sent"].format(minutes=minutes), back_url=return_to)
    )


@blp.route("/oauth/password-reset/new", methods=["GET", "POST"])
def password_reset_new() -> Any:
    """The emailed link: a form for the new password, while the link works."""
    token = request.values.get("token", "")[:200]
    invalid = {"request_url": url_for("oidc.password_reset_request")}
    if request.method == "GET":
        try:
            password_reset.usable_link(session=db.session(), token=token)
        except password_reset.ResetRefused as refused:
            return _reset_page("invalid", status=400, error=refused.reason, **invalid)
        return _reset_page("new", token=token)
    if not _csrf_valid():
        return _reset_page("new", status=400, error="expired", token=token)
    try:
        used = password_reset.reset_password(
            session=db.session(),
            hasher=accounts.password_hasher(current_app.config),
            token=token,
            password=request.form.get("password", "")[: domain.MAX_PASSWORD_LENGTH + 1],
            repeated=request.form.get("repeated", "")[: domain.MAX_PASSWORD_LENGTH + 1],
            address=oauth.client_address(),
        )
    except password_reset.ResetRefused as refused:
        db.session.rollback()
        if refused.reason == "reset_link_invalid":
            return _reset_page("invalid", status=400, error=refused.reason, **invalid)
        return _reset_page("new", status=422, error=refused.reason, token=token)
    db.session.commit()
    words = domain.WORDS[_language()]
    return _reset_page("done", message=words["reset_done"], back_url=used.return_to or "")
