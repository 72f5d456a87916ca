"""Every lifecycle step from every status through the API: the allowed ones change the
status, the others are a 409 problem naming the current status and change nothing."""

from __future__ import annotations

import pytest

STATUSES = ("scheduled", "in_progress", "on_hold", "completed", "cancelled")
VERBS = ("start", "hold", "resume", "complete", "cancel")
ALLOWED = {
    ("scheduled", "start"): "in_progress",
    ("in_progress", "hold"): "on_hold",
    ("on_hold", "resume"): "in_progress",
    ("in_progress", "complete"): "completed",
    ("scheduled", "cancel"): "cancelled",
    ("on_hold", "cancel"): "cancelled",
    ("cancelled", "cancel"): "cancelled",  # a repeat: nothing changes, no error
}


@pytest.mark.parametrize(("status", "verb"), [(s, v) for s in STATUSES for v in VERBS])
def test_transition_matrix(client, jobs, status, verb):
    job = jobs.in_status(status)
    assert job["status"] == status
    response = jobs.act(job["id"], verb)
    after = jobs.get(job["id"])
    if (status, verb) in ALLOWED:
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == ALLOWED[(status, verb)]
        assert response.headers["ETag"] == f'"{after["version"]}"'
    else:
        assert response.status_code == 409
        assert response.mimetype == "application/problem+json"
        problem = response.get_json()
        assert problem["type"] == "urn:garage:problem:transition-not-allowed"
        assert problem["current_status"] == status
        assert f"is {status}" in problem["detail"]
        assert (after["status"], after["version"]) == (status, job["version"])


def test_a_full_working_day(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"])
    assert jobs.must(job["id"], "start")["status"] == "in_progress"
    held = jobs.must(job["id"], "hold", {"reason": "waiting for brake discs"})
    assert (held["status"], held["hold_kind"], held["hold_reason"]) == (
        "on_hold",
        "manual",
        "waiting for brake discs",
    )
    resumed = jobs.must(job["id"], "resume")
    assert (resumed["status"], resumed["hold_kind"], resumed["hold_reason"]) == ("in_progress", None, None)
    assert jobs.must(job["id"], "complete")["status"] == "completed"


def test_a_held_job_can_be_cancelled_but_a_running_one_not(client, jobs):
    running = jobs.in_status("in_progress")
    refused = jobs.act(running["id"], "cancel", headers=jobs.service)
    assert refused.status_code == 409
    assert refused.get_json()["current_status"] == "in_progress"
    jobs.must(running["id"], "hold")
    assert jobs.must(running["id"], "cancel")["status"] == "cancelled"
