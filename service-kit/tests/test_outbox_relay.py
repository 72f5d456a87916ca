"""The outbox against a real PostgreSQL and a real HTTP receiver on a local port:
rows commit with the caller's transaction, the relay delivers each exactly once,
retries what may succeed later, gives up on what cannot, and two relays side by side
never send one row twice."""

from __future__ import annotations

import json
import socket
import threading
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, text
from sqlalchemy.orm import DeclarativeBase
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from service_kit.app import create_service_app
from service_kit.auth import TokenVerifier
from service_kit.config import kit_settings
from service_kit.db import make_database, schema_metadata
from service_kit.http_client import ClientSettings, ServiceClient, ServiceToken
from service_kit.idempotency import define_idempotency_table
from service_kit.outbox import (
    DEAD,
    DELIVERED,
    PENDING,
    HttpSender,
    OutboxRelay,
    OutboxRequest,
    define_outbox_table,
    enqueue,
    outbox_blueprint,
    outbox_settings,
    outbox_table,
    register_outbox_commands,
    retry_message,
)
from service_kit.problems import Conflict, NotFound
from service_kit.retry import RetryPolicy
from service_kit.testing import run_concurrently, truncate_schema

SCHEMA = "outbox_kit"


class Model(DeclarativeBase):
    metadata = schema_metadata(SCHEMA)


