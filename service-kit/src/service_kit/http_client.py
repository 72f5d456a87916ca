"""Calling another service: the only way a service talks HTTP to a peer.

One ``ServiceClient`` per downstream, per process. It keeps a pooled keep-alive
``requests.Session``, puts a connect and a read timeout on every call, retries with
exponential backoff and jitter (urllib3's ``Retry``) only what is safe to repeat —
GET/HEAD/OPTIONS/PUT/DELETE, and a POST that carries an ``Idempotency-Key`` — guards
the downstream with a circuit breaker, and passes on the request id and a service
token. Whatever goes wrong on the way (refused, timed out, 5xx, breaker open) comes
out as one exception, ``DependencyFailed``: a 503 problem naming the downstream.
Any 4xx, 404 included, is an answer, handed back to the caller to interpret.

    settings = downstream_settings("customer-management", default_url="http://127.0.0.1:8001")
    client = ServiceClient.from_config({**kit_config, **settings}, "customer-management")
    response = client.get(f"/api/v1/customers/{customer_id}")
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import jwt
import requests
from prometheus_client import Counter, Histogram
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError, ReadTimeoutError
from urllib3.util.retry import Retry

from service_kit.auth import SERVICE_TOKEN_TTL_SECONDS, mint_service_token
from service_kit.config import ConfigError, env_float, env_int
from service_kit.observability import REQUEST_ID_HEADER, current_request_id
from service_kit.problems import DependencyUnavailable

log = logging.getLogger("service_kit.http_client")

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# Statuses that say "try again shortly"; a plain 500 is more often a bug than a blip.
RETRY_STATUSES = frozenset({502, 503, 504})

DOWNSTREAM_CALLS = Counter(
    "downstream_requests_total",
    "Calls to other services, by outcome",
    ["dependency", "method", "outcome"],
)
DOWNSTREAM_LATENCY = Histogram(
    "downstream_request_duration_seconds",
    "Time a call to another service took, retries included",
    ["dependency", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class DependencyFailed(DependencyUnavailable):
    """A downstream service failed, timed out or is cut off by its breaker (503)."""


# ---------------------------------------------------------------------------- settings


def _prefix(name: str) -> str:
    return name.upper().replace("-", "_")


def downstream_settings(
    name: str, *, default_url: str, env: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Flask config keys for calling ``name`` (e.g. ``customer-management``).

    ``<NAME>_URL`` is required in production; the timeouts, retries and breaker
    have short defaults, overridable per downstream (``<NAME>_READ_TIMEOUT_SECONDS``)
    or for all downstreams at once (``HTTP_READ_TIMEOUT_SECONDS``).
    """
    env = os.environ if env is None else env
    prefix = _prefix(name)
    production = env.get("GARAGE_ENV", "development") == "production"
    url = env.get(f"{prefix}_URL") or ("" if production else default_url)
    if not url:
        raise ConfigError(f"missing production setting: {prefix}_URL")
    if production and not (env.get("SERVICE_TOKEN_URL") or env.get("SERVICE_TOKEN") or env.get("JWT_SECRET")):
        raise ConfigError(
            "missing production setting: SERVICE_TOKEN_URL with SERVICE_CLIENT_ID and SERVICE_CLIENT_SECRET "
            "(or SERVICE_TOKEN)"
        )

    def setting(key: str, default: float, read: Callable[..., Any]) -> Any:
        shared = read(env, f"HTTP_{key}", default)
        return read(env, f"{prefix}_{key}", shared)

    return {
        f"{prefix}_URL": url.rstrip("/"),
        f"{prefix}_CONNECT_TIMEOUT_SECONDS": setting("CONNECT_TIMEOUT_SECONDS", 1.0, env_float),
        f"{prefix}_READ_TIMEOUT_SECONDS": setting("READ_TIMEOUT_SECONDS", 3.0, env_float),
        f"{prefix}_RETRIES": setting("RETRIES", 2, env_int),
        f"{prefix}_BACKOFF_SECONDS": setting("BACKOFF_SECONDS", 0.1, env_float),
        f"{prefix}_BREAKER_FAILURES": setting("BREAKER_FAILURES", 5, env_int),
        f"{prefix}_BREAKER_COOLDOWN_SECONDS": setting("BREAKER_COOLDOWN_SECONDS", 10.0, env_float),
        f"{prefix}_POOL_SIZE": setting("POOL_SIZE", 16, env_int),
        "SERVICE_TOKEN": env.get("SERVICE_TOKEN", ""),
        "SERVICE_TOKEN_URL": env.get("SERVICE_TOKEN_URL", ""),
        "SERVICE_TOKEN_AUDIENCE": env.get("SERVICE_TOKEN_AUDIENCE", ""),
        "SERVICE_CLIENT_ID": env.get("SERVICE_CLIENT_ID", ""),
        "SERVICE_CLIENT_SECRET": env.get("SERVICE_CLIENT_SECRET", ""),
    }


