"""The customer portal's operations (docs/customer-portal.md): each runs only for the
role portal with a valid link of its purpose, acts on the one appointment or vehicle
the link names, and changes through the front desk's code (the job moved or cancelled,
the customer told). Every refusal - no token, a staff token, no link, a tampered,
foreign or other-purpose link, an expired or revoked one, too late, the slot taken -
is a problem, never a 500, and changes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import text
from workshop_scheduling.models import db

from service_kit.auth import mint_token
from service_kit.links import issue_link, revoke_links
from service_kit.outbox import OutboxRelay
from service_kit.testing import assert_problem

from ..fakes import FakeNotifications
from ..helpers import local

PORTAL = "/api/v1/portal"
APPOINTMENT = f"{PORTAL}/appointment"
BOOKING = f"{PORTAL}/booking"
PUSH = f"{APPOINTMENT}/push-subscription"
PUSH_SUBSCRIPTIONS = "/api/v1/notifications/push-subscriptions"
# As a browser's PushSubscription.toJSON() gives it (a P-256 point, 16 octets of secret).
SUBSCRIPTION = {
    # pragma: allowlist nextline secret
    "endpoint": "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91bHkxPush",
    "expirationTime": None,
    "keys": {
        # pragma: allowlist nextline secret
        "p256dh": "BNCDGlWqa7_J2WZw-d-hiXJVuokKUBUZNGlQUEFgcJ5jOmu-DLo6Ke1F33L1zO1G_s_UoxXAQkXfMEe0o0cAxZY",
        "auth": "tBHItJI5svbpez7KI4CCXg",
    },
}


def token_of(message: Any) -> str:
    """The link token in a message's link_url (``{PORTAL_URL}/<page>/<token>``)."""
    return message.body["data"]["link_url"].rsplit("/", 1)[1]


class Portal:
    """The customer portal as it calls: its own service token, the link from a message."""

    def __init__(self, app: Any, client: Any, outbox_rows: Any) -> None:
        self.app = app
        self.client = client
        self.outbox_rows = outbox_rows
        token = mint_token(app.config, roles=["portal"], subject="customer-portal")
        self.auth = {"Authorization": f"Bearer {token}"}

    def headers(self, link: str | None, **more: str) -> dict[str, str]:
        return {**self.auth, **({"Portal-Link": link} if link is not None else {}), **more}

    def get(self, path: str, link: str | None, **query: Any) -> Any:
        return self.client.get(path, query_string=query, headers=self.headers(link))

    def post(self, path: str, link: str | None, body: dict[str, Any] | None = None, **headers: str) -> Any:
        return self.client.post(path, json=body or {}, headers=self.headers(link, **headers))

    def messages(self, type_: str) -> list[Any]:
        return [r for r in self.outbox_rows(target="notification-management") if r.body.get("type") == type_]

    def push_subscriptions(self) -> list[Any]:
        return [r for r in self.outbox_rows(target="notification-management") if r.path == PUSH_SUBSCRIPTIONS]

    def link_of(self, appointment: dict[str, Any]) -> str:
        """The link the appointment's confirmation carried."""
        [message] = [
            m
            for m in self.messages("appointment_confirmed")
            if m.body["data"]["appointment_id"] == appointment["id"]
        ]
        return token_of(message)

    def issue(self, purpose: str, resource_id: Any, customer_id: Any, **validity: Any) -> str:
        with self.app.app_context():
            token = issue_link(
                db.session, purpose=purpose, resource_id=resource_id, customer_id=customer_id, **validity
            )
            db.session.commit()
        return token

    def revoke(self, purpose: str, resource_id: Any) -> None:
        with self.app.app_context():
            revoke_links(db.session, purpose=purpose, resource_id=resource_id)
            db.session.commit()

    def invite(self, headers: dict[str, str], vehicle_id: Any, **body: Any) -> str:
        response = self.client.post(
            "/api/v1/booking-invitations", json={"vehicle_id": str(vehicle_id), **body}, headers=headers
        )
        assert response.status_code == 202, response.get_json()
        return token_of(self.messages(body.get("type", "booking_invitation"))[-1])


@pytest.fixture
def portal(app, client, outbox_rows) -> Portal:
    return Portal(app, client, outbox_rows)


@pytest.fixture
def booked(workshop, portal) -> tuple[dict[str, Any], str]:
    """An appointment two days ahead (10:00-11:00) and the link its confirmation carried."""
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    return appointment, portal.link_of(appointment)


def snapshot(workshop, fake_jobs, portal, appointment: dict[str, Any]) -> tuple[Any, ...]:
    """What a refusal must leave as it was."""
    return (
        workshop.get(appointment["id"]),
        dict(fake_jobs.jobs[appointment["job_id"]]),
        len(portal.outbox_rows()),
    )


def link_row(app, token: str) -> Any:
    jti = jwt.decode(token, options={"verify_signature": False})["jti"]
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(
            text("SELECT * FROM scheduling.portal_links WHERE id = :id"), {"id": jti}
        ).one()


def client_address(app, appointment_id: str) -> str | None:
    with app.app_context(), db.engine.connect() as connection:
        return connection.execute(
            text("SELECT customer_client_address FROM scheduling.appointments WHERE id = :id"),
            {"id": appointment_id},
        ).scalar_one()


# -------------------------------------------------------------------- the messages


