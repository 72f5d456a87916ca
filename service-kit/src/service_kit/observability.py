"""Request ids, JSON log lines, Prometheus metrics, and the health endpoints."""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Blueprint, Flask, Response, g, has_request_context, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

from service_kit.db import database_is_ready
from service_kit.problems import DependencyUnavailable

REQUEST_ID_HEADER = "X-Request-ID"
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
    text = _EMAIL.sub(r"\1***\2", text)
    return _PHONE.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 4) + m.group(2), text)


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


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
        return json.dumps(line, default=str)


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

    @app.before_request
    def _start() -> None:
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = incoming if _VALID_REQUEST_ID.match(incoming) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id", "")
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        elapsed = time.perf_counter() - g.get("started", time.perf_counter())
        REQUESTS.labels(service, request.method, endpoint, str(response.status_code)).inc()
        LATENCY.labels(service, request.method, endpoint).observe(elapsed)
        if endpoint not in ("/healthz", "/readyz", "/metrics"):
            access_log.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(elapsed * 1000, 2),
                    # Who asked: a user's subject, or the name of the calling service.
                    "caller": g.principal.subject if g.get("principal") else None,
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
