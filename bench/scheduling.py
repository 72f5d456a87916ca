"""workshop-scheduling under load: the availability of a busy week, and booking throughput.

    python bench/scheduling.py [--seconds 10] [--connections 1,16] [--workers 2] [--threads 8]

1. Availability: 10 active bays and 2,000 appointments in one week (a week the
   workshop is open 07:00-19:00 every day), then GET /api/v1/availability for that
   week and a 60-minute duration:
   - in-process: ``planning.find_availability`` (its two queries and the Python over
     the slot grid), median and p95 of 50 calls;
   - over HTTP under gunicorn (gthread), as `make run` serves it, with wrk.
2. Booking throughput: POST /api/v1/appointments under wrk, every request a new
   vehicle at a free slot (the bay chosen by the service), each booking checking the
   vehicle with vehicle-management and creating the job in maintenance-job-management
   inline and writing its confirmation to the outbox. Both downstreams are a fast
   local fake (a small WSGI app under gunicorn answering the two calls with canned
   JSON), so the figures are this service's own cost plus two loopback HTTP calls.

Prints measured figures only. PostgreSQL: DATABASE_URL, else an embedded server
under .run/bench-pgdata. Needs wrk (Debian's wrk package).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from harness import Workers, database_url, gunicorn, say, stop, wrk

SCHEDULING_PORT = 18103
FAKES_PORT = 18104
BAYS = 10
APPOINTMENTS = 2_000

BOOKING_LUA = r"""
-- Each request books a new vehicle at the next free 30-minute slot (UTC workshop,
-- open around the clock, 10 bays): no two requests ask for the same bay-slot.
local token = os.getenv("TOKEN")
local base = tonumber(os.getenv("BASE_EPOCH"))
local bays = tonumber(os.getenv("BAYS"))
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
local counter = 0
request = function()
  local n = tid * 20000 + counter
  counter = counter + 1
  local slot = math.floor(n / bays)
  local start = base + slot * 1800
  local stamp = "!%Y-%m-%dT%H:%M:%S+00:00"
  local body = string.format(
    '{"vehicle_id": "00000000-0000-4000-8000-%012d", "start": "%s", "end": "%s", '
    .. '"work_description": "bench"}',
    n, os.date(stamp, start), os.date(stamp, start + 1800))
  return wrk.format("POST", "/api/v1/appointments",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


# ------------------------------------------------------------------- the fast fake downstreams


def fake_downstreams() -> Any:
    """gunicorn factory: GET /api/v1/vehicles/{id} and POST /api/v1/maintenance-jobs."""
    owner = str(uuid.uuid4())

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        path = environ["PATH_INFO"]
        if path == "/healthz":
            status, body = "200 OK", {"status": "ok"}
        elif environ["REQUEST_METHOD"] == "GET" and path.startswith("/api/v1/vehicles/"):
            vehicle_id = path.rsplit("/", 1)[-1]
            status, body = (
                "200 OK",
                {
                    "id": vehicle_id,
                    "owner_id": owner,
                    "plate": "BE-NCH-1",
                    "make": "Volvo",
                    "model": "V60",
                    "status": "active",
                },
            )
        elif environ["REQUEST_METHOD"] == "POST" and path == "/api/v1/maintenance-jobs":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            environ["wsgi.input"].read(length)
            status, body = "201 Created", {"id": str(uuid.uuid4()), "status": "scheduled", "version": 1}
        else:
            status, body = "404 Not Found", {"type": "about:blank", "title": "Not Found", "status": 404}
        data = json.dumps(body).encode()
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    return app


# ------------------------------------------------------------------------------- plumbing


# ---------------------------------------------------------------------------------- data


def prepare(app: Any, week_start: date) -> None:
    """Empty schema; settings; 10 bays; 2,000 appointments in the week."""
    from sqlalchemy import text
    from workshop_scheduling.models import SCHEMA, Appointment, Bay, db
    from workshop_scheduling.service import workshop

    from service_kit.ids import uuid7
    from service_kit.testing import truncate_schema

    with app.app_context():
        truncate_schema(db.engine, SCHEMA)
        session = db.session
        hours = {
            d: [{"opens": "07:00", "closes": "19:00"}]
            for d in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        }
        workshop.update_settings(
            session=session,
            data={
                "time_zone": "Europe/Amsterdam",
                "slot_minutes": 15,
                "booking_horizon_days": 400,
                "opening_hours": hours,
                "closed_dates": [],
            },
            expected_versions=None,
        )
        bays = [Bay(name=f"Lift {n:02d}", kind="lift") for n in range(BAYS)]
        session.add_all(bays)
        session.flush()
        from zoneinfo import ZoneInfo

        tz = ZoneInfo("Europe/Amsterdam")
        cursors = {
            (b.id, d): datetime.combine(
                week_start + timedelta(days=d), datetime.min.time(), tzinfo=tz
            ).replace(hour=7)
            for b in bays
            for d in range(7)
        }
        rows = []
        keys = list(cursors)
        while len(rows) < APPOINTMENTS:
            n = len(rows)
            bay_id, day = keys[n % len(keys)]
            turn = n // len(keys)  # the how-manieth appointment of this bay that day
            start = cursors[(bay_id, day)] + timedelta(minutes=15 if turn % 4 == 2 else 0)
            end = start + timedelta(minutes=30 if turn % 4 == 0 else 15)
            if end > cursors[(bay_id, day)].replace(hour=19, minute=0):
                raise RuntimeError("the week is too full for 2,000 appointments")
            cursors[(bay_id, day)] = end
            rows.append(
                {
                    "id": uuid7(),
                    "vehicle_id": uuid.uuid4(),
                    "customer_id": uuid.uuid4(),
                    "vehicle_plate": "AB-123-C",
                    "vehicle_make": "Volvo",
                    "vehicle_model": "V60",
                    "start_at": start,
                    "end_at": end,
                    "bay_id": bay_id,
                    "technician_id": None,
                    "work_description": "service",
                    "service_codes": [],
                    "status": "booked",
                    "job_id": uuid.uuid4(),
                    "booked_by": "bench",
                    "booked_by_name": "bench",
                    "created_at": datetime.now(UTC),
                    "updated_at": datetime.now(UTC),
                    "version": 1,
                }
            )
        session.execute(Appointment.__table__.insert(), rows)
        session.commit()
        session.execute(text("ANALYZE scheduling.appointments"))
        session.commit()


def availability_in_process(app: Any, week_start: date) -> tuple[float, float, int]:
    from workshop_scheduling.models import db
    from workshop_scheduling.service import planning

    timings = []
    with app.app_context():
        for _ in range(50):
            started = time.perf_counter()
            answer = planning.find_availability(
                session=db.session,
                first_day=week_start,
                last_day=week_start + timedelta(days=6),
                duration_minutes=60,
            )
            timings.append((time.perf_counter() - started) * 1000)
            db.session.rollback()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1], len(answer["slots"])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", default="1,16")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    connections = [int(c) for c in args.connections.split(",")]

    url, server = database_url("garage_bench")
    from workshop_scheduling import create_app

    from service_kit.auth import mint_token
    from service_kit.migrations import upgrade

    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
        "VEHICLE_MANAGEMENT_URL": f"http://127.0.0.1:{FAKES_PORT}",
        "MAINTENANCE_JOB_MANAGEMENT_URL": f"http://127.0.0.1:{FAKES_PORT}",
        "DB_POOL_SIZE": str(args.threads),
    }
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "RATE_LIMIT_ENABLED")})
    app = create_app({"DATABASE_URL": url})
    upgrade(app)
    token = mint_token(app.config, roles=["advisor"], subject="bench")
    processes = []
    try:
        today = datetime.now(UTC).date()
        week_start = today + timedelta(days=7 - today.weekday())  # next Monday
        say(f"preparing: {BAYS} bays, {APPOINTMENTS} appointments in the week of {week_start}")
        prepare(app, week_start)
        median, p95, slots = availability_in_process(app, week_start)
        say("\n== availability of a week (10 bays, 2,000 appointments, 60 minutes)")
        say(f"in-process planning.find_availability: median {median:.1f} ms, p95 {p95:.1f} ms")
        say(f"({slots} free starts in the week)")

        processes.append(
            gunicorn("scheduling:fake_downstreams()", FAKES_PORT, env, Workers("gthread", 1, 16), local=True)
        )
        shape = Workers("gthread", args.workers, args.threads)
        processes.append(gunicorn("workshop_scheduling:create_app()", SCHEDULING_PORT, env, shape))
        query = f"from={week_start}&to={week_start + timedelta(days=6)}&duration=60"
        for c in connections:
            figures = wrk(
                f"http://127.0.0.1:{SCHEDULING_PORT}/api/v1/availability?{query}",
                seconds=args.seconds,
                connections=c,
                headers={"Authorization": f"Bearer {token}"},
            )
            say(f"HTTP GET /api/v1/availability, {c:>2} connections: {figures}")

        with tempfile.TemporaryDirectory() as workdir:
            script = Path(workdir) / "book.lua"
            script.write_text(BOOKING_LUA)
            base = datetime.combine(today + timedelta(days=2), datetime.min.time(), tzinfo=UTC)
            with app.app_context():
                from workshop_scheduling.models import db
                from workshop_scheduling.service import workshop

                workshop.update_settings(
                    session=db.session,
                    data={
                        "time_zone": "UTC",
                        "slot_minutes": 30,
                        "booking_horizon_days": 730,
                        "opening_hours": {
                            d: [{"opens": "00:00", "closes": "24:00"}]
                            for d in (
                                "monday",
                                "tuesday",
                                "wednesday",
                                "thursday",
                                "friday",
                                "saturday",
                                "sunday",
                            )
                        },
                    },
                    expected_versions=None,
                )
                db.session.commit()
            say(
                f"\n== booking throughput (gunicorn gthread {args.workers}x{args.threads}; "
                "vehicle and job services: fast local fake)"
            )
            for n, c in enumerate(connections):
                run_env = {
                    **env,
                    "TOKEN": token,
                    "BAYS": str(BAYS),
                    "BASE_EPOCH": str(int((base + timedelta(days=60 * n)).timestamp())),
                }
                target = f"http://127.0.0.1:{SCHEDULING_PORT}"
                figures = wrk(target, seconds=args.seconds, connections=c, env=run_env, script=script)
                say(f"POST /api/v1/appointments, {c:>2} connections: {figures}")
    finally:
        stop(*processes)
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
