"""Notification endpoints against a real PostgreSQL, through Flask's test client."""

import uuid

import pytest
from notification_management.models import db
from sqlalchemy import text

from service_kit.testing import assert_problem, run_concurrently

CUSTOMER = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"


def request_body(**changes):
    body = {"customer_id": CUSTOMER, "type": "vehicle_ready", "data": {"description": "Annual service"}}
    body.update(changes)
    return body


# -- accept ---------------------------------------------------------------------------


def test_accepting_answers_202_with_id_status_and_location(client, service_headers, invoicing):
    attachment = {"url": invoicing.pdf_url(), "filename": "invoice.pdf", "content_type": "application/pdf"}
    response = client.post(
        "/api/v1/notifications",
        json=request_body(type="invoice_issued", data={"number": "2026-000001"}, attachments=[attachment]),
        headers=service_headers,
    )
    assert response.status_code == 202
    body = response.get_json()
    assert uuid.UUID(body["id"]).version == 7
    assert body["status"] == "pending"
    assert response.headers["Location"] == f"/api/v1/notifications/{body['id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["customer_id"] == CUSTOMER
    assert body["type"] == "invoice_issued"
    assert body["data"] == {"number": "2026-000001"}
    assert body["channel"] is None
    assert body["attachments"] == [attachment]
    assert body["attempts"] == [] and body["attempt_count"] == 0
    assert body["next_attempt_at"] is not None
    assert body["sent_at"] is None


def test_malformed_json_is_400(client, service_headers):
    response = client.post(
        "/api/v1/notifications", data="{nope", content_type="application/json", headers=service_headers
    )
    assert_problem(response, 400)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "birthday_card"}, "type"),
        ({"customer_id": "not-a-uuid"}, "customer_id"),
        ({"data": "not an object"}, "data"),
        ({"channel": "pigeon"}, "channel"),
        (
            {
                "attachments": [
                    {"url": "ftp://x/y.pdf", "filename": "y.pdf", "content_type": "application/pdf"}
                ]
            },
            "attachments",
        ),
        (
            {"attachments": [{"url": "http://x.test/y.pdf", "filename": "", "content_type": "pdf"}]},
            "attachments",
        ),
        (
            {
                "attachments": [
                    {"url": "http://x.test/y", "filename": "a\nb.pdf", "content_type": "application/pdf"}
                ]
            },
            "attachments",
        ),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"data": {"note\x00": "nul in a key"}}, "data"),
        ({"data": {"note": ["\ud800 unpaired surrogate"]}}, "data"),
    ],
)
def test_invalid_fields_are_422_with_a_field_map(client, service_headers, advisor, change, field):
    problem = assert_problem(
        client.post("/api/v1/notifications", json=request_body(**change), headers=service_headers), 422
    )
    assert any(key == field or key.startswith((f"{field}.", f"{field}[")) for key in problem["errors"]), (
        problem
    )
    assert client.get("/api/v1/notifications", headers=advisor).get_json()["items"] == []


def test_missing_required_fields_are_named(client, service_headers):
    problem = assert_problem(client.post("/api/v1/notifications", json={}, headers=service_headers), 422)
    assert {"customer_id", "type", "data"} <= set(problem["errors"])


def test_an_attachment_from_anywhere_but_a_configured_source_is_422(client, service_headers):
    attachment = {
        "url": "http://169.254.169.254/latest/meta-data",
        "filename": "x",
        "content_type": "text/plain",
    }
    problem = assert_problem(
        client.post(
            "/api/v1/notifications", json=request_body(attachments=[attachment]), headers=service_headers
        ),
        422,
    )
    assert "attachments.0.url" in problem["errors"]


def test_every_type_is_accepted(client, service_headers):
    types = [
        "appointment_confirmed",
        "appointment_rescheduled",
        "appointment_cancelled",
        "appointment_reminder",
        "estimate_ready",
        "job_on_hold",
        "vehicle_ready",
        "invoice_issued",
        "payment_reminder",
    ]
    for type_ in types:
        response = client.post(
            "/api/v1/notifications", json=request_body(type=type_), headers=service_headers
        )
        assert response.status_code == 202, (type_, response.get_json())


# -- idempotency ----------------------------------------------------------------------


def test_same_idempotency_key_and_body_answers_the_first_notification(client, service_headers, advisor):
    headers = {**service_headers, "Idempotency-Key": "vehicle-ready-job-1"}
    first = client.post("/api/v1/notifications", json=request_body(), headers=headers)
    again = client.post("/api/v1/notifications", json=request_body(), headers=headers)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert len(client.get("/api/v1/notifications", headers=advisor).get_json()["items"]) == 1


def test_same_idempotency_key_with_another_body_is_422(client, service_headers):
    headers = {**service_headers, "Idempotency-Key": "vehicle-ready-job-2"}
    client.post("/api/v1/notifications", json=request_body(), headers=headers)
    response = client.post("/api/v1/notifications", json=request_body(type="job_on_hold"), headers=headers)
    assert "Idempotency-Key" in assert_problem(response, 422)["errors"]


