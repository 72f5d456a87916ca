"""After the visit: the hand-over that asks the customer how it went, the visit and its
rating through the customer's link, and what staff read of the ratings (docs/feedback.md)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from maintenance_job_management.models import db
from sqlalchemy import text

from service_kit.links import LINKS_TABLE
from service_kit.testing import assert_problem

from .test_portal import ADDRESS, FEEDBACK, VEHICLE, VISIT, links, made_link, sent_link, with_link

ANNA = "tech-anna"


def completed(jobs, auth_headers, *, technician: str = ANNA, name: str = "Anna de Boer") -> dict[str, Any]:
    """A job done by ``technician`` (who added its work), completed."""
    job = jobs.create(**VEHICLE)
    tech = auth_headers("technician", subject=technician, name=name)
    assert jobs.act(job["id"], "start", {"assigned_technician": technician}, headers=tech).status_code == 200
    assert (
        jobs.add_line(
            job["id"],
            tech,
            kind="labour",
            description="annual service",
            hours="1.50",
            hourly_rate=6000,
            covered_by_booking=True,
        ).status_code
        == 201
    )
    jobs.part(job["id"], description="oil filter")
    assert jobs.act(job["id"], "complete", {}, headers=tech).status_code == 200
    return job


def hand_over(client, jobs, job_id: str, headers: Any = None) -> Any:
    return client.post(f"/api/v1/maintenance-jobs/{job_id}/hand-over", headers=headers or jobs.advisor)


def rated(client, jobs, auth_headers, outbox_rows, portal, rating: int, **who: Any) -> dict[str, Any]:
    job = completed(jobs, auth_headers, **who)
    assert hand_over(client, jobs, job["id"]).status_code == 200
    token = sent_link(outbox_rows, "feedback_request", "feedback")
    response = client.post(FEEDBACK, json={"rating": rating}, headers=with_link(portal, token))
    assert response.status_code == 201, response.get_json()
    return job


# --------------------------------------------------------------------------- hand-over


def test_hand_over_records_the_collection_and_asks_for_feedback(app, client, jobs, auth_headers, outbox_rows):
    job = completed(jobs, auth_headers)
    before = len(outbox_rows())
    response = hand_over(client, jobs, job["id"])
    assert response.status_code == 200, response.get_json()
    handed = response.get_json()
    assert handed["collected_at"] is not None
    assert (handed["collected_by"], handed["collected_by_name"]) == ("advisor-bea", "advisor-bea")
    (request,) = outbox_rows()[before:]
    assert (request.target, request.path) == ("notification-management", "/api/v1/notifications")
    assert request.idempotency_key == f"feedback-request-{job['id']}"
    assert request.body["type"] == "feedback_request"
    assert request.body["customer_id"] == job["customer_id"]
    assert "channel" not in request.body  # the customer's preferred channel
    data = request.body["data"]
    assert data["job_id"] == job["id"]
    assert (data["plate"], data["make"], data["model"]) == ("AB-123-C", "Volkswagen", "Golf")
    collected = datetime.fromisoformat(handed["collected_at"])
    assert data["visit_date"] == collected.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    token = sent_link(outbox_rows, "feedback_request", "feedback")
    (link,) = [row for row in links(app) if row.purpose == "visit"]
    assert (link.resource_id, link.customer_id) == (job["id"], job["customer_id"])
    assert timedelta(days=30) - timedelta(minutes=1) < link.expires_at - link.created_at <= timedelta(days=30)
    assert token.count(".") == 2


def test_hand_over_again_changes_nothing_and_sends_nothing_more(app, client, jobs, auth_headers, outbox_rows):
    job = completed(jobs, auth_headers)
    first = hand_over(client, jobs, job["id"]).get_json()
    rows = outbox_rows()
    again = hand_over(client, jobs, job["id"], headers=jobs.admin)
    assert again.status_code == 200
    assert again.get_json() == first
    assert outbox_rows() == rows
    assert len([row for row in links(app) if row.purpose == "visit"]) == 1


@pytest.mark.parametrize("status", ["scheduled", "in_progress", "on_hold", "cancelled"])
def test_only_a_completed_job_is_handed_over(client, jobs, outbox_rows, status):
    job = jobs.in_status(status)
    before = (jobs.get(job["id"]), outbox_rows())
    body = assert_problem(hand_over(client, jobs, job["id"]), 409, "job-not-completed")
    assert body["current_status"] == status
    assert (jobs.get(job["id"]), outbox_rows()) == before


def test_hand_over_of_an_unknown_job_is_404(client, jobs):
    assert_problem(hand_over(client, jobs, str(uuid.uuid4())), 404)


# ------------------------------------------------------------------------------- visit


def test_the_customer_sees_the_visit_and_rates_it_once(app, client, jobs, auth_headers, outbox_rows, portal):
    job = completed(jobs, auth_headers)
    hand_over(client, jobs, job["id"])
    headers = with_link(portal, sent_link(outbox_rows, "feedback_request", "feedback"))
    page = client.get(VISIT, headers=headers).get_json()
    assert page["vehicle"] == {"plate": "AB-123-C", "make": "Volkswagen", "model": "Golf"}
    assert page["technician"] == "Anna"
    assert page["work"] == [
        {"kind": "labour", "description": "annual service"},
        {"kind": "part", "description": "oil filter"},
    ]
    assert page["completed_at"] and page["collected_at"] and page["feedback"] is None
    collected = datetime.fromisoformat(page["collected_at"])
    assert page["visit_date"] == collected.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    given = client.post(FEEDBACK, json={"rating": 4, "comment": "  Quick and friendly.  "}, headers=headers)
    assert given.status_code == 201, given.get_json()
    assert given.get_json()["feedback"]["rating"] == 4
    assert given.get_json()["feedback"]["comment"] == "Quick and friendly."
    assert client.get(VISIT, headers=headers).get_json()["feedback"] == given.get_json()["feedback"]
    with app.app_context():
        row = db.session.execute(text("SELECT * FROM jobs.feedback")).one()
    assert (str(row.job_id), row.technician, row.technician_name) == (job["id"], ANNA, "Anna de Boer")
    assert (str(row.customer_id), row.client_address) == (job["customer_id"], ADDRESS)
    again = client.post(FEEDBACK, json={"rating": 1, "comment": "changed my mind"}, headers=headers)
    assert_problem(again, 409, "feedback-already-given")
    with app.app_context():
        assert db.session.execute(text("SELECT rating, comment FROM jobs.feedback")).all() == [
            (4, "Quick and friendly.")
        ]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"rating": 0},
        {"rating": 6},
        {"rating": -1},
        {"rating": "5"},
        {"rating": 4.5},
        {"rating": True},
        {"rating": None},
        {"rating": 3, "comment": "x" * 2001},
        {"rating": 3, "comment": 12},
        {"rating": 3, "job_id": str(uuid.uuid4())},  # no id from the body
    ],
)
def test_a_bad_rating_is_422_and_stores_nothing(app, client, jobs, auth_headers, outbox_rows, portal, body):
    job = completed(jobs, auth_headers)
    hand_over(client, jobs, job["id"])
    headers = with_link(portal, sent_link(outbox_rows, "feedback_request", "feedback"))
    assert_problem(client.post(FEEDBACK, json=body, headers=headers), 422)
    assert client.get(VISIT, headers=headers).get_json()["feedback"] is None


def test_the_visit_link_is_refused_for_anything_else(app, client, jobs, auth_headers, outbox_rows, portal):
    job = completed(jobs, auth_headers)
    hand_over(client, jobs, job["id"])
    token = sent_link(outbox_rows, "feedback_request", "feedback")
    # Not an estimate link, not for staff, not without the portal's identity.
    assert_problem(
        client.get("/api/v1/portal/estimate", headers=with_link(portal, token)), 403, "link-not-valid"
    )
    assert_problem(client.get(VISIT, headers={**jobs.advisor, "Portal-Link": token}), 403, ":forbidden")
    assert_problem(client.post(FEEDBACK, json={"rating": 5}, headers={"Portal-Link": token}), 401)
    # Another customer's link to this visit; an expired one.
    other = made_link(
        app, purpose="visit", resource_id=job["id"], customer_id=uuid.uuid4(), valid_for=timedelta(days=1)
    )
    assert_problem(
        client.post(FEEDBACK, json={"rating": 5}, headers=with_link(portal, other)), 403, "link-not-valid"
    )
    old = made_link(
        app,
        purpose="visit",
        resource_id=job["id"],
        customer_id=job["customer_id"],
        expires_at=datetime.now(UTC) - timedelta(seconds=1),
    )
    assert_problem(
        client.post(FEEDBACK, json={"rating": 5}, headers=with_link(portal, old)), 410, "link-expired"
    )
    with app.app_context():
        db.session.execute(text(f"UPDATE jobs.{LINKS_TABLE} SET revoked_at = now() WHERE id <> ''"))
        db.session.commit()
    assert_problem(
        client.post(FEEDBACK, json={"rating": 5}, headers=with_link(portal, token)), 410, "link-revoked"
    )
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM jobs.feedback")).scalar() == 0


# ------------------------------------------------------------------------------ staff


def given_at(app, job_id: str, when: datetime) -> None:
    with app.app_context():
        db.session.execute(
            text("UPDATE jobs.feedback SET given_at = :when WHERE job_id = :job"),
            {"when": when, "job": job_id},
        )
        db.session.commit()


@pytest.fixture
def ratings(app, client, jobs, auth_headers, outbox_rows, portal) -> list[dict[str, Any]]:
    """Anna: 5 and 4 in October, 2 in November; Bram: 3 in November (Amsterdam time)."""
    made = []
    for technician, name, rating, when in (
        (ANNA, "Anna de Boer", 5, datetime(2026, 10, 3, 9, tzinfo=UTC)),
        (ANNA, "Anna de Boer", 4, datetime(2026, 10, 31, 23, 30, tzinfo=UTC)),  # 1 November, 00:30 local
        (ANNA, "Anna de Boer", 2, datetime(2026, 11, 20, 12, tzinfo=UTC)),
        ("tech-bram", "Bram Jansen", 3, datetime(2026, 11, 21, 12, tzinfo=UTC)),
    ):
        job = rated(client, jobs, auth_headers, outbox_rows, portal, rating, technician=technician, name=name)
        given_at(app, job["id"], when)
        made.append({"job": job, "rating": rating, "technician": technician, "when": when})
    return made


def test_staff_list_feedback_newest_first_with_filters_and_pages(client, jobs, ratings):
    listed = client.get("/api/v1/feedback", headers=jobs.advisor).get_json()
    assert [item["rating"] for item in listed["items"]] == [3, 2, 4, 5]
    assert listed["items"][0]["technician_id"] == "tech-bram"
    assert listed["items"][0]["technician_name"] == "Bram Jansen"
    assert listed["items"][0]["job_id"] == ratings[3]["job"]["id"]
    anna = client.get("/api/v1/feedback?technician_id=tech-anna", headers=jobs.admin).get_json()
    assert [item["rating"] for item in anna["items"]] == [2, 4, 5]
    november = client.get("/api/v1/feedback?from=2026-11-01&to=2026-11-30", headers=jobs.advisor).get_json()
    assert [item["rating"] for item in november["items"]] == [3, 2, 4]  # 00:30 on 1 November in Amsterdam
    page = client.get("/api/v1/feedback?limit=3", headers=jobs.advisor).get_json()
    rest = client.get(
        f"/api/v1/feedback?limit=3&cursor={page['next_cursor']}", headers=jobs.advisor
    ).get_json()
    assert [i["rating"] for i in page["items"]] + [i["rating"] for i in rest["items"]] == [3, 2, 4, 5]
    assert rest["next_cursor"] is None


def test_summary_per_technician(client, jobs, ratings):
    summary = client.get("/api/v1/feedback/summary?by=technician", headers=jobs.advisor).get_json()
    assert (summary["count"], summary["average_rating"]) == (4, "3.50")
    assert summary["groups"] == [
        {
            "technician_id": ANNA,
            "technician_name": "Anna de Boer",
            "month": None,
            "count": 3,
            "average_rating": "3.67",
        },
        {
            "technician_id": "tech-bram",
            "technician_name": "Bram Jansen",
            "month": None,
            "count": 1,
            "average_rating": "3.00",
        },
    ]


def test_summary_per_month_in_the_garages_time_zone(client, jobs, ratings):
    summary = client.get(
        "/api/v1/feedback/summary?by=month&from=2026-10-01&to=2026-12-31", headers=jobs.admin
    ).get_json()
    assert (summary["from"], summary["to"], summary["time_zone"]) == (
        "2026-10-01",
        "2026-12-31",
        "Europe/Amsterdam",
    )
    assert [(g["month"], g["count"], g["average_rating"]) for g in summary["groups"]] == [
        ("2026-10", 1, "5.00"),
        ("2026-11", 3, "3.00"),
    ]
    october = client.get(
        "/api/v1/feedback/summary?from=2026-10-01&to=2026-10-31", headers=jobs.admin
    ).get_json()
    assert (october["by"], october["count"], october["average_rating"]) == ("technician", 1, "5.00")


def test_an_empty_period_has_no_average(client, jobs, ratings):
    summary = client.get(
        "/api/v1/feedback/summary?from=2020-01-01&to=2020-12-31", headers=jobs.advisor
    ).get_json()
    assert (summary["count"], summary["average_rating"], summary["groups"]) == (0, None, [])


BAD_PERIODS = ["from=2026-13-01", "from=2026-11-02&to=2026-11-01", "to=yesterday", "technician_id="]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        *(("/api/v1/feedback", q) for q in [*BAD_PERIODS, "limit=0", "limit=1000", "cursor=garbage"]),
        *(("/api/v1/feedback/summary", q) for q in [*BAD_PERIODS[:3], "by=week", "by="]),
    ],
)
def test_bad_staff_queries_are_refused_not_500(client, jobs, path, query):
    response = client.get(f"{path}?{query}", headers=jobs.advisor)
    assert_problem(response, 422)
