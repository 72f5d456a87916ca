"""CPU per request on the read path: customer-management's GET /api/v1/customers/{id}
against bare Flask + psycopg2 doing the same SQL (bench/bare_app.py), in one process,
called as WSGI apps with no server and no network in between, so what is left is the
Python each request costs: the thing issue 15 optimises.

    python bench/request_path.py [--requests 3000] [--profile]
    python bench/request_path.py --callgrind [--requests 200] [--search]

Both apps run as production runs them where it matters: the token verified (HS256
development key; a JWKS key costs the same once prepared), the rate limiter counting
in Redis (127.0.0.1:6379; memory when it is not there), CORS configured for one origin,
JSON access logs at INFO (written to /dev/null), the pool as configured. Prints
microseconds of CPU per request (process time, so other load on the machine barely
moves it), wall time, and the ratio bare/service: 1.0 would be free plumbing. With
--profile, the service's top functions by own time (cProfile; --cpu-profile times them
by process time, not wall time, so waiting on PostgreSQL and Redis drops out).

--callgrind runs the same in valgrind's callgrind and prints *instructions* per
request, ours and bare in the same run: the same figure whatever else the machine is
doing (bench/callgrind_meter.py counts only the measured requests). About 100x slower
than natively: 200 requests a side take a minute or two. The dumps stay in
.run/callgrind-request-path/ for callgrind_annotate."""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import redis
from sqlalchemy import create_engine, text
from werkzeug.test import EnvironBuilder

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

ADMIN_URL = os.environ.get("GARAGE_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
DATABASE = "garage_bench_request_path"
CUSTOMERS = 2_000
CALLGRIND_DUMPS = Path(HERE).parent / ".run" / "callgrind-request-path"
UNDER_CALLGRIND = "REQUEST_PATH_UNDER_CALLGRIND"


def database_url(database: str = DATABASE) -> str:
    engine = create_engine(
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg2://", 1), isolation_level="AUTOCOMMIT"
    )
    with engine.connect() as connection:
        if not connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :d"), {"d": database}
        ).first():
            connection.execute(text(f'CREATE DATABASE "{database}"'))
    engine.dispose()
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{database}"


def redis_url() -> str:
    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_timeout=1).ping()
        return "redis://127.0.0.1:6379/0"
    except redis.RedisError:
        return "memory://"


def quiet_logs() -> None:
    """The JSON log lines are still made (they are part of the cost), then dropped."""
    import logging

    devnull = open(os.devnull, "w")  # noqa: SIM115  # for the whole run
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(devnull)


def service_app(url: str, limiter_url: str) -> Any:
    os.environ.update(
        DATABASE_URL=url,
        RATE_LIMIT_STORAGE_URL=limiter_url,
        RATE_LIMIT_READ="100000000 per minute",
        RATE_LIMIT_WRITE="100000000 per minute",
        CORS_ORIGINS="https://console.garage.example",
        LOG_LEVEL="INFO",
    )
    from customer_management import create_app

    app = create_app()
    quiet_logs()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["migrate"])
    if result.exit_code != 0:
        raise SystemExit(f"migrate failed: {result.output} {result.exception!r}")
    return app


