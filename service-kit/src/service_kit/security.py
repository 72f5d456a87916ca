"""Limits every service applies before its own code runs: request body size, rate
limits per client and endpoint class, and security headers on every response."""

from __future__ import annotations

import functools
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Any, cast

import redis
from flask import Flask, Request, Response, g, request
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage, RedisStorage, Storage, storage_from_string
from werkzeug.exceptions import RequestEntityTooLarge

from service_kit import response_headers
from service_kit.auth import Principal, request_principal
from service_kit.docs import DOCS_CSP
from service_kit.problems import Problem, TooManyRequests

log = logging.getLogger("service_kit.security")

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
_SECURITY_HEADERS_API = (*SECURITY_HEADERS.items(), ("Content-Security-Policy", API_CSP))
_SECURITY_HEADERS_DOCS = (*SECURITY_HEADERS.items(), ("Content-Security-Policy", DOCS_CSP))
_NO_STORE = (("Cache-Control", "no-store"),)


def _verified_principal() -> Principal | None:
    header = request.environ.get("HTTP_AUTHORIZATION", "")  # request.headers["Authorization"]
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
    return _client_key(_verified_principal())


def _client_key(principal: Principal | None) -> str:
    return f"sub:{principal.subject}" if principal else f"ip:{request.remote_addr}"