@dataclass(frozen=True)
class ClientSettings:
    base_url: str
    connect_timeout: float = 1.0
    read_timeout: float = 3.0
    retries: int = 2
    backoff: float = 0.1
    breaker_failures: int = 5
    breaker_cooldown: float = 10.0
    pool_size: int = 16

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str) -> ClientSettings:
        prefix = _prefix(name)
        if not config.get(f"{prefix}_URL"):
            raise ConfigError(f"{prefix}_URL is not configured")
        defaults = cls(base_url="")
        return cls(
            base_url=str(config[f"{prefix}_URL"]).rstrip("/"),
            connect_timeout=config.get(f"{prefix}_CONNECT_TIMEOUT_SECONDS", defaults.connect_timeout),
            read_timeout=config.get(f"{prefix}_READ_TIMEOUT_SECONDS", defaults.read_timeout),
            retries=config.get(f"{prefix}_RETRIES", defaults.retries),
            backoff=config.get(f"{prefix}_BACKOFF_SECONDS", defaults.backoff),
            breaker_failures=config.get(f"{prefix}_BREAKER_FAILURES", defaults.breaker_failures),
            breaker_cooldown=config.get(f"{prefix}_BREAKER_COOLDOWN_SECONDS", defaults.breaker_cooldown),
            pool_size=config.get(f"{prefix}_POOL_SIZE", defaults.pool_size),
        )


# ---------------------------------------------------------------------- circuit breaker


class CircuitBreaker:
    """Closed -> open after ``failures`` consecutive failures -> after ``cooldown``
    seconds one probe call is let through (half-open) -> closed when it succeeds,
    open again when it fails. While open, callers fail at once instead of queueing
    behind a downstream that is not answering.

    The lock guards only the state, never a call: concurrent callers are not
    serialised behind one slow request.
    """

    CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"

    def __init__(
        self, name: str, *, failures: int, cooldown: float, clock: Callable[[], float] = time.monotonic
    ):
        if failures < 1:
            raise ValueError("failures must be at least 1")
        self.name = name
        self.failure_threshold = failures
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._state = self.CLOSED
        self._failures = 0
        self._opened_at = 0.0

    @property
    def state(self) -> str:
        with self._lock:
            if self._state == self.OPEN and self._clock() - self._opened_at >= self.cooldown:
                return self.HALF_OPEN
            return self._state

    def allow(self) -> bool:
        """May a call go out now? In half-open, True for exactly one caller (the probe)."""
        with self._lock:
            if self._state == self.CLOSED:
                return True
            if self._state == self.OPEN and self._clock() - self._opened_at >= self.cooldown:
                self._state = self.HALF_OPEN
                log.info("circuit for %s half-open: sending one probe", self.name)
                return True
            return False

    def record_success(self) -> None:
        with self._lock:
            if self._state != self.CLOSED:
                log.warning("circuit for %s closed: the downstream answers again", self.name)
            self._state = self.CLOSED
            self._failures = 0

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._state == self.OPEN:
                return  # a call that was already under way: the cool-down keeps running
            if self._state == self.HALF_OPEN or self._failures >= self.failure_threshold:
                log.warning(
                    "circuit for %s open after %d failures: failing fast for %.1fs",
                    self.name,
                    self._failures,
                    self.cooldown,
                )
                self._state = self.OPEN
                self._opened_at = self._clock()

    def reset(self) -> None:
        with self._lock:
            self._state = self.CLOSED
            self._failures = 0


