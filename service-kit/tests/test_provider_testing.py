"""The checks every service runs on itself (service_kit.provider_testing) and the role
table (service_kit.role_testing), tried on the toy service and on small documents."""

from __future__ import annotations

import sys
import traceback
import types

import pytest
from flask.views import MethodView
from sqlalchemy import Column, Integer, MetaData, Table, create_engine, text

from service_kit.blueprint import ServiceBlueprint
from service_kit.contracts import render
from service_kit.db import normalise_url
from service_kit.provider_testing import (
    assert_contract_is_current,
    assert_every_operation_declares_roles,
    assert_migrations_match_models,
    exercise_every_operation,
)
from service_kit.role_testing import RoleTableTests, assert_roles, assert_table_matches_contract

TOYS = ("GET", "/api/v1/toys", {"advisor"})
NOTES = ("POST", "/api/v1/toys/notes", {"advisor"})

calm = ServiceBlueprint("calm", __name__, url_prefix="/api/v1/calm")


@calm.route("")
class Calm(MethodView):
    @calm.response(200)
    def get(self):
        return {"ok": True}


def spec_of(app):
    return app.test_client().get("/openapi.json").get_json()


def written(tmp_path, spec):
    path = tmp_path / "toy.yaml"
    path.write_text(render(spec))
    return path


def test_a_stale_contract_is_named(app, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "toy_service", types.SimpleNamespace(create_app=lambda config: app))
    spec = spec_of(app)
    assert_contract_is_current("toy_service", written(tmp_path, spec))
    spec["info"]["version"] = "2"
    with pytest.raises(AssertionError, match=r"toy.yaml is stale"):
        assert_contract_is_current("toy_service", written(tmp_path, spec))


def test_an_operation_without_roles_is_named(app, tmp_path):
    spec = spec_of(app)
    with pytest.raises(AssertionError, match="GET /api/v1/toys/boom states no roles"):
        assert_every_operation_declares_roles(written(tmp_path, spec))
    spec["paths"] = {path: spec["paths"][path] for path in ("/api/v1/toys", "/api/v1/toys/notes")}
    assert_every_operation_declares_roles(written(tmp_path, spec))


def test_migrations_are_compared_with_the_models_within_their_schema(fresh_database_url):
    metadata = MetaData(schema="kit_probe")
    Table("things", metadata, Column("id", Integer, primary_key=True))
    others = MetaData(schema="kit_other")
    Table("not_ours", others, Column("id", Integer, primary_key=True))
    engine = create_engine(normalise_url(fresh_database_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA kit_probe"))
        connection.execute(text("CREATE SCHEMA kit_other"))
        metadata.create_all(connection)
        others.create_all(connection)
    engine.dispose()
    assert_migrations_match_models(fresh_database_url, metadata)
    Table("more", metadata, Column("id", Integer, primary_key=True))
    with pytest.raises(AssertionError, match="add_table"):
        assert_migrations_match_models(fresh_database_url, metadata)


def test_every_operation_is_fed_generated_input(make_toy_app):
    calm_app = make_toy_app(blueprints=(calm,))
    emptied = []
    exercise_every_operation(
        calm_app,
        lambda operation: {},
        operations_at_least=1,
        max_examples=5,
        between=lambda: emptied.append(1),
    )
    assert emptied == [1]
    with pytest.raises(AssertionError, match="only 1 operations are documented"):
        exercise_every_operation(calm_app, lambda operation: {}, operations_at_least=2)


def test_a_5xx_under_generated_input_fails(app):
    with pytest.raises(BaseException) as raised:  # schemathesis groups its failures
        exercise_every_operation(app, lambda operation: {}, operations_at_least=5, max_examples=5)
    # Hypothesis may report several distinct failures at once, as an exception group.
    assert "Server error" in "".join(traceback.format_exception(raised.value))


def test_roles_are_let_through_or_refused_as_the_table_says(client, auth_headers):
    assert_roles(client, auth_headers, *TOYS)
    assert_roles(client, auth_headers, *NOTES)
    with pytest.raises(AssertionError):
        assert_roles(client, auth_headers, "GET", "/api/v1/toys", {"admin"})


def test_the_table_must_name_every_operation_with_its_roles(app):
    spec = spec_of(app)
    with pytest.raises(AssertionError, match=r"no row for .*/api/v1/toys/boom"):
        assert_table_matches_contract(spec, [TOYS, NOTES])
    spec["paths"] = {path: spec["paths"][path] for path in ("/api/v1/toys", "/api/v1/toys/notes")}
    assert_table_matches_contract(spec, [TOYS, NOTES])
    with pytest.raises(AssertionError, match="the contract says"):
        assert_table_matches_contract(spec, [("GET", "/api/v1/toys", {"admin"}), NOTES])
    with pytest.raises(AssertionError, match="twice"):
        assert_table_matches_contract(spec, [TOYS, TOYS, NOTES])
    with pytest.raises(AssertionError, match="not a documented operation"):
        assert_table_matches_contract(spec, [TOYS, NOTES, ("GET", "/api/v1/games", set())])


def test_a_literal_segment_is_matched_before_a_parameter():
    spec = {
        "paths": {
            "/api/v1/jobs/{job_id}": {"get": {"x-roles": ["admin"]}},
            "/api/v1/jobs/recent": {"get": {"x-roles": ["advisor"]}},
        }
    }
    assert_table_matches_contract(
        spec, [("GET", "/api/v1/jobs/recent", {"advisor"}), ("GET", "/api/v1/jobs/42?x=1", {"admin"})]
    )


class ToyRoles(RoleTableTests):
    operations = [TOYS, NOTES]


def test_the_standard_token_checks_hold_for_the_toy(app, client, auth_headers):
    """The class's tests as pytest runs them in a service (health needs a database,
    which the toy has not)."""
    tests = ToyRoles()
    for row in ToyRoles.operations:
        tests.test_each_role_is_allowed_or_forbidden(client, auth_headers, row)
    for header in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token"):
        tests.test_a_malformed_authorization_is_401(client, header)
    for claim in ({"aud": "another-system"}, {"iss": "somebody-else"}, {"exp": None}, {"sub": None}):
        tests.test_a_foreign_token_or_one_missing_a_claim_is_401(client, app, claim)
    tests.test_a_forged_signature_is_401(client, app)
    tests.test_an_expired_token_is_401(client, app)
    tests.test_an_unsigned_token_is_401(client, app)
    tests.test_a_token_without_roles_is_403(client, app)
    tests.test_auth_is_checked_before_the_body(client)