def test_confirmation_reschedule_and_reminder_carry_an_appointment_link(workshop, portal, app):
    workshop.bay()
    tomorrow = workshop.day - timedelta(days=1)
    appointment = workshop.booked(day=tomorrow, start="10:00", end="11:00")
    workshop.act(appointment["id"], "reschedule", {"start": local(tomorrow, "13:00").isoformat()})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["send-reminders", "--date", tomorrow.isoformat()]).exit_code == 0
    tokens = []
    for type_ in ("appointment_confirmed", "appointment_rescheduled", "appointment_reminder"):
        [message] = portal.messages(type_)
        url = message.body["data"]["link_url"]
        assert url.startswith(f"{app.config['PORTAL_URL']}/appointment/"), url
        token = token_of(message)
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims["pur"] == "appointment"
        assert claims["sub"] == appointment["id"]
        assert claims["cus"] == appointment["customer_id"]
        assert claims["iss"] == "workshop-scheduling"
        tokens.append(token)
    assert len(set(tokens)) == 3, "one link per message"
    confirmed_until = datetime.fromtimestamp(
        jwt.decode(tokens[0], options={"verify_signature": False})["exp"], UTC
    )
    assert confirmed_until == local(tomorrow, "11:00"), "valid until the end of the time it announced"
    assert link_row(app, tokens[2]).expires_at == local(tomorrow, "14:00")
    # A move does not revoke the earlier links: each still opens the appointment.
    for token in tokens:
        shown = portal.get(APPOINTMENT, token)
        assert shown.status_code == 200, shown.get_json()
        assert shown.get_json()["start"] == local(tomorrow, "13:00").isoformat()
    assert [m.body["data"].get("link_url") for m in portal.messages("appointment_cancelled")] == []


# ------------------------------------------------------------------ the appointment


def test_shows_the_link_s_appointment_and_counts_the_use(booked, portal, workshop, app):
    _appointment, link = booked
    response = portal.get(APPOINTMENT, link)
    assert response.status_code == 200, response.get_json()
    shown = response.get_json()
    assert shown == {
        "start": local(workshop.day, "10:00").isoformat(),
        "end": local(workshop.day, "11:00").isoformat(),
        "duration_minutes": 60,
        "time_zone": "Europe/Amsterdam",
        "status": "booked",
        "vehicle": {"plate": "AB-123-C", "make": "Volkswagen", "model": "Golf"},
        "work": "annual service",
        "customer_confirmed_at": None,
        "changeable_until": local(workshop.day - timedelta(days=1), "10:00").isoformat(),
        "changeable": True,
    }
    assert "id" not in shown and "customer_id" not in shown and "job_id" not in shown
    portal.get(APPOINTMENT, link)
    row = link_row(app, link)
    assert row.uses == 2 and row.last_used_at is not None


def test_confirm_records_the_first_time_only(booked, portal, workshop, app):
    appointment, link = booked
    response = portal.post(f"{APPOINTMENT}/confirm", link, **{"Portal-Client-Address": "203.0.113.7"})
    assert response.status_code == 200, response.get_json()
    first = response.get_json()["customer_confirmed_at"]
    assert first is not None
    again = portal.post(f"{APPOINTMENT}/confirm", link, **{"Portal-Client-Address": "\x00\x07" + "9" * 300})
    assert again.status_code == 200
    assert again.get_json()["customer_confirmed_at"] == first
    staff_view = workshop.get(appointment["id"])
    assert staff_view["customer_confirmed_at"] == first
    assert client_address(app, appointment["id"]) == "203.0.113.7"


def test_free_starts_to_move_to_count_its_own_time_free(booked, portal, workshop):
    _appointment, link = booked
    workshop.booked(start="13:00", end="14:00")  # the only bay is taken 13:00-14:00
    response = portal.get(f"{APPOINTMENT}/availability", link, date=workshop.day.isoformat())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    starts = [s["start"] for s in body["starts"]]
    assert body["duration_minutes"] == 60
    assert local(workshop.day, "10:00").isoformat() in starts, "its own time"
    assert local(workshop.day, "10:30").isoformat() in starts, "overlapping its own time"
    assert local(workshop.day, "12:30").isoformat() not in starts
    assert local(workshop.day, "13:00").isoformat() not in starts
    assert local(workshop.day, "14:00").isoformat() in starts
    assert set(body["starts"][0]) == {"start", "end"}, "times only, no bays"