def seed(app: Any, token: str) -> list[str]:
    client = app.test_client()
    listed = client.get(
        "/api/v1/customers?limit=200", headers={"Authorization": f"Bearer {token}"}
    ).get_json()
    if len(listed["items"]) < 200:
        for n in range(CUSTOMERS):
            made = client.post(
                "/api/v1/customers",
                json={
                    "kind": "person",
                    "name": f"Bench Customer {n}",
                    "email": f"bench{n}@example.com",
                    "phone": f"+31 6 {12000000 + n}",
                    "preferred_channel": "email",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            if made.status_code not in (201, 409):
                raise SystemExit(f"seeding failed: {made.status_code} {made.get_json()}")
        listed = client.get(
            "/api/v1/customers?limit=200", headers={"Authorization": f"Bearer {token}"}
        ).get_json()
    return [item["id"] for item in listed["items"]]


def environs(paths: list[str], token: str | None) -> list[dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return [EnvironBuilder(path=path, headers=headers).get_environ() for path in paths]


def drive(app: Callable[..., Any], requests: list[dict[str, Any]]) -> tuple[float, float]:
    """(CPU microseconds, wall microseconds) per request."""
    statuses: list[str] = []

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses.append(status)

    cpu, wall = time.process_time(), time.perf_counter()
    for environ in requests:
        body = app(dict(environ), start_response)
        for _ in body:
            pass
        getattr(body, "close", lambda: None)()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    bad = [s for s in statuses if not s.startswith("200")]
    if bad:
        raise SystemExit(f"not every request was answered 200: {bad[:3]}")
    return cpu / len(requests) * 1e6, wall / len(requests) * 1e6


SEARCH_TERMS = ("bench", "bench cust", "customer", "bench customer 1", "customer 2")


def what(args: argparse.Namespace) -> str:
    return "GET /api/v1/customers?q=<term>" if args.search else "GET /api/v1/customers/{id}"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=None, help="3000; 200 with --callgrind")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--cpu-profile", action="store_true", help="--profile timed by process time")
    parser.add_argument("--callgrind", action="store_true", help="instructions per request (valgrind)")
    parser.add_argument("--sort", default="tottime", help="cProfile order: tottime or cumulative")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--database", default=DATABASE, help="another one to compare another checkout")
    parser.add_argument(
        "--search", action="store_true", help="GET /api/v1/customers?q= (pages of 50) instead"
    )
    args = parser.parse_args()
    if args.requests is None:
        args.requests = 200 if args.callgrind else 3000
    if args.callgrind and not os.environ.get(UNDER_CALLGRIND):
        return run_under_callgrind(args)

    url, limiter_url = database_url(args.database), redis_url()
    app = service_app(url, limiter_url)
    from service_kit.auth import mint_token

    token = mint_token(app.config, roles=["advisor"], subject="bench-advisor")
    ids = seed(app, token)
    os.environ["DATABASE_URL"] = url
    import bare_app

    bare = bare_app.create_app()
    rng = random.Random(7)
    if args.search:
        # Pages of 50 (the API's default) of "Bench Customer <n>": name words, one statement.
        terms = [rng.choice(SEARCH_TERMS) for _ in range(args.requests)]
        service_requests = environs([f"/api/v1/customers?q={t}" for t in terms], token)
        bare_requests = environs([f"/customers?q={t}" for t in terms], None)
    else:
        picks = [rng.choice(ids) for _ in range(args.requests)]
        service_requests = environs([f"/api/v1/customers/{i}" for i in picks], token)
        bare_requests = environs([f"/customers/{i}" for i in picks], None)
    if os.environ.get(UNDER_CALLGRIND):
        return measure_instructions(app, bare, service_requests, bare_requests, args.rounds)
    drive(app, service_requests[:300])  # warm: pools, caches, imports
    drive(bare, bare_requests[:300])
    results = [(drive(app, service_requests), drive(bare, bare_requests)) for _ in range(args.rounds)]
    if args.profile or args.cpu_profile:
        profiler = cProfile.Profile(time.process_time) if args.cpu_profile else cProfile.Profile()
        profiler.enable()
        drive(app, service_requests)
        profiler.disable()
    print(f"{what(args)}, {args.requests} requests x {args.rounds} rounds")
    print(f"rate limiter storage {limiter_url}")
    print(f"load average {os.getloadavg()[0]:.1f}")
    print("round  service CPU us  bare CPU us  bare/service  service wall us  bare wall us")
    for n, ((service_cpu, service_wall), (bare_cpu, bare_wall)) in enumerate(results, start=1):
        print(
            f"{n:>5}  {service_cpu:>14.0f}  {bare_cpu:>11.0f}  {bare_cpu / service_cpu:>12.2f}"
            f"  {service_wall:>15.0f}  {bare_wall:>12.0f}"
        )
    ratios = sorted(bare_cpu / service_cpu for (service_cpu, _), (bare_cpu, _) in results)
    print(f"median bare/service CPU: {ratios[len(ratios) // 2]:.2f}")
    if args.profile or args.cpu_profile:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    return 0


def measure_instructions(
    app: Any,
    bare: Any,
    service_requests: list[dict[str, Any]],
    bare_requests: list[dict[str, Any]],
    rounds: int,
) -> int:
    """In callgrind: each side warmed, then each round's requests counted on their own."""
    from callgrind_meter import Meter

    meter = Meter()
    for name, wsgi, requests in (("service", app, service_requests), ("bare", bare, bare_requests)):
        drive(wsgi, requests[:100])  # warm: pools, caches, imports
        for n in range(1, rounds + 1):
            meter.measure(f"{name} {n} {len(requests)}", lambda w=wsgi, r=requests: drive(w, r))
    return 0


def run_under_callgrind(args: argparse.Namespace) -> int:
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    from callgrind_meter import dumped_totals

    shutil.rmtree(CALLGRIND_DUMPS, ignore_errors=True)
    CALLGRIND_DUMPS.mkdir(parents=True)
    command = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        f"--callgrind-out-file={CALLGRIND_DUMPS}/callgrind.out.%p",
        sys.executable,
        os.path.abspath(__file__),
        f"--requests={args.requests}",
        f"--rounds={args.rounds}",
        f"--database={args.database}",
        *(["--search"] if args.search else []),
    ]
    # The same hash seed each run: dict and set layouts, and so the instructions, repeat.
    env = {**os.environ, UNDER_CALLGRIND: "1", "PYTHONHASHSEED": "0"}
    subprocess.run(command, env=env, check=True, stderr=subprocess.DEVNULL)
    totals = dumped_totals(CALLGRIND_DUMPS)
    print(f"{what(args)}, {args.requests} requests x {args.rounds} rounds, callgrind")
    print(f"load average {os.getloadavg()[0]:.1f} (does not move these figures)")
    print("round  service instr/request  bare instr/request  bare/service")
    ratios = []
    for n in range(1, args.rounds + 1):
        service = totals[f"service {n} {args.requests}"] / args.requests
        bare = totals[f"bare {n} {args.requests}"] / args.requests
        ratios.append(bare / service)
        print(f"{n:>5}  {service:>21,.0f}  {bare:>18,.0f}  {bare / service:>12.3f}")
    print(f"median bare/service instructions: {sorted(ratios)[len(ratios) // 2]:.3f}")
    print(f"dumps: {CALLGRIND_DUMPS} (callgrind_annotate <dump>)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
