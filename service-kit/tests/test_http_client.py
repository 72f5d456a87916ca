"""The inter-service HTTP client against a real HTTP server on loopback: down, slow,
failing, recovering; retries only where repeating is safe; the breaker."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from flask import Flask, g

from service_kit.auth import TokenVerifier
from service_kit.config import ConfigError, kit_settings
from service_kit.http_client import (
    CircuitBreaker,
    ClientSettings,
    DependencyFailed,
    ServiceClient,
    ServiceToken,
    downstream_settings,
)
from service_kit.problems import DependencyUnavailable


class Downstream:
    """A real HTTP server whose answers a test scripts: each hit takes the next
    behaviour from ``script``, then ``default``. Behaviours: an int status, or
    ("slow", seconds)."""

    def __init__(self, port: int = 0) -> None:
        self.script: deque[Any] = deque()
        self.default: Any = 200
        self.hits: Counter[str] = Counter()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        downstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as a real service answers
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with downstream._lock:
                    downstream.hits[self.command] += 1
                    downstream.requests.append(
                        {
                            "method": self.command,
                            "path": self.path,
                            "headers": dict(self.headers),
                            "body": body,
                            "client_port": self.client_address[1],
                        }
                    )
                    behaviour = downstream.script.popleft() if downstream.script else downstream.default
                status = 200
                if isinstance(behaviour, tuple) and behaviour[0] == "slow":
                    time.sleep(behaviour[1])
                else:
                    status = behaviour
                payload = json.dumps({"path": self.path, "status": status}).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up waiting

            do_GET = do_POST = do_PUT = do_DELETE = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def downstream() -> Iterator[Downstream]:
    server = Downstream()
    yield server
    server.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


CONFIG = kit_settings(service="caller", schema="caller", env={})


def make_client(url: str, **overrides: Any) -> ServiceClient:
    settings = ClientSettings(
        base_url=url,
        connect_timeout=0.5,
        read_timeout=overrides.pop("read_timeout", 0.3),
        retries=overrides.pop("retries", 2),
        backoff=0.01,
        breaker_failures=overrides.pop("breaker_failures", 3),
        breaker_cooldown=overrides.pop("breaker_cooldown", 0.3),
    )
    overrides.setdefault("token", ServiceToken(CONFIG))
    return ServiceClient("downstream-service", settings, **overrides)


def test_get_returns_the_answer_with_request_id_and_a_service_token(downstream: Downstream) -> None:
    client = make_client(downstream.url, request_id=lambda: "req-42")
    response = client.get("/api/v1/things/1", params={"a": "b"})
    assert response.status_code == 200
    assert response.json()["path"] == "/api/v1/things/1?a=b"
    sent = downstream.requests[0]["headers"]
    assert sent["X-Request-ID"] == "req-42"
    principal = TokenVerifier(CONFIG).verify(sent["Authorization"].removeprefix("Bearer "))
    assert principal.roles == {"service"}
    assert principal.subject == "caller"


def test_passes_on_the_request_id_of_the_flask_request_being_served(downstream: Downstream) -> None:
    client = make_client(downstream.url)
    with Flask(__name__).test_request_context():
        g.request_id = "incoming-request-7"
        client.get("/x")
    assert downstream.requests[0]["headers"]["X-Request-ID"] == "incoming-request-7"


def test_reuses_one_keep_alive_connection(downstream: Downstream) -> None:
    client = make_client(downstream.url)
    for _ in range(3):
        client.get("/x")
    assert len({r["client_port"] for r in downstream.requests}) == 1


def test_a_404_is_an_answer_not_a_failure(downstream: Downstream) -> None:
    downstream.default = 404
    client = make_client(downstream.url, breaker_failures=2)
    for _ in range(5):
        assert client.get("/missing").status_code == 404
    assert downstream.hits["GET"] == 5, "a 404 is not retried"
    assert client.breaker.state == CircuitBreaker.CLOSED


def test_a_downstream_that_is_down_fails_fast_as_one_503_problem() -> None:
    client = make_client(f"http://127.0.0.1:{free_port()}")
    started = time.perf_counter()
    with pytest.raises(DependencyFailed) as caught:
        client.get("/x")
    assert time.perf_counter() - started < 1
    problem = caught.value
    assert isinstance(problem, DependencyUnavailable)
    assert problem.to_dict()["status"] == 503
    assert problem.to_dict()["dependency"] == "downstream-service"
    assert "could not be reached" in problem.detail


def test_a_slow_downstream_times_out_on_the_read_timeout(downstream: Downstream) -> None:
    downstream.default = ("slow", 1.0)
    client = make_client(downstream.url, read_timeout=0.2, retries=0)
    started = time.perf_counter()
    with pytest.raises(DependencyFailed, match="did not answer in time"):
        client.get("/x")
    assert 0.15 < time.perf_counter() - started < 0.8, "cut off by the read timeout, not the downstream"


def test_get_is_retried_on_a_passing_failure(downstream: Downstream) -> None:
    downstream.script.extend([503, 502])
    client = make_client(downstream.url)
    assert client.get("/x").status_code == 200
    assert downstream.hits["GET"] == 3


def test_get_is_retried_once_after_a_read_timeout(downstream: Downstream) -> None:
    downstream.script.append(("slow", 0.5))
    client = make_client(downstream.url, read_timeout=0.2, retries=2)
    assert client.get("/x").status_code == 200
    assert downstream.hits["GET"] == 2

    downstream.script.extend([("slow", 1.0), ("slow", 1.0)])
    started = time.perf_counter()
    with pytest.raises(DependencyFailed, match="did not answer in time"):
        client.get("/x")
    assert time.perf_counter() - started < 0.9
    assert downstream.hits["GET"] == 4, "two read timeouts, not three"


def test_a_500_is_a_failure_and_is_not_retried(downstream: Downstream) -> None:
    downstream.default = 500
    client = make_client(downstream.url)
    with pytest.raises(DependencyFailed, match="answered 500"):
        client.get("/x")
    assert downstream.hits["GET"] == 1


def test_post_without_idempotency_key_is_never_retried(downstream: Downstream) -> None:
    downstream.default = 503
    client = make_client(downstream.url, breaker_failures=10)
    with pytest.raises(DependencyFailed):
        client.post("/things", json={"a": 1})
    assert downstream.hits["POST"] == 1

    downstream.default = ("slow", 0.5)
    with pytest.raises(DependencyFailed, match="did not answer in time"):
        client.post("/things", json={"a": 1})
    assert downstream.hits["POST"] == 2


def test_post_with_idempotency_key_is_retried_with_the_same_key(downstream: Downstream) -> None:
    downstream.script.extend([503, 503])
    client = make_client(downstream.url)
    response = client.post("/things", json={"a": 1}, idempotency_key="job-7")
    assert response.status_code == 200
    assert downstream.hits["POST"] == 3
    assert {r["headers"]["Idempotency-Key"] for r in downstream.requests} == {"job-7"}
    assert {r["body"] for r in downstream.requests} == {b'{"a": 1}'}

    downstream.script.extend([503])
    assert client.post("/things", json={"a": 2}, headers={"idempotency-key": "job-8"}).status_code == 200
    assert downstream.hits["POST"] == 5


def test_retries_stop_at_the_configured_number(downstream: Downstream) -> None:
    downstream.default = 503
    client = make_client(downstream.url, retries=2)
    with pytest.raises(DependencyFailed, match="answered 503"):
        client.get("/x")
    assert downstream.hits["GET"] == 3


def test_breaker_opens_fails_fast_and_closes_after_recovery(downstream: Downstream) -> None:
    downstream.default = 500
    client = make_client(downstream.url, breaker_failures=3, breaker_cooldown=0.3)
    for _ in range(3):
        with pytest.raises(DependencyFailed):
            client.get("/x")
    assert downstream.hits["GET"] == 3
    assert client.breaker.state == CircuitBreaker.OPEN

    started = time.perf_counter()
    for _ in range(20):
        with pytest.raises(DependencyFailed, match="not calling it for now"):
            client.get("/x")
    assert time.perf_counter() - started < 0.2, "an open breaker answers at once"
    assert downstream.hits["GET"] == 3, "an open breaker sends nothing"

    downstream.default = 200
    time.sleep(0.35)
    assert client.breaker.state == CircuitBreaker.HALF_OPEN
    assert client.get("/x").status_code == 200
    assert client.breaker.state == CircuitBreaker.CLOSED
    assert client.get("/x").status_code == 200
    assert downstream.hits["GET"] == 5


def test_a_failed_probe_opens_the_breaker_again(downstream: Downstream) -> None:
    downstream.default = 503
    client = make_client(downstream.url, retries=0, breaker_failures=2, breaker_cooldown=0.2)
    for _ in range(2):
        with pytest.raises(DependencyFailed):
            client.get("/x")
    time.sleep(0.25)
    with pytest.raises(DependencyFailed, match="answered 503"):
        client.get("/x")
    assert downstream.hits["GET"] == 3
    with pytest.raises(DependencyFailed, match="not calling it for now"):
        client.get("/x")
    assert downstream.hits["GET"] == 3


def test_breaker_recovers_once_a_down_downstream_comes_back() -> None:
    port = free_port()
    client = make_client(f"http://127.0.0.1:{port}", retries=0, breaker_failures=2, breaker_cooldown=0.2)
    for _ in range(3):
        with pytest.raises(DependencyFailed):
            client.get("/x")
    assert client.breaker.state == CircuitBreaker.OPEN
    server = Downstream(port)
    try:
        time.sleep(0.25)
        assert client.get("/x").status_code == 200
        assert client.breaker.state == CircuitBreaker.CLOSED
    finally:
        server.stop()


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_half_open_lets_exactly_one_probe_through() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("d", failures=1, cooldown=5, clock=clock)
    breaker.record_failure()
    assert not breaker.allow()
    clock.now += 5
    allowed = []
    threads = [threading.Thread(target=lambda: allowed.append(breaker.allow())) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert allowed.count(True) == 1
    breaker.record_success()
    assert breaker.allow()


def test_breaker_counts_consecutive_failures_only() -> None:
    breaker = CircuitBreaker("d", failures=3, cooldown=5, clock=FakeClock())
    for _ in range(10):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state == CircuitBreaker.CLOSED


def test_a_late_failure_does_not_extend_the_cool_down() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("d", failures=1, cooldown=5, clock=clock)
    breaker.record_failure()
    clock.now += 4
    breaker.record_failure()  # a call that was in flight when the breaker opened
    clock.now += 1
    assert breaker.allow()


def test_service_token_is_minted_once_and_renewed_before_it_expires() -> None:
    clock = FakeClock()
    clock.now = time.time()
    source = ServiceToken(CONFIG, ttl_seconds=300, clock=clock)
    first = source()
    assert source() is first
    clock.now += 300 - ServiceToken.REFRESH_MARGIN_SECONDS + 1
    assert source() is not first


def test_a_configured_service_token_is_sent_as_is(downstream: Downstream) -> None:
    client = make_client(
        downstream.url, token=ServiceToken({**CONFIG, "SERVICE_TOKEN": "issued-by-platform"})
    )
    client.get("/x")
    assert downstream.requests[0]["headers"]["Authorization"] == "Bearer issued-by-platform"


def test_settings_come_from_the_environment_with_short_defaults() -> None:
    settings = downstream_settings(
        "customer-management",
        default_url="http://127.0.0.1:8001",
        env={"HTTP_READ_TIMEOUT_SECONDS": "2", "CUSTOMER_MANAGEMENT_RETRIES": "1"},
    )
    client_settings = ClientSettings.from_config(settings, "customer-management")
    assert client_settings.base_url == "http://127.0.0.1:8001"
    assert client_settings.connect_timeout == 1.0
    assert client_settings.read_timeout == 2.0
    assert client_settings.retries == 1


def test_production_needs_the_downstream_url() -> None:
    with pytest.raises(ConfigError, match="CUSTOMER_MANAGEMENT_URL"):
        downstream_settings("customer-management", default_url="http://x", env={"GARAGE_ENV": "production"})
    production = {"GARAGE_ENV": "production", "CUSTOMER_MANAGEMENT_URL": "http://customer-management:8001"}
    with pytest.raises(ConfigError, match="SERVICE_TOKEN"):
        downstream_settings("customer-management", default_url="http://x", env=production)
    settings = downstream_settings(
        "customer-management", default_url="http://x", env={**production, "SERVICE_TOKEN": "t"}
    )
    assert settings["CUSTOMER_MANAGEMENT_URL"] == "http://customer-management:8001"
    with pytest.raises(ConfigError, match="HTTP_READ_TIMEOUT_SECONDS must be a number"):
        downstream_settings(
            "customer-management", default_url="http://x", env={"HTTP_READ_TIMEOUT_SECONDS": "x"}
        )