def test_move_is_the_front_desk_s_reschedule(booked, portal, workshop, fake_jobs, app):
    appointment, link = booked
    new_start = local(workshop.day + timedelta(days=1), "14:00")
    response = portal.post(
        f"{APPOINTMENT}/move",
        link,
        {"start": new_start.isoformat()},
        **{"Portal-Client-Address": "\x00198.51.100.2"},
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["start"] == new_start.isoformat()
    assert response.get_json()["end"] == (new_start + timedelta(hours=1)).isoformat()
    staff_view = workshop.get(appointment["id"])
    assert staff_view["start"] == new_start.isoformat()
    assert (staff_view["changed_by"], staff_view["changed_by_name"]) == (
        "customer-portal",
        "Customer (portal)",
    )
    assert client_address(app, appointment["id"]) == "198.51.100.2", "printable characters only"
    job = fake_jobs.jobs[appointment["job_id"]]
    assert datetime.fromisoformat(job["planned_start"]) == new_start
    [message] = portal.messages("appointment_rescheduled")
    assert message.body["data"]["previous_start"] == local(workshop.day, "10:00").isoformat()
    assert message.body["data"]["link_url"]
    # The same again changes nothing and tells nobody.
    again = portal.post(f"{APPOINTMENT}/move", link, {"start": new_start.isoformat()})
    assert again.status_code == 200
    assert len(portal.messages("appointment_rescheduled")) == 1


def test_cancel_is_the_front_desk_s_cancel(booked, portal, workshop, fake_jobs):
    appointment, link = booked
    response = portal.post(f"{APPOINTMENT}/cancel", link, {"reason": "on holiday"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "cancelled"
    assert response.get_json()["changeable"] is False
    staff_view = workshop.get(appointment["id"])
    assert staff_view["status"] == "cancelled"
    assert staff_view["cancel_reason"] == "on holiday"
    assert staff_view["changed_by"] == "customer-portal"
    job = fake_jobs.jobs[appointment["job_id"]]
    assert job["status"] == "cancelled"
    assert job["cancel_reason"] == "cancelled by the customer through the customer portal"
    [message] = portal.messages("appointment_cancelled")
    assert message.body["data"]["reason"] == "on holiday"
    again = portal.post(f"{APPOINTMENT}/cancel", link)
    assert again.status_code == 200, "cancelling again changes nothing"
    assert len(portal.messages("appointment_cancelled")) == 1
    # Cancelled: no move, no free times, and no confirmation any more.
    move = {"start": local(workshop.day, "14:00").isoformat()}
    assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 409, "too-late-to-change")
    assert_problem(
        portal.get(f"{APPOINTMENT}/availability", link, date=workshop.day.isoformat()),
        409,
        "too-late-to-change",
    )
    assert_problem(portal.post(f"{APPOINTMENT}/confirm", link), 409, "too-late-to-change")


def test_within_the_cut_off_only_the_front_desk_changes_it(
    booked, portal, workshop, fake_jobs, app, monkeypatch
):
    appointment, link = booked
    monkeypatch.setitem(app.config, "PORTAL_CHANGE_CUTOFF_HOURS", 24 * 3)  # the start is two days away
    before = snapshot(workshop, fake_jobs, portal, appointment)
    shown = portal.get(APPOINTMENT, link).get_json()
    assert shown["changeable"] is False
    assert shown["changeable_until"] == local(workshop.day - timedelta(days=3), "10:00").isoformat()
    move = {"start": local(workshop.day, "14:00").isoformat()}
    body = assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 409, "too-late-to-change")
    assert body["changeable_until"] == shown["changeable_until"]
    assert_problem(portal.post(f"{APPOINTMENT}/cancel", link), 409, "too-late-to-change")
    assert_problem(
        portal.get(f"{APPOINTMENT}/availability", link, date=workshop.day.isoformat()),
        409,
        "too-late-to-change",
    )
    assert snapshot(workshop, fake_jobs, portal, appointment) == before
    assert portal.post(f"{APPOINTMENT}/confirm", link).status_code == 200, "confirming is still fine"
    # The front desk still can.
    assert workshop.act(appointment["id"], "cancel").status_code == 200


def test_a_checked_in_appointment_is_not_the_customer_s_to_change(booked, portal, workshop, fake_jobs):
    appointment, link = booked
    assert workshop.act(appointment["id"], "check-in").status_code == 200
    before = snapshot(workshop, fake_jobs, portal, appointment)
    assert_problem(portal.post(f"{APPOINTMENT}/cancel", link), 409, "too-late-to-change")
    move = {"start": local(workshop.day, "14:00").isoformat()}
    body = assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 409, "too-late-to-change")
    assert body["current_status"] == "checked_in"
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


def test_a_move_into_a_taken_slot_is_409_and_changes_nothing(booked, portal, workshop, fake_jobs):
    appointment, link = booked
    workshop.booked(start="14:00", end="15:00")
    before = snapshot(workshop, fake_jobs, portal, appointment)
    move = {"start": local(workshop.day, "14:30").isoformat()}
    assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 409, "no-bay-free")
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


def test_a_move_the_job_service_refuses_changes_nothing(booked, portal, workshop, fake_jobs):
    appointment, link = booked
    fake_jobs.set_status(appointment["job_id"], "in_progress")
    before = snapshot(workshop, fake_jobs, portal, appointment)
    move = {"start": local(workshop.day, "14:00").isoformat()}
    assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 409, "job-already-started")
    assert_problem(portal.post(f"{APPOINTMENT}/cancel", link), 409, "job-already-started")
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"start": "tomorrow"},
        {"start": "2030-01-07T10:00:00"},  # no offset
        {"start": None},
        {"start": 12},
        {"start": "1969-01-01T10:00:00+00:00"},
        {"start": "2030-01-07T10:07:00+01:00"},  # off the grid
        {"start": "2020-01-07T10:00:00+01:00"},  # the past
        {"start": "2030-01-07T10:00:00+01:00", "appointment_id": str(uuid.uuid4())},
    ],
)
def test_a_bad_move_is_refused_and_changes_nothing(booked, portal, workshop, fake_jobs, body):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)
    response = portal.post(f"{APPOINTMENT}/move", link, body)
    assert response.status_code in (400, 422), response.get_json()
    assert response.mimetype == "application/problem+json"
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


