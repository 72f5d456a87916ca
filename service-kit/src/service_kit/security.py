"""Limits every service applies before its own code runs: request body size, rate
limits per client and endpoint class, and security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, request
from flask_limiter import Limiter
from werkzeug.exceptions import RequestEntityTooLarge

from service_kit.auth import Principal, request_principal
from service_kit.docs import DOCS_CSP
from service_kit.problems import Problem

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
UNLIMITED_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "same-site",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}
# JSON APIs load nothing; only the docs page needs its scripts and styles (DOCS_CSP).
API_CSP = "default-src 'none'; frame-ancestors 'none'"


def _verified_principal() -> Principal | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        try:
            return request_principal(token.strip())
        except Problem:
            return None
    return None


def client_key() -> str:
    """Who is asking: the verified token's subject, else the client address.

    An invalid token counts against the address, so forging tokens buys no quota.
    """
    principal = _verified_principal()
    return f"sub:{principal.subject}" if principal else f"ip:{request.remote_addr}"


def _limit_for_request(config: dict[str, str]) -> str:
    """Services calling services carry every user's traffic: they get their own,
    larger quota; people get one for reads and a smaller one for writes."""
    principal = _verified_principal()
    if principal is not None and "service" in principal.roles:
        return config["RATE_LIMIT_SERVICE"]
    return config["RATE_LIMIT_READ"] if request.method in SAFE_METHODS else config["RATE_LIMIT_WRITE"]


def init_security(app: Flask) -> Limiter:
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    limiter = Limiter(
        key_func=client_key,
        app=app,
        storage_uri=app.config["RATE_LIMIT_STORAGE_URL"],
        default_limits=[lambda: _limit_for_request(app.config)],
        default_limits_per_method=True,
        default_limits_exempt_when=lambda: request.path in UNLIMITED_PATHS,
        headers_enabled=True,
        key_prefix=app.config["SERVICE_NAME"],
        enabled=app.config["RATE_LIMIT_ENABLED"],
        # A Redis outage must not take the API down with it: count in memory meanwhile.
        in_memory_fallback_enabled=True,
        swallow_errors=True,
    )

    @app.before_request
    def _refuse_oversized_body() -> None:
        # Werkzeug enforces MAX_CONTENT_LENGTH only when the body is read; refuse early.
        if (request.content_length or 0) > app.config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge(
                f"the request body may be at most {app.config['MAX_BODY_BYTES']} bytes"
            )

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        csp = DOCS_CSP if request.path.startswith("/docs") else API_CSP
        response.headers.setdefault("Content-Security-Policy", csp)
        if request.path.startswith("/api/"):
            # Personal data must not linger in shared caches or the browser's.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    return limiter
