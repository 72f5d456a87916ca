"""The system tests' harness: the services of tools/services.py as real processes.

``Garage`` runs services as real gunicorn processes on free loopback ports against
one database, with every outbox relay, the job checker and the notification
dispatcher as real processes; every ``<SERVICE>_URL`` points at the port chosen here.
Each process runs in its own process group and is killed with it. ``MailSink`` (an
aiosmtpd handler) and ``SmsProvider`` are the real SMTP server and HTTP SMS provider
on loopback that the dispatcher delivers to. ``FrontDesk`` makes the calls a
garage's staff make, through the public APIs only, with tokens for their roles.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from service_kit.auth import mint_token
from service_kit.config import DEV_JWT_SECRET, kit_settings

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))

import services as catalog  # noqa: E402  tools/services.py: the one list of services

BIN = Path(sys.executable).parent
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
GARAGE_NAME = "Garage Jansen"
MAIL_FROM = f"{GARAGE_NAME} <service@garage.test>"
SMS_TOKEN = "system-test-sms-token"  # pragma: allowlist secret
ALL = tuple(service.name for service in catalog.SERVICES if service.contract)  # the APIs, not the console
# The caller's environment that children may see; everything else they get from us.
INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TZ", "USER", "VIRTUAL_ENV", "SSL_CERT_FILE")
STARTUP_SECONDS = 90.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def eventually(
    check: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds
    with the last value it gave. An assertion inside ``check`` fails at once: it is for
    what must never be seen (a second invoice), not for what is not there yet."""
    deadline = time.monotonic() + timeout
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what or 'condition'} not reached in {timeout:.0f} s; last: {last!r}")
        time.sleep(interval)


def flask_argv(name: str, *command: str) -> list[str]:
    """``flask --app <package> <command>`` of a service, with this interpreter's flask."""
    _, *rest = catalog.BY_NAME[name].flask(*command)
    return [str(BIN / "flask"), *rest]


def tomorrow() -> date:
    """Tomorrow in the workshop's time zone."""
    return datetime.now(AMSTERDAM).date() + timedelta(days=1)


# --------------------------------------------------------------------------- processes