def test_a_move_while_the_job_service_is_down_is_503_and_changes_nothing(
    booked, portal, workshop, fake_jobs, down
):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)
    down("jobs")
    move = {"start": local(workshop.day, "14:00").isoformat()}
    body = assert_problem(portal.post(f"{APPOINTMENT}/move", link, move), 503)
    assert body["dependency"] == "maintenance-job-management"
    assert workshop.get(appointment["id"]) == before[0]


# ------------------------------------------------------------------ who may call


def every_appointment_call(link: str | None, portal: Portal, day: Any) -> list[Any]:
    move = {"start": local(day, "14:00").isoformat()}
    return [
        portal.get(APPOINTMENT, link),
        portal.post(f"{APPOINTMENT}/confirm", link),
        portal.get(f"{APPOINTMENT}/availability", link, date=day.isoformat()),
        portal.post(f"{APPOINTMENT}/move", link, move),
        portal.post(f"{APPOINTMENT}/cancel", link),
        portal.post(PUSH, link, SUBSCRIPTION),
    ]


def test_without_a_token_or_with_a_staff_token_nothing_is_shown_or_changed(
    booked, portal, workshop, fake_jobs, client, auth_headers
):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)
    for response in (
        client.get(APPOINTMENT, headers={"Portal-Link": link}),
        client.post(f"{APPOINTMENT}/cancel", json={}, headers={"Portal-Link": link}),
    ):
        assert_problem(response, 401)
    for role in ("admin", "advisor", "technician", "accountant", "service"):
        staff = {**auth_headers(role), "Portal-Link": link}
        assert_problem(client.get(APPOINTMENT, headers=staff), 403)
        assert_problem(client.post(f"{APPOINTMENT}/cancel", json={}, headers=staff), 403)
        assert_problem(client.get(BOOKING, headers=staff), 403)
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


def tampered(token: str) -> list[str]:
    """The token with another appointment's id in it, with a broken signature, cut
    short, and no token at all."""
    header, payload, signature = token.split(".")
    claims = jwt.decode(token, options={"verify_signature": False})
    other = base64.urlsafe_b64encode(json.dumps({**claims, "sub": str(uuid.uuid4())}).encode())
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    return [
        f"{header}.{other.rstrip(b'=').decode()}.{signature}",
        f"{header}.{payload}.{flipped}",
        token[:-20],
        "not-a-token",
    ]


def test_a_tampered_foreign_or_other_purpose_link_is_403_and_changes_nothing(
    booked, portal, workshop, fake_jobs, app
):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)
    claims = jwt.decode(link, options={"verify_signature": False})
    foreign = [
        # Another service's link (signed with another key), and one made up with this
        # service's name but not its key.
        jwt.encode({**claims, "iss": "maintenance-job-management"}, "x" * 40, algorithm="HS256"),
        jwt.encode(claims, "y" * 40, algorithm="HS256"),
        jwt.encode(claims, key="", algorithm="none"),
    ]
    # A link of another purpose for the same id, and a signed link this service never recorded.
    other_purpose = portal.issue(
        "booking", appointment["vehicle_id"], appointment["customer_id"], valid_for=timedelta(days=1)
    )
    unrecorded = jwt.encode(
        {**claims, "jti": "never-issued"}, app.config["PORTAL_LINK_KEY"], algorithm="HS256"
    )
    for bad in (*tampered(link), *foreign, other_purpose, unrecorded):
        for response in every_appointment_call(bad, portal, workshop.day):
            assert_problem(response, 403, "link-not-valid")
    for response in every_appointment_call(None, portal, workshop.day):
        assert_problem(response, 403, "link-not-valid")
    # And an appointment link does not open the booking operations.
    assert_problem(portal.get(BOOKING, link), 403, "link-not-valid")
    assert_problem(
        portal.post(
            BOOKING,
            link,
            {"start": local(workshop.day, "14:00").isoformat(), "description": "x", "duration_minutes": 60},
        ),
        403,
        "link-not-valid",
    )
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


def test_a_link_to_another_customer_s_appointment_is_not_valid(booked, portal, workshop):
    appointment, _ = booked
    wrong_customer = portal.issue("appointment", appointment["id"], uuid.uuid4(), valid_for=timedelta(days=1))
    assert_problem(portal.get(APPOINTMENT, wrong_customer), 403, "link-not-valid")
    nothing = portal.issue(
        "appointment", uuid.uuid4(), appointment["customer_id"], valid_for=timedelta(days=1)
    )
    assert_problem(portal.get(APPOINTMENT, nothing), 403, "link-not-valid")
    not_an_id = portal.issue(
        "appointment", "not-a-uuid", appointment["customer_id"], valid_for=timedelta(days=1)
    )
    assert_problem(portal.post(f"{APPOINTMENT}/cancel", not_an_id), 403, "link-not-valid")


def test_an_expired_or_revoked_link_is_410_and_changes_nothing(booked, portal, workshop, fake_jobs, app):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)
    expired = portal.issue(
        "appointment",
        appointment["id"],
        appointment["customer_id"],
        expires_at=datetime.now(UTC) - timedelta(seconds=5),
    )
    for response in every_appointment_call(expired, portal, workshop.day):
        assert_problem(response, 410, "link-expired")
    # Recorded as expired though its token still says otherwise.
    jti = jwt.decode(link, options={"verify_signature": False})["jti"]
    with app.app_context():
        db.session.execute(
            text(
                "UPDATE scheduling.portal_links SET expires_at = now() - interval '1 second' WHERE id = :id"
            ),
            {"id": jti},
        )
        db.session.commit()
    for response in every_appointment_call(link, portal, workshop.day):
        assert_problem(response, 410, "link-expired")
    fresh = portal.issue(
        "appointment", appointment["id"], appointment["customer_id"], valid_for=timedelta(days=3)
    )
    assert portal.get(APPOINTMENT, fresh).status_code == 200
    portal.revoke("appointment", appointment["id"])
    for response in every_appointment_call(fresh, portal, workshop.day):
        assert_problem(response, 410, "link-revoked")
    assert snapshot(workshop, fake_jobs, portal, appointment) == before


