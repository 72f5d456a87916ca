"""Other services faked in a service's tests at the HTTP boundary: real HTTP servers on
loopback, so every call goes through the service's own HTTP client (timeouts, retries,
the breaker) as it would in production.

- ``LoopbackServer``: records every request and answers through ``answer``; it can be
  slowed (``delay``), interrupted (``before_answer``), stopped (callers get connection
  refused) and started again on the same port.
- ``ContractServer``: a provider whose every JSON answer is checked against its
  committed contract as it is sent; one outside the contract is answered 500 and kept in
  ``violations``, for the test's fixture to assert there were none.
- ``ResourceServer``: the usual read, ``GET <path>/{id}`` of the resources ``put`` first.
- ``Receiver``: takes whatever it is sent, answering scripted statuses.

The bodies a fake answers are the consuming service's own test data; only the
machinery is here. ``free_port`` and ``closed_url`` give addresses nobody listens on.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from requests.structures import CaseInsensitiveDict

from service_kit.contract_testing import ContractViolation, contract_document, validate_response
from service_kit.problems import problem_body

Answer = tuple[int, dict[str, str], bytes]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def closed_url() -> str:
    """An address nobody answers on: a service that is down."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass(frozen=True)
class Received:
    """One request a fake received; ``path`` without the query, which is in ``query``;
    ``headers`` by any spelling of their names."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def problem(status: int, detail: str, **extra: Any) -> dict[str, Any]:
    """A problem+json body, as the kit answers them."""
    return problem_body(status, detail, **extra)


def json_answer(status: int, body: Any, content_type: str | None = None) -> Answer:
    """``body`` as JSON; a failure as problem+json unless ``content_type`` says otherwise."""
    content_type = content_type or ("application/json" if status < 400 else "application/problem+json")
    return status, {"Content-Type": content_type}, json.dumps(body).encode()


class _HTTPServer(ThreadingHTTPServer):
    allow_reuse_address = True
    daemon_threads = True
    request_queue_size = 128  # many concurrent callers may connect at once


class LoopbackServer:
    """A real HTTP server on 127.0.0.1, started when made. Subclasses answer in
    ``answer``; a plain one answers through ``respond``. An exception while answering
    is a 500, as from a broken server."""

    def __init__(self, respond: Callable[[Received], Answer] | None = None) -> None:
        self._respond = respond
        self.requests: list[Received] = []
        self.lock = threading.Lock()
        self.delay = 0.0
        self.before_answer: Callable[[Received], None] | None = None
        self._connections: set[socket.socket] = set()
        self.port = 0
        self._httpd: ThreadingHTTPServer | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self) -> None:
        """Listen (again, on the same port after ``stop``)."""
        if self._httpd is None:
            self._httpd = _HTTPServer(("127.0.0.1", self.port), self._handler())
            self.port = self._httpd.server_address[1]
            threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        """Close the port and every open connection, as a stopped process would."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        with self.lock:
            connections, self._connections = self._connections, set()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def reset(self) -> None:
        """Listening, prompt and with no requests, as at the start of a test."""
        self.start()
        self.delay = 0.0
        self.before_answer = None
        with self.lock:
            self.requests.clear()

    def received(self, path_part: str = "") -> list[Received]:
        """The requests so far whose path contains ``path_part``, oldest first."""
        with self.lock:
            return [request for request in self.requests if path_part in request.path]

    def answer(self, request: Received) -> Answer:
        if self._respond is None:
            raise NotImplementedError("pass respond, or override answer")
        return self._respond(request)

    def _serve(self, request: Received) -> Answer:
        with self.lock:
            self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        try:
            if self.before_answer:
                self.before_answer(request)
            return self.answer(request)
        except Exception as exc:
            return 500, {"Content-Type": "text/plain"}, f"{type(exc).__name__}: {exc}".encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms wait

            def log_message(self, *args: Any) -> None:
                pass

            def setup(self) -> None:
                super().setup()
                with server.lock:
                    server._connections.add(self.connection)

            def finish(self) -> None:
                super().finish()
                with server.lock:
                    server._connections.discard(self.connection)

            def _answer(self) -> None:
                if server._httpd is not self.server:
                    # Stopped: a kept-alive connection must not outlive its server.
                    self.close_connection = True
                    return
                length = int(self.headers.get("Content-Length") or 0)
                target = urlsplit(self.path)
                request = Received(
                    method=self.command,
                    path=target.path,
                    query=dict(parse_qsl(target.query)),
                    headers=CaseInsensitiveDict(self.headers.items()),
                    body=self.rfile.read(length) if length else b"",
                )
                status, headers, payload = server._serve(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        return Handler


class ContractServer(LoopbackServer):
    """A provider on loopback answering only what its committed contract allows.
    ``handle`` gives (status, body, the documented path it answers for); the body is
    checked against ``contract`` as it is sent. A ``ContractViolation`` (the answer, or
    a request body the subclass checked with ``validate_request``) is answered 500 and
    kept in ``violations``. ``failing = 503`` answers every request with that problem."""

    def __init__(self, contract: str | Path) -> None:
        self.contract = contract
        self.violations: list[str] = []
        self.failing: int | None = None
        contract_document(contract)
        super().__init__()

    def handle(self, request: Received) -> tuple[int, Any, str]:
        raise NotImplementedError

    def check(self, method: str, path: str, status: int, body: Any) -> None:
        validate_response(self.contract, method, path, status, body)

    def answer(self, request: Received) -> Answer:
        if self.failing:
            return json_answer(self.failing, problem(self.failing, "failing, as the test asked"))
        try:
            status, body, documented = self.handle(request)
            self.check(request.method, documented, status, body)
        except ContractViolation as exc:
            with self.lock:
                self.violations.append(str(exc))
            return json_answer(500, problem(500, str(exc)))
        return json_answer(status, body)

    def reset(self) -> None:
        super().reset()
        self.failing = None
        self.violations.clear()


class ResourceServer(ContractServer):
    """``GET <path>/{id}``: the resource ``put`` for that id (checked against the
    contract as it is put), else 404. ``resources`` may be changed in place."""

    def __init__(self, contract: str | Path, path: str) -> None:
        self.path = path
        self.prefix = path.split("{", 1)[0]
        self.resources: dict[str, dict[str, Any]] = {}
        super().__init__(contract)

    def put(self, body: dict[str, Any]) -> dict[str, Any]:
        self.check("GET", self.path, 200, body)
        self.resources[str(body["id"])] = copy.deepcopy(body)
        return body

    def handle(self, request: Received) -> tuple[int, Any, str]:
        resource_id = request.path.removeprefix(self.prefix)
        if request.method == "GET" and request.path.startswith(self.prefix) and resource_id in self.resources:
            return 200, self.resources[resource_id], self.path
        return 404, problem(404, f"{resource_id} does not exist"), self.path

    def reset(self) -> None:
        super().reset()
        self.resources.clear()


class Receiver(LoopbackServer):
    """Takes whatever it is sent. Answers the ``statuses`` queued, in turn, then
    ``default`` (back to the first one on ``reset``): a success with
    ``accept(request, status)`` (by default a new id), a failure with a problem."""

    def __init__(self, default: int = 202) -> None:
        self.default = self._first_default = default
        self.statuses: deque[int] = deque()
        super().__init__()

    def accept(self, request: Received, status: int) -> Answer:
        return json_answer(status, {"id": str(uuid.uuid4())})

    def answer(self, request: Received) -> Answer:
        with self.lock:
            status = self.statuses.popleft() if self.statuses else self.default
        if status >= 400:
            return json_answer(status, problem(status, "failing, as the test asked"))
        return self.accept(request, status)

    def reset(self) -> None:
        super().reset()
        self.default = self._first_default
        self.statuses.clear()
