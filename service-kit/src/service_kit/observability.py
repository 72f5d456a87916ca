"""Request ids, JSON log lines, Prometheus metrics, and the health endpoints."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
from datetime import UTC, datetime
from typing import Any

import orjson
from flask import Blueprint, Flask, Response, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from service_kit import response_headers
from service_kit.db import database_is_ready
from service_kit.problems import DependencyUnavailable

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_ENVIRON = "HTTP_X_REQUEST_ID"  # the header as WSGI hands it over
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")

REQUESTS = Counter(
    "http_requests_total", "HTTP requests answered", ["service", "method", "endpoint", "status"]
)
LATENCY = Histogram(
    "http_request_duration_seconds",
    "Time to answer an HTTP request",
    ["service", "method", "endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*(@[A-Za-z0-9.-]+\.[A-Za-z]{2,})")
# International numbers (+31 6 1234 5678, E.164) and local ones starting with 0;
# not invoice numbers, dates or ids.
_PHONE = re.compile(r"(?<![\w+-])(\+\d|0\d)[\d ()-]{5,}(\d{2})(?![\w-])")


def mask_personal_data(text: str) -> str:
    """Emails and phone numbers never reach the logs whole: a***@example.com, +3********78."""
    if "@" in text:  # the pattern needs one: most lines have none
        text = _EMAIL.sub(r"\1***\2", text)
    return _PHONE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 4) + m.group(2), text)


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


def new_request_id() -> str:
    """A random version 4 UUID as 32 hex digits, as ``uuid.uuid4().hex`` gives it,
    without building a UUID object per request."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def _json_line(line: dict[str, Any]) -> str:
    try:
        return orjson.dumps(line, default=str).decode()
    except TypeError:  # text that is not valid UTF-8 (an unpaired surrogate): escaped
        return json.dumps(line, default=str)


class JsonFormatter(logging.Formatter):
    """One JSON object per line, with the request id when there is one."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": mask_personal_data(record.getMessage()),
        }
        request_id = current_request_id()
        if request_id:
            line["request_id"] = request_id
        for extra in ("method", "path", "status", "duration_ms", "caller"):
            if hasattr(record, extra):
                line[extra] = getattr(record, extra)
        if record.exc_info:
            line["exception"] = mask_personal_data(self.formatException(record.exc_info))
        return _json_line(line)


def configure_logging(service: str, level: str) -> None:
    # Nothing a line shows needs the caller's file and line, thread or process names:
    # not computing them is the logging HOWTO's own advice for a hot path.
    logging._srcfile = None  # the documented switch (logging HOWTO, "Optimization")
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())


def init_observability(app: Flask) -> None:
    service = app.config["SERVICE_NAME"]
    access_log = logging.getLogger(f"{service}.access")
    # The metrics' children by (method, endpoint, status): prometheus_client's labels()
    # checks and joins its label values on every call. Bounded: a client can send any
    # method name.
    metric_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def metrics_for(method: str, endpoint: str, status: int) -> tuple[Any, Any]:
        children = metric_children.get((method, endpoint, status))
        if children is None:
            children = (
                REQUESTS.labels(service, method, endpoint, str(status)),
                LATENCY.labels(service, method, endpoint),
            )
            if len(metric_children) < 1024:
                metric_children[(method, endpoint, status)] = children
        return children

    @app.before_request
    def _start() -> None:
        incoming = request.environ.get(_REQUEST_ID_ENVIRON)
        context = g._get_current_object()  # once, not through the proxy each time
        context.request_id = incoming if incoming and _VALID_REQUEST_ID.match(incoming) else new_request_id()
        context.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        req = request._get_current_object()  # type: ignore[attr-defined]  # once, not through the proxy each time
        context = g._get_current_object()
        request_id = getattr(context, "request_id", "")
        response_headers.put(response.headers, REQUEST_ID_HEADER, request_id)
        rule = req.url_rule
        endpoint = rule.rule if rule else "unmatched"
        now = time.perf_counter()
        elapsed = now - getattr(context, "started", now)
        method, status = req.method, response.status_code
        requests_child, latency_child = metrics_for(method, endpoint, status)
        requests_child.inc()
        latency_child.observe(elapsed)
        if endpoint not in ("/healthz", "/readyz", "/metrics") and access_log.isEnabledFor(logging.INFO):
            path = req.path
            principal = getattr(context, "principal", None)
            access_log.info(
                "%s %s %s",
                method,
                path,
                status,
                extra={
                    "method": method,
                    "path": path,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    # Who asked: a user's subject, or the name of the calling service.
                    "caller": principal.subject if principal else None,
                },
            )
        return response

    app.register_blueprint(_health_blueprint())


def _health_blueprint() -> Blueprint:
    health = Blueprint("health", __name__)

    @health.get("/healthz")
    def healthz() -> tuple[dict[str, str], int]:
        return {"status": "ok"}, 200

    @health.get("/readyz")
    def readyz() -> tuple[dict[str, str], int]:
        if database_is_ready():
            return {"status": "ready"}, 200
        raise DependencyUnavailable("database", "cannot reach the database")

    @health.get("/metrics")
    def metrics() -> Response:
        # Under gunicorn with several workers, each writes to PROMETHEUS_MULTIPROC_DIR.
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
        return Response(generate_latest(), mimetype=CONTENT_TYPE_LATEST)

    return health