# ------------------------------------------------------------------ Web Push


def test_a_push_subscription_is_sent_for_the_link_s_customer(booked, portal, workshop, fake_jobs):
    appointment, link = booked
    before = snapshot(workshop, fake_jobs, portal, appointment)[:2]
    response = portal.post(PUSH, link, SUBSCRIPTION)
    assert response.status_code == 202, response.get_json()
    assert response.get_json() == {"push_service": "https://fcm.googleapis.com"}
    [row] = portal.push_subscriptions()
    assert row.method == "POST"
    assert row.body == {
        "customer_id": appointment["customer_id"],
        "endpoint": SUBSCRIPTION["endpoint"],
        "keys": SUBSCRIPTION["keys"],
    }
    assert row.idempotency_key.startswith("push-subscription-")
    assert SUBSCRIPTION["endpoint"] not in row.idempotency_key
    # The same subscription again is the same request; renewed keys are a new one.
    assert portal.post(PUSH, link, SUBSCRIPTION).status_code == 202
    assert len(portal.push_subscriptions()) == 1
    renewed = {**SUBSCRIPTION, "keys": {**SUBSCRIPTION["keys"], "auth": "AAAAAAAAAAAAAAAAAAAAAA"}}
    assert portal.post(PUSH, link, renewed).status_code == 202
    first, second = portal.push_subscriptions()
    assert second.body["keys"]["auth"] == "AAAAAAAAAAAAAAAAAAAAAA"
    assert first.idempotency_key != second.idempotency_key
    # Nothing else changed: the appointment and its job are as they were.
    assert snapshot(workshop, fake_jobs, portal, appointment)[:2] == before


def test_a_push_subscription_is_the_customer_s_of_the_link_not_of_the_body(booked, portal):
    _appointment, link = booked
    body = {**SUBSCRIPTION, "customer_id": str(uuid.uuid4())}
    assert_problem(portal.post(PUSH, link, body), 422)
    assert portal.push_subscriptions() == []


@pytest.mark.parametrize(
    "change",
    [
        {"endpoint": None},
        {"endpoint": "http://fcm.googleapis.com/fcm/send/x"},
        {"endpoint": "https://"},
        # pragma: allowlist nextline secret
        {"endpoint": "https://user:pw@fcm.googleapis.com/x"},
        {"endpoint": "https://[::1/x"},
        {"endpoint": "https://fcm.googleapis.com/a b"},
        {"endpoint": "https://fcm.googleapis.com/" + "x" * 2000},
        {"endpoint": "javascript:alert(1)"},
        {"keys": None},
        {"keys": {}},
        {"keys": {"p256dh": "BNcR"}},
        {"keys": {"p256dh": "not base64!", "auth": "tBHItJI5svbpez7KI4CCXg"}},
        {"keys": {"p256dh": "B" * 101, "auth": "tBHItJI5svbpez7KI4CCXg"}},
        {"keys": {"p256dh": "BNcR", "auth": "a" * 41}},
        {"keys": {"p256dh": "BNcR", "auth": "tBHI\x00"}},
        {"expirationTime": "tomorrow"},
        {"appointment_id": str(uuid.uuid4())},
    ],
)
def test_a_bad_push_subscription_is_refused_and_sends_nothing(booked, portal, change):
    _appointment, link = booked
    response = portal.post(PUSH, link, {**SUBSCRIPTION, **change})
    assert response.status_code in (400, 422), response.get_json()
    assert response.mimetype == "application/problem+json"
    assert portal.push_subscriptions() == []


def test_a_push_subscription_without_the_portal_s_token_or_a_link_is_refused(
    booked, portal, client, auth_headers
):
    _appointment, link = booked
    assert_problem(client.post(PUSH, json=SUBSCRIPTION, headers={"Portal-Link": link}), 401)
    for role in ("admin", "advisor", "service"):
        staff = {**auth_headers(role), "Portal-Link": link}
        assert_problem(client.post(PUSH, json=SUBSCRIPTION, headers=staff), 403)
    assert_problem(portal.post(PUSH, None, SUBSCRIPTION), 403, "link-not-valid")
    assert portal.push_subscriptions() == []


def test_the_relay_delivers_a_push_subscription_as_notification_management_accepts(booked, portal, app):
    _appointment, link = booked
    assert portal.post(PUSH, link, SUBSCRIPTION).status_code == 202
    receiver = FakeNotifications()
    before = app.config["NOTIFICATION_MANAGEMENT_URL"]
    app.config["NOTIFICATION_MANAGEMENT_URL"] = receiver.url
    try:
        with app.app_context():
            OutboxRelay.for_app(app).run_once()
    finally:
        app.config["NOTIFICATION_MANAGEMENT_URL"] = before
        receiver.stop()
    [sent] = [r for r in receiver.requests if r.path == PUSH_SUBSCRIPTIONS]
    assert sent.json["keys"] == SUBSCRIPTION["keys"]
    assert sent.headers["Idempotency-Key"].startswith("push-subscription-")
    assert receiver.violations == []
    assert [r.status for r in portal.push_subscriptions()] == ["delivered"]


