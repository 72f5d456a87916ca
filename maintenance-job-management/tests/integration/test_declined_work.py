"""send-declined-work-follow-ups: the work a customer declined is followed up once per
job, DECLINED_WORK_FOLLOW_UP_DAYS after the visit, as a declined_work booking invitation
through the outbox to workshop-scheduling (faked at HTTP and held to its contract) — not
when the vehicle has a later job, and once even when two runs go at the same moment."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from maintenance_job_management import cli
from maintenance_job_management.models import db
from maintenance_job_management.service import follow_ups
from sqlalchemy import text

from service_kit.contract_testing import find_contract, validate_request
from service_kit.fakes import ContractServer, Received

from .test_portal import VEHICLE

INVITATIONS = "/api/v1/booking-invitations"
WORKSHOP_SCHEDULING = find_contract("workshop-scheduling")
GARAGE = ZoneInfo("Europe/Amsterdam")


class Invitations(ContractServer):
    """workshop-scheduling's POST /api/v1/booking-invitations: every request body held
    to its contract, answered 202 as the contract says."""

    def __init__(self) -> None:
        super().__init__(WORKSHOP_SCHEDULING)

    def handle(self, request: Received) -> tuple[int, Any, str]:
        assert (request.method, request.path) == ("POST", INVITATIONS), request.path
        validate_request(self.contract, "POST", INVITATIONS, request.json)
        body = {
            "vehicle_id": request.json["vehicle_id"],
            "customer_id": request.json["data"]["customer_id"],
            "type": request.json["type"],
            "expires_at": "2027-02-01T10:00:00+01:00",
        }
        return 202, body, INVITATIONS


@pytest.fixture
def scheduling(app):
    server = Invitations()
    before = {name: app.config[name] for name in ("WORKSHOP_SCHEDULING_URL", "WORKSHOP_SCHEDULING_RETRIES")}
    app.config.update(WORKSHOP_SCHEDULING_URL=server.url, WORKSHOP_SCHEDULING_RETRIES=0)
    yield server
    app.config.update(before)
    server.stop()
    assert server.violations == []


def declined_visit(jobs, auth_headers, *, vehicle_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A completed job whose customer approved the service and declined brake pads
    (labour 1.5 h at 60.00) and wiper blades (2 x 12.50), all at 21% VAT."""
    job = jobs.create(vehicle_id=vehicle_id or str(uuid.uuid4()), **VEHICLE, **fields)
    jobs.must(job["id"], "start")
    jobs.labour(job["id"], description="annual service")
    brakes = jobs.labour(job["id"], description="replace the front\nbrake pads", booked=False)
    wipers = jobs.part(job["id"], description="wiper blades", quantity="2", price=1250, booked=False)
    response = jobs.estimate(job["id"])
    assert response.status_code == 201, response.get_json()
    decided = jobs.decide(job["id"], response.get_json(), approve={brakes["id"]: False, wipers["id"]: False})
    assert decided.status_code == 200, decided.get_json()
    return jobs.must(job["id"], "complete")


def visit_day(job: dict[str, Any]) -> date:
    return datetime.fromisoformat(job["completed_at"]).astimezone(GARAGE).date()


def run(app, as_of: date) -> str:
    result = app.test_cli_runner().invoke(
        args=["send-declined-work-follow-ups", "--as-of", as_of.isoformat()]
    )
    assert result.exit_code == 0, result.output
    return result.output


def invitations(outbox_rows) -> list[Any]:
    return [row for row in outbox_rows() if row.path == INVITATIONS]


