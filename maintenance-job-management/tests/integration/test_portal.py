"""The customer portal's operations (docs/customer-portal.md): an estimate decided and a
visit rated through a customer's link, recorded as an advisor's entry is, and every
way a call is refused — without changing anything."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from maintenance_job_management.config import SERVICE
from maintenance_job_management.models import db
from sqlalchemy import select

from service_kit.clock import utcnow
from service_kit.links import LINKS_TABLE, issue_link, link_settings, revoke_links
from service_kit.testing import assert_problem

ESTIMATE = "/api/v1/portal/estimate"
DECISION = "/api/v1/portal/estimate/decision"
VISIT = "/api/v1/portal/visit"
FEEDBACK = "/api/v1/portal/visit/feedback"
ADDRESS = "203.0.113.7"
VEHICLE = {"vehicle_plate": "AB-123-C", "vehicle_make": "Volkswagen", "vehicle_model": "Golf"}


def with_link(portal: dict[str, str], token: str) -> dict[str, str]:
    return {**portal, "Portal-Link": token, "Portal-Client-Address": ADDRESS}


def sent_link(outbox_rows, type_: str, page: str) -> str:
    """The token in the link of the last ``type_`` notification the service asked for."""
    (row, *_) = reversed(
        [r for r in outbox_rows(target="notification-management") if r.body["type"] == type_]
    )
    url = row.body["data"]["link_url"]
    assert url.startswith(f"http://127.0.0.1:8009/{page}/"), url
    return url.rsplit("/", 1)[1]


def links(app) -> list[Any]:
    table = db.metadata.tables[f"jobs.{LINKS_TABLE}"]
    with app.app_context(), db.engine.connect() as connection:
        return list(connection.execute(select(table).order_by(table.c.created_at)))


def emailed_estimate(jobs, outbox_rows, **create: Any) -> tuple[dict, dict, str]:
    """A job with a booked line and two awaiting approval, estimated by email."""
    job = jobs.create(**{**VEHICLE, **create})
    jobs.labour(job["id"], booked=True, description="annual service")
    jobs.labour(job["id"], booked=False, hours="1.00", rate=8000, description="fit brake pads")
    jobs.part(job["id"], booked=False, quantity="2", price=4500, description="brake pads")
    response = jobs.estimate(job["id"], channel="email", message="The rear brake pads are worn.")
    assert response.status_code == 201, response.get_json()
    return job, response.get_json(), sent_link(outbox_rows, "estimate_ready", "estimate")


def decisions(estimate: dict, decide: Any = "approved") -> list[dict[str, str]]:
    """A decision for every line: all ``decide``, or as a {line_id: decision} says."""
    chosen = decide if isinstance(decide, dict) else {}
    default = "approved" if chosen else decide
    return [
        {"line_id": line["line_id"], "decision": chosen.get(line["line_id"], default)}
        for line in estimate["snapshot"]["lines"]
    ]


def state(client, jobs, job_id: str) -> tuple[Any, ...]:
    """What a refused call must leave as it was: the job, its estimates and approvals."""
    job = jobs.get(job_id)
    estimates = client.get(f"/api/v1/maintenance-jobs/{job_id}/estimates", headers=jobs.advisor).get_json()
    approvals = client.get(f"/api/v1/maintenance-jobs/{job_id}/approvals", headers=jobs.advisor).get_json()
    return job["version"], [line["approval"] for line in job["lines"]], estimates["items"], approvals["items"]


# ------------------------------------------------------------------------- the estimate


def test_an_emailed_estimate_carries_a_link_to_it_valid_14_days(app, jobs, outbox_rows):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    (row,) = [r for r in outbox_rows(target="notification-management") if r.body["type"] == "estimate_ready"]
    assert row.body["data"]["plate"] == "AB-123-C"
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["pur"]) == (SERVICE, "customer-portal", "estimate")
    assert (claims["sub"], claims["cus"]) == (estimate["id"], job["customer_id"])
    (link,) = links(app)
    assert (link.id, link.purpose, link.resource_id) == (claims["jti"], "estimate", estimate["id"])
    assert timedelta(days=14) - timedelta(minutes=1) < link.expires_at - link.created_at <= timedelta(days=14)
    assert link.uses == 0 and link.revoked_at is None


def test_an_estimate_at_the_counter_issues_no_link(app, jobs, outbox_rows):
    job = jobs.create()
    jobs.labour(job["id"], booked=False)
    assert jobs.estimate(job["id"], channel="counter").status_code == 201
    assert links(app) == [] and outbox_rows() == []


def test_the_portal_shows_the_estimate_as_it_was_shown(app, client, jobs, outbox_rows, portal):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    noted = client.patch(
        f"/api/v1/maintenance-jobs/{job['id']}",
        json={"technician_notes": "pads at 2 mm"},
        headers=jobs.technician,
    )
    assert noted.status_code == 200, noted.get_json()
    response = client.get(ESTIMATE, headers=with_link(portal, token))
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert page["status"] == "pending"
    assert page["vehicle"] == {"plate": "AB-123-C", "make": "Volkswagen", "model": "Golf"}
    assert page["message"] == "The rear brake pads are worn."
    assert page["technician_notes"] == "pads at 2 mm"
    assert [line["description"] for line in page["lines"]] == ["fit brake pads", "brake pads"]
    assert {line["decision"] for line in page["lines"]} == {None}
    assert page["total_gross"] == estimate["snapshot"]["total_gross"] == 8000 * 121 // 100 + 9000 * 121 // 100
    assert (page["decided_at"], page["signature"], page["decided_through"]) == (None, None, None)
    assert "customer_id" not in page and "job_id" not in page
    assert links(app)[0].uses == 1  # each use is counted


def test_the_customer_decides_each_line_recorded_as_an_advisors_entry(app, client, jobs, outbox_rows, portal):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    labour, part = (line["line_id"] for line in estimate["snapshot"]["lines"])
    before = utcnow()
    response = client.post(
        DECISION,
        json={
            "decisions": decisions(estimate, {labour: "approved", part: "declined"}),
            "signature": "  Jan de Vries ",
        },
        headers=with_link(portal, token),
    )
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert page["status"] == "decided"
    assert [line["decision"] for line in page["lines"]] == ["approved", "declined"]
    assert (page["signature"], page["decided_through"]) == ("Jan de Vries", "portal")
    # The audit trail: the same records an advisor's entry makes, with the portal's extras.
    trail = client.get(f"/api/v1/maintenance-jobs/{job['id']}/approvals", headers=jobs.advisor).get_json()
    by_line = {entry["line_id"]: entry for entry in trail["items"] if entry["channel"] != "booking"}
    assert set(by_line) == {labour, part}
    shown = {line["line_id"]: line for line in estimate["snapshot"]["lines"]}
    for line_id, decision in ((labour, "approved"), (part, "declined")):
        entry = by_line[line_id]
        assert entry["decision"] == decision
        assert entry["channel"] == "portal"
        assert entry["estimate_id"] == estimate["id"]
        assert entry["decided_by"] == entry["signature"] == "Jan de Vries"
        assert entry["client_address"] == ADDRESS
        assert entry["shown"] == shown[line_id]
        assert entry["recorded_by"] == "customer-portal"
        assert before <= datetime.fromisoformat(entry["decided_at"]) <= utcnow()
    lines = {line["id"]: line for line in jobs.get(job["id"])["lines"]}
    assert (lines[labour]["approval"], lines[part]["approval"]) == ("approved", "declined")
    assert lines[labour]["approved_net"] == 8000
    # The link still shows what was decided.
    again = client.get(ESTIMATE, headers=with_link(portal, token)).get_json()
    assert again == {**page, "decided_at": again["decided_at"]}
    assert again["decided_at"] is not None


def test_a_second_decision_is_409_and_changes_nothing(app, client, jobs, outbox_rows, portal):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    body = {"decisions": decisions(estimate), "signature": "Jan de Vries"}
    assert client.post(DECISION, json=body, headers=with_link(portal, token)).status_code == 200
    before = state(client, jobs, job["id"])
    uses = links(app)[0].uses
    for decide in ("approved", "declined"):
        second = client.post(
            DECISION,
            json={"decisions": decisions(estimate, decide), "signature": "Someone Else"},
            headers=with_link(portal, token),
        )
        assert_problem(second, 409, "estimate-already-decided")
    assert state(client, jobs, job["id"]) == before
    assert links(app)[0].uses == uses  # a refused write counts no use either


def test_a_decision_an_advisor_took_by_phone_is_shown_and_not_taken_again(client, jobs, outbox_rows, portal):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    assert jobs.decide(job["id"], estimate, approve=False, decided_by="Mrs de Vries").status_code == 200
    page = client.get(ESTIMATE, headers=with_link(portal, token)).get_json()
    assert (page["status"], page["signature"], page["decided_through"]) == (
        "decided",
        "Mrs de Vries",
        "phone",
    )
    assert {line["decision"] for line in page["lines"]} == {"declined"}
    late = client.post(
        DECISION,
        json={"decisions": decisions(estimate), "signature": "Jan"},
        headers=with_link(portal, token),
    )
    assert_problem(late, 409, "estimate-already-decided")


def test_the_job_leaves_its_approval_hold_when_the_customer_approves(client, jobs, outbox_rows, portal):
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], hours="1.00", rate=10000)
    jobs.patch_line(job["id"], line["id"], hours="2.00")
    assert (jobs.get(job["id"])["status"], jobs.get(job["id"])["hold_kind"]) == ("on_hold", "approval")
    estimate = jobs.estimate(job["id"], channel="sms").get_json()
    token = sent_link(outbox_rows, "estimate_ready", "estimate")
    response = client.post(
        DECISION,
        json={"decisions": decisions(estimate), "signature": "Jan de Vries"},
        headers=with_link(portal, token),
    )
    assert response.status_code == 200, response.get_json()
    resumed = jobs.get(job["id"])
    assert (resumed["status"], resumed["hold_kind"]) == ("in_progress", None)
    assert resumed["totals"]["approved_net"] == 20000


def test_a_newer_estimate_revokes_the_older_ones_link(app, client, jobs, outbox_rows, portal):
    job, estimate, old = emailed_estimate(jobs, outbox_rows)
    jobs.estimate(job["id"], channel="email")
    new = sent_link(outbox_rows, "estimate_ready", "estimate")
    assert_problem(client.get(ESTIMATE, headers=with_link(portal, old)), 410, "link-revoked")
    refused = client.post(
        DECISION, json={"decisions": decisions(estimate), "signature": "Jan"}, headers=with_link(portal, old)
    )
    assert_problem(refused, 410, "link-revoked")
    assert client.get(ESTIMATE, headers=with_link(portal, new)).get_json()["status"] == "pending"


# ---------------------------------------------------------------------------- refusals


def made_link(app, *, purpose: str, resource_id: Any, customer_id: Any, **when: Any) -> str:
    with app.app_context():
        token = issue_link(
            db.session, purpose=purpose, resource_id=resource_id, customer_id=customer_id, **when
        )
        db.session.commit()
    return token


def tampered(token: str) -> str:
    """The same claims with another estimate's id: the signature no longer fits."""
    header, _, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    forged = jwt.encode({**claims, "sub": str(uuid.uuid4())}, "not-the-key" * 4, algorithm="HS256")
    return ".".join([header, forged.split(".")[1], signature])