# ---------------------------------------------------------------------- booking


@pytest.fixture
def invited(workshop, portal, fake_vehicles) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A vehicle, its owner and the booking link an advisor's invitation sent."""
    workshop.bay("Lift 1")
    workshop.bay("Lift 2")
    owner = uuid.uuid4()
    vehicle_id = fake_vehicles.add(owner_id=owner, plate="XD-123-Z", make="Volvo", model="V60")
    return vehicle_id, owner, portal.invite(workshop.advisor, vehicle_id)


def book_body(
    day: Any, clock: str = "10:00", minutes: int = 60, description: str = "brakes squeak"
) -> dict[str, Any]:
    return {"start": local(day, clock).isoformat(), "description": description, "duration_minutes": minutes}


def test_the_booking_page_shows_the_vehicle_and_the_work(invited, portal, fake_jobs, workshop):
    fake_jobs.add_canned_job("small-service", "Small service", ("0.75",))
    fake_jobs.add_canned_job("big-service", "Big service", ("1.50", "0.60"))
    fake_jobs.add_canned_job("retired", "Retired", active=False)
    _, _, link = invited
    response = portal.get(BOOKING, link)
    assert response.status_code == 200, response.get_json()
    page = response.get_json()
    assert page["vehicle"] == {"plate": "XD-123-Z", "make": "Volvo", "model": "V60"}
    assert page["bookable"] is True
    assert page["work"] == [
        {"code": "small-service", "name": "Small service", "duration_minutes": 45},
        {"code": "big-service", "name": "Big service", "duration_minutes": 135},  # 126 minutes, whole slots
    ]
    assert page["work_complete"] is True
    assert page["other_work_duration_minutes"] == 60
    assert page["slot_minutes"] == 15
    assert "id" not in page["vehicle"]


def test_the_booking_page_answers_without_the_catalogue(invited, portal, down):
    _, _, link = invited
    down("jobs")
    page = portal.get(BOOKING, link).get_json()
    assert page["work"] == [] and page["work_complete"] is False


def test_free_starts_to_book(invited, portal, workshop):
    _, _, link = invited
    workshop.booked(start="10:00", end="11:00")
    workshop.booked(start="10:00", end="11:00")  # both bays
    response = portal.get(f"{BOOKING}/availability", link, date=workshop.day.isoformat(), duration_minutes=60)
    assert response.status_code == 200, response.get_json()
    starts = [s["start"] for s in response.get_json()["starts"]]
    assert local(workshop.day, "09:00").isoformat() in starts
    assert local(workshop.day, "09:30").isoformat() not in starts
    assert local(workshop.day, "11:00").isoformat() in starts
    for query in (
        {"date": workshop.day.isoformat(), "duration_minutes": 50},
        {"date": "someday", "duration_minutes": 60},
        {"date": workshop.day.isoformat()},
        {"date": workshop.day.isoformat(), "duration_minutes": 0},
    ):
        response = portal.get(f"{BOOKING}/availability", link, **query)
        assert_problem(response, 422)


def test_booking_is_the_front_desk_s_booking(invited, portal, workshop, fake_jobs, app):
    vehicle_id, owner, link = invited
    response = portal.post(
        BOOKING,
        link,
        book_body(workshop.day),
        **{"Idempotency-Key": "k-1", "Portal-Client-Address": "192.0.2.9"},
    )
    assert response.status_code == 201, response.get_json()
    shown = response.get_json()
    assert shown["start"] == local(workshop.day, "10:00").isoformat()
    assert shown["end"] == local(workshop.day, "11:00").isoformat()
    assert shown["work"] == "brakes squeak"
    assert shown["status"] == "booked"
    [listed] = workshop.client.get(
        "/api/v1/appointments", query_string={"vehicle_id": str(vehicle_id)}, headers=workshop.advisor
    ).get_json()["items"]
    assert listed["customer_id"] == str(owner)
    assert (listed["booked_by"], listed["booked_by_name"]) == ("customer-portal", "Customer (portal)")
    job = fake_jobs.job_for(listed["id"])
    assert job["vehicle_id"] == str(vehicle_id) and job["customer_id"] == str(owner)
    [confirmation] = portal.messages("appointment_confirmed")
    assert confirmation.body["customer_id"] == str(owner)
    assert portal.get(APPOINTMENT, token_of(confirmation)).status_code == 200, "its own appointment link"
    # The same key again: the same answer, no second booking, no second job.
    again = portal.post(BOOKING, link, book_body(workshop.day), **{"Idempotency-Key": "k-1"})
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(fake_jobs.creates()) == 1
    assert len(portal.messages("appointment_confirmed")) == 1


def test_a_key_is_the_link_s_own(invited, portal, workshop, fake_vehicles):
    """The portal calls for every customer with one identity: another customer's
    booking with the same Idempotency-Key and body is a booking of its own."""
    _, _, link = invited
    other_vehicle = fake_vehicles.add(owner_id=uuid.uuid4())
    other_link = portal.invite(workshop.advisor, other_vehicle)
    first = portal.post(BOOKING, link, book_body(workshop.day), **{"Idempotency-Key": "same"})
    second = portal.post(BOOKING, other_link, book_body(workshop.day), **{"Idempotency-Key": "same"})
    assert first.status_code == second.status_code == 201, second.get_json()
    assert "Idempotent-Replayed" not in second.headers
    owners = {m.body["customer_id"] for m in portal.messages("appointment_confirmed")}
    assert len(owners) == 2