db = make_database(Model, tables=(define_idempotency_table, define_outbox_table))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Receiver:
    """A local HTTP server that records what arrives and answers as scripted."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.statuses: list[int] = []
        self.default = 201
        self.delay = 0.0
        self.headers: dict[str, str] = {}
        self.hits: list[dict[str, Any]] = []
        self.in_flight: Counter[str] = Counter()
        self.overlaps = 0
        self._lock = threading.Lock()
        self._server: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _app(self, environ: Any, start_response: Any) -> Any:
        request = Request(environ)
        key = request.headers.get("Idempotency-Key", "")
        with self._lock:
            self.in_flight[key] += 1
            if self.in_flight[key] > 1:
                self.overlaps += 1
            self.hits.append(
                {
                    "method": request.method,
                    "path": request.path,
                    "headers": dict(request.headers),
                    "body": json.loads(request.get_data() or b"null"),
                }
            )
            status = self.statuses.pop(0) if self.statuses else self.default
        time.sleep(self.delay)
        with self._lock:
            self.in_flight[key] -= 1
        response = Response(json.dumps({"ok": status < 300}), status=status, mimetype="application/json")
        response.headers.update(self.headers)
        return response(environ, start_response)

    def start(self) -> Receiver:
        self._server = make_server("127.0.0.1", self.port, self._app, threaded=True)
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keys(self) -> Counter[str]:
        return Counter(hit["headers"]["Idempotency-Key"] for hit in self.hits)


@pytest.fixture(scope="module")
def app(fresh_database_url: str) -> Flask:
    config = {**kit_settings(service="outbox-kit-test", schema=SCHEMA, env={}), **outbox_settings({})}
    config.update(TESTING=True, DATABASE_URL=fresh_database_url)
    app = create_service_app(
        "outbox_kit",
        title="outbox-kit",
        version="1",
        config=config,
        db=db,
        blueprints=[outbox_blueprint(url_prefix="/api/v1/outbox-messages")],
    )
    register_outbox_commands(app)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
        # What a service's migration does with create_kit_tables / create_outbox_table.
        db.metadata.tables[f"{SCHEMA}.idempotency_keys"].create(connection, checkfirst=True)
        outbox_table(db.metadata).create(connection, checkfirst=True)
    return app


@pytest.fixture(autouse=True)
def _empty(app: Flask):
    yield
    with app.app_context():
        db.session.remove()
        truncate_schema(db.engine, SCHEMA)


@pytest.fixture
def receiver():
    server = Receiver().start()
    yield server
    server.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def make_relay(app: Flask, url: str | None, *, clock: Any = None, **policy: Any) -> OutboxRelay:
    # No quick retries inside the client: every hit the receiver counts is one attempt.
    client = ServiceClient(
        "receiver",
        ClientSettings(
            base_url=url or "", connect_timeout=0.5, read_timeout=0.3, retries=0, breaker_failures=1000
        ),
        token=ServiceToken(app.config),
    )
    with app.app_context():
        return OutboxRelay(
            engine=db.engine,
            table=outbox_table(db.metadata),
            send=HttpSender(lambda target: client if target == "receiver" else None),
            policy=RetryPolicy(**{"max_attempts": 5, "base_seconds": 1.0, "max_seconds": 60.0, **policy}),
            clock=clock or Clock(),
            rng=lambda: 1.0,
            service="outbox-kit-test",
        )


def put(app: Flask, n: int = 1, *, target: str = "receiver", commit: bool = True) -> list[uuid.UUID]:
    ids = []
    with app.app_context():
        for i in range(n):
            ids.append(
                enqueue(
                    db.session,
                    OutboxRequest(
                        target=target,
                        method="POST",
                        path="/api/v1/things",
                        body={"n": i, "at": datetime(2026, 1, 1, tzinfo=UTC), "ref": uuid.UUID(int=i)},
                        idempotency_key=f"thing-{uuid.uuid4()}",
                    ),
                )
            )
        if commit:
            db.session.commit()
        else:
            db.session.rollback()
    return ids


def rows(app: Flask) -> list[Any]:
    with app.app_context():
        table = outbox_table(db.metadata)
        return list(db.session.execute(select(table).order_by(table.c.id)))


# --------------------------------------------------------------------------- enqueueing


def test_enqueued_rows_commit_or_roll_back_with_the_callers_transaction(app):
    put(app, 2, commit=False)
    assert rows(app) == []
    put(app, 2)
    assert [(r.status, r.attempts) for r in rows(app)] == [(PENDING, 0), (PENDING, 0)]
    assert rows(app)[0].body == {"n": 0, "at": "2026-01-01T00:00:00+00:00", "ref": str(uuid.UUID(int=0))}


def test_one_target_and_key_is_one_row(app):
    with app.app_context():
        request = OutboxRequest(target="receiver", method="post", path="/x", body={}, idempotency_key="same")
        first = enqueue(db.session, request)
        assert first is not None
        assert enqueue(db.session, request) is None
        db.session.commit()
    assert len(rows(app)) == 1
    assert rows(app)[0].method == "POST"


@pytest.mark.parametrize(
    "bad", [{"method": "GET"}, {"path": "no-slash"}, {"idempotency_key": ""}, {"idempotency_key": "k" * 256}]
)
def test_enqueue_refuses_what_the_relay_could_not_send(app, bad):
    values = {"target": "receiver", "method": "POST", "path": "/x", "body": {}, "idempotency_key": "k", **bad}
    with app.app_context(), pytest.raises(ValueError):
        enqueue(db.session, OutboxRequest(**values))


# ------------------------------------------------------------------------------ relay


def test_delivers_once_with_key_request_id_and_service_token(app, receiver):
    with app.test_request_context(headers={"X-Request-ID": "req-42"}):
        app.preprocess_request()
        enqueue(
            db.session,
            OutboxRequest(
                target="receiver", method="POST", path="/api/v1/things", body={"a": 1}, idempotency_key="k1"
            ),
        )
        db.session.commit()
    relay = make_relay(app, receiver.url)
    stats = relay.run_once()
    assert (stats.delivered, stats.retried, stats.dead) == (1, 0, 0)
    assert relay.run_once().processed == 0
    assert len(receiver.hits) == 1
    hit = receiver.hits[0]
    assert (hit["method"], hit["path"], hit["body"]) == ("POST", "/api/v1/things", {"a": 1})
    assert hit["headers"]["Idempotency-Key"] == "k1"
    assert hit["headers"]["X-Request-Id"] == "req-42"
    caller = TokenVerifier(app.config).verify(hit["headers"]["Authorization"].removeprefix("Bearer "))
    assert caller.roles == {"service"} and caller.calling_service == "outbox-kit-test"
    (row,) = rows(app)
    assert (row.status, row.attempts, row.last_status, row.last_error) == (DELIVERED, 1, 201, None)
    assert row.delivered_at is not None


def test_retries_after_server_errors_with_growing_waits(app, receiver):
    receiver.statuses = [500, 503]
    put(app)
    clock = Clock()
    relay = make_relay(app, receiver.url, clock=clock)
    assert relay.run_once().retried == 1
    (row,) = rows(app)
    assert (row.status, row.attempts) == (PENDING, 1)
    assert "receiver answered 500" in row.last_error
    assert row.next_attempt_at == clock.now + timedelta(seconds=1)
    assert relay.run_once().processed == 0, "not due yet"
    clock.advance(seconds=1)
    assert relay.run_once().retried == 1
    assert rows(app)[0].next_attempt_at == clock.now + timedelta(seconds=2)
    clock.advance(seconds=2)
    assert relay.run_once().delivered == 1
    assert len(receiver.hits) == 3
    assert len(receiver.keys()) == 1
    assert (rows(app)[0].status, rows(app)[0].attempts) == (DELIVERED, 3)


def test_receiver_down_for_a_while_gets_it_exactly_once_when_back(app):
    down = Receiver()  # a port where nothing listens yet
    put(app)
    clock = Clock()
    relay = make_relay(app, down.url, clock=clock)
    for _ in range(3):
        assert relay.run_once().retried == 1
        clock.advance(minutes=5)
    (row,) = rows(app)
    assert row.status == PENDING and row.attempts == 3
    assert "could not be reached" in row.last_error
    down.start()
    try:
        assert relay.run_once().delivered == 1
        assert relay.run_once().processed == 0
        clock.advance(hours=1)
        assert relay.run_once().processed == 0
        assert len(down.hits) == 1
    finally:
        down.stop()


def test_a_slow_receiver_is_a_timeout_and_retried(app, receiver):
    receiver.delay = 1.0
    put(app)
    assert make_relay(app, receiver.url).run_once().retried == 1
    assert "did not answer in time" in rows(app)[0].last_error


def test_gives_up_after_the_limit_and_says_why(app, receiver):
    receiver.default = 500
    put(app)
    clock = Clock()
    relay = make_relay(app, receiver.url, clock=clock, max_attempts=3)
    outcomes = []
    for _ in range(5):
        stats = relay.run_once()
        outcomes.append((stats.retried, stats.dead))
        clock.advance(hours=1)
    assert outcomes == [(1, 0), (1, 0), (0, 1), (0, 0), (0, 0)]
    (row,) = rows(app)
    assert (row.status, row.attempts) == (DEAD, 3)
    assert row.last_error == "DependencyFailed: receiver answered 500"
    assert len(receiver.hits) == 3


@pytest.mark.parametrize("status", [400, 404, 422])
def test_a_refusal_that_would_not_change_is_dead_at_once(app, receiver, status):
    receiver.default = status
    put(app)
    assert make_relay(app, receiver.url).run_once().dead == 1
    (row,) = rows(app)
    assert (row.status, row.attempts, row.last_status) == (DEAD, 1, status)


def test_too_many_requests_waits_at_least_retry_after(app, receiver):
    receiver.statuses = [429]
    receiver.headers = {"Retry-After": "120"}
    put(app)
    clock = Clock()
    assert make_relay(app, receiver.url, clock=clock, max_seconds=3600).run_once().retried == 1
    assert rows(app)[0].next_attempt_at == clock.now + timedelta(seconds=120)


def test_a_target_without_url_is_dead_not_retried_forever(app, receiver):
    put(app, target="nobody-configured")
    assert make_relay(app, receiver.url).run_once().dead == 1
    assert "NOBODY_CONFIGURED_URL" in rows(app)[0].last_error


def test_a_relay_dying_mid_delivery_loses_nothing(app, receiver):
    put(app)

    def dies(message):
        raise KeyboardInterrupt

    relay = make_relay(app, receiver.url)
    relay.send = dies
    with pytest.raises(KeyboardInterrupt):
        relay.run_once()
    (row,) = rows(app)
    assert (row.status, row.attempts) == (PENDING, 0)
    assert make_relay(app, receiver.url).run_once().delivered == 1


def test_two_relays_at_once_deliver_every_row_exactly_once(app, receiver):
    receiver.delay = 0.01
    put(app, 40)
    relays = [make_relay(app, receiver.url) for _ in range(2)]
    stats = run_concurrently(lambda relay: relay.run_once(), relays)
    assert sum(s.delivered for s in stats) == 40
    assert all(s.delivered > 0 for s in stats), "both relays worked"
    assert len(receiver.hits) == 40
    assert set(receiver.keys().values()) == {1}
    assert receiver.overlaps == 0
    assert {r.status for r in rows(app)} == {DELIVERED}


def test_a_stop_request_ends_a_pass_after_the_row_in_hand(app, receiver):
    put(app, 5)
    stop = threading.Event()
    relay = make_relay(app, receiver.url)
    send = relay.send

    def send_then_stop(message):
        stop.set()
        return send(message)

    relay.send = send_then_stop
    assert relay.run_once(stop=stop).delivered == 1
    assert [r.status for r in rows(app)].count(PENDING) == 4


def test_run_forever_delivers_as_rows_arrive_and_stops_when_asked(app, receiver):
    relay = make_relay(app, receiver.url)
    relay.clock = lambda: datetime.now(UTC)
    stop = threading.Event()
    worker = threading.Thread(target=relay.run_forever, args=(stop,), kwargs={"poll_seconds": 0.02})
    worker.start()
    try:
        put(app, 3)
        deadline = time.monotonic() + 5
        while len(receiver.hits) < 3 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        stop.set()
        worker.join(timeout=5)
    assert not worker.is_alive()
    assert len(receiver.hits) == 3


# ------------------------------------------------------------------------ staff tools


def test_a_dead_row_is_retried_by_staff_and_then_delivered(app, receiver):
    receiver.statuses = [422]
    put(app)
    relay = make_relay(app, receiver.url, clock=lambda: datetime.now(UTC))
    assert relay.run_once().dead == 1
    with app.app_context():
        row = retry_message(db.session, rows(app)[0].id)
        db.session.commit()
    assert (row.status, row.attempts) == (PENDING, 0)
    assert relay.run_once().delivered == 1
    assert rows(app)[0].status == DELIVERED


def test_only_dead_rows_can_be_retried(app):
    (message_id,) = put(app)
    with app.app_context():
        with pytest.raises(Conflict):
            retry_message(db.session, message_id)
        with pytest.raises(NotFound):
            retry_message(db.session, uuid.uuid4())


def test_admin_endpoints_show_dead_rows_and_send_them_again(app, receiver, auth_headers):
    receiver.default = 404
    put(app, 2)
    make_relay(app, receiver.url).run_once()
    client = app.test_client()
    admin = auth_headers("admin")
    listed = client.get("/api/v1/outbox-messages?status=dead&limit=1", headers=admin)
    assert listed.status_code == 200
    page = listed.get_json()
    assert len(page["items"]) == 1 and page["next_cursor"]
    first = page["items"][0]
    assert first["status"] == "dead" and first["last_status"] == 404 and first["attempts"] == 1
    rest = client.get(f"/api/v1/outbox-messages?status=dead&cursor={page['next_cursor']}", headers=admin)
    assert len(rest.get_json()["items"]) == 1 and rest.get_json()["next_cursor"] is None
    assert client.get(f"/api/v1/outbox-messages/{first['id']}", headers=admin).get_json()["id"] == first["id"]
    retried = client.post(f"/api/v1/outbox-messages/{first['id']}/retry", headers=admin)
    assert retried.status_code == 200 and retried.get_json()["status"] == "pending"
    again = client.post(f"/api/v1/outbox-messages/{first['id']}/retry", headers=admin)
    assert again.status_code == 409
    assert client.post(f"/api/v1/outbox-messages/{uuid.uuid4()}/retry", headers=admin).status_code == 404
    assert client.get(f"/api/v1/outbox-messages/{uuid.uuid4()}", headers=admin).status_code == 404
    assert client.get("/api/v1/outbox-messages?status=lost", headers=admin).status_code == 422
    assert client.get("/api/v1/outbox-messages", headers=auth_headers("advisor")).status_code == 403
    assert client.get("/api/v1/outbox-messages").status_code == 401


def test_commands_relay_list_retry_and_purge(app, receiver):
    app.config["RECEIVER_URL"] = receiver.url
    try:
        receiver.statuses = [410]
        put(app, 2)
        runner = app.test_cli_runner()
        result = runner.invoke(args=["relay-outbox", "--once"])
        assert result.exit_code == 0, result.output
        assert "delivered 1, to retry 0, dead 1" in result.output
        listed = runner.invoke(args=["outbox", "list", "--status", "dead"])
        assert "HTTP 410" in listed.output
        assert "1 messages will be sent again" in runner.invoke(args=["outbox", "retry", "--all-dead"]).output
        assert "delivered 1" in runner.invoke(args=["outbox", "relay", "--once"]).output
        assert "removed 0" in runner.invoke(args=["outbox", "purge"]).output
        with app.app_context():
            table = outbox_table(db.metadata)
            db.session.execute(table.update().values(delivered_at=datetime.now(UTC) - timedelta(days=31)))
            db.session.commit()
        assert "removed 2" in runner.invoke(args=["outbox", "purge"]).output
    finally:
        del app.config["RECEIVER_URL"]
