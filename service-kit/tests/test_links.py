"""service_kit.links against a real PostgreSQL, in a toy service of its own: a link
issued, checked, counted, expired, revoked, tampered with, used for another purpose,
or made by another service; the settings; and ``@blp.link`` on the HTTP path."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from flask import Flask
from flask.views import MethodView
from sqlalchemy import select, text, update
from sqlalchemy.orm import DeclarativeBase

from service_kit.app import create_service_app
from service_kit.auth import mint_token
from service_kit.blueprint import ServiceBlueprint
from service_kit.config import ConfigError, kit_settings
from service_kit.db import current_db, make_database, schema_metadata
from service_kit.idempotency import IDEMPOTENCY_TABLE, define_idempotency_table
from service_kit.links import (
    AUDIENCE,
    LINKS_TABLE,
    Link,
    LinkExpired,
    LinkNotValid,
    LinkRevoked,
    create_links_table,
    current_link,
    define_links_table,
    issue_link,
    link_settings,
    link_url,
    portal_client_address,
    requires_link,
    revoke_links,
    verify_link,
)
from service_kit.testing import assert_problem

SERVICE, SCHEMA = "links-toy", "links_toy"
THING, CUSTOMER = uuid.uuid4(), uuid.uuid4()

links_blp = ServiceBlueprint("links", __name__, url_prefix="/api/v1/portal")


@links_blp.route("/thing")
class Thing(MethodView):
    @links_blp.link("estimate")
    @links_blp.response(200)
    def get(self) -> Any:
        link = current_link()
        return {
            "resource_id": link.resource_id,
            "customer_id": link.customer_id,
            "address": portal_client_address(),
        }


@links_blp.route("/thing/notes")
class ThingNotes(MethodView):
    # As invoicing's record of a payment: a create, idempotent, open a while after expiry.
    @links_blp.link("estimate", expired_grace=timedelta(days=2))
    @links_blp.idempotent
    @links_blp.response(201)
    def post(self) -> Any:
        return {"resource_id": current_link().resource_id, "made": str(uuid.uuid4())}


def _app(database_url: str, *, service: str = SERVICE) -> tuple[Flask, Any]:
    class Model(DeclarativeBase):
        metadata = schema_metadata(SCHEMA)

    db = make_database(Model, tables=(define_links_table, define_idempotency_table))
    config = kit_settings(service=service, schema=SCHEMA, env={})
    config.update(TESTING=True, DATABASE_URL=database_url, RATE_LIMIT_ENABLED=False)
    config.update(link_settings(service=service, env={}, jwt_secret=config["JWT_SECRET"], production=False))
    app = create_service_app(
        service, title=service, version="1", config=config, db=db, blueprints=[links_blp]
    )
    return app, db


@pytest.fixture(scope="module")
def toy(fresh_database_url: str) -> tuple[Flask, Any]:
    app, db = _app(fresh_database_url)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
        # As a service's migration makes it.
        with Operations.context(MigrationContext.configure(connection)):
            create_links_table(SCHEMA)
        db.metadata.tables[f"{SCHEMA}.{IDEMPOTENCY_TABLE}"].create(connection)
    return app, db


@pytest.fixture
def app(toy):
    app, db = toy
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            connection.execute(text(f"DELETE FROM {SCHEMA}.{LINKS_TABLE}"))
            connection.execute(text(f"DELETE FROM {SCHEMA}.{IDEMPOTENCY_TABLE}"))


@pytest.fixture
def db(toy):
    return toy[1]


@pytest.fixture
def session(app, db):
    with app.test_request_context():
        yield db.session
        db.session.rollback()


def issue(session, purpose: str = "estimate", **kwargs: Any) -> str:
    kwargs.setdefault("resource_id", THING)
    kwargs.setdefault("customer_id", CUSTOMER)
    if "expires_at" not in kwargs:
        kwargs.setdefault("valid_for", timedelta(days=14))
    token = issue_link(session, purpose=purpose, **kwargs)
    session.commit()
    return token


def links_table() -> Any:
    metadata = current_db().metadata
    return metadata.tables[f"{SCHEMA}.{LINKS_TABLE}"]


def row(session, link_id: str) -> Any:
    table = links_table()
    return session.execute(select(table).where(table.c.id == link_id)).one()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


# ------------------------------------------------------------------------------ issue


def test_a_link_is_a_token_naming_one_thing_for_one_customer(session):
    token = issue(session)
    claims = claims_of(token)
    assert (claims["iss"], claims["aud"], claims["pur"]) == (SERVICE, AUDIENCE, "estimate")
    assert (claims["sub"], claims["cus"]) == (str(THING), str(CUSTOMER))
    assert claims["exp"] - claims["iat"] == 14 * 24 * 3600
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    stored = row(session, claims["jti"])
    assert (stored.purpose, stored.resource_id, stored.customer_id) == ("estimate", str(THING), str(CUSTOMER))
    assert (stored.uses, stored.revoked_at, stored.last_used_at) == (0, None, None)
    assert int(stored.expires_at.timestamp()) == claims["exp"]


def test_each_link_is_its_own(session):
    first, second = issue(session), issue(session)
    assert first != second and claims_of(first)["jti"] != claims_of(second)["jti"]


def test_issuing_needs_a_known_purpose_and_an_end(session):
    with pytest.raises(ValueError, match="unknown link purpose"):
        issue_link(
            session, purpose="anything", resource_id=THING, customer_id=CUSTOMER, valid_for=timedelta(days=1)
        )
    with pytest.raises(ValueError, match="valid_for or expires_at"):
        issue_link(session, purpose="estimate", resource_id=THING, customer_id=CUSTOMER)
    with pytest.raises(ValueError, match="unknown link purpose"):
        requires_link("anything")


def test_the_portal_page_of_a_link(app, session):
    assert link_url("estimate", "t0k") == "http://127.0.0.1:8009/estimate/t0k"
    assert link_url("visit", "t0k") == "http://127.0.0.1:8009/feedback/t0k"
    assert link_url("booking", "t0k") == "http://127.0.0.1:8009/book/t0k"


# ----------------------------------------------------------------------------- verify


def test_a_valid_link_is_verified_and_its_uses_counted(session):
    token = issue(session)
    link = verify_link(session, token, purpose="estimate")
    assert isinstance(link, Link)
    assert (link.purpose, link.resource_id, link.customer_id) == ("estimate", str(THING), str(CUSTOMER))
    assert link.expires_at.tzinfo is not None
    verify_link(session, token, purpose="estimate")
    verify_link(session, token, purpose="estimate", count_use=False)
    stored = row(session, link.id)
    assert stored.uses == 2 and stored.last_used_at is not None


def test_an_expired_link_is_refused_as_expired(session):
    token = issue(session, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    with pytest.raises(LinkExpired):
        verify_link(session, token, purpose="estimate")
    # Expired by its record too (the table is what the service trusts, beside the token).
    live = issue(session, valid_for=timedelta(hours=1))
    table = links_table()
    session.execute(
        update(table)
        .where(table.c.id == claims_of(live)["jti"])
        .values(expires_at=datetime.now(UTC) - timedelta(1))
    )
    with pytest.raises(LinkExpired):
        verify_link(session, live, purpose="estimate")
    assert row(session, claims_of(token)["jti"]).uses == 0


def test_a_revoked_link_is_refused_as_revoked(session):
    token = issue(session)
    other_thing = issue(session, resource_id=uuid.uuid4())
    other_purpose = issue(session, purpose="visit")
    assert revoke_links(session, purpose="estimate", resource_id=THING) == 1
    assert revoke_links(session, purpose="estimate", resource_id=THING) == 0  # already revoked
    session.commit()
    with pytest.raises(LinkRevoked):
        verify_link(session, token, purpose="estimate")
    # Only that purpose's links to that thing.
    verify_link(session, other_thing, purpose="estimate")
    verify_link(session, other_purpose, purpose="visit")


def test_a_link_for_another_purpose_is_not_valid(session):
    token = issue(session, purpose="visit")
    for purpose in ("estimate", "invoice", "appointment", "booking"):
        with pytest.raises(LinkNotValid):
            verify_link(session, token, purpose=purpose)


def resigned(token: str, key: str, **changes: Any) -> str:
    return jwt.encode({**claims_of(token), **changes}, key, algorithm="HS256")


def test_a_tampered_link_is_not_valid(app, session):
    token = issue(session)
    header, payload, signature = token.split(".")
    another = resigned(token, "guess" * 8, sub=str(uuid.uuid4()))
    forged = [
        ".".join([header, another.split(".")[1], signature]),  # another thing, the old signature
        ".".join([header, payload, signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")]),
        jwt.encode(claims_of(token), key="", algorithm="none"),  # unsigned
        "not-a-token",
        "",
    ]
    key = app.config["PORTAL_LINK_KEY"]
    # Signed with the right key but naming something the record does not.
    forged.append(resigned(token, key, sub=str(uuid.uuid4())))
    forged.append(resigned(token, key, jti="never-issued"))
    forged.append(resigned(token, key, aud="someone-else"))
    for bad in forged:
        with pytest.raises(LinkNotValid):
            verify_link(session, bad, purpose="estimate")
    assert row(session, claims_of(token)["jti"]).uses == 0


def test_a_link_another_service_made_is_not_valid(app, session):
    token = issue(session)
    theirs = link_settings(service="invoicing", env={}, jwt_secret=app.config["JWT_SECRET"], production=False)
    assert theirs["PORTAL_LINK_KEY"] != app.config["PORTAL_LINK_KEY"]
    for bad in (
        resigned(token, theirs["PORTAL_LINK_KEY"]),  # their key, our claims
        resigned(token, theirs["PORTAL_LINK_KEY"], iss="invoicing"),  # theirs altogether
        resigned(token, app.config["PORTAL_LINK_KEY"], iss="invoicing"),  # our key, their name
        resigned(token, app.config["JWT_SECRET"]),  # the staff tokens' key is not the link key
    ):
        with pytest.raises(LinkNotValid):
            verify_link(session, bad, purpose="estimate")


def test_a_service_without_the_table_says_so(fresh_database_url):
    class Bare(DeclarativeBase):
        metadata = schema_metadata("nolinks")

    config = kit_settings(service="bare", schema="nolinks", env={})
    config.update(TESTING=True, DATABASE_URL=fresh_database_url)
    config.update(link_settings(service="bare", env={}, jwt_secret="x" * 32, production=False))
    db = make_database(Bare)
    app = create_service_app("bare", title="bare", version="1", config=config, db=db, blueprints=[])
    with app.test_request_context(), pytest.raises(RuntimeError, match="define_links_table"):
        issue_link(
            db.session, purpose="estimate", resource_id=THING, customer_id=CUSTOMER, valid_for=timedelta(1)
        )


# --------------------------------------------------------------------------- settings


def test_settings_in_development_and_production():
    dev = link_settings(
        service="a", env={"PORTAL_URL": "https://portal.example/"}, jwt_secret="s" * 32, production=False
    )
    assert dev["PORTAL_URL"] == "https://portal.example"
    assert len(dev["PORTAL_LINK_KEY"]) >= 32
    other = link_settings(service="b", env={}, jwt_secret="s" * 32, production=False)
    assert other["PORTAL_LINK_KEY"] != dev["PORTAL_LINK_KEY"], "each service its own key"
    with pytest.raises(ConfigError, match="PORTAL_LINK_KEY"):
        link_settings(service="a", env={}, jwt_secret="s" * 32, production=True)
    with pytest.raises(ConfigError, match="at least 32"):
        link_settings(service="a", env={"PORTAL_LINK_KEY": "short"}, jwt_secret="s" * 32, production=True)
    given = "k" * 40
    assert (
        link_settings(service="a", env={"PORTAL_LINK_KEY": given}, jwt_secret="", production=True)[
            "PORTAL_LINK_KEY"
        ]
        == given
    )


# ----------------------------------------------------------------------- @blp.link


def portal_headers(app: Flask, token: str | None = None, *roles: str) -> dict[str, str]:
    bearer = mint_token(app.config, roles=roles or ("portal",), subject="customer-portal")
    headers = {"Authorization": f"Bearer {bearer}"}
    if token is not None:
        headers["Portal-Link"] = token
    return headers


def test_the_view_runs_for_the_portal_with_a_link_and_acts_on_its_thing(app, session):
    token = issue(session)
    client = app.test_client()
    response = client.get(
        "/api/v1/portal/thing",
        headers={**portal_headers(app, token), "Portal-Client-Address": " 198.51.100.9 " + "x" * 200},
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["resource_id"], body["customer_id"]) == (str(THING), str(CUSTOMER))
    assert body["address"].startswith("198.51.100.9") and len(body["address"]) == 100
    assert row(session, claims_of(token)["jti"]).uses == 1


def test_the_view_refuses_everyone_else(app, session):
    token = issue(session)
    expired = issue(session, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    revoked = issue(session, resource_id=uuid.uuid4())
    revoke_links(session, purpose="estimate", resource_id=claims_of(revoked)["sub"])
    visit = issue(session, purpose="visit")
    session.commit()
    client = app.test_client()
    path = "/api/v1/portal/thing"
    assert_problem(client.get(path, headers={"Portal-Link": token}), 401)
    assert_problem(client.get(path, headers=portal_headers(app, token, "advisor")), 403, ":forbidden")
    assert_problem(
        client.get(path, headers=portal_headers(app, token, "admin", "service")), 403, ":forbidden"
    )
    assert_problem(client.get(path, headers=portal_headers(app)), 403, "link-not-valid")
    assert_problem(client.get(path, headers=portal_headers(app, visit)), 403, "link-not-valid")
    assert_problem(client.get(path, headers=portal_headers(app, token + "x")), 403, "link-not-valid")
    assert_problem(client.get(path, headers=portal_headers(app, expired)), 410, "link-expired")
    assert_problem(client.get(path, headers=portal_headers(app, revoked)), 410, "link-revoked")
    assert row(session, claims_of(token)["jti"]).uses == 0


def test_the_contract_says_what_a_link_operation_needs(app):
    spec = app.test_client().get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/portal/thing"]["get"]
    assert operation["x-roles"] == ["portal"]
    assert operation["x-link-purpose"] == "estimate"
    (header,) = [p for p in operation["parameters"] if p["name"] == "Portal-Link"]
    assert header["in"] == "header" and header["required"] is True
    assert {"401", "403", "410"} <= set(operation["responses"])


def test_an_idempotency_key_counts_per_link(app, session):
    # The portal calls for every customer as one identity: the same key sent with two
    # customers' links is two requests; with the same link again, the first answer.
    first, second = issue(session), issue(session, resource_id=uuid.uuid4())
    client = app.test_client()

    def post(token: str) -> Any:
        headers = {**portal_headers(app, token), "Idempotency-Key": "form-1"}
        response = client.post("/api/v1/portal/thing/notes", headers=headers)
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    made = post(first)
    assert post(first) == made
    other = post(second)
    assert other["made"] != made["made"] and other["resource_id"] != made["resource_id"]


def test_an_operation_may_take_a_link_a_while_after_it_expired(app, session):
    token = issue(session, expires_at=datetime.now(UTC) - timedelta(days=1))
    client = app.test_client()
    assert client.get("/api/v1/portal/thing", headers=portal_headers(app, token)).status_code == 410
    late = client.post("/api/v1/portal/thing/notes", headers=portal_headers(app, token))
    assert late.status_code == 201, late.get_json()
    too_late = issue(session, expires_at=datetime.now(UTC) - timedelta(days=3))
    refused = client.post("/api/v1/portal/thing/notes", headers=portal_headers(app, too_late))
    assert_problem(refused, 410, "link-expired")