def other_service_token(app, token: str) -> str:
    """The same claims, signed by another service with its own key (as invoicing)."""
    claims = jwt.decode(token, options={"verify_signature": False})
    key = link_settings(service="invoicing", env={}, jwt_secret=app.config["JWT_SECRET"], production=False)
    return jwt.encode({**claims, "iss": "invoicing"}, key["PORTAL_LINK_KEY"], algorithm="HS256")


@pytest.fixture
def refused(app, client, jobs, outbox_rows, portal):
    """An estimate awaiting the customer, and what each refused call must leave as it was."""
    job, estimate, token = emailed_estimate(jobs, outbox_rows)

    def check(headers: dict[str, str], status: int, kind: str) -> None:
        before = state(client, jobs, job["id"])
        assert_problem(client.get(ESTIMATE, headers=headers), status, kind)
        body = {"decisions": decisions(estimate), "signature": "Jan de Vries"}
        assert_problem(client.post(DECISION, json=body, headers=headers), status, kind)
        assert state(client, jobs, job["id"]) == before
        assert [line.uses for line in links(app)][:1] == [0]

    return job, estimate, token, check


def test_without_a_token_it_is_401(client, refused):
    _, _, token, check = refused
    check({"Portal-Link": token}, 401, "unauthorized")


def test_a_staff_token_with_a_valid_link_is_403(jobs, refused):
    _, _, token, check = refused
    for staff in (jobs.advisor, jobs.admin, jobs.service):
        check({**staff, "Portal-Link": token}, 403, ":forbidden")