def test_a_taken_slot_is_409_and_books_nothing(invited, portal, workshop, fake_jobs):
    _, _, link = invited
    workshop.booked(start="10:00", end="11:00")
    workshop.booked(start="10:00", end="11:00")
    jobs_before, messages_before = len(fake_jobs.jobs), len(portal.outbox_rows())
    assert_problem(portal.post(BOOKING, link, book_body(workshop.day, "10:30")), 409, "no-bay-free")
    assert (len(fake_jobs.jobs), len(portal.outbox_rows())) == (jobs_before, messages_before)


def test_a_vehicle_that_changed_hands_is_410_and_books_nothing(
    invited, portal, workshop, fake_vehicles, fake_jobs, count_rows
):
    vehicle_id, _, link = invited
    fake_vehicles.resources[str(vehicle_id)]["owner_id"] = str(uuid.uuid4())
    assert_problem(portal.get(BOOKING, link), 410, "link-revoked")
    assert_problem(portal.post(BOOKING, link, book_body(workshop.day)), 410, "link-revoked")
    assert fake_jobs.creates() == []
    assert count_rows("appointments") == 0, "the reservation released"
    del fake_vehicles.resources[str(vehicle_id)]
    assert_problem(portal.get(BOOKING, link), 410, "link-revoked")


def test_a_deregistered_vehicle_is_not_bookable(invited, portal, workshop, fake_vehicles, fake_jobs):
    vehicle_id, _, link = invited
    fake_vehicles.resources[str(vehicle_id)]["status"] = "deregistered"
    fake_vehicles.resources[str(vehicle_id)]["deregistered_at"] = "2026-02-01T09:00:00+00:00"
    assert portal.get(BOOKING, link).get_json()["bookable"] is False
    assert_problem(portal.post(BOOKING, link, book_body(workshop.day)), 422)
    assert fake_jobs.creates() == []


@pytest.mark.parametrize(
    "change",
    [
        {"start": None},
        {"start": "2030-01-07 10:00"},
        {"description": ""},
        {"description": "   "},
        {"description": "x" * 1001},
        {"description": "nul\x00"},
        {"duration_minutes": 0},
        {"duration_minutes": 50},
        {"duration_minutes": "sixty"},
        {"duration_minutes": 100000},
        {"vehicle_id": str(uuid.uuid4())},
        {"start": "2020-01-07T10:00:00+01:00"},
    ],
)
def test_a_bad_booking_is_refused_and_books_nothing(invited, portal, workshop, fake_jobs, count_rows, change):
    _, _, link = invited
    response = portal.post(BOOKING, link, {**book_body(workshop.day), **change})
    assert response.status_code in (400, 422), response.get_json()
    assert response.mimetype == "application/problem+json"
    assert fake_jobs.creates() == [] and count_rows("appointments") == 0


