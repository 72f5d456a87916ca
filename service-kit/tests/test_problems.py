"""Every problem a service answers takes its type and title from one table, whoever
raised it: service code, the kit, argument parsing, routing, the database."""

from __future__ import annotations

import pytest

from service_kit.problems import (
    TITLES,
    BadRequest,
    Conflict,
    DependencyUnavailable,
    NotFound,
    PreconditionFailed,
    Problem,
    Unprocessable,
    problem_body,
)


class JobNotChangeable(Conflict):
    pass


@pytest.mark.parametrize("problem_class", [BadRequest, NotFound, Conflict, PreconditionFailed, Unprocessable])
def test_the_kits_problems_are_their_statuses_generic_kind(problem_class):
    body = problem_class("why").to_dict()
    assert body["title"] == TITLES[problem_class.status]
    assert body["type"] == problem_body(problem_class.status)["type"]
    assert body["type"].startswith("urn:garage:problem:")


def test_a_services_problem_is_typed_by_its_class_and_titled_by_its_status():
    body = JobNotChangeable("the job is completed", current_status="completed").to_dict()
    assert body == {
        "type": "urn:garage:problem:job-not-changeable",
        "title": "Conflict",
        "status": 409,
        "detail": "the job is completed",
        "current_status": "completed",
    }
    assert DependencyUnavailable("invoicing").to_dict()["title"] == "Service Unavailable"


def test_generic_kinds_read_as_their_titles():
    assert problem_body(422)["type"] == "urn:garage:problem:unprocessable-content"
    assert problem_body(404, "no such job")["detail"] == "no such job"
    assert Problem().to_dict()["title"] == "Internal Server Error"


def assert_from_the_table(response, status):
    body = response.get_json()
    assert response.status_code == status, body
    assert response.mimetype == "application/problem+json"
    assert body["title"] == TITLES[status]
    assert body["type"].startswith("urn:garage:problem:"), body
    return body


def test_routing_parsing_and_crashes_answer_from_the_table(client):
    assert_from_the_table(client.get("/api/v1/nothing-here"), 404)
    assert_from_the_table(client.delete("/api/v1/toys"), 405)
    assert_from_the_table(client.get("/api/v1/toys/boom"), 500)


@pytest.mark.parametrize(
    "token",
    [
        "not.a.jwt",
        "e30.e30.e30",  # {} . {} . garbage signature
        "eyJhbGciOiJIUzI1NiJ9.e30",  # two segments  # pragma: allowlist secret
        "a" * 40,
    ],
)
def test_a_broken_token_is_told_plainly_without_the_decoders_words(client, token):
    response = client.post("/api/v1/toys/notes", headers={"Authorization": f"Bearer {token}"})
    body = assert_from_the_table(response, 401)
    assert body["detail"] in {
        "the token is not a well-formed signed JWT",
        "the token's signature does not verify",
        "the token is signed with an algorithm this service does not accept",
        "the token is not valid",
    }, body["detail"]
