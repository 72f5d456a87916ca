"""The workshop's tablet page against the real services: a technician's jobs of the day
(planned to the workshop-scheduling technician linked to their account, or to an
unlinked one of their name), and the big buttons doing the work through the job card's
actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import requests
from console_harness import Api, Garage, booked_appointment, form_fields, service_stopped, submit

JOBS = "maintenance-job-management"
# The development technician's name as identity has it.
TECHNICIAN = "Development technician"


def linked(garage: Garage) -> dict[str, str]:
    """A workshop-scheduling technician linked to the development technician's account,
    by another name than the account's (the link decides, not the name)."""
    return {"technician_name": "Tablet technician", "account_subject": Api(garage, "technician").subject}


def workshop_page(
    browser: requests.Session, garage: Garage, appointment: dict[str, Any], **params: str
) -> requests.Response:
    """/workshop for the appointment's day (today, unless today had no free hour left)."""
    day = appointment["start"][:10]
    if day != datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat():
        params["day"] = day
    return browser.get(garage.console_url + "/workshop", params=params, timeout=10)


def job_of(garage: Garage, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = Api(garage, "technician")(JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}")
    return job


def test_a_technician_sees_their_job_and_works_it_from_the_tablet(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Bram Peters", **linked(garage))
    other = booked_appointment(garage, "Someone Else", technician_name="Another technician")
    job_id = appointment["job_id"]
    Api(garage, "advisor")(
        JOBS,
        "POST",
        f"/api/v1/maintenance-jobs/{job_id}/lines",
        {
            "kind": "labour",
            "description": "Check brakes",
            "hours": "0.50",
            "hourly_rate": 8000,
            "covered_by_booking": True,
        },
    )
    technician = garage.signed_in("technician")
    page = workshop_page(technician, garage, appointment)
    assert page.status_code == 200
    assert appointment["vehicle"]["plate"] in page.text and "Check brakes" in page.text
    assert other["vehicle"]["plate"] not in page.text  # another technician's
    assert 'aria-current="page">Workshop</a>' in page.text

    page = submit(technician, garage, form_fields(page, f"/jobs/{job_id}/start"))
    assert page.url.startswith(garage.console_url + "/workshop") and "Started." in page.text
    assert job_of(garage, job_id)["status"] == "in_progress"

    page = submit(technician, garage, form_fields(page, f"/jobs/{job_id}/clock-in"))
    assert "Clocked in." in page.text and job_of(garage, job_id)["time"]["clocked_in"]
    page = submit(technician, garage, form_fields(page, f"/jobs/{job_id}/clock-out"))
    assert "Clocked out." in page.text and not job_of(garage, job_id)["time"]["clocked_in"]

    (line,) = job_of(garage, job_id)["lines"]
    page = submit(technician, garage, form_fields(page, f"/jobs/{job_id}/lines/{line['id']}/done"))
    assert "Marked done." in page.text and job_of(garage, job_id)["lines"][0]["done"]

    # Extra work found: a line the customer has to approve, then the ask.
    Api(garage, "technician")(
        JOBS,
        "POST",
        f"/api/v1/maintenance-jobs/{job_id}/lines",
        {"kind": "part", "description": "Brake discs", "quantity": "2", "unit_price": 4500},
    )
    page = workshop_page(technician, garage, appointment)
    assert "Ask for approval" in page.text
    ask = form_fields(page, f"/jobs/{job_id}/hold")
    page = submit(technician, garage, ask, reason="Extra work found: waiting for your approval")
    job = job_of(garage, job_id)
    assert (job["status"], job["hold_reason"]) == ("on_hold", "Extra work found: waiting for your approval")
    assert "Resume" in page.text


def test_complete_from_the_tablet(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Iris Vos", **linked(garage))
    job_id = appointment["job_id"]
    Api(garage, "technician")(JOBS, "POST", f"/api/v1/maintenance-jobs/{job_id}/start", {})
    technician = garage.signed_in("technician")
    complete = form_fields(workshop_page(technician, garage, appointment), f"/jobs/{job_id}/complete")
    page = submit(technician, garage, complete)
    assert "Completed" in page.text and job_of(garage, job_id)["status"] == "completed"


def test_a_technician_linked_to_no_account_is_found_by_the_persons_name(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Lars Meijer", technician_name=TECHNICIAN)
    page = workshop_page(garage.signed_in("technician"), garage, appointment)
    assert page.status_code == 200 and appointment["vehicle"]["plate"] in page.text


def test_someone_who_is_no_planned_technician_chooses_whose_jobs(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Tim Kok", **linked(garage))
    admin = garage.signed_in("admin")
    page = workshop_page(admin, garage, appointment)
    assert page.status_code == 200
    assert "No technician linked to you or named Development admin is planned this day" in page.text
    everyone = workshop_page(admin, garage, appointment, technician="all")
    assert appointment["vehicle"]["plate"] in everyone.text
    assert garage.signed_in("advisor").get(garage.console_url + "/workshop", timeout=10).status_code == 403


def test_with_maintenance_stopped_the_day_still_shows(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Roos Smits", **linked(garage))
    technician = garage.signed_in("technician")
    with service_stopped(garage, JOBS):
        page = workshop_page(technician, garage, appointment)
    assert page.status_code == 200
    assert appointment["vehicle"]["plate"] in page.text
    assert "maintenance-job-management is not answering, try again." in page.text
