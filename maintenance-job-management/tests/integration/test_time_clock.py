"""The time clock: technicians clock in and out on a job in progress, one running
clock each, and the job shows clocked time beside the labour hours billed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maintenance_job_management.models import TimeEntry, db
from sqlalchemy import update

URL = "/api/v1/maintenance-jobs"


def clock(client, jobs, job_id, direction, headers=None, **body):
    return client.post(f"{URL}/{job_id}/clock-{direction}", json=body, headers=headers or jobs.technician)


def test_clock_in_and_out_records_time_for_the_caller(client, jobs):
    job = jobs.in_status("in_progress")
    started = clock(client, jobs, job["id"], "in")
    assert started.status_code == 201
    entry = started.get_json()
    assert (entry["technician"], entry["clocked_out_at"], entry["recorded_by"]) == (
        jobs.technician_id,
        None,
        jobs.technician_id,
    )
    assert started.headers["Location"].endswith(f"/{job['id']}/time-entries")
    assert jobs.get(job["id"])["time"]["clocked_in"] == [jobs.technician_id]
    stopped = clock(client, jobs, job["id"], "out")
    assert stopped.status_code == 200
    assert stopped.get_json()["clocked_out_at"] is not None
    assert jobs.get(job["id"])["time"]["clocked_in"] == []


def test_clocked_time_is_shown_beside_billed_labour(app, client, jobs):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"], hours="1.50")
    jobs.labour(job["id"], hours="0.50", booked=False)  # not approved: not billed
    clock(client, jobs, job["id"], "in")
    clock(client, jobs, job["id"], "out")
    colleague = jobs.admin
    clock(client, jobs, job["id"], "in", headers=colleague, technician="tech-bo")
    clock(client, jobs, job["id"], "out", headers=colleague, technician="tech-bo")
    with app.app_context():  # an hour and three quarters of work, without waiting for it
        start = datetime.now(UTC) - timedelta(hours=2)
        db.session.execute(
            update(TimeEntry)
            .where(TimeEntry.technician == jobs.technician_id)
            .values(clocked_in_at=start, clocked_out_at=start + timedelta(hours=1))
        )
        db.session.execute(
            update(TimeEntry)
            .where(TimeEntry.technician == "tech-bo")
            .values(clocked_in_at=start, clocked_out_at=start + timedelta(minutes=45))
        )
        db.session.commit()
    sheet = client.get(f"{URL}/{job['id']}/time-entries", headers=jobs.accountant).get_json()
    assert sheet["clocked_seconds"] == 6300
    assert sheet["clocked_hours"] == "1.75"
    assert sheet["billed_labour_hours"] == "1.50"
    assert sheet["per_technician"] == [
        {
            "technician": "tech-anna",
            "technician_name": "tech-anna",
            "clocked_seconds": 3600,
            "clocked_hours": "1.00",
        },
        {
            "technician": "tech-bo",
            "technician_name": "tech-bo",
            "clocked_seconds": 2700,
            "clocked_hours": "0.75",
        },
    ]
    assert len(sheet["entries"]) == 2
    summary = jobs.get(job["id"])["time"]
    assert (summary["clocked_hours"], summary["billed_labour_hours"]) == ("1.75", "1.50")


def test_one_running_clock_per_technician_across_jobs(client, jobs):
    first = jobs.in_status("in_progress")
    second = jobs.in_status("in_progress")
    assert clock(client, jobs, first["id"], "in").status_code == 201
    again = clock(client, jobs, first["id"], "in")
    assert again.status_code == 409
    elsewhere = clock(client, jobs, second["id"], "in")
    assert elsewhere.status_code == 409
    assert elsewhere.get_json()["job_id"] == first["id"]
    clock(client, jobs, first["id"], "out")
    assert clock(client, jobs, second["id"], "in").status_code == 201


def test_the_clock_runs_only_on_a_job_in_progress(client, jobs):
    for status in ("scheduled", "on_hold", "completed", "cancelled"):
        job = jobs.in_status(status)
        response = clock(client, jobs, job["id"], "in")
        assert response.status_code == 409
        assert response.get_json()["current_status"] == status


def test_clocking_out_without_a_running_clock_is_a_conflict(client, jobs):
    job = jobs.in_status("in_progress")
    assert clock(client, jobs, job["id"], "out").status_code == 409


def test_holding_or_completing_stops_running_clocks(client, jobs):
    job = jobs.in_status("in_progress")
    clock(client, jobs, job["id"], "in")
    jobs.must(job["id"], "hold")
    assert jobs.get(job["id"])["time"]["clocked_in"] == []
    jobs.must(job["id"], "resume")
    clock(client, jobs, job["id"], "in")
    jobs.must(job["id"], "complete")
    sheet = client.get(f"{URL}/{job['id']}/time-entries", headers=jobs.advisor).get_json()
    assert all(entry["clocked_out_at"] for entry in sheet["entries"])
    assert sheet["clocked_in"] == []


def test_only_an_admin_clocks_someone_else(client, jobs):
    job = jobs.in_status("in_progress")
    response = clock(client, jobs, job["id"], "in", technician="tech-bo")
    assert response.status_code == 403
    by_admin = clock(client, jobs, job["id"], "in", headers=jobs.admin, technician="tech-bo")
    assert by_admin.status_code == 201
    assert (by_admin.get_json()["technician"], by_admin.get_json()["recorded_by"]) == ("tech-bo", "admin-cas")
    assert clock(client, jobs, job["id"], "in", headers=jobs.advisor).status_code == 403