def test_one_key_is_one_notification_even_after_the_stored_answer_expired(
    app, client, service_headers, advisor
):
    headers = {**service_headers, "Idempotency-Key": "vehicle-ready-job-3"}
    first = client.post("/api/v1/notifications", json=request_body(), headers=headers).get_json()
    with app.app_context():
        db.session.execute(text("DELETE FROM notifications.idempotency_keys"))  # purged after 48 h
        db.session.commit()
    again = client.post("/api/v1/notifications", json=request_body(), headers=headers)
    assert again.status_code == 202
    assert again.get_json()["id"] == first["id"]
    with app.app_context():
        db.session.execute(text("DELETE FROM notifications.idempotency_keys"))
        db.session.commit()
    other = client.post("/api/v1/notifications", json=request_body(data={"x": 1}), headers=headers)
    assert_problem(other, 422)
    assert len(client.get("/api/v1/notifications", headers=advisor).get_json()["items"]) == 1


def test_concurrent_requests_with_one_key_make_one_notification(app, client, service_headers, advisor):
    headers = {**service_headers, "Idempotency-Key": "double-send"}
    responses = run_concurrently(
        lambda _: app.test_client().post("/api/v1/notifications", json=request_body(), headers=headers),
        range(4),
    )
    assert [r.status_code for r in responses] == [202] * 4
    assert len({r.get_json()["id"] for r in responses}) == 1
    assert len(client.get("/api/v1/notifications", headers=advisor).get_json()["items"]) == 1


def test_an_empty_idempotency_key_is_400(client, service_headers):
    response = client.post(
        "/api/v1/notifications", json=request_body(), headers={**service_headers, "Idempotency-Key": " "}
    )
    assert_problem(response, 400)


# -- read -----------------------------------------------------------------------------


def test_history_of_a_customer_newest_first_with_filters_and_pages(client, service_headers, advisor):
    other = str(uuid.uuid4())
    ids = [
        client.post("/api/v1/notifications", json=request_body(type=t), headers=service_headers).get_json()[
            "id"
        ]
        for t in ("appointment_confirmed", "appointment_reminder", "vehicle_ready", "invoice_issued")
    ]
    client.post("/api/v1/notifications", json=request_body(customer_id=other), headers=service_headers)

    listed = client.get(f"/api/v1/notifications?customer_id={CUSTOMER}", headers=advisor).get_json()
    assert [n["id"] for n in listed["items"]] == ids[::-1]
    assert listed["next_cursor"] is None

    page = client.get(f"/api/v1/notifications?customer_id={CUSTOMER}&limit=3", headers=advisor).get_json()
    assert [n["id"] for n in page["items"]] == ids[:0:-1]
    rest = client.get(
        f"/api/v1/notifications?customer_id={CUSTOMER}&limit=3&cursor={page['next_cursor']}", headers=advisor
    ).get_json()
    assert [n["id"] for n in rest["items"]] == [ids[0]]
    assert rest["next_cursor"] is None

    by_type = client.get("/api/v1/notifications?type=vehicle_ready", headers=advisor).get_json()["items"]
    assert len(by_type) == 2
    assert client.get("/api/v1/notifications?status=dead", headers=advisor).get_json()["items"] == []
    assert len(client.get("/api/v1/notifications?status=pending", headers=advisor).get_json()["items"]) == 5


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=201", "cursor=garbage", "status=lost", "customer_id=nope", "type=birthday"]
)
def test_bad_query_parameters_are_422(client, advisor, query):
    assert_problem(client.get(f"/api/v1/notifications?{query}", headers=advisor), 422)


def test_get_one_with_etag(client, service_headers, advisor):
    created = client.post("/api/v1/notifications", json=request_body(), headers=service_headers).get_json()
    response = client.get(f"/api/v1/notifications/{created['id']}", headers=advisor)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    assert response.get_json() == created


def test_unknown_or_malformed_id_is_404(client, advisor):
    assert_problem(client.get(f"/api/v1/notifications/{uuid.uuid4()}", headers=advisor), 404)
    assert_problem(client.get("/api/v1/notifications/not-a-uuid", headers=advisor), 404)


def test_unsupported_method_is_405_with_allow(client, advisor):
    response = client.delete("/api/v1/notifications", headers=advisor)
    assert_problem(response, 405)
    assert "POST" in response.headers["Allow"]


# -- retry ----------------------------------------------------------------------------


def _set_status(app, notification_id, status):
    with app.app_context():
        db.session.execute(
            text("UPDATE notifications.notifications SET status = :s, failures = 3 WHERE id = :id"),
            {"s": status, "id": notification_id},
        )
        db.session.commit()


def test_staff_retry_a_dead_notification(app, client, service_headers, advisor):
    created = client.post("/api/v1/notifications", json=request_body(), headers=service_headers).get_json()
    _set_status(app, created["id"], "dead")
    response = client.post(f"/api/v1/notifications/{created['id']}/retry", headers=advisor)
    assert response.status_code == 202
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["last_error"] is None
    assert body["next_attempt_at"] is not None
    assert response.headers["ETag"] == f'"{body["version"]}"'


@pytest.mark.parametrize("status", ["pending", "failed", "sent"])
def test_retrying_what_is_not_dead_or_skipped_is_409(app, client, service_headers, advisor, status):
    created = client.post("/api/v1/notifications", json=request_body(), headers=service_headers).get_json()
    _set_status(app, created["id"], status)
    problem = assert_problem(
        client.post(f"/api/v1/notifications/{created['id']}/retry", headers=advisor), 409
    )
    assert problem["status_now"] == status


def test_retrying_an_unknown_notification_is_404(client, advisor):
    assert_problem(client.post(f"/api/v1/notifications/{uuid.uuid4()}/retry", headers=advisor), 404)