def test_the_declined_work_is_followed_up_14_days_after_the_visit(
    app, client, jobs, auth_headers, outbox_rows
):
    job = declined_visit(jobs, auth_headers)
    day = visit_day(job)
    assert "0 follow-ups queued" in run(app, day + timedelta(days=13))
    assert invitations(outbox_rows) == []
    output = run(app, day + timedelta(days=14))
    assert "1 with declined work due, 1 follow-ups queued" in output
    (row,) = invitations(outbox_rows)
    assert (row.target, row.method, row.status) == ("workshop-scheduling", "POST", "pending")
    assert row.idempotency_key == f"declined-work-{job['id']}"
    assert row.body["vehicle_id"] == job["vehicle_id"]
    assert row.body["type"] == "declined_work"
    data = row.body["data"]
    assert data["lines"] == [
        # 1.5 h x 60.00 = 90.00 + 21% = 108.90; the description on one line.
        {"description": "replace the front brake pads", "kind": "labour", "gross": 10890},
        {"description": "wiper blades", "kind": "part", "gross": 3025},
    ]
    assert (data["visit_date"], data["currency"], data["plate"]) == (day.isoformat(), "EUR", "AB-123-C")
    assert (data["make"], data["model"]) == ("Volkswagen", "Golf")
    assert (data["job_id"], data["customer_id"]) == (job["id"], job["customer_id"])
    assert "more_lines" not in data
    validate_request(WORKSHOP_SCHEDULING, "POST", INVITATIONS, row.body)
    # Once per job: the next runs, that day or later, send nothing more.
    assert "0 with declined work due, 0 follow-ups queued" in run(app, day + timedelta(days=14))
    assert "0 follow-ups queued" in run(app, day + timedelta(days=16))
    assert len(invitations(outbox_rows)) == 1


def test_the_hand_over_is_the_end_of_the_visit(app, client, jobs, auth_headers, outbox_rows):
    """Collected three days after completion: due 14 days after the collection."""
    job = declined_visit(jobs, auth_headers)
    day = visit_day(job)
    collected = datetime.fromisoformat(job["completed_at"]) + timedelta(days=3)
    with app.app_context():
        db.session.execute(
            text("UPDATE jobs.maintenance_jobs SET collected_at = :at WHERE id = :id"),
            {"at": collected, "id": job["id"]},
        )
        db.session.commit()
    assert "0 follow-ups queued" in run(app, day + timedelta(days=14))
    run(app, day + timedelta(days=17))
    (row,) = invitations(outbox_rows)
    assert row.body["data"]["visit_date"] == collected.astimezone(GARAGE).date().isoformat()


def test_a_missed_day_is_caught_up_but_an_old_visit_is_never_sent(
    app, client, jobs, auth_headers, outbox_rows
):
    late = declined_visit(jobs, auth_headers)
    day = visit_day(late)
    # DECLINED_WORK_FOLLOW_UP_LATE_DAYS (7) too late: never.
    assert "0 with declined work due" in run(app, day + timedelta(days=14 + 8))
    # 7 days late (the CronJob did not run for a week): still sent.
    assert "1 follow-ups queued" in run(app, day + timedelta(days=14 + 7))
    assert [row.idempotency_key for row in invitations(outbox_rows)] == [f"declined-work-{late['id']}"]


def test_who_is_not_followed_up(app, client, jobs, auth_headers, outbox_rows):
    # Everything approved: nothing declined.
    approved = jobs.create(**VEHICLE)
    jobs.must(approved["id"], "start")
    jobs.labour(approved["id"])
    done = jobs.must(approved["id"], "complete")
    day = visit_day(done)
    # Declined work, but the vehicle is booked in again (a later job, not cancelled).
    booked_again = declined_visit(jobs, auth_headers)
    jobs.create(vehicle_id=booked_again["vehicle_id"], planned_start=jobs.soon(days=20))
    # Declined work on a job not completed (still on hold).
    waiting = jobs.create(**VEHICLE)
    jobs.must(waiting["id"], "start")
    declined = jobs.part(waiting["id"], description="tyres", booked=False)
    estimate = jobs.estimate(waiting["id"]).get_json()
    assert jobs.decide(waiting["id"], estimate, approve={declined["id"]: False}).status_code == 200
    jobs.must(waiting["id"], "hold")
    # Declined work, and a later job of the vehicle that was cancelled: still followed up.
    followed = declined_visit(jobs, auth_headers)
    cancelled = jobs.create(vehicle_id=followed["vehicle_id"], planned_start=jobs.soon(days=20))
    jobs.must(cancelled["id"], "cancel")
    # An earlier job of the same vehicle does not cover it either.
    jobs.create(vehicle_id=followed["vehicle_id"], planned_start=jobs.soon(days=-20))
    assert "1 with declined work due, 1 follow-ups queued" in run(app, day + timedelta(days=14))
    assert [row.idempotency_key for row in invitations(outbox_rows)] == [f"declined-work-{followed['id']}"]


