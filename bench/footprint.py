"""Memory and start-up of every service as its image runs it: gunicorn with
deploy/image/gunicorn.conf.py and the service's workers and threads.

    python bench/footprint.py [--requests 300]

For each service of tools/services.py: its migrations on a database of its own, then
the time from starting gunicorn to the first 200 from /readyz (imports, app, pool), then
the resident memory (RSS) of the master and of each worker after ``--requests`` requests
(half /readyz, half a list its contract has, with a token), when the caches are warm.
Prints one row per service and fails (exit 1) when a worker is over 150 MB."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import services as catalog  # noqa: E402  # tools/services.py, the one list of services

from service_kit.auth import mint_token  # noqa: E402
from service_kit.config import DEV_JWT_SECRET, kit_settings  # noqa: E402
from service_kit.fakes import free_port  # noqa: E402

BIN = Path(sys.executable).parent
ADMIN_URL = os.environ.get("GARAGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
LIMIT_MB = 150
# A list each service answers to an admin (its first route), to warm the request path.
WARM_PATHS = {
    "customer-management": "/api/v1/customers",
    "vehicle-management": "/api/v1/vehicles",
    "workshop-scheduling": "/api/v1/workshop/bays",
    "maintenance-job-management": "/api/v1/maintenance-jobs",
    "invoicing": "/api/v1/invoices",
    "notification-management": "/api/v1/notifications",
    "identity": "/.well-known/openid-configuration",  # its admin API takes its own tokens
}


def database(name: str) -> str:
    engine = create_engine(
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def get(url: str, token: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def measure(service: catalog.Service, url: str, requests: int, workdir: Path) -> dict[str, object]:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "JWT_SECRET": DEV_JWT_SECRET,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
        "PROMETHEUS_MULTIPROC_DIR": str(workdir / f"metrics-{service.name}"),
        **service.worker_settings,  # its own workers x threads, as in compose and Kubernetes
    }
    migrate = subprocess.run(
        [BIN / "flask", "--app", service.package, "migrate"], env=env, capture_output=True, text=True
    )
    if migrate.returncode != 0:
        raise SystemExit(f"{service.name}: migrate failed\n{migrate.stderr[-2000:]}")
    port = free_port()
    started = time.perf_counter()
    server = subprocess.Popen(
        [
            BIN / "gunicorn",
            "--config",
            ROOT / "deploy" / "image" / "gunicorn.conf.py",
            "--bind",
            f"127.0.0.1:{port}",
            f"{service.package}:create_app()",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=workdir,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        while get(f"{base}/readyz") != 200:
            if server.poll() is not None or time.perf_counter() - started > 60:
                raise SystemExit(f"{service.name} did not get ready")
            time.sleep(0.02)
        ready = time.perf_counter() - started
        config = kit_settings(service="footprint", schema="public", env={"JWT_SECRET": DEV_JWT_SECRET})
        token = mint_token(config, roles=["admin"], subject="footprint")
        statuses = set()
        for n in range(requests):
            statuses.add(get(f"{base}{WARM_PATHS[service.name]}", token) if n % 2 else get(f"{base}/readyz"))
        master = psutil.Process(server.pid)
        workers = master.children()
        return {
            "ready_s": ready,
            "master_mb": master.memory_info().rss / 2**20,
            "workers_mb": [worker.memory_info().rss / 2**20 for worker in workers],
            "statuses": sorted(statuses),
        }
    finally:
        server.terminate()
        server.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'service':<28} {'set-up':>6} {'ready s':>7} {'master MB':>9} {'workers MB':>22} statuses")
    over = []
    with tempfile.TemporaryDirectory() as folder:
        for service in catalog.SERVICES:
            if service.name not in WARM_PATHS:
                continue
            row = measure(
                service, database(f"garage_footprint_{service.schema}"), args.requests, Path(folder)
            )
            workers = " / ".join(f"{mb:.0f}" for mb in row["workers_mb"])  # type: ignore[union-attr]
            ready, master = f"{row['ready_s']:>7.2f}", f"{row['master_mb']:>9.0f}"
            set_up = f"{service.workers}x{service.threads}"
            print(f"{service.name:<28} {set_up:>6} {ready} {master} {workers:>22} {row['statuses']}")
            over += [service.name for mb in row["workers_mb"] if mb > LIMIT_MB]  # type: ignore[union-attr]
    if over:
        print(f"over {LIMIT_MB} MB: {sorted(set(over))}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