# ------------------------------------------------------------------------------ token


class ServiceToken:
    """The bearer token a service sends, naming the service:

    - production: OAuth2 client credentials against ``SERVICE_TOKEN_URL`` with
      ``SERVICE_CLIENT_ID``/``SERVICE_CLIENT_SECRET`` (the identity provider signs
      it; receivers verify it through their JWKS);
    - ``SERVICE_TOKEN`` when the platform injects a ready token;
    - development: minted with this service's own key (``auth.mint_service_token``).

    Tokens are short-lived and reused until a minute before they expire.
    """

    REFRESH_MARGIN_SECONDS = 60
    TOKEN_ENDPOINT_TIMEOUT = (2.0, 5.0)

    def __init__(
        self,
        config: Mapping[str, Any],
        *,
        ttl_seconds: int = SERVICE_TOKEN_TTL_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def __call__(self) -> str:
        configured = self._config.get("SERVICE_TOKEN")
        if configured:
            return configured
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self.REFRESH_MARGIN_SECONDS:
                if self._config.get("SERVICE_TOKEN_URL"):
                    self._token, lifetime = self._client_credentials()
                    self._expires_at = self._clock() + lifetime
                else:
                    self._token = mint_service_token(dict(self._config), ttl_seconds=self._ttl)
                    claims = jwt.decode(self._token, options={"verify_signature": False})
                    self._expires_at = float(claims["exp"])
            return self._token

    def _client_credentials(self) -> tuple[str, float]:
        form = {"grant_type": "client_credentials"}
        if self._config.get("SERVICE_TOKEN_AUDIENCE"):
            form["audience"] = self._config["SERVICE_TOKEN_AUDIENCE"]
        try:
            response = requests.post(
                self._config["SERVICE_TOKEN_URL"],
                data=form,
                auth=(
                    self._config.get("SERVICE_CLIENT_ID") or self._config["SERVICE_NAME"],
                    self._config.get("SERVICE_CLIENT_SECRET", ""),
                ),
                timeout=self.TOKEN_ENDPOINT_TIMEOUT,
            )
            response.raise_for_status()
            body = response.json()
            return str(body["access_token"]), float(body.get("expires_in", self._ttl))
        except (requests.RequestException, ValueError, KeyError) as exc:
            raise DependencyFailed("identity-provider", f"no service token: {exc}") from exc


# ----------------------------------------------------------------------------- client


def _timed_out(exc: requests.RequestException) -> bool:
    """requests reports a read timeout after exhausted retries as a ConnectionError
    wrapping urllib3's MaxRetryError; look at what actually happened."""
    if isinstance(exc, requests.Timeout):
        return True
    reason = getattr(exc.args[0] if exc.args else None, "reason", None)
    return isinstance(reason, (ReadTimeoutError, ConnectTimeoutError)) and not isinstance(
        reason, NewConnectionError
    )


# Set by ServiceClient around each call, read by urllib3 while it decides on a retry:
# one pool per downstream serves both retryable and non-retryable requests.
_may_repeat: ContextVar[bool] = ContextVar("service_kit_may_repeat", default=False)


class _SafeRetry(Retry):
    """urllib3's Retry that re-sends a request the server may have seen only when the
    caller said it is safe to repeat. A connection that was never made (refused,
    connect timeout) is retried for every request: nothing reached the server."""

    def _is_method_retryable(self, method: str) -> bool:
        return _may_repeat.get()


class ServiceClient:
    """HTTP calls to one downstream service; share one instance per process."""

    def __init__(
        self,
        name: str,
        settings: ClientSettings,
        *,
        token: Callable[[], str | None] | None = None,
        request_id: Callable[[], str | None] = current_request_id,
        user_agent: str = "garage-service",
    ) -> None:
        self.name = name
        self.settings = settings
        self.breaker = CircuitBreaker(
            name, failures=settings.breaker_failures, cooldown=settings.breaker_cooldown
        )
        self._token = token
        self._request_id = request_id
        retry = _SafeRetry(
            total=settings.retries,
            connect=settings.retries,
            # A downstream that did not answer in time is likely overloaded: one more try
            # at most, so a call never waits much longer than two read timeouts.
            read=min(settings.retries, 1),
            status=settings.retries,
            other=0,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=settings.backoff,
            backoff_jitter=settings.backoff,
            backoff_max=2.0,
            raise_on_status=False,
            # A downstream asking for minutes of patience would turn this call into a hang.
            respect_retry_after_header=False,
        )
        self.session = requests.Session()
        self.session.trust_env = False  # no proxies or netrc between services
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=settings.pool_size, max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": user_agent, "Accept": "application/json"})

    @classmethod
    def from_config(cls, config: Mapping[str, Any], name: str) -> ServiceClient:
        return cls(
            name,
            ClientSettings.from_config(config, name),
            token=ServiceToken(config),
            user_agent=f"garage-{config.get('SERVICE_NAME', 'service')}",
        )

    def get(self, path: str, *, params: Mapping[str, Any] | None = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, params=params, **kwargs)

    def post(
        self, path: str, *, json: Any = None, idempotency_key: str | None = None, **kwargs: Any
    ) -> requests.Response:
        return self.request("POST", path, json=json, idempotency_key=idempotency_key, **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> requests.Response:
        """Send one request; any answer below 500 is returned, everything else raises
        ``DependencyFailed``."""
        method = method.upper()
        outgoing = self._headers(headers, idempotency_key)
        if not self.breaker.allow():
            DOWNSTREAM_CALLS.labels(self.name, method, "circuit_open").inc()
            raise DependencyFailed(
                self.name, f"{self.name} is unavailable: it failed repeatedly, not calling it for now"
            )
        keyed = any(name.lower() == "idempotency-key" for name in outgoing)
        repeatable = method in IDEMPOTENT_METHODS or (method == "POST" and keyed)
        started = time.perf_counter()
        context_token = _may_repeat.set(repeatable)
        try:
            response = self.session.request(
                method,
                self.settings.base_url + path,
                params=params,
                json=json,
                headers=outgoing,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
                allow_redirects=False,
            )
        except requests.RequestException as exc:
            if _timed_out(exc):
                self._failed(method, "timeout", exc)
                raise DependencyFailed(self.name, f"{self.name} did not answer in time") from exc
            self._failed(method, "connection_error", exc)
            raise DependencyFailed(self.name, f"{self.name} could not be reached") from exc
        except BaseException:
            # Not the downstream's fault, but a half-open probe must not stay in flight forever.
            self.breaker.record_failure()
            raise
        finally:
            _may_repeat.reset(context_token)
            DOWNSTREAM_LATENCY.labels(self.name, method).observe(time.perf_counter() - started)
        if response.status_code >= 500:
            self._failed(method, f"status_{response.status_code}", None)
            raise DependencyFailed(self.name, f"{self.name} answered {response.status_code}")
        self.breaker.record_success()
        DOWNSTREAM_CALLS.labels(self.name, method, str(response.status_code)).inc()
        return response

    def _headers(self, extra: Mapping[str, str] | None, idempotency_key: str | None) -> dict[str, str]:
        headers = dict(extra or {})
        request_id = self._request_id()
        if request_id:
            headers[REQUEST_ID_HEADER] = request_id
        if self._token is not None:
            token = self._token()
            if token:
                headers["Authorization"] = f"Bearer {token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return headers

    def _failed(self, method: str, outcome: str, exc: BaseException | None) -> None:
        self.breaker.record_failure()
        DOWNSTREAM_CALLS.labels(self.name, method, outcome).inc()
        log.warning("call to %s failed: %s", self.name, exc or outcome)

    def close(self) -> None:
        self.session.close()
