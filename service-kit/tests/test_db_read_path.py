"""The database on the request path, against a real PostgreSQL: reads send no BEGIN or
ROLLBACK, writes keep their transaction, and a pooled connection that died while idle
is replaced before a request uses it."""

from __future__ import annotations

import psycopg2.extensions
import pytest
from flask.views import MethodView
from sqlalchemy import create_engine, text

from service_kit.blueprint import ServiceBlueprint
from service_kit.config import kit_settings
from service_kit.db import make_database, normalise_url, schema_metadata

probe = ServiceBlueprint("probe", __name__, url_prefix="/api/v1/probe")
STATUS = {
    psycopg2.extensions.TRANSACTION_STATUS_IDLE: "none",
    psycopg2.extensions.TRANSACTION_STATUS_INTRANS: "open",
}


def transaction_after_a_query() -> dict[str, str]:
    from flask import current_app

    session = current_app.extensions["sqlalchemy"].session
    session.execute(text("SELECT 1"))
    dbapi = session.connection().connection.dbapi_connection
    return {"transaction": STATUS.get(dbapi.get_transaction_status(), "other")}


@probe.route("")
class Probe(MethodView):
    @probe.response(200)
    def get(self):
        return transaction_after_a_query()

    @probe.response(200)
    def post(self):
        return transaction_after_a_query()


@pytest.fixture
def app(fresh_database_url):
    from sqlalchemy.orm import DeclarativeBase

    from service_kit.app import create_service_app

    class Model(DeclarativeBase):
        metadata = schema_metadata("probe")

    config = kit_settings(service="probe", schema="probe", env={})
    config.update(TESTING=True, DATABASE_URL=fresh_database_url, RATE_LIMIT_ENABLED=False)
    return create_service_app(
        "probe", title="probe", version="1", config=config, db=make_database(Model), blueprints=[probe]
    )


def test_a_read_runs_without_a_transaction_and_a_write_in_one(app):
    client = app.test_client()
    assert client.get("/api/v1/probe").get_json() == {"transaction": "none"}
    assert client.post("/api/v1/probe").get_json() == {"transaction": "open"}
    assert client.get("/api/v1/probe").get_json() == {"transaction": "none"}  # the pool's connection reset


def test_a_connection_that_died_while_idle_is_replaced_before_use(app, fresh_database_url):
    client = app.test_client()
    assert client.get("/api/v1/probe").status_code == 200
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        pool = db.engine.pool
        [record] = [r for r in list(pool._pool.queue)]  # the one idle connection
        pid = record.dbapi_connection.get_backend_pid()
        record.info["idle_since"] -= 3600  # idle for an hour
    admin = create_engine(normalise_url(fresh_database_url))
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    assert client.get("/api/v1/probe").status_code == 200, "pinged, found dead, replaced"
    assert client.post("/api/v1/probe").status_code == 200


def test_a_pool_with_no_connection_left_answers_503_naming_the_database(app):
    """Found measuring gevent workers: more requests in flight than the pool holds got a
    500 when the pool's wait ran out (QueuePool limit ... timed out)."""
    client = app.test_client()
    db = app.extensions["sqlalchemy"]
    with app.app_context():
        engine = db.engine
        engine.pool._timeout = 0.2  # the pool's wait (5 s in production), short for the test
        held = [engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]
        try:
            response = client.get("/api/v1/probe")
        finally:
            for connection in held:
                connection.close()
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["dependency"] == "database"
    assert client.get("/api/v1/probe").status_code == 200