def test_booking_refusals_by_link(invited, portal, workshop, fake_jobs, client, auth_headers, count_rows):
    vehicle_id, owner, link = invited
    body = book_body(workshop.day)
    assert_problem(client.post(BOOKING, json=body, headers={"Portal-Link": link}), 401)
    assert_problem(
        client.post(BOOKING, json=body, headers={**auth_headers("advisor"), "Portal-Link": link}), 403
    )
    assert_problem(portal.post(BOOKING, None, body), 403, "link-not-valid")
    assert_problem(portal.post(BOOKING, link[:-3] + "abc", body), 403, "link-not-valid")
    expired = portal.issue("booking", vehicle_id, owner, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    assert_problem(portal.post(BOOKING, expired, body), 410, "link-expired")
    assert_problem(
        portal.get(f"{BOOKING}/availability", expired, date=workshop.day.isoformat(), duration_minutes=60),
        410,
        "link-expired",
    )
    portal.revoke("booking", vehicle_id)
    assert_problem(portal.post(BOOKING, link, body), 410, "link-revoked")
    assert_problem(portal.get(BOOKING, link), 410, "link-revoked")
    assert fake_jobs.creates() == [] and count_rows("appointments") == 0


# ------------------------------------------------------------------ invitations


def test_an_invitation_sends_a_booking_link(workshop, portal, fake_vehicles, app):
    owner = uuid.uuid4()
    vehicle_id = fake_vehicles.add(owner_id=owner, plate="XD-123-Z", make="Volvo", model="V60")
    response = workshop.client.post(
        "/api/v1/booking-invitations", json={"vehicle_id": str(vehicle_id)}, headers=workshop.advisor
    )
    assert response.status_code == 202, response.get_json()
    answer = response.get_json()
    assert answer["vehicle_id"] == str(vehicle_id)
    assert answer["customer_id"] == str(owner)
    assert answer["type"] == "booking_invitation"
    expires = datetime.fromisoformat(answer["expires_at"])
    assert abs(expires - (datetime.now(UTC) + timedelta(days=30))) < timedelta(minutes=1)
    [message] = portal.messages("booking_invitation")
    assert message.body["customer_id"] == str(owner)
    data = message.body["data"]
    assert data["link_url"].startswith(f"{app.config['PORTAL_URL']}/book/")
    assert (data["plate"], data["vehicle"], data["vehicle_id"]) == ("XD-123-Z", "Volvo V60", str(vehicle_id))
    assert (data["make"], data["model"]) == ("Volvo", "V60")
    claims = jwt.decode(token_of(message), options={"verify_signature": False})
    assert (claims["pur"], claims["sub"], claims["cus"]) == ("booking", str(vehicle_id), str(owner))
    assert portal.get(BOOKING, token_of(message)).status_code == 200


def test_a_follow_up_from_another_service_is_sent_once(workshop, portal, fake_vehicles):
    vehicle_id = fake_vehicles.add()
    body = {
        "vehicle_id": str(vehicle_id),
        "type": "service_due",
        "data": {"due_date": "2027-03-01", "link_url": "x"},
    }
    headers = {**workshop.service, "Idempotency-Key": f"service-due-{vehicle_id}-2027-03-01"}
    first = workshop.client.post("/api/v1/booking-invitations", json=body, headers=headers)
    second = workshop.client.post("/api/v1/booking-invitations", json=body, headers=headers)
    assert first.status_code == second.status_code == 202, second.get_json()
    assert second.get_json() == first.get_json()
    [message] = portal.messages("service_due")
    assert message.body["data"]["due_date"] == "2027-03-01"
    assert message.body["data"]["link_url"].startswith("http"), "the link is the service's own"
    assert message.idempotency_key.startswith(f"service-due-{vehicle_id}-")


def test_invitation_refusals(workshop, portal, fake_vehicles, auth_headers, down):
    url = "/api/v1/booking-invitations"
    post = workshop.client.post
    deregistered = fake_vehicles.add(status="deregistered")
    for body in (
        {},
        {"vehicle_id": "nope"},
        {"vehicle_id": str(uuid.uuid4())},
        {"vehicle_id": str(deregistered)},
        {"vehicle_id": str(fake_vehicles.add()), "type": "appointment_reminder"},
        {"vehicle_id": str(fake_vehicles.add()), "data": "text"},
        {"vehicle_id": str(fake_vehicles.add()), "data": {f"k{i}": i for i in range(31)}},
        {"vehicle_id": str(fake_vehicles.add()), "data": {"long": "x" * 20001}},
    ):
        response = post(url, json=body, headers=workshop.advisor)
        assert response.status_code in (400, 422), (body, response.get_json())
    assert_problem(post(url, json={"vehicle_id": str(fake_vehicles.add())}, headers=workshop.technician), 403)
    portal_token = portal.auth
    assert_problem(post(url, json={"vehicle_id": str(fake_vehicles.add())}, headers=portal_token), 403)
    down("vehicles")
    body = assert_problem(
        post(url, json={"vehicle_id": str(fake_vehicles.add())}, headers=workshop.advisor), 503
    )
    assert body["dependency"] == "vehicle-management"
    assert portal.messages("booking_invitation") == []


def test_the_relay_delivers_the_links_as_notification_management_accepts(
    workshop, portal, fake_vehicles, app
):
    """The appointment and booking links reach a contract-checked notification-management."""
    receiver = FakeNotifications()
    try:
        workshop.bay()
        workshop.booked()
        portal.invite(
            workshop.advisor,
            fake_vehicles.add(),
            type="declined_work",
            data={"lines": [{"description": "tyres"}]},
        )
        before = app.config["NOTIFICATION_MANAGEMENT_URL"]
        app.config["NOTIFICATION_MANAGEMENT_URL"] = receiver.url
        try:
            with app.app_context():
                OutboxRelay.for_app(app).run_once()
        finally:
            app.config["NOTIFICATION_MANAGEMENT_URL"] = before
        assert [r.json["type"] for r in receiver.requests] == ["appointment_confirmed", "declined_work"]
        assert all(r.json["data"]["link_url"].startswith(app.config["PORTAL_URL"]) for r in receiver.requests)
        assert receiver.violations == []
    finally:
        receiver.stop()


def test_staff_changes_record_who_made_them(workshop):
    workshop.bay()
    appointment = workshop.booked(start="10:00", end="11:00")
    assert workshop.get(appointment["id"])["changed_by"] is None
    moved = workshop.act(appointment["id"], "reschedule", {"start": local(workshop.day, "12:00").isoformat()})
    assert moved.get_json()["changed_by"] == "advisor-bea"
    cancelled = workshop.act(appointment["id"], "cancel", headers=workshop.admin)
    assert cancelled.get_json()["changed_by"] == "admin-cas"


def test_a_portal_booking_with_a_bad_key_is_400_and_books_nothing(invited, portal, workshop, fake_jobs):
    _, _, link = invited
    for key in ("x" * 256, " "):
        response = portal.post(BOOKING, link, book_body(workshop.day), **{"Idempotency-Key": key})
        assert_problem(response, 400)
    assert fake_jobs.creates() == []


@pytest.mark.parametrize("raw", ['{"x": NaN}', '{"x": Infinity}', '{"x": [1, {"y": -Infinity}]}'])
def test_template_data_json_cannot_store_is_refused(workshop, fake_vehicles, raw, portal):
    """Python's JSON reads NaN and Infinity; PostgreSQL's does not: a 422, not a 500."""
    body = f'{{"vehicle_id": "{fake_vehicles.add()}", "data": {raw}}}'
    response = workshop.client.post(
        "/api/v1/booking-invitations", data=body, content_type="application/json", headers=workshop.advisor
    )
    assert response.status_code in (400, 422), response.get_json()
    assert portal.messages("booking_invitation") == []
