"""One state per visit (docs/visits.md): every change of a job's status goes to
workshop-scheduling through the outbox, in the transaction of the change; the status of
the job's appointment that workshop-scheduling reports back is kept on the job, once per
version and never an older one after a newer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from service_kit.contract_testing import find_contract, validate_request
from service_kit.testing import assert_problem

URL = "/api/v1/maintenance-jobs"
SCHEDULING_CONTRACT = find_contract("workshop-scheduling")
JOB_STATUS_PATH = "/api/v1/appointments/{appointment_id}/job"


def told(outbox_rows):
    """What the job service told workshop-scheduling, oldest first."""
    return outbox_rows(target="workshop-scheduling")


def report(jobs, job, status, version, *, at=None, **more):
    body = {
        "appointment_id": job["appointment_id"],
        "appointment_status": status,
        "appointment_version": version,
        "changed_at": (at or datetime.now(UTC)).isoformat(),
        **more,
    }
    return jobs.client.put(f"{URL}/{job['id']}/appointment", json=body, headers=jobs.service)


def test_each_status_change_is_told_to_the_appointment_with_its_version(client, jobs, outbox_rows):
    job = jobs.create()
    assert told(outbox_rows) == [], "a new job is scheduled, as its booking knows"
    started = jobs.must(job["id"], "start")
    held = jobs.must(job["id"], "hold", {"reason": "waiting for parts"})
    resumed = jobs.must(job["id"], "resume")
    done = jobs.must(job["id"], "complete")
    rows = told(outbox_rows)
    assert [(r.body["job_status"], r.body["job_version"]) for r in rows] == [
        ("in_progress", started["version"]),
        ("on_hold", held["version"]),
        ("in_progress", resumed["version"]),
        ("completed", done["version"]),
    ]
    for row, answer in zip(rows, (started, held, resumed, done), strict=True):
        assert (row.method, row.path) == ("PUT", f"/api/v1/appointments/{job['appointment_id']}/job")
        assert row.idempotency_key == f"job-status-{job['id']}-v{answer['version']}"
        assert row.body["job_id"] == job["id"]
        validate_request(SCHEDULING_CONTRACT, "PUT", JOB_STATUS_PATH, row.body)
    assert rows[-1].body["changed_at"] == done["completed_at"]


def test_a_cancelled_job_tells_its_appointment_why(client, jobs, outbox_rows):
    job = jobs.create()
    cancelled = jobs.must(job["id"], "cancel", {"reason": "the customer sold the car"})
    (row,) = told(outbox_rows)
    assert row.body["job_status"] == "cancelled"
    assert row.body["job_version"] == cancelled["version"]
    assert row.body["reason"] == "the customer sold the car"
    assert row.body["changed_at"] == cancelled["cancelled_at"]
    again = jobs.must(job["id"], "cancel", {"reason": "twice"})
    assert again["version"] == cancelled["version"]
    assert len(told(outbox_rows)) == 1, "cancelling again changes nothing, tells nothing"


def test_the_approval_rule_holding_and_releasing_a_job_is_told_too(client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], rate=10000)
    jobs.patch_line(job["id"], line["id"], hourly_rate=11100)  # +11%: on hold for approval
    assert jobs.get(job["id"])["status"] == "on_hold"
    jobs.decide(job["id"], jobs.estimate(job["id"]).get_json(), approve=True)
    resumed = jobs.get(job["id"])
    assert resumed["status"] == "in_progress"
    statuses = [r.body["job_status"] for r in told(outbox_rows)]
    assert statuses == ["in_progress", "on_hold", "in_progress"]
    versions = [r.body["job_version"] for r in told(outbox_rows)]
    assert versions == sorted(set(versions)) and versions[-1] <= resumed["version"]


def test_a_refused_transition_tells_nothing(client, jobs, outbox_rows):
    job = jobs.create()
    assert jobs.act(job["id"], "complete").status_code == 409
    assert jobs.act(job["id"], "resume").status_code == 409
    assert told(outbox_rows) == []


def test_check_in_marks_the_job_arrived(client, jobs):
    job = jobs.create()
    assert (job["appointment_status"], job["arrived_at"]) == (None, None)
    booked = report(jobs, job, "booked", 1)
    assert booked.status_code == 200, booked.get_json()
    assert (booked.get_json()["appointment_status"], booked.get_json()["arrived_at"]) == ("booked", None)
    arrival = datetime(2030, 1, 7, 8, 55, tzinfo=UTC)
    response = report(jobs, job, "checked_in", 2, at=arrival, checked_in_at=arrival.isoformat())
    assert response.status_code == 200, response.get_json()
    assert response.headers["ETag"] == f'"{response.get_json()["version"]}"'
    shown = jobs.get(job["id"])
    assert shown["appointment_status"] == "checked_in"
    assert datetime.fromisoformat(shown["arrived_at"]) == arrival
    listed = client.get(f"{URL}?appointment_id={job['appointment_id']}", headers=jobs.advisor).get_json()
    assert [(j["appointment_status"], j["arrived_at"]) for j in listed["items"]] == [
        ("checked_in", shown["arrived_at"])
    ]


def test_a_repeated_or_older_report_changes_nothing(client, jobs):
    job = jobs.create()
    arrival = datetime.now(UTC) - timedelta(hours=2)
    first = report(jobs, job, "completed", 3, checked_in_at=arrival.isoformat()).get_json()
    assert first["appointment_status"] == "completed"
    assert datetime.fromisoformat(first["arrived_at"]) == arrival, "known even though check-in came late"
    again = report(jobs, job, "completed", 3, checked_in_at=arrival.isoformat())
    assert again.status_code == 200
    assert again.get_json()["version"] == first["version"], "the same version twice: applied once"
    older = report(jobs, job, "checked_in", 2, checked_in_at=arrival.isoformat()).get_json()
    assert (older["appointment_status"], older["version"]) == ("completed", first["version"])


def test_the_arrival_is_kept_once_known(client, jobs):
    job = jobs.create()
    arrival = datetime(2030, 1, 7, 9, tzinfo=UTC)
    report(jobs, job, "checked_in", 2, at=arrival)
    later = report(jobs, job, "cancelled", 3, at=arrival + timedelta(hours=1)).get_json()
    assert later["appointment_status"] == "cancelled"
    assert datetime.fromisoformat(later["arrived_at"]) == arrival
    assert later["status"] == "scheduled", "the job's own status is the job service's business"


def test_a_report_for_another_appointment_or_an_unknown_job_is_refused(client, jobs):
    job = jobs.create()
    stranger = {**job, "appointment_id": str(uuid.uuid4())}
    body = assert_problem(report(jobs, stranger, "checked_in", 2), 422)
    assert "appointment_id" in body["errors"]
    assert_problem(report(jobs, {**job, "id": str(uuid.uuid4())}, "checked_in", 2), 404)
    assert jobs.get(job["id"])["appointment_status"] is None


@pytest.mark.parametrize(
    "change",
    [
        {"appointment_status": "parked"},
        {"appointment_version": 0},
        {"appointment_version": 1.5},
        {"appointment_version": 2**31},
        {"changed_at": "yesterday"},
        {"status": "booked"},
    ],
)
def test_a_malformed_report_is_422(client, jobs, change):
    job = jobs.create()
    body = {
        "appointment_id": job["appointment_id"],
        "appointment_status": "booked",
        "appointment_version": 1,
        "changed_at": datetime.now(UTC).isoformat(),
        **change,
    }
    response = client.put(f"{URL}/{job['id']}/appointment", json=body, headers=jobs.service)
    assert_problem(response, 422)
