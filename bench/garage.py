"""The garage under load (`make bench`): all six services under gunicorn, as `make run`
serves them (the images' gunicorn settings, deploy/image/gunicorn.conf.py), driven by
wrk. Prints figures; asserts nothing.

    python bench/garage.py [--configs sync:2,gthread:2x4,gthread:2x8,gthread:3x8,gevent:2x100]
                           [--rounds 3] [--seconds 10] [--warmup 3] [--connections 16]
                           [--path NAME ...] [--race-rounds 30]

Every gunicorn set-up runs at once: per set-up the six services and the bare app, on
ports of their own, each service calling the others of its set-up. Each path is then
measured on every set-up back to back (the order turning each round), so a change in
the machine's load falls on all set-ups alike - the machine is shared and its load
moves. gevent:2x100 is 2 processes of 100 requests in flight each (worker_connections),
psycopg2 made cooperative by psycogreen (bench/gunicorn_gevent.conf.py; gevent and
psycogreen are installed by hand for it, not in the services' requirements). Paths:

reads, each beside the same SQL served by bench/bare_app.py (bare Flask + psycopg2,
the same gunicorn set-up) right before or after it, as a ratio:
  GET /api/v1/customers/{id}                 random ids among 100,000 customers
  GET /api/v1/customers?q=<term>             as the front desk types them (bench/customers.py)
  GET /api/v1/availability                   a week, 60 minutes; 10 bays, 2,000 appointments
writes, through the real downstream services of the set-up:
  POST /api/v1/vehicles                      + GET the owner from customer-management
  (+20 ms)                                   customer-management 20 ms further away
  POST /api/v1/appointments                  + GET the vehicle, POST the job; the bay given
  (+20 ms)                                   both 20 ms further away
  (same slot)                                the bay left to the service: the requests in
                                             flight want one slot and queue on its bays
  POST /api/v1/maintenance-jobs/{id}/complete  the job and two outbox rows
  booking race, one bay / any bay            16 clients (Python threads, not wrk) book one
                                             slot at once, round after round: one bay
                                             named, or the bay left to the service
                                             (bench/booking_race.py); orphan jobs counted

wrk: 2 threads, 16 connections, 10 s per run, after a 3 s warm-up the first time a
server meets a path; requests unanswered after 10 s count as socket errors.

Fixtures are written straight into the services' schemas (SQL, the services' own
tables); the relays and the dispatcher do not run, so their work stays out of the
measured time. Rate limits are off (one client would meet them at once); services log
at INFO to .run/bench-garage/. PostgreSQL: DATABASE_URL, else an embedded server in
.run/bench-garage-pgdata (database garage_bench_system, made afresh each run).
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import signal
import statistics
import string
import subprocess
import sys
import tempfile
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import booking_race
import requests
from harness import BENCH, BIN, ROOT, DelayLine, Figures, Workers, database_url, gunicorn, say, stop, wrk

sys.path.insert(0, str(ROOT / "tools"))
from services import PORTS  # tools/services.py: the one list of services

from service_kit.auth import mint_token
from service_kit.config import kit_settings
from service_kit.db import normalise_url

PORT_BASE = 18200  # set-up i: customer-management on 18201+100i ..., the bare app on 18290+100i
BAYS = 10
VEHICLES = 2_000
LOGS = ROOT / ".run" / "bench-garage"
# Customers the search terms are sampled from, the way bench/customers.py samples them
# (surname starts, whole names, email starts and addresses, phone numbers as said aloud,
# their last digits, common fragments): the terms of the search it measures.
SEARCH_SAMPLE = 200
READS = ("GET customer by id", "customer search", "availability, a week")
WRITES = (
    "vehicle registration",
    "vehicle registration +20 ms",
    "booking",
    "booking +20 ms",
    "booking, same slot",
    "job completion",
    "booking race, one bay",
    "booking race, any bay",
)
RACES = {"booking race, one bay", "booking race, any bay"}
BOOKINGS = {"booking", "booking +20 ms", "booking, same slot", *RACES}
DOWNSTREAM_DELAY = 0.010  # seconds each way: "+20 ms" is a downstream 20 ms further away
DEFAULT_CONFIGS = "sync:2,gthread:2x4,gthread:2x8,gthread:3x8"


# ------------------------------------------------------------------------------ fixtures


def seed(url: str, customers: int) -> dict[str, Any]:
    """Customers, vehicles and a busy week, straight into the schemas."""
    import psycopg2
    from customers import SEED_SQL, search_terms  # bench/customers.py: the customers, the terms
    from scheduling import APPOINTMENTS, prepare  # bench/scheduling.py: 10 bays, a busy week
    from sqlalchemy import create_engine
    from vehicle_management.models import Vehicle
    from workshop_scheduling import create_app

    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        for start in range(1, customers + 1, 100_000):
            cursor.execute(SEED_SQL, {"start": start, "stop": min(start + 99_999, customers)})
        cursor.execute("ANALYZE customers.customers")
        cursor.execute("SELECT id FROM customers.customers ORDER BY random() LIMIT 2000")
        customer_ids = [str(row[0]) for row in cursor.fetchall()]
        terms = [term for _, term in search_terms(cursor, SEARCH_SAMPLE)]
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(
            Vehicle.__table__.insert(),
            [
                {
                    "owner_id": uuid.UUID(random.choice(customer_ids)),
                    "plate": f"BENCH-{n:05d}",
                    "plate_normalised": f"BENCH{n:05d}",
                    "country": "NL",
                    "make": "Volkswagen",
                    "model": "Golf",
                }
                for n in range(VEHICLES)
            ],
        )
        vehicle_ids = [str(row[0]) for row in connection.exec_driver_sql("SELECT id FROM vehicles.vehicles")]
    engine.dispose()
    today = datetime.now(UTC).date()
    week_start = today + timedelta(days=7 - today.weekday())  # next Monday
    prepare(create_app({"DATABASE_URL": url}), week_start)
    logging.getLogger().setLevel(logging.WARNING)  # the app set up logging for itself, at INFO
    say(
        f"fixtures: {customers} customers, {len(vehicle_ids)} vehicles, {BAYS} bays and "
        f"{APPOINTMENTS} appointments in the week of {week_start}"
    )
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT id FROM scheduling.bays ORDER BY name")
        bay_ids = [str(row[0]) for row in cursor.fetchall()]
    return {
        "customers": customer_ids,
        "vehicles": vehicle_ids,
        "bays": bay_ids,
        "week": week_start,
        "terms": terms,
    }


def seed_jobs(url: str, count: int) -> list[str]:
    """Jobs in progress with one approved labour line each: ready to complete."""
    from maintenance_job_management.models import Job, JobLine
    from sqlalchemy import create_engine

    from service_kit.ids import uuid7

    now = datetime.now(UTC)
    jobs = [
        {
            "id": uuid7(),
            "appointment_id": uuid.uuid4(),
            "vehicle_id": uuid.uuid4(),
            "customer_id": uuid.uuid4(),
            "planned_start": now,
            "planned_end": now + timedelta(hours=1),
            "description": "bench",
            "status": "in_progress",
            "actual_start": now,
            "assigned_technician": "bench-technician",
            "currency": "EUR",
        }
        for _ in range(count)
    ]
    lines = [
        {
            "job_id": job["id"],
            "kind": "labour",
            "description": "service",
            "quantity_hundredths": 100,
            "unit_price": 7_850,
            "vat_rate": 21,
            "approval": "approved",
            "approved_net": 7_850,
            "covered_by_booking": True,
            "created_by": "bench",
            "created_by_name": "bench",
        }
        for job in jobs
    ]
    engine = create_engine(normalise_url(url))
    with engine.begin() as connection:
        connection.execute(Job.__table__.insert(), jobs)
        connection.execute(JobLine.__table__.insert(), lines)
    engine.dispose()
    return [str(job["id"]) for job in jobs]


def workshop_hours(api: str, token: str, *, around_the_clock: bool) -> None:
    """Availability runs on Amsterdam hours 07:00-19:00; booking on a UTC workshop open
    around the clock, so the benchmark never runs out of slots."""
    days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    body = (
        {
            "time_zone": "UTC",
            "slot_minutes": 30,
            "booking_horizon_days": 730,
            "opening_hours": {d: [{"opens": "00:00", "closes": "24:00"}] for d in days},
            "closed_dates": [],
        }
        if around_the_clock
        else {
            "time_zone": "Europe/Amsterdam",
            "slot_minutes": 15,
            "booking_horizon_days": 400,
            "opening_hours": {d: [{"opens": "07:00", "closes": "19:00"}] for d in days},
            "closed_dates": [],
        }
    )
    response = requests.put(
        f"{api}/api/v1/workshop/settings", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    response.raise_for_status()


# ---------------------------------------------------------------------------- the runs


class Stack:
    """The six services and the bare app, all under one gunicorn set-up, on ports of their
    own (set-up i: 18201+100i ...), each service calling the others of its stack. Beside
    them a second vehicle-management and workshop-scheduling whose downstreams are 20 ms
    further away (through a DelayLine), as on other nodes: what a worker does while it
    waits shows there."""

    FAR = ("vehicle-management", "workshop-scheduling")  # port + 10
    PROXIED = ("customer-management", "vehicle-management", "maintenance-job-management")  # port + 50

    def __init__(self, shape: Workers, index: int, env: dict[str, str]) -> None:
        self.shape = shape
        self.base = PORT_BASE + 100 * index
        self.bare_port = self.base + 90
        self.env = {
            **env,
            **{f"{name.upper().replace('-', '_')}_URL": self.url(name) for name in PORTS},
        }
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs = LOGS / f"{index}-{shape}".replace(" ", "-")

    def port(self, service: str) -> int:
        return self.base + PORTS[service] - 8000

    def url(self, service: str, *, far: bool = False) -> str:
        return f"http://127.0.0.1:{self.port(service) + (10 if far else 0)}"

    def start(self, delays: DelayLine) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for name in self.PROXIED:
            delays.proxy(self.port(name) + 50, self.port(name))
        far_urls = {
            f"{name.upper().replace('-', '_')}_URL": f"http://127.0.0.1:{self.port(name) + 50}"
            for name in self.PROXIED
        }
        servers = [(name, self.port(name), self.env) for name in PORTS]
        servers += [(name, self.port(name) + 10, {**self.env, **far_urls}) for name in self.FAR]
        try:
            for name, port, base_env in servers:
                label = name if port == self.port(name) else f"{name}-far"
                metrics = self.logs / "prometheus" / label
                metrics.mkdir(parents=True, exist_ok=True)
                env = {**base_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics)}
                app = f"{name.replace('-', '_')}:create_app()"
                log = self.logs / f"{label}.log"
                self.processes.append(gunicorn(app, port, env, self.shape, log=log))
            # The bare app has no metrics; the directory keeps gunicorn.conf.py's default out of /tmp.
            metrics = self.logs / "prometheus" / "bare"
            metrics.mkdir(parents=True, exist_ok=True)
            env = {
                **self.env,
                "BARE_POOL_MAX": str(self.shape.threads),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics),
            }
            log = self.logs / "bare.log"
            self.processes.append(
                gunicorn("bare_app:create_app()", self.bare_port, env, self.shape, log=log, local=True)
            )
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        stop(*self.processes)
        self.processes = []


class Bench:
    def __init__(self, args: argparse.Namespace, url: str, data: dict[str, Any], workdir: Path) -> None:
        self.args = args
        self.url = url
        self.workdir = workdir
        config = kit_settings(service="bench", schema="bench")
        self.tokens = {
            role: mint_token(config, roles=[role], subject=f"bench-{role}", ttl_seconds=24 * 3600)
            for role in ("advisor", "technician", "admin")
        }
        self.bookings = self.job_lists = 0
        self.booking_base = datetime.combine(
            datetime.now(UTC).date() + timedelta(days=3), datetime.min.time(), tzinfo=UTC
        )
        self.warm: set[tuple[str, str]] = set()
        self.vehicles, self.bays, self.races = data["vehicles"], data["bays"], 0
        (workdir / "customers.txt").write_text("\n".join(data["customers"]))
        (workdir / "vehicles.txt").write_text("\n".join(data["vehicles"]))
        (workdir / "bays.txt").write_text("\n".join(data["bays"]))
        (workdir / "terms.txt").write_text("\n".join(quote(term) for term in data["terms"]))
        week = data["week"]
        (workdir / "week.txt").write_text(f"from={week}&to={week + timedelta(days=6)}&duration=60")
        (workdir / "bare-week.txt").write_text(f"from={week}&to={week + timedelta(days=6)}")

    def drive(self, name: str, base: str, script: str, env: Callable[[int], dict[str, str]]) -> Figures:
        """The measured run, after a warm-up the first time this path meets this server;
        ``env`` gives each wrk run its own data (plates, slots, jobs) for its seconds."""
        runs = [self.args.seconds]
        if self.args.warmup and (name, base) not in self.warm:
            runs.insert(0, self.args.warmup)
            self.warm.add((name, base))
        for seconds in runs:
            figures = wrk(
                base,
                seconds=seconds,
                connections=self.args.connections,
                script=BENCH / script,
                env={"TOKEN": self.tokens["advisor"], **env(seconds)},
            )
        return figures

    def measure(self, stack: Stack, name: str, round_: int) -> dict[str, Figures]:
        """One path on one stack: a read beside the bare app (which goes first alternates
        by round), or a write."""

        def get(base: str, prefix: str, values: str) -> Callable[[], Figures]:
            env = {"VALUES_FILE": str(self.workdir / values), "PATH_PREFIX": prefix}
            return lambda: self.drive(name, base, "random_path.lua", lambda _: env)

        bare = f"http://127.0.0.1:{stack.bare_port}"
        reads = {
            READS[0]: (
                get(stack.url("customer-management"), "/api/v1/customers/", "customers.txt"),
                get(bare, "/customers/", "customers.txt"),
            ),
            READS[1]: (
                get(stack.url("customer-management"), "/api/v1/customers?q=", "terms.txt"),
                get(bare, "/customers?q=", "terms.txt"),
            ),
            READS[2]: (
                get(stack.url("workshop-scheduling"), "/api/v1/availability?", "week.txt"),
                get(bare, "/availability?", "bare-week.txt"),
            ),
        }
        if name in reads:
            service, yardstick = reads[name]
            if round_ % 2:
                return {name: service(), f"{name} (bare)": yardstick()}
            first = yardstick()
            return {name: service(), f"{name} (bare)": first}
        scheduling = stack.url("workshop-scheduling")
        if name in RACES:
            return {name: self.race(name, scheduling)}
        writes = {
            WRITES[0]: (stack.url("vehicle-management"), "register_vehicle.lua", self.vehicle_env),
            WRITES[1]: (stack.url("vehicle-management", far=True), "register_vehicle.lua", self.vehicle_env),
            WRITES[2]: (scheduling, "book.lua", self.booking_env),
            WRITES[3]: (stack.url("workshop-scheduling", far=True), "book.lua", self.booking_env),
            WRITES[4]: (scheduling, "book.lua", lambda s: {**self.booking_env(s), "AUTO_BAY": "1"}),
            WRITES[5]: (stack.url("maintenance-job-management"), "complete_job.lua", self.jobs_env),
        }
        return {name: self.drive(name, *writes[name])}

    def race(self, name: str, base: str) -> Figures:
        """16 clients booking one slot at once, ``--race-rounds`` times; first a few rounds
        of warm-up the first time this server meets the path. Each run books a day of
        its own, 450 days on (beyond the other booking paths' days)."""
        runs = [self.args.race_rounds]
        if self.args.warmup and (name, base) not in self.warm:
            runs.insert(0, 3)
            self.warm.add((name, base))
        for rounds in runs:
            self.races += 1
            figures = booking_race.measure(
                base,
                self.tokens["advisor"],
                self.url,
                vehicles=self.vehicles,
                bay=self.bays[self.races % len(self.bays)] if name.endswith("one bay") else None,
                first_start=self.booking_base + timedelta(days=450 + self.races),
                rounds=rounds,
            )
        return figures

    def vehicle_env(self, _: int) -> dict[str, str]:
        tag = "".join(random.choices(string.ascii_uppercase, k=4))  # every run its own plates
        return {"OWNERS_FILE": str(self.workdir / "customers.txt"), "RUN_TAG": tag}

    def booking_env(self, _: int) -> dict[str, str]:
        # Every run books from a base 4 days on: a wrk thread books at most 4 days of slots
        # (1,920 bookings) from its own offset, 208 days from the other thread's (book.lua).
        base = self.booking_base + timedelta(days=4 * self.bookings)
        self.bookings += 1
        return {
            "VEHICLES_FILE": str(self.workdir / "vehicles.txt"),
            "BAYS_FILE": str(self.workdir / "bays.txt"),
            "BASE_EPOCH": str(int(base.timestamp())),
        }

    def jobs_env(self, seconds: int) -> dict[str, str]:
        jobs = self.workdir / f"jobs-{self.job_lists}.txt"
        self.job_lists += 1
        jobs.write_text("\n".join(seed_jobs(self.url, seconds * 500 + 500)))  # more than will be completed
        return {"JOBS_FILE": str(jobs), "WRK_THREADS": "2", "TOKEN": self.tokens["technician"]}

    def run(self, stacks: list[Stack]) -> dict[Workers, list[dict[str, Figures]]]:
        """Every path on every stack back to back, so a change in the machine's load
        (other work on it) falls on all set-ups alike; the order turns each round."""
        results: dict[Workers, list[dict[str, Figures]]] = defaultdict(list)
        scheduling = stacks[0].url("workshop-scheduling")  # the settings are the database's
        for round_ in range(self.args.rounds):
            say(f"\n-- round {round_ + 1} of {self.args.rounds}")
            order = stacks[round_ % len(stacks) :] + stacks[: round_ % len(stacks)]
            figures: dict[Workers, dict[str, Figures]] = defaultdict(dict)
            for name in self.args.paths:
                workshop_hours(scheduling, self.tokens["admin"], around_the_clock=name in BOOKINGS)
                for stack in order:
                    load = os.getloadavg()[0]
                    for label, figure in self.measure(stack, name, round_).items():
                        figures[stack.shape][label] = figure
                        say(f"  {label:34} {stack.shape!s:13} {figure}   (load {load:.1f})")
            for shape, measured in figures.items():
                results[shape].append(measured)
        return results


# ------------------------------------------------------------------------------ output


def report(results: dict[Workers, list[dict[str, Figures]]], args: argparse.Namespace) -> None:
    say(
        f"\n== Medians over {args.rounds} rounds ({args.seconds} s each, the first after "
        f"{args.warmup} s warm-up; "
        f"wrk 2 threads x {args.connections} connections; {os.cpu_count()} CPUs shared by wrk, "
        "PostgreSQL and every service)"
    )
    say(
        "\n| path | gunicorn | req/s | p50 ms | p99 ms | bare req/s | bare p50 ms "
        "| service/bare req/s | rounds req/s |"
    )
    say("|---|---|---:|---:|---:|---:|---:|---:|---|")
    for name in args.paths:
        for shape, rounds in results.items():
            rps = statistics.median(r[name].rps for r in rounds)
            p50 = statistics.median(r[name].p50 for r in rounds)
            p99 = statistics.median(r[name].p99 for r in rounds)
            each = " / ".join(f"{r[name].rps:.0f}" for r in rounds)
            failed = sum(r[name].failed for r in rounds)
            bare = bare_p50 = ratio = ""
            if name in READS:
                bare = f"{statistics.median(r[f'{name} (bare)'].rps for r in rounds):.0f}"
                bare_p50 = f"{statistics.median(r[f'{name} (bare)'].p50 for r in rounds):.1f}"
                ratio = f"{statistics.median(r[name].rps / r[f'{name} (bare)'].rps for r in rounds):.2f}"
            note = f" ({failed} failed)" if failed else ""
            if name in RACES:
                orphans = sum(getattr(r[name], "orphans", 0) for r in rounds)
                note += f" ({orphans} orphan jobs)"
            say(
                f"| {name}{note} | {shape} | {rps:.0f} | {p50:.1f} | {p99:.1f} | {bare} | {bare_p50} "
                f"| {ratio} | {each} |"
            )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--configs",
        default=DEFAULT_CONFIGS,
        help="gunicorn set-ups: class:WORKERSxTHREADS,... (gevent:WORKERSxCONNECTIONS)",
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument(
        "--path", action="append", default=[], help="only this path (a name or part of one); repeatable"
    )
    parser.add_argument("--race-rounds", type=int, default=30, help="rounds of 16 bookings per race run")
    args = parser.parse_args()
    wanted = args.path
    args.paths = [name for name in (*READS, *WRITES) if not wanted or any(part in name for part in wanted)]
    shapes = [Workers.parse(text) for text in args.configs.split(",")]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop the servers on the way out

    url, server = database_url("garage_bench_system", fresh=True, data="bench-garage-pgdata", connections=800)
    try:
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
        for name in PORTS:
            migrate = [BIN / "flask", "--app", name.replace("-", "_"), "migrate"]
            subprocess.run(migrate, env=env, check=True, capture_output=True)
        os.environ["DATABASE_URL"] = url
        data = seed(url, args.customers)
        env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "INFO", "RATE_LIMIT_ENABLED": "false"}
        stacks = [Stack(shape, index, env) for index, shape in enumerate(shapes)]
        delays = DelayLine(DOWNSTREAM_DELAY)
        with tempfile.TemporaryDirectory() as workdir:
            bench = Bench(args, url, data, Path(workdir))
            try:
                for stack in stacks:
                    stack.start(delays)
                say(f"started {', '.join(str(s.shape) for s in stacks)}: every service and the bare app")
                results = bench.run(stacks)
            finally:
                for stack in stacks:
                    stack.stop()
                delays.close()
        report(results, args)
    finally:
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
