"""service_kit.prepared against a real PostgreSQL: prepared once per connection, kept
through a rolled-back transaction, prepared again on a new connection, values passed
as SQLAlchemy would pass them."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import (
    Integer,
    Text,
    bindparam,
    cast,
    create_engine,
    event,
    func,
    literal,
    literal_column,
    select,
)
from sqlalchemy.types import Uuid

from service_kit.db import engine_options, normalise_url
from service_kit.prepared import Prepared

LOOKUP = Prepared(
    select(
        cast(bindparam("wanted", type_=Uuid), Text),
        literal("own value"),
        literal_column("'50% off'"),
        bindparam("wanted", type_=Uuid).is_not(None),
    )
)


@pytest.fixture
def engine(fresh_database_url):
    engine = create_engine(normalise_url(fresh_database_url), pool_size=2)
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    engine.sent = sent  # type: ignore[attr-defined]
    yield engine
    engine.dispose()


def prepares(engine) -> int:
    return sum(statement.startswith("PREPARE ") for statement in engine.sent)


def test_prepared_once_per_connection_and_run_with_its_values(engine):
    wanted = uuid.uuid4()
    with engine.connect() as connection:
        for _ in range(3):
            row = LOOKUP.execute(connection, wanted=wanted).one()
            assert tuple(row) == (str(wanted), "own value", "50% off", True)
        connection.rollback()  # the transaction it was prepared in: the statement stays
        assert LOOKUP.execute(connection, wanted=wanted).one()[0] == str(wanted)
    assert prepares(engine) == 1
    assert sum(statement.startswith("EXECUTE ") for statement in engine.sent) == 4


def test_two_of_the_same_statement_share_one_prepared_statement(engine):
    again = Prepared(LOOKUP.statement)
    with engine.connect() as connection:
        LOOKUP.execute(connection, wanted=uuid.uuid4())
        assert again.execute(connection, wanted=uuid.uuid4()).one()[1] == "own value"
    assert prepares(engine) == 1


def test_a_new_connection_prepares_it_again(engine):
    with engine.connect() as first, engine.connect() as second:
        LOOKUP.execute(first, wanted=uuid.uuid4())
        LOOKUP.execute(second, wanted=uuid.uuid4())
    assert prepares(engine) == 2


def test_a_connection_replaced_after_it_died_prepares_it_again(fresh_database_url):
    engine = create_engine(normalise_url(fresh_database_url), pool_size=1, max_overflow=0)
    sent: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    try:
        for _ in range(2):
            with engine.connect() as connection:
                assert LOOKUP.execute(connection, wanted=uuid.uuid4()).one()[3] is True
                connection.invalidate()  # as after a database restart: replaced on next use
    finally:
        engine.dispose()
    assert sum(statement.startswith("PREPARE ") for statement in sent) == 2


def test_a_service_connection_runs_the_generic_plan_from_the_first_execution(fresh_database_url):
    # service_kit.db's connection options: the plan made without the values, at once
    # (not after five plans made with them), and never a parallel one.
    config = {
        "DB_SCHEMA": "public",
        "DB_POOL_SIZE": 1,
        "DB_MAX_OVERFLOW": 0,
        "SERVICE_NAME": "kit-test",
        "DB_STATEMENT_TIMEOUT_MS": 5000,
    }
    engine = create_engine(normalise_url(fresh_database_url), **engine_options(config))
    one_to_ten = func.generate_series(literal_column("1"), literal_column("10"))
    series = one_to_ten.table_valued("n").render_derived()
    by_range = Prepared(select(series.c.n).where(series.c.n >= bindparam("low", type_=Integer)))
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SHOW plan_cache_mode").scalar() == "force_generic_plan"
            assert connection.exec_driver_sql("SHOW max_parallel_workers_per_gather").scalar() == "0"
            assert by_range.execute(connection, low=8).scalars().all() == [8, 9, 10]
            name = by_range.sql(connection.dialect)[1].split()[1].split("(")[0]
            plan = "\n".join(connection.exec_driver_sql(f"EXPLAIN EXECUTE {name}(9)").scalars())
            assert "$1" in plan, plan  # a custom plan would hold the value 9
    finally:
        engine.dispose()