def test_the_portal_without_a_link_is_403(portal, refused):
    *_, check = refused
    check(portal, 403, "link-not-valid")
    check({**portal, "Portal-Link": "   "}, 403, "link-not-valid")
    check({**portal, "Portal-Link": "not-a-token"}, 403, "link-not-valid")


def test_a_tampered_token_is_403(portal, refused):
    _, _, token, check = refused
    check(with_link(portal, tampered(token)), 403, "link-not-valid")
    check(with_link(portal, token[:-2] + ("AA" if not token.endswith("AA") else "BB")), 403, "link-not-valid")


def test_a_token_of_another_service_is_403(app, portal, refused):
    _, _, token, check = refused
    check(with_link(portal, other_service_token(app, token)), 403, "link-not-valid")


def test_a_token_for_another_purpose_is_403(app, portal, refused):
    job, estimate, _, check = refused
    visit = made_link(
        app,
        purpose="visit",
        resource_id=estimate["id"],
        customer_id=job["customer_id"],
        valid_for=timedelta(days=1),
    )
    check(with_link(portal, visit), 403, "link-not-valid")


def test_a_link_for_another_customer_is_403(app, portal, refused):
    _, estimate, _, check = refused
    other = made_link(
        app,
        purpose="estimate",
        resource_id=estimate["id"],
        customer_id=uuid.uuid4(),
        valid_for=timedelta(days=1),
    )
    check(with_link(portal, other), 403, "link-not-valid")


