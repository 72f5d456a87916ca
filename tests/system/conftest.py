"""Fixtures of the system tests: the six services as real gunicorn processes on free
loopback ports against one fresh test database of their own, with their relays, the
job checker and the notification dispatcher, a real SMTP server and a real HTTP SMS
provider on loopback (garage_harness.py). Every process is killed with its process
group at the end of the session, whatever the tests did; when a test fails, what
each process logged during it is added to the report.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from aiosmtpd.controller import Controller
from psycopg2 import sql
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))

from garage_harness import RUNNING, FrontDesk, Garage, MailSink, SmsProvider, free_port


@pytest.fixture(scope="session", autouse=True)
def _sigterm_stops_like_ctrl_c() -> Iterator[None]:
    """A SIGTERM (a CI job's time limit) ends the run as Ctrl-C would: the fixtures'
    finalisers still stop every process group this run started."""
    if signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.fixture(scope="session")
def mail() -> Iterator[MailSink]:
    """A real SMTP server on loopback; the sink holds every message it accepted."""
    sink = MailSink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port(), loop=asyncio.new_event_loop())
    controller.start()
    sink.port = controller.port
    yield sink
    controller.stop()


@pytest.fixture(scope="session")
def sms() -> Iterator[SmsProvider]:
    provider = SmsProvider()
    yield provider
    provider.stop()


@pytest.fixture(scope="session")
def provider_settings(mail: MailSink, sms: SmsProvider) -> dict[str, str]:
    """Where the dispatcher finds the SMTP server and the SMS provider."""
    return {"SMTP_PORT": str(mail.port), "SMS_PROVIDER_URL": sms.url}


@pytest.fixture(scope="session")
def system_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database of the system tests' own, on the run's PostgreSQL server (the
    same one ``fresh_database_url`` is made on). Not that shared one: the packages'
    own tests empty their schemas in it and expect what their migrations left there
    (templates, no appointments), while the running garage holds connections to its
    database until the session ends and leaves data behind (fuzzed templates too)."""
    name = f"garage_system_{uuid.uuid4().hex[:12]}"
    with _admin(postgres_server_url) as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(postgres_server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with _admin(postgres_server_url) as cursor:
            cursor.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def _admin(url: str) -> Iterator[Any]:
    parsed = make_url(url)
    connection = psycopg2.connect(
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
    )
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            yield cursor
    finally:
        connection.close()


@pytest.fixture(scope="session")
def garage(system_database_url: str, provider_settings: dict[str, str]) -> Iterator[Garage]:
    """All six services with their relays, the job checker and the dispatcher."""
    with tempfile.TemporaryDirectory(prefix="garage-system-") as workdir:
        running = Garage(database_url=system_database_url, workdir=Path(workdir), settings=provider_settings)
        try:
            started = time.perf_counter()
            running.start()
            sys.stderr.write(f"\n[system] the garage is up in {time.perf_counter() - started:.1f} s\n")
            yield running
        finally:
            running.close()


@pytest.fixture(scope="session")
def front_desk(garage: Garage) -> FrontDesk:
    return FrontDesk(garage)


# --------------------------------------------------------------------------- ordering

ORDER = ("test_garage_day", "test_faults", "test_database_restart", "test_contract_fuzz")


def _rank(item: pytest.Item) -> int:
    path = Path(str(item.fspath))
    if path.parent != Path(__file__).parent or path.stem not in ORDER:
        return -1
    return ORDER.index(path.stem)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The garage's day first (it expects the year's first invoice number on a fresh
    database), the fuzzing, which leaves odd data behind, last."""
    positions = [index for index, item in enumerate(items) if _rank(item) >= 0]
    ordered = sorted((items[index] for index in positions), key=_rank)
    for index, item in zip(positions, ordered, strict=True):
        items[index] = item


# -------------------------------------------------------------------------- reporting

MARKS = pytest.StashKey[dict[int, dict[str, int]]]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if call.when == "setup":
        item.stash[MARKS] = {id(garage): garage.log_marks() for garage in RUNNING}
    if report.failed and RUNNING:
        marks = item.stash.get(MARKS, {})
        for garage in RUNNING:
            report.sections.append(
                (f"{garage.label}: logged during the test", garage.logs_since(marks.get(id(garage))))
            )
    return report
