"""send-due-reminders: one booking invitation per vehicle, kind and due date, through the
outbox to workshop-scheduling (faked at HTTP; the requests checked against its
contract), even when the command runs twice at once."""

import json
import threading
from datetime import date

import pytest
import responses
from vehicle_management import cli

from service_kit.contract_testing import find_contract, validate_request

from ..fakes import WORKSHOP_SCHEDULING_URL

VEHICLES = "/api/v1/vehicles"
INVITATIONS = "/api/v1/booking-invitations"
WORKSHOP_SCHEDULING = find_contract("workshop-scheduling")
AS_OF = "2026-12-10"


@pytest.fixture
def intervals(client, auth_headers):
    admin = auth_headers("admin")
    for code, body in {
        "small-service": {
            "name": "small service",
            "months": 12,
            "km": 15000,
            "canned_job_codes": ["small-service", "major-service"],
        },
        "major-service": {"name": "major service", "months": 24, "km": 30000},
    }.items():
        assert client.put(
            f"/api/v1/vehicles/service-intervals/{code}", json=body, headers=admin
        ).status_code in (
            200,
            201,
        )


@pytest.fixture
def due_soon(register, jobs, intervals):
    """A diesel whose APK falls due on 2027-01-05 and whose small service is due on
    2026-12-20 (a major service a year before): both within 30 days of AS_OF."""
    vehicle = register(fuel_type="diesel", first_admission_on="2024-01-05", plate="XD-123-Z")
    major = jobs.canned_job("major-service")
    jobs.completed(
        vehicle["id"], completed_at="2025-12-20T12:00:00+00:00", odometer_in=20_000, canned_job_ids=(major,)
    )
    return vehicle


def run(app, as_of=AS_OF):
    result = app.test_cli_runner().invoke(args=["send-due-reminders", "--as-of", as_of])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_vehicle_falling_due_is_invited_once_per_kind(app, due_soon, outbox_rows):
    assert "2 booking invitations queued" in run(app)
    rows = {row.idempotency_key: row for row in outbox_rows()}
    vehicle_id = due_soon["id"]
    assert set(rows) == {f"service-due-{vehicle_id}-2026-12-20", f"inspection-due-{vehicle_id}-2027-01-05"}
    service = rows[f"service-due-{vehicle_id}-2026-12-20"]
    assert (service.target, service.method, service.path, service.status) == (
        "workshop-scheduling",
        "POST",
        INVITATIONS,
        "pending",
    )
    assert service.body["vehicle_id"] == vehicle_id
    assert service.body["type"] == "service_due"
    assert service.body["data"]["plate"] == "XD-123-Z"
    assert service.body["data"]["due_date"] == "2026-12-20"
    assert service.body["data"]["due_km"] == 35_000
    assert service.body["data"]["service"] == "small service"
    inspection = rows[f"inspection-due-{vehicle_id}-2027-01-05"]
    assert inspection.body["type"] == "inspection_due"
    assert inspection.body["data"]["due_date"] == "2027-01-05"
    for row in rows.values():
        validate_request(WORKSHOP_SCHEDULING, "POST", INVITATIONS, row.body)


def test_the_next_runs_send_nothing_again(app, client, advisor, due_soon, outbox_rows):
    run(app)
    assert "0 booking invitations queued" in run(app)
    # The next day, with a new reading moving the estimate by distance: the same due date.
    response = client.post(
        f"{VEHICLES}/{due_soon['id']}/odometer-readings",
        json={"value": 29_000, "read_at": "2026-12-05T08:00:00+00:00"},
        headers=advisor,
    )
    assert response.status_code == 201
    assert "0 booking invitations queued" in run(app, "2026-12-11")
    assert len(outbox_rows()) == 2


def test_two_runs_at_once_send_once(app, due_soon, jobs, outbox_rows):
    """Both runs ask maintenance-job-management at the same moment (neither has written
    anything yet), then both try to queue the same two invitations."""
    both_asking = threading.Barrier(2, timeout=10)
    jobs.before_answer = both_asking.wait
    results, errors = [], []

    def send():
        try:
            with app.app_context():
                results.append(cli.send_due_reminders(date.fromisoformat(AS_OF)))
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sorted(r.sent for r in results) in ([0, 2], [1, 1])
    assert len(outbox_rows()) == 2
    assert len({row.idempotency_key for row in outbox_rows()}) == 2


def test_who_is_not_invited(app, client, advisor, register, jobs, intervals, outbox_rows):
    major = jobs.canned_job("major-service")
    # Due long after the look-ahead.
    later = register(fuel_type="petrol", first_admission_on="2026-01-01")
    jobs.completed(
        later["id"], completed_at="2026-11-01T12:00:00+00:00", odometer_in=1_000, canned_job_ids=(major,)
    )
    # Its inspection worked out from the model year alone (no admission date): not sent.
    estimated = register(fuel_type="diesel", year=2024)
    jobs.completed(
        estimated["id"], completed_at="2026-11-01T12:00:00+00:00", odometer_in=1_000, canned_job_ids=(major,)
    )
    # Overdue for longer than DUE_REMINDER_OVERDUE_DAYS: no service recorded since 2024.
    overdue = register(fuel_type="petrol", first_admission_on="2023-06-01")
    # Deregistered: nobody to invite.
    gone = register(fuel_type="diesel", first_admission_on="2024-01-05")
    jobs.completed(
        gone["id"], completed_at="2025-12-20T12:00:00+00:00", odometer_in=20_000, canned_job_ids=(major,)
    )
    assert (
        client.patch(f"{VEHICLES}/{gone['id']}", json={"status": "deregistered"}, headers=advisor).status_code
        == 200
    )
    output = run(app)
    assert "3 vehicles worked out" in output
    assert "0 booking invitations queued" in output, [r.idempotency_key for r in outbox_rows()]
    assert outbox_rows() == []
    del overdue


def test_the_relay_delivers_the_invitation_to_workshop_scheduling(app, due_soon, outbox_rows):
    run(app)
    accepted = {
        "vehicle_id": due_soon["id"],
        "customer_id": due_soon["owner_id"],
        "type": "service_due",
        "expires_at": "2027-01-09T10:00:00+01:00",
    }
    with responses.RequestsMock() as workshop:
        workshop.add("POST", WORKSHOP_SCHEDULING_URL + INVITATIONS, json=accepted, status=202)
        result = app.test_cli_runner().invoke(args=["relay-outbox", "--once"])
        assert result.exit_code == 0, result.output
        assert "delivered 2" in result.output
        sent = {call.request.headers["Idempotency-Key"]: call.request for call in workshop.calls}
    assert set(sent) == {row.idempotency_key for row in outbox_rows()}
    for request in sent.values():
        assert request.headers["Authorization"].startswith("Bearer ")
        validate_request(WORKSHOP_SCHEDULING, "POST", INVITATIONS, json.loads(request.body))
    assert {row.status for row in outbox_rows()} == {"delivered"}


def test_a_bad_as_of_is_refused_by_the_command(app):
    result = app.test_cli_runner().invoke(args=["send-due-reminders", "--as-of", "tomorrow"])
    assert result.exit_code == 2
    assert "tomorrow" in result.output