def test_a_link_to_an_estimate_that_does_not_exist_is_403(app, portal, refused):
    job, _, _, check = refused
    ghost = made_link(
        app,
        purpose="estimate",
        resource_id=uuid.uuid4(),
        customer_id=job["customer_id"],
        valid_for=timedelta(days=1),
    )
    check(with_link(portal, ghost), 403, "link-not-valid")


def test_an_expired_link_is_410(app, portal, refused):
    job, estimate, _, check = refused
    expired = made_link(
        app,
        purpose="estimate",
        resource_id=estimate["id"],
        customer_id=job["customer_id"],
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    check(with_link(portal, expired), 410, "link-expired")


def test_a_revoked_link_is_410(app, portal, refused):
    _, estimate, token, check = refused
    with app.app_context():
        assert revoke_links(db.session, purpose="estimate", resource_id=estimate["id"]) == 1
        db.session.commit()
    check(with_link(portal, token), 410, "link-revoked")


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"signature": "Jan de Vries"},
        {"decisions": [], "signature": "Jan de Vries"},
        {"decisions": "all", "signature": "Jan de Vries"},
        {"decisions": [{"line_id": "nope", "decision": "approved"}], "signature": "Jan de Vries"},
        {"decisions": [{"line_id": str(uuid.uuid4()), "decision": "approved"}], "signature": "Jan de Vries"},
        "MAYBE",  # every line, decided "maybe"
        "ONE",  # one line left out
        "TWICE",  # a line decided twice
        "J",  # a one-letter signature
        "  ",  # a blank one
        "X" * 201,  # too long
        "NUMBER",  # a signature that is not text
    ],
    ids=lambda body: body if isinstance(body, str) and len(body) < 10 else None,
)
def test_a_decision_that_does_not_fit_the_estimate_is_422(client, jobs, outbox_rows, portal, body):
    job, estimate, token = emailed_estimate(jobs, outbox_rows)
    every = decisions(estimate)
    bodies: dict[str, Any] = {
        "MAYBE": {"decisions": [{**d, "decision": "maybe"} for d in every], "signature": "Jan"},
        "ONE": {"decisions": every[:1], "signature": "Jan"},
        "TWICE": {"decisions": every + every[:1], "signature": "Jan"},
        "NUMBER": {"decisions": every, "signature": 42},
    }
    if isinstance(body, str):
        body = bodies.get(body, {"decisions": every, "signature": body})
    before = state(client, jobs, job["id"])
    response = client.post(DECISION, json=body, headers=with_link(portal, token))
    assert_problem(response, 422)
    assert state(client, jobs, job["id"]) == before


def test_a_body_that_is_not_json_is_refused_not_500(client, jobs, outbox_rows, portal):
    _, _, token = emailed_estimate(jobs, outbox_rows)
    response = client.post(
        DECISION, data="{broken", content_type="application/json", headers=with_link(portal, token)
    )
    assert response.status_code in (400, 422)
    response = client.post(DECISION, data="decisions=all", headers=with_link(portal, token))
    assert response.status_code == 415