def test_two_runs_at_once_queue_one_follow_up(app, client, jobs, auth_headers, outbox_rows, monkeypatch):
    """Both runs have found the job (neither has claimed it yet) before either goes on:
    the second waits on the first's claim, then finds it and sends nothing."""
    job = declined_visit(jobs, auth_headers)
    as_of = visit_day(job) + timedelta(days=14)
    both_found = threading.Barrier(2, timeout=10)
    find = follow_ups.candidates

    def found_then_wait(*args: Any, **kwargs: Any) -> Any:
        result = find(*args, **kwargs)
        both_found.wait()
        return result

    monkeypatch.setattr(follow_ups, "candidates", found_then_wait)
    results, errors = [], []

    def send() -> None:
        try:
            with app.app_context():
                results.append(cli.send_declined_work_follow_ups(as_of))
        except Exception as exc:  # pragma: no cover - shown by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(run.due for run in results) == [1, 1]  # both found it
    assert sorted(run.sent for run in results) == [0, 1]
    (row,) = invitations(outbox_rows)
    assert row.idempotency_key == f"declined-work-{job['id']}"
    with app.app_context():
        claims = db.session.execute(
            text("SELECT job_id, outbox_message_id, lines FROM jobs.declined_work_follow_ups")
        ).all()
    assert [(str(c.job_id), c.outbox_message_id, c.lines) for c in claims] == [(job["id"], row.id, 2)]


def test_many_long_lines_are_cut_to_what_scheduling_takes(app, client, jobs, auth_headers, outbox_rows):
    job = jobs.create(**VEHICLE)
    jobs.must(job["id"], "start")
    lines = [
        jobs.part(job["id"], description=f"{n} " + "é" * 400, price=100 + n, booked=False)["id"]
        for n in range(12)
    ]
    estimate = jobs.estimate(job["id"]).get_json()
    assert jobs.decide(job["id"], estimate, approve=dict.fromkeys(lines, False)).status_code == 200
    done = jobs.must(job["id"], "complete")
    run(app, visit_day(done) + timedelta(days=14))
    (row,) = invitations(outbox_rows)
    data = row.body["data"]
    # workshop-scheduling's limit: 4,000 characters of data as JSON.
    assert len(json.dumps(data)) <= 4000
    assert 1 <= len(data["lines"]) <= 10
    assert data["more_lines"] == 12 - len(data["lines"])
    assert all(len(line["description"]) <= 200 for line in data["lines"])
    assert data["lines"][0]["description"].startswith("0 éé") and data["lines"][0]["description"].endswith(
        "…"
    )
    validate_request(WORKSHOP_SCHEDULING, "POST", INVITATIONS, row.body)


def test_the_relay_delivers_the_follow_up_once(app, client, jobs, auth_headers, outbox_rows, scheduling):
    job = declined_visit(jobs, auth_headers)
    run(app, visit_day(job) + timedelta(days=14))
    relay = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert relay.exit_code == 0, relay.output
    (request,) = scheduling.received(INVITATIONS)
    assert request.headers["Idempotency-Key"] == f"declined-work-{job['id']}"
    assert request.headers["Authorization"].startswith("Bearer ")
    assert request.json["type"] == "declined_work"
    (row,) = invitations(outbox_rows)
    assert row.status == "delivered"
    again = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
    assert again.exit_code == 0, again.output
    assert len(scheduling.received(INVITATIONS)) == 1


def test_a_bad_as_of_is_refused_by_the_command(app):
    result = app.test_cli_runner().invoke(args=["send-declined-work-follow-ups", "--as-of", "next week"])
    assert result.exit_code == 2
    assert "next week" in result.output
