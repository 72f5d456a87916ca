"""The yardstick for the read benchmarks: bare Flask + psycopg2 running the same SQL as
the services, with none of their plumbing (no token check, no marshmallow, no ORM,
no request logging, metrics or rate limits, no pool pre-ping).

    gunicorn --pythonpath bench 'bare_app:create_app()'   # DATABASE_URL as the services'

- GET /customers/<id>: the customer's row (``SELECT *``), encoded by json.dumps: the
  issue 15 yardstick as it was filed (the service renders it in PostgreSQL now, a way a
  bare app could take too; docs/performance.md says what that does to the ratio);
- GET /customers?q=: its search's first page of 50, the statements customer-management's
  search runs (``customer_management.service.search``, compiled once per shape to SQL
  text and run through psycopg2; each customer rendered as JSON by PostgreSQL there, put
  into the answer as is): ranked in one statement when q is rare, else name words, email
  start, then the rest in windows of registration order or through the trigram index -
  the same decisions on the same figures;
- GET /availability?from=&to=: workshop-scheduling's availability queries (settings,
  active bays, the active appointments of the range), every row fetched; it answers
  how many there were - the Python that turns them into free slots is part of what
  the service's figure measures.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extras
import psycopg2.pool
from customer_management import domain
from customer_management.models import Customer
from customer_management.rendering import CUSTOMER_JSON
from customer_management.service import search as service_search
from flask import Flask, Response, request
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from service_kit.config import kit_settings
from service_kit.db import engine_options
from service_kit.prepared import Prepared

Query = Callable[..., list[list[dict[str, Any]]]]
_DIALECT = postgresql.psycopg2.dialect()  # type: ignore[attr-defined]  # the module's dialect class


@functools.cache
def _sql(statement: Select[Any]) -> tuple[str, dict[str, Any]]:
    """A statement of the service's search as SQL text, and the values it binds itself."""
    compiled = statement.compile(dialect=_DIALECT)
    return str(compiled), dict(compiled.params)


def _run(query: Query, statement: Select[Any] | Prepared, params: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(statement, Prepared):  # prepared on each connection, as the service does
        prepare, execute, _ = statement.sql(_DIALECT)
        (rows,) = query((execute, statement.parameters(_DIALECT, params), prepare))
        return rows
    sql, own = _sql(statement)
    (rows,) = query((sql, {**own, **params}))
    return rows


def _search(query: Query, q: str, *, limit: int) -> list[dict[str, Any]]:
    """The first page of customer-management's search for active customers, and one
    more row: its statements and its decisions (``search.search_customers``)."""
    terms = domain.search_terms(q, region="NL")
    filters = {"status": "active"}
    shape = service_search._shape(filters, terms)
    params = service_search._parameters(filters, terms)
    high = params["prefix_high"]
    need = limit + 1
    if terms.rare:
        return _run(query, service_search._all_ranked(shape, False), {**params, "need": need})
    found: list[dict[str, Any]] = []
    for rank in (domain.NAME_WORD, domain.EMAIL_START):
        if len(found) < need:
            statement = service_search._ranked_statement(shape, rank, False, ranged=high is not None)
            found += _run(query, statement, {**params, "need": need - len(found)})
    if len(found) < need:
        session = cast(Session, _Cursor(query))
        ids = service_search._elsewhere(session, shape, params, None, need - len(found))
        if ids:
            by_ids, _ = _sql(select(Customer.id, CUSTOMER_JSON))
            (rows,) = query((by_ids + " WHERE id = ANY(%(ids)s::uuid[])", {"ids": [str(i) for i in ids]}))
            by_id = {row["id"]: row for row in rows}
            found += [by_id[i] for i in ids if i in by_id]
    return found


class _Cursor:
    """What ``search._elsewhere`` asks of a session (``execute(...).one()``,
    ``scalars(...)``), over psycopg2: the service's own loop, on the bare driver."""

    def __init__(self, query: Query) -> None:
        self.query = query

    def execute(self, statement: Select[Any], params: dict[str, Any]) -> _Cursor:
        self.rows = _run(self.query, statement, params)
        return self

    def one(self) -> tuple[Any, ...]:
        (row,) = self.rows
        return tuple(row.values())

    def scalars(self, statement: Select[Any], params: dict[str, Any]) -> list[Any]:
        return [next(iter(row.values())) for row in _run(self.query, statement, params)]


def create_app() -> Flask:
    app = Flask(__name__)
    psycopg2.extras.register_uuid()  # uuid and uuid[] in and out, as the service's driver reads them
    settings = kit_settings(service="bare", schema="public")
    # The services' connection settings (search_path, timeouts, generic plans, no parallel workers).
    connect_args = engine_options(settings)["connect_args"]
    lock = threading.Lock()
    pools: dict[str, psycopg2.pool.ThreadedConnectionPool] = {}
    prepared: dict[Any, set[str]] = {}  # by connection: the PREPAREs it was sent

    def pool() -> psycopg2.pool.ThreadedConnectionPool:
        with lock:  # made in the worker, after gunicorn forked
            if "pool" not in pools:
                most = int(os.environ.get("BARE_POOL_MAX", "16"))  # gunicorn's threads per worker
                pools["pool"] = psycopg2.pool.ThreadedConnectionPool(
                    1, most, settings["DATABASE_URL"], **connect_args
                )
            return pools["pool"]

    def query(*statements: tuple[Any, ...]) -> list[list[dict[str, Any]]]:
        """Each (sql, parameters[, its PREPARE]): the rows, as dicts."""
        connection = pool().getconn()
        try:
            with connection.cursor() as cursor:
                results = []
                for sql, parameters, *prepare in statements:
                    sent = prepared.setdefault(connection, set())
                    if prepare and prepare[0] not in sent:
                        cursor.execute(prepare[0])
                        sent.add(prepare[0])
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
        rows = _search(query, request.args["q"], limit=50)
        # Each customer as PostgreSQL rendered it (the service's CUSTOMER_JSON), put in as is.
        items = ",".join(row["rendered"] for row in rows[:50])
        following = json.dumps(str(rows[50]["id"]) if len(rows) > 50 else None)
        body = '{"items":[' + items + '],"next_cursor":' + following + "}"
        return Response(body, mimetype="application/json")

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
