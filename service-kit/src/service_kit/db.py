"""One PostgreSQL schema per service.

``make_database(Model, tables=...)`` gives a service its Flask-SQLAlchemy object
for its declarative base, whose models live in the service's schema
(``schema_metadata``), with the kit's tables it uses (idempotency keys,
the outbox) beside them, so a service's migrations create everything it needs in its
own schema and nowhere else.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, current_app, has_request_context, request
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import Engine, MetaData, Table, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names make Alembic migrations reproducible.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLSTATEs that mean "someone else got there first": answered 409, never 500.
CONFLICT_SQLSTATES = {
    "23505": "unique_violation",
    "23P01": "exclusion_violation",
    "40001": "serialization_failure",
    "40P01": "deadlock_detected",
}


def schema_metadata(schema: str) -> MetaData:
    """The metadata of a service's declarative base: every table in ``schema``, with
    the kit's constraint names."""
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


READ_METHODS = frozenset({"GET", "HEAD"})


def make_database(
    model_class: type[DeclarativeBase], *, tables: Sequence[Callable[[MetaData], Table]] = ()
) -> SQLAlchemy:
    """The service's database object for its declarative base (a class of its own, so
    that type checkers know its models)::

        class Model(DeclarativeBase):
            metadata = schema_metadata(SCHEMA)

        db = make_database(Model, tables=(define_idempotency_table,))

    ``tables`` are the kit's tables the service uses, by their define functions
    (every service has ``define_idempotency_table``; one with an outbox adds
    ``define_outbox_table``)."""
    db = SQLAlchemy(model_class=model_class, session_options={"expire_on_commit": False})
    for define in tables:
        define(db.metadata)
    return db


def one_of(column: str, values: Sequence[str]) -> str:
    """A CHECK constraint's SQL: ``column`` holds one of ``values`` (the domain's
    constants, never input)."""
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


def normalise_url(url: str) -> str:
    """Accept the ``postgres://`` and ``postgresql://`` spellings operators paste."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    parsed = make_url(url)
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed.render_as_string(hide_password=False)


def engine_options(config: dict[str, Any]) -> dict[str, Any]:
    schema = config["DB_SCHEMA"]
    return {
        # Pinged only after being idle a while (tune_pool): a busy pool
        # would pay a round trip per request for connections it used a moment ago.
        "pool_pre_ping": False,
        "pool_size": config["DB_POOL_SIZE"],
        "max_overflow": config["DB_MAX_OVERFLOW"],
        "pool_timeout": 5,
        "connect_args": {
            "connect_timeout": 5,
            "application_name": config["SERVICE_NAME"],
            # The service sees its own schema first; public holds extensions (pg_trgm).
            # A prepared statement (service_kit.prepared: only those whose best plan is
            # the same for any values) runs its generic plan from the first execution,
            # instead of being planned for its values five times first. No parallel
            # workers: starting them cost a one-row search 3-8 ms, and a request's
            # backend would take the cores the other requests need (docs/decisions.md).
            "options": f"-c search_path={schema},public "
            f"-c statement_timeout={config['DB_STATEMENT_TIMEOUT_MS']} "
            "-c plan_cache_mode=force_generic_plan -c max_parallel_workers_per_gather=0",
        },
    }


PING_AFTER_IDLE_SECONDS = 5.0


def tune_pool(
    engine: Engine,
    ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
    *,
    reads_without_transaction: bool = True,
) -> None:
    """Two round trips a request need not make, decided when a request checks a
    connection out of the pool:

    - A read (GET, HEAD) runs its statements without a transaction: psycopg2's
      autocommit (a client-side switch) sends no BEGIN before them and no ROLLBACK
      after. PostgreSQL's default isolation (read committed) gives each statement its
      own snapshot either way, so a read sees nothing different. Every other method,
      and anything outside a request (commands, the relay, tests), keeps its
      transaction. A web app whose pages write on a GET (its session, a renewed token
      under a row lock) turns this off (``reads_without_transaction=False``).
    - A connection idle in the pool for ``ping_after_idle`` seconds is pinged first; a
      dead one (database restarted, failed over, a firewall's idle timeout) is replaced
      before the request uses it. One used a moment ago is not: if it died since, the
      error invalidates the pool and the request gets a 503, as any database failure."""

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since >= ping_after_idle:
            try:
                alive = engine.dialect.do_ping(dbapi_connection)
            except Exception as exc:
                raise DisconnectionError("a pooled connection died while idle") from exc
            if not alive:
                raise DisconnectionError("a pooled connection died while idle")
        if reads_without_transaction and has_request_context() and request.method in READ_METHODS:
            dbapi_connection.autocommit = True
            record.info["autocommit"] = True

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()
        if record.info.pop("autocommit", False) and dbapi_connection is not None:
            dbapi_connection.autocommit = False


def init_database(app: Flask, db: SQLAlchemy, *, reads_without_transaction: bool = True) -> None:
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_url(app.config["DATABASE_URL"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config)
    db.init_app(app)
    with app.app_context():
        tune_pool(db.engine, reads_without_transaction=reads_without_transaction)


def current_db() -> SQLAlchemy:
    return current_app.extensions["sqlalchemy"]


def database_is_ready() -> bool:
    try:
        with current_db().engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        current_app.logger.warning("readiness check: database unreachable", exc_info=True)
        return False


def conflict_sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a DB error that means a conflict, else None."""
    code = getattr(getattr(exc, "orig", None), "pgcode", None)
    return code if code in CONFLICT_SQLSTATES else None