class Process:
    """One child in a process group of its own, logging to a file."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], log_path: Path, cwd: Path) -> None:
        self.name = name
        self.argv = argv
        self.env = env
        self.log_path = log_path
        self.cwd = cwd
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.popen = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: gunicorn's workers go with it
            )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def terminate(self) -> None:
        """SIGTERM to the whole group (gunicorn's master passes it on to its workers)."""
        if self.popen is not None and self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM to the whole group, SIGKILL after ``timeout``; stragglers of the group
        (a worker whose master is gone) are killed either way."""
        if self.popen is None:
            return
        group = self.popen.pid
        self.terminate()
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(group, signal.SIGKILL)
            self.popen.wait()
        _signal_group(group, signal.SIGKILL)
        self.popen = None

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def log_since(self, offset: int, max_lines: int = 40, max_width: int = 1500) -> str:
        try:
            with open(self.log_path, "rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""
        lines = [line if len(line) <= max_width else line[:max_width] + " ..." for line in text.splitlines()]
        if len(lines) > max_lines:
            lines = [f"... {len(lines) - max_lines} earlier lines in {self.log_path}", *lines[-max_lines:]]
        return "\n".join(lines)


def _signal_group(group: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(group, signum)


# ------------------------------------------------------------------------------- garage

RUNNING: list[Garage] = []  # for the failure report and the atexit safety net


class Garage:
    """Services of tools/services.py running for real: ``start()``, ``stop_service()``,
    ``start_service()``, ``close()``. Every ``<SERVICE>_URL`` points at the port chosen
    for that service here, also for services not started (nothing listens there)."""

    def __init__(
        self,
        *,
        database_url: str,
        workdir: Path,
        names: Iterable[str] = ALL,
        settings: dict[str, str] | None = None,
        label: str = "garage",
    ) -> None:
        self.label = label
        self.names = list(names)
        self.workdir = workdir
        (workdir / "logs").mkdir(parents=True, exist_ok=True)
        self.ports = {service.name: free_port() for service in catalog.SERVICES}
        self.env = {name: os.environ[name] for name in INHERITED if name in os.environ}
        self.env.update(
            {
                "PYTHONUNBUFFERED": "1",
                "GARAGE_ENV": "development",
                "DATABASE_URL": database_url,
                "JWT_SECRET": DEV_JWT_SECRET,  # one development secret for every service and the tests
                "RATE_LIMIT_ENABLED": "false",
                "LOG_LEVEL": "INFO",
                "DB_POOL_SIZE": "3",
                "DB_MAX_OVERFLOW": "3",
                # A downstream that comes back is called again after a second, not ten.
                "HTTP_BREAKER_COOLDOWN_SECONDS": "1",
                # Relays and the dispatcher look often and retry soon, but never give up in a test.
                "OUTBOX_POLL_SECONDS": "0.2",
                "OUTBOX_BACKOFF_BASE_SECONDS": "0.5",
                "OUTBOX_BACKOFF_MAX_SECONDS": "2",
                "OUTBOX_MAX_ATTEMPTS": "200",
                "DISPATCH_POLL_SECONDS": "0.2",
                "DISPATCH_BACKOFF_BASE_SECONDS": "0.5",
                "DISPATCH_BACKOFF_MAX_SECONDS": "2",
                "DISPATCH_MAX_ATTEMPTS": "200",
                "JOB_CHECK_POLL_SECONDS": "5",
                "GARAGE_NAME": GARAGE_NAME,
                "GARAGE_TIMEZONE": "Europe/Amsterdam",
                "MAIL_FROM": MAIL_FROM,
                "SMTP_HOST": "127.0.0.1",
                "SMTP_SECURITY": "none",
                "SMTP_TIMEOUT_SECONDS": "5",
                "SMS_PROVIDER": "http",
                "SMS_PROVIDER_TOKEN": SMS_TOKEN,
                "SMS_PROVIDER_RETRIES": "0",
                **{service.url_var: self.url(service.name) for service in catalog.SERVICES},
            }
        )
        self.env.update(settings or {})
        self.web: dict[str, Process] = {}
        self.background: dict[str, Process] = {}
        for name in self.names:
            service = catalog.BY_NAME[name]
            self.web[name] = self._process(
                name,
                [
                    str(BIN / "gunicorn"),
                    "--bind",
                    f"127.0.0.1:{self.ports[name]}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    "1",
                    "--threads",
                    "8",
                    "--graceful-timeout",
                    "2",
                    f"{service.package}:create_app()",
                ],
            )
            for process in service.processes:
                key = f"{name}-{process.name}"
                self.background[key] = self._process(key, flask_argv(name, *process.command))

    def _process(self, name: str, argv: list[str]) -> Process:
        return Process(name, argv, self.env, self.workdir / "logs" / f"{name}.log", self.workdir)

    @property
    def processes(self) -> list[Process]:
        return [*self.web.values(), *self.background.values()]

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        RUNNING.append(self)
        self.migrate()
        for process in self.web.values():
            process.start()
        for name in self.web:
            self.wait_ready(name)
        for process in self.background.values():
            process.start()

    def migrate(self) -> None:
        """Every service's ``flask migrate``, side by side (each holds its own lock)."""
        running = []
        for name in self.names:
            log = self.workdir / "logs" / f"{name}-migrate.log"
            with open(log, "wb") as out:
                argv = flask_argv(name, "migrate")
                running.append(
                    (
                        name,
                        log,
                        subprocess.Popen(
                            argv, env=self.env, cwd=self.workdir, stdout=out, stderr=subprocess.STDOUT
                        ),
                    )
                )
        failed = []
        try:
            for name, log, popen in running:
                if popen.wait(timeout=STARTUP_SECONDS) != 0:
                    failed.append(f"--- {name} migrate:\n{log.read_text()[-4000:]}")
        finally:
            for _, _, popen in running:
                if popen.poll() is None:  # a migration that hung, or an interrupted start
                    popen.kill()
                    popen.wait()
        if failed:
            raise RuntimeError("migrations failed:\n" + "\n".join(failed))

    def wait_ready(self, name: str, timeout: float = STARTUP_SECONDS) -> None:
        process = self.web[name]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not process.running:
                raise RuntimeError(f"{name} exited while starting:\n{process.log_since(0)}")
            try:
                if requests.get(f"{self.url(name)}/readyz", timeout=2).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} not ready after {timeout:.0f} s:\n{process.log_since(0)}")

    def stop_service(self, name: str) -> None:
        """Terminate the service's gunicorn (master and workers)."""
        self.web[name].stop()

    def start_service(self, name: str) -> None:
        """Start it again on the same port and wait until it answers."""
        self.web[name].start()
        self.wait_ready(name)

    def close(self) -> None:
        """Stop everything: the relays and the dispatcher first, then the web servers,
        each group told at once and waited for together."""
        for group in (self.background.values(), self.web.values()):
            for process in group:
                process.terminate()
            for process in group:
                process.stop()
        if self in RUNNING:
            RUNNING.remove(self)

    def command(self, name: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """``flask --app <package> <args>`` of a service, as a CronJob would run it."""
        argv = flask_argv(name, *args)
        return subprocess.run(
            argv, env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=timeout, check=False
        )

    # ------------------------------------------------------------------ logs

    def log_marks(self) -> dict[str, int]:
        return {process.name: process.log_size() for process in self.processes}

    def logs_since(self, marks: dict[str, int] | None) -> str:
        parts = []
        for process in self.processes:
            text = process.log_since((marks or {}).get(process.name, 0))
            if text:
                parts.append(f"----- {process.name} ({process.log_path})\n{text}")
        return "\n".join(parts) or "(nothing logged)"

    # ------------------------------------------------------------------ HTTP

    def call(
        self,
        method: str,
        name: str,
        path: str,
        *,
        role: str | tuple[str, ...] = "admin",
        subject: str = "system-test",
        timeout: float = 10.0,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """One request to a service's public API with a token for ``role``."""
        headers = {**token_headers(role, subject=subject), **kwargs.pop("headers", {})}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        return requests.request(method, self.url(name) + path, headers=headers, timeout=timeout, **kwargs)


def token_headers(role: str | tuple[str, ...], *, subject: str = "system-test") -> dict[str, str]:
    roles = (role,) if isinstance(role, str) else role
    config = kit_settings(service="system-tests", schema="public", env={"JWT_SECRET": DEV_JWT_SECRET})
    return {"Authorization": f"Bearer {mint_token(config, roles=roles, subject=subject)}"}


def expect(response: requests.Response, status: int) -> Any:
    assert response.status_code == status, (
        f"{response.request.method} {response.url}: {response.status_code} {response.text[:2000]}"
    )
    return (
        response.json() if response.content and "json" in response.headers.get("Content-Type", "") else None
    )


def _kill_everything() -> None:
    for garage in list(RUNNING):
        garage.close()


atexit.register(_kill_everything)


# ------------------------------------------------------------------- SMTP and SMS


class MailSink:
    """aiosmtpd handler: every message the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.port = 0  # the SMTP server's, once started

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        with self.lock:
            self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["To"] == address]

    def by_notification(self, notification_id: str) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if m["X-Garage-Notification-ID"] == notification_id]


class SmsProvider:
    """A generic SMS gateway on loopback: POST JSON with a bearer token, answers 202."""

    def __init__(self) -> None:
        self.accepted: list[dict[str, Any]] = []
        self.refused: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                message = {
                    **json.loads(body or b"{}"),
                    "idempotency_key": self.headers.get("Idempotency-Key"),
                }
                with provider.lock:
                    if self.headers.get("Authorization") == f"Bearer {SMS_TOKEN}":
                        provider.accepted.append(message)
                        status, answer = 202, {"id": f"sms-{len(provider.accepted)}", "status": "queued"}
                    else:
                        provider.refused.append(message)
                        status, answer = 401, {"error": "bad token"}
                payload = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1/messages"
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    def to(self, number: str) -> list[dict[str, Any]]:
        with self.lock:
            return [m for m in self.accepted if m.get("to") == number]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class FrontDesk:
    """The calls a garage's front desk and workshop make, through the public APIs."""

    OPEN_ALL_WEEK = {
        day: [{"opens": "07:00", "closes": "19:00"}]
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    }

    def __init__(self, garage: Garage) -> None:
        self.garage = garage

    def configure_workshop(self) -> dict[str, Any]:
        settings = {
            "time_zone": "Europe/Amsterdam",
            "slot_minutes": 15,
            "booking_horizon_days": 60,
            "opening_hours": self.OPEN_ALL_WEEK,
            "closed_dates": [],
        }
        return expect(
            self.garage.call(
                "PUT", "workshop-scheduling", "/api/v1/workshop/settings", role="advisor", json=settings
            ),
            200,
        )

    def add_bay(self, name: str, kind: str = "lift") -> dict[str, Any]:
        return expect(
            self.garage.call(
                "POST",
                "workshop-scheduling",
                "/api/v1/workshop/bays",
                role="advisor",
                json={"name": name, "kind": kind},
            ),
            201,
        )

    def add_technician(self, name: str, skills: list[str]) -> dict[str, Any]:
        return expect(
            self.garage.call(
                "POST",
                "workshop-scheduling",
                "/api/v1/workshop/technicians",
                role="advisor",
                json={"name": name, "skills": skills},
            ),
            201,
        )

    def customer(self, **fields: Any) -> dict[str, Any]:
        body = {
            "kind": "person",
            "name": "Ann de Vries",
            "email": f"ann.{uuid.uuid4().hex[:10]}@example.com",
            "preferred_language": "en",
            "consents": [
                {
                    "channel": "email",
                    "purpose": "service",
                    "granted": True,
                    "source": "counter",
                    "wording": "We may email you about your appointments, your vehicle and your invoices.",
                }
            ],
            **fields,
        }
        return expect(
            self.garage.call(
                "POST",
                "customer-management",
                "/api/v1/customers",
                role="advisor",
                json=body,
                idempotency_key=str(uuid.uuid4()),
            ),
            201,
        )

    def vehicle(self, owner_id: str, **fields: Any) -> dict[str, Any]:
        body = {
            "owner_id": owner_id,
            "plate": f"{uuid.uuid4().hex[:2]}-{uuid.uuid4().hex[:3]}-{uuid.uuid4().hex[:1]}".upper(),
            "make": "Volvo",
            "model": "V60",
            **fields,
        }
        return expect(
            self.garage.call(
                "POST",
                "vehicle-management",
                "/api/v1/vehicles",
                role="advisor",
                json=body,
                idempotency_key=str(uuid.uuid4()),
            ),
            201,
        )

    def free_slot(self, day: date, minutes: int, bay_kind: str = "lift") -> dict[str, Any]:
        availability = expect(
            self.garage.call(
                "GET",
                "workshop-scheduling",
                "/api/v1/availability",
                role="advisor",
                params={
                    "from": day.isoformat(),
                    "to": day.isoformat(),
                    "duration": minutes,
                    "bay_kind": bay_kind,
                },
            ),
            200,
        )
        assert availability["slots"], f"no free {minutes}-minute slot on {day}: {availability}"
        return availability["slots"][0]

    def book(self, vehicle_id: str, slot: dict[str, Any], **fields: Any) -> requests.Response:
        body = {
            "vehicle_id": vehicle_id,
            "start": slot["start"],
            "end": slot["end"],
            "bay_id": slot["bay_ids"][0],
            "work_description": "annual service",
            **fields,
        }
        return self.garage.call(
            "POST",
            "workshop-scheduling",
            "/api/v1/appointments",
            role="advisor",
            json=body,
            idempotency_key=str(uuid.uuid4()),
        )

    def job(self, job_id: str) -> dict[str, Any]:
        return expect(
            self.garage.call(
                "GET", "maintenance-job-management", f"/api/v1/maintenance-jobs/{job_id}", role="advisor"
            ),
            200,
        )

    def job_action(
        self, job_id: str, verb: str, body: dict[str, Any] | None = None, role: str = "technician"
    ) -> Any:
        return expect(
            self.garage.call(
                "POST",
                "maintenance-job-management",
                f"/api/v1/maintenance-jobs/{job_id}/{verb}",
                role=role,
                subject="tech-anna",
                json=body or {},
            ),
            200,
        )

    def add_line(self, job_id: str, **line: Any) -> dict[str, Any]:
        return expect(
            self.garage.call(
                "POST",
                "maintenance-job-management",
                f"/api/v1/maintenance-jobs/{job_id}/lines",
                role="technician",
                subject="tech-anna",
                json=line,
            ),
            201,
        )

    def invoices_of_job(self, job_id: str) -> list[dict[str, Any]]:
        return expect(
            self.garage.call(
                "GET", "invoicing", "/api/v1/invoices", role="accountant", params={"job_id": job_id}
            ),
            200,
        )["items"]

    def notifications(self, customer_id: str, type_: str | None = None) -> list[dict[str, Any]]:
        params = {"customer_id": customer_id, **({"type": type_} if type_ else {})}
        return expect(
            self.garage.call(
                "GET", "notification-management", "/api/v1/notifications", role="advisor", params=params
            ),
            200,
        )["items"]

    def outbox(self, name: str, prefix: str) -> list[dict[str, Any]]:
        """Every row of a service's outbox (admin), newest first."""
        rows: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {"limit": 200, **({"cursor": cursor} if cursor else {})}
            page = expect(self.garage.call("GET", name, f"{prefix}/outbox-messages", params=params), 200)
            rows += page["items"]
            cursor = page["next_cursor"]
            if not cursor:
                return rows
