"""A toy service assembled with the kit, with no domain, to test the plumbing alone."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.views import MethodView
from sqlalchemy.orm import DeclarativeBase

from service_kit.app import create_service_app
from service_kit.blueprint import ServiceBlueprint
from service_kit.config import kit_settings
from service_kit.db import make_database, schema_metadata
from service_kit.idempotency import define_idempotency_table
from service_kit.problems import Conflict

toy = ServiceBlueprint("toy", __name__, url_prefix="/api/v1/toys")


@toy.route("")
class Toys(MethodView):
    @toy.auth("advisor")
    @toy.response(200)
    def get(self):
        return {"toys": []}


@toy.route("/boom")
class Boom(MethodView):
    @toy.response(200)
    def get(self):
        raise RuntimeError("secret internals")


@toy.route("/conflict")
class Clash(MethodView):
    @toy.response(200)
    def get(self):
        raise Conflict("the toy is already taken", current_owner="someone")


@toy.route("/echo")
class Echo(MethodView):
    @toy.response(200)
    def post(self):
        return {"ok": True}


@toy.route("/notes")
class Notes(MethodView):
    @toy.auth("advisor")
    @toy.response(200)
    def post(self):
        return {"ok": True}


def toy_model() -> type[DeclarativeBase]:
    """A declarative base of its own per toy app: each app has its own metadata."""

    class ToyModel(DeclarativeBase):
        metadata = schema_metadata("toy")

    return ToyModel


def toy_app(env: dict | None = None, blueprints: tuple = (toy,)) -> Flask:
    config = kit_settings(service="toy", schema="toy", env=env or {})
    # Nothing listens on port 9: the database is "down" for readiness tests.
    config.update(TESTING=True, DATABASE_URL="postgresql://nobody@127.0.0.1:9/none")
    return create_service_app(
        "toy",
        title="toy",
        version="1",
        config=config,
        db=make_database(toy_model(), tables=(define_idempotency_table,)),
        blueprints=list(blueprints),
    )


@pytest.fixture
def make_toy_app():
    """``make_toy_app(env=..., blueprints=...)``: another toy, for tests that need two."""
    return toy_app


@pytest.fixture
def app(request) -> Flask:
    return toy_app(getattr(request, "param", {}))


@pytest.fixture
def client(app):
    return app.test_client()