def provider_webhook(view: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a view a provider calls with every customer's events (an SMS provider's
    replies, a payment provider's webhook): from its few addresses it gets the services'
    quota, not one person's writes - a burst of STOP replies after a mailing must not be
    refused (a provider may not call again)."""
    view._provider_webhook = True  # type: ignore[attr-defined]  # read by the rate limiter
    return view


def _limit_for_request(config: dict[str, str], principal: Principal | None, view: Any = None) -> str:
    """Services calling services carry every user's traffic: they get their own,
    larger quota, as providers' webhooks do; people get one for reads and a smaller one
    for writes."""
    if (principal is not None and "service" in principal.roles) or getattr(view, "_provider_webhook", False):
        return config["RATE_LIMIT_SERVICE"]
    return config["RATE_LIMIT_READ"] if request.method in SAFE_METHODS else config["RATE_LIMIT_WRITE"]


@functools.lru_cache(maxsize=16)
def _parsed(limit: str) -> RateLimitItem:
    return parse(limit)


class RateLimiter:
    """Counts requests per client, endpoint and method in fixed windows aligned to the
    clock (a minute is 12:03:00-12:04:00), in Redis in production so every worker and
    replica shares the counts. One request is one round trip: an INCR that sets its
    key's expiry when it makes it (the ``limits`` library's script); the window's end,
    and so the headers, follow from the clock. When the storage fails, counting goes on
    in memory for a while rather than taking the API down with it."""

    FALLBACK_SECONDS = 30.0

    def __init__(self, config: dict[str, Any]) -> None:
        self.prefix = config["SERVICE_NAME"]
        url = config["RATE_LIMIT_STORAGE_URL"] or "memory://"
        # A Redis that hangs must not hang every request: fail fast, then fall back.
        options = {"socket_connect_timeout": 1, "socket_timeout": 1} if url.startswith("redis") else {}
        self.storage = cast(Storage, storage_from_string(url, **options))  # a sync URL: a sync storage
        self.fallback = MemoryStorage()
        self._storage_down_until = 0.0
        self._lock = threading.Lock()

    def hit(self, key: str, limit: RateLimitItem) -> tuple[int, float]:
        """Count one request against ``limit``: (the count in this window, when it ends)."""
        window = limit.get_expiry()
        now = time.time()
        index = int(now // window)
        counter = f"{self.prefix}/{limit.amount}-per-{window}s/{key}/{index}"
        if now >= self._storage_down_until:
            try:
                return self._incr(counter, window), (index + 1) * window
            except Exception as exc:  # any storage failure: count in memory meanwhile
                with self._lock:
                    self._storage_down_until = now + self.FALLBACK_SECONDS
                log.warning("rate limit storage failed (%s): counting in memory for a while", exc)
        return self.fallback.incr(counter, window), (index + 1) * window

    def _incr(self, counter: str, window: int) -> int:
        """The storage's INCR-with-expiry. For Redis, the library's own script sent on a
        pooled connection directly: redis-py's command layer (retry wrapper, timing and
        error callbacks) cost as much again as sending and reading. Anything unusual -
        the script not loaded yet, a connection error - goes the library's way, which
        loads the script and retries as before."""
        storage = self.storage
        if type(storage) is not RedisStorage:
            return storage.incr(counter, window)
        pool = storage.storage.connection_pool
        connection = pool.get_connection()
        try:
            command = _evalsha(storage.lua_incr_expire.sha, storage.prefixed_key(counter), window)
            connection.send_packed_command([command])  # a list of chunks
            return int(connection.read_response())
        except redis.RedisError:
            connection.disconnect()  # its state is unknown: reconnected on next use
            return storage.incr(counter, window)
        finally:
            pool.release(connection)


def _evalsha(sha: str, key: str, window: int) -> bytes:
    """``EVALSHA sha 1 key window 1`` in RESP, as redis-py's pack_command writes it
    (an array of bulk strings, text as UTF-8) without its per-argument encoding loop."""
    arguments = [b"EVALSHA", sha.encode(), b"1", key.encode(), str(window).encode(), b"1"]
    return b"*6\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(argument), argument) for argument in arguments)


def init_security(app: Flask) -> RateLimiter:
    app.config["MAX_CONTENT_LENGTH"] = app.config["MAX_BODY_BYTES"]
    limiter = RateLimiter(app.config)
    config = app.config

    def rate_limit(req: Request) -> None:
        if not config["RATE_LIMIT_ENABLED"] or req.path in UNLIMITED_PATHS:
            return
        principal = _verified_principal()  # verified once: the key and the limit share it
        view = app.view_functions.get(req.endpoint) if req.endpoint else None
        limit = _parsed(_limit_for_request(config, principal, view))
        key = f"{_client_key(principal)}/{req.endpoint or 'unmatched'}/{req.method}"
        count, resets_at = limiter.hit(key, limit)
        g.rate_limit = (limit.amount, max(0, limit.amount - count), resets_at)
        if count > limit.amount:
            raise TooManyRequests(
                f"too many requests: at most {limit}; try again in a while",
                headers={"Retry-After": str(max(1, math.ceil(resets_at - time.time())))},
            )

    @app.before_request
    def _limits() -> None:
        # One hook for both (Flask's per-hook work is not free); the rate limit first.
        req = request._get_current_object()  # type: ignore[attr-defined]  # once, not per attribute
        rate_limit(req)
        # Werkzeug enforces MAX_CONTENT_LENGTH only when the body is read; refuse early.
        if (req.content_length or 0) > config["MAX_CONTENT_LENGTH"]:
            raise RequestEntityTooLarge(f"the request body may be at most {config['MAX_BODY_BYTES']} bytes")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        names = response_headers.present(headers)
        rate_limit = g.get("rate_limit")
        if rate_limit is not None:
            amount, remaining, resets_at = rate_limit
            response_headers.put(headers, "X-RateLimit-Limit", str(amount), names)
            response_headers.put(headers, "X-RateLimit-Remaining", str(remaining), names)
            response_headers.put(headers, "X-RateLimit-Reset", str(int(resets_at)), names)
        path = request.path
        response_headers.add_missing(
            headers, _SECURITY_HEADERS_DOCS if path.startswith("/docs") else _SECURITY_HEADERS_API, names
        )
        if path.startswith("/api/"):
            # Personal data must not linger in shared caches or the browser's.
            response_headers.add_missing(headers, _NO_STORE, names)
        return response

    return limiter
