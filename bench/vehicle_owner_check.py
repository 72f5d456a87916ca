"""What the owner check costs: POST /api/v1/vehicles with and without the call to
customer-management, under load, measured with wrk.

    python bench/vehicle_owner_check.py [--seconds 10] [--rounds 3] [--connections 1,16]

Starts customer-management and vehicle-management under gunicorn (gthread), as
`make run` does, registers some customers, then drives POST /api/v1/vehicles
(a new plate every request, owners drawn at random) against two builds of
vehicle-management, side by side, in alternating rounds:
  with    - the service as shipped: every registration asks customer-management
            (GET /api/v1/customers/{id}) through the kit's HTTP client;
  without - the same app with the customer-management client replaced in-process
            by one that answers "active" at once (no HTTP call).
Prints the medians over the rounds of requests/s and latency percentiles for
each, and the difference.
PostgreSQL: DATABASE_URL, else an embedded server under .run/bench-pgdata.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import string
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

from harness import BIN, Figures, Workers, database_url, gunicorn, stop, wrk

CUSTOMERS_PORT = 18101
VEHICLES_PORT = 18102

LUA = r"""
-- Each request registers a vehicle with a plate no other request used.
local owners = {}
for line in io.lines(os.getenv("OWNERS_FILE")) do owners[#owners + 1] = line end
local tag = os.getenv("RUN_TAG")
local token = os.getenv("TOKEN")
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

local counter = 0
request = function()
  counter = counter + 1
  local body = string.format(
    '{"owner_id": "%s", "plate": "%s%d-%06d", "make": "Volvo", "model": "V60"}',
    owners[math.random(#owners)], tag, tid, counter)
  return wrk.format("POST", "/api/v1/vehicles",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


def app_without_owner_check() -> Any:
    """gunicorn factory: vehicle-management whose owner look-up makes no HTTP call."""
    from vehicle_management import create_app
    from vehicle_management.clients.customer_management import EXTENSION, Customer

    class EveryoneIsACustomer:
        def get_customer(self, customer_id: uuid.UUID) -> Customer:
            return Customer(id=customer_id, status="active", name="bench")

    app = create_app()
    app.extensions[EXTENSION] = EveryoneIsACustomer()
    return app


def drive(env: dict[str, str], seconds: int, connections: int, port: int) -> Figures:
    figures = wrk(
        f"http://127.0.0.1:{port}",
        seconds=seconds,
        connections=connections,
        script=Path(env["LUA_FILE"]),
        env=env,
    )
    if figures.failed:
        raise RuntimeError(f"{figures.failed} requests failed; the figures would not mean anything")
    return figures


def wrk_env(env: dict[str, str], workdir: Path, token: str) -> dict[str, str]:
    """wrk's environment for one run; a fresh plate prefix, so no run reuses a plate."""
    return {
        **env,
        "OWNERS_FILE": str(workdir / "owners.txt"),
        "LUA_FILE": str(workdir / "register.lua"),
        "TOKEN": token,
        "RUN_TAG": "".join(random.choices(string.ascii_uppercase, k=4)),
    }


def create_customers(token: str, count: int) -> list[str]:
    import requests

    ids = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        for n in range(count):
            body = {"kind": "person", "name": f"Bench {n}", "email": f"bench-{uuid.uuid4().hex}@example.com"}
            response = session.post(
                f"http://127.0.0.1:{CUSTOMERS_PORT}/api/v1/customers", json=body, timeout=10
            )
            response.raise_for_status()
            ids.append(response.json()["id"])
    return ids


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="1,16", help="comma-separated wrk connection counts")
    parser.add_argument("--customers", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    url, server = database_url("garage_bench")
    shape = Workers("gthread", args.workers, args.threads)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        # The benchmark is the only client: per-client rate limits would measure 429s.
        "RATE_LIMIT_ENABLED": "false",
        "CUSTOMER_MANAGEMENT_URL": f"http://127.0.0.1:{CUSTOMERS_PORT}",
    }
    for package in ("customer_management", "vehicle_management"):
        subprocess.run([BIN / "flask", "--app", package, "migrate"], env=env, check=True, capture_output=True)
    token = subprocess.run(
        [BIN / "flask", "--app", "vehicle_management", "token", "advisor"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()

    customers = gunicorn("customer_management:create_app()", CUSTOMERS_PORT, env, shape)
    workdir = Path(tempfile.mkdtemp(prefix="vehicle-bench-"))
    try:
        owners = create_customers(token, args.customers)
        (workdir / "owners.txt").write_text("\n".join(owners))
        (workdir / "register.lua").write_text(LUA)
        builds = {
            "with owner check": ("vehicle_management:create_app()", VEHICLES_PORT),
            "without owner check": ("vehicle_owner_check:app_without_owner_check()", VEHICLES_PORT + 1),
        }
        print(
            f"POST /api/v1/vehicles, gunicorn gthread {args.workers} workers x {args.threads} threads "
            f"per service, {os.cpu_count()} CPUs shared by the services, PostgreSQL and wrk; "
            f"{args.rounds} rounds of {args.seconds}s per build and load, the builds alternating, "
            f"after {args.warmup}s warm-up; every request answered 201; medians over the rounds"
        )
        servers = [gunicorn(app, port, env, shape, local=True) for app, port in builds.values()]
        try:
            for connections in [int(c) for c in args.connections.split(",")]:
                runs: dict[str, list[dict[str, str]]] = {name: [] for name in builds}
                for round_ in range(args.rounds):
                    # Alternate which build goes first, so drift in the machine's load hits both.
                    order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
                    for name in order:
                        port = builds[name][1]
                        if round_ == 0:
                            drive(wrk_env(env, workdir, token), args.warmup, connections, port)
                        runs[name].append(
                            drive(wrk_env(env, workdir, token), args.seconds, connections, port)
                        )
                summary = {}
                for name, figures in runs.items():
                    summary[name] = {
                        "requests/s": statistics.median(f.rps for f in figures),
                        "p50": statistics.median(f.p50 for f in figures),
                        "p99": statistics.median(f.p99 for f in figures),
                    }
                    row = summary[name]
                    print(
                        f"  {connections:3} connections  {name:20} requests/s {row['requests/s']:7.1f}  "
                        f"p50 {row['p50']:7.2f}ms  p99 {row['p99']:7.2f}ms"
                    )
                with_check, without = summary["with owner check"], summary["without owner check"]
                print(
                    f"  {connections:3} connections  added by the owner check: "
                    f"p50 {with_check['p50'] - without['p50']:+.2f}ms  "
                    f"p99 {with_check['p99'] - without['p99']:+.2f}ms"
                )
        finally:
            stop(*servers)
    finally:
        stop(customers)
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
