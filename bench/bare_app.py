"""The yardstick for the read benchmarks: bare Flask + psycopg2 running the same SQL as
the services, with none of their plumbing (no token check, no marshmallow, no ORM,
no request logging, metrics or rate limits, no pool pre-ping).

    gunicorn --pythonpath bench 'bare_app:create_app()'   # DATABASE_URL as the services'

- GET /customers/<id>: customer-management's GET /api/v1/customers/{id} query;
- GET /customers?q=: its search (trigram-indexed ILIKE, first page of 50);
- GET /availability?from=&to=: workshop-scheduling's availability queries (settings,
  active bays, the active appointments of the range), every row fetched; it answers
  how many there were - the Python that turns them into free slots is part of what
  the service's figure measures.
"""

from __future__ import annotations

import json
import os
import threading
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.pool
from flask import Flask, Response, request

from service_kit.config import kit_settings


def create_app() -> Flask:
    app = Flask(__name__)
    url = kit_settings(service="bare", schema="public")["DATABASE_URL"]
    lock = threading.Lock()
    pools: dict[str, psycopg2.pool.ThreadedConnectionPool] = {}

    def pool() -> psycopg2.pool.ThreadedConnectionPool:
        with lock:  # made in the worker, after gunicorn forked
            if "pool" not in pools:
                most = int(os.environ.get("BARE_POOL_MAX", "16"))  # gunicorn's threads per worker
                pools["pool"] = psycopg2.pool.ThreadedConnectionPool(1, most, url)
            return pools["pool"]

    def query(*statements: tuple[str, tuple[Any, ...]]) -> list[list[dict[str, Any]]]:
        connection = pool().getconn()
        try:
            with connection.cursor() as cursor:
                results = []
                for sql, parameters in statements:
                    cursor.execute(sql, parameters)
                    names = [column.name for column in cursor.description]
                    results.append([dict(zip(names, row, strict=True)) for row in cursor.fetchall()])
            connection.rollback()
            return results
        finally:
            pool().putconn(connection)

    def answer(body: Any, status: int = 200) -> Response:
        return Response(json.dumps(body, default=str), status=status, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return answer({"status": "ok"})

    @app.get("/customers/<customer_id>")
    def customer(customer_id: str) -> Response:
        (rows,) = query(("SELECT * FROM customers.customers WHERE id = %s", (customer_id,)))
        return answer(rows[0]) if rows else answer({"status": 404}, 404)

    @app.get("/customers")
    def search() -> Response:
        fragment = (
            request.args["q"].strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        )
        (rows,) = query(
            (
                "SELECT * FROM customers.customers WHERE status = 'active' "
                "AND search_text ILIKE %s ESCAPE '\\' ORDER BY id LIMIT 51",
                (f"%{fragment}%",),
            )
        )
        return answer({"items": rows[:50], "next_cursor": rows[50]["id"] if len(rows) > 50 else None})

    @app.get("/availability")
    def availability() -> Response:
        first, last = date.fromisoformat(request.args["from"]), date.fromisoformat(request.args["to"])
        (settings,) = query(("SELECT * FROM scheduling.workshop_settings", ()))[0]
        zone = ZoneInfo(settings["time_zone"])
        low = datetime.combine(first, time.min, tzinfo=zone)
        high = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
        bays, busy = query(
            ("SELECT * FROM scheduling.bays WHERE active ORDER BY name, id", ()),
            (
                "SELECT bay_id::text, technician_id::text, start_at, end_at FROM scheduling.appointments "
                "WHERE status IN ('booked', 'checked_in') "
                "AND start_at > %s AND start_at < %s AND end_at > %s",
                (low - timedelta(days=1), high, low),
            ),
        )
        # The rows are read, as the service reads them; what it makes of them is its own work.
        return answer({"bays": len(bays), "busy": len(busy)})

    return app
