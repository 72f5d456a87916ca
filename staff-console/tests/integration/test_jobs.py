"""The job card through the console, against the real services: the data made through
their APIs (console_harness.booked_appointment), the card's forms posted as a browser
posts them, and every change checked by reading the job back from
maintenance-job-management."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from console_harness import Api, Garage, booked_appointment, csrf_of, form_fields, service_stopped, submit

JOBS = "maintenance-job-management"


def job_of(garage: Garage, job_id: str) -> dict[str, Any]:
    job: dict[str, Any] = Api(garage, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}")
    return job


def euros(minor: int) -> str:
    return f"€{minor / 100:,.2f}"


@pytest.fixture(scope="module")
def canned_job(garage: Garage) -> dict[str, Any]:
    """A canned job of one labour line and one part, priced on the line."""
    created: dict[str, Any] = Api(garage, "admin")(
        JOBS,
        "POST",
        "/api/v1/canned-jobs",
        {
            "code": f"brakes-{uuid.uuid4().hex[:6]}",
            "name": "Brake pads front",
            "lines": [
                {"kind": "labour", "description": "Replace front pads", "hours": "1.00", "hourly_rate": 8000},
                {"kind": "part", "description": "Brake pad set", "quantity": "1", "unit_price": 6450},
            ],
        },
    )
    return created


def add_line(garage: Garage, job_id: str, **line: Any) -> dict[str, Any]:
    added: dict[str, Any] = Api(garage, "advisor")(
        JOBS, "POST", f"/api/v1/maintenance-jobs/{job_id}/lines", {"covered_by_booking": True, **line}
    )
    return added


def test_the_job_card_shows_the_job_its_lines_and_totals(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Karel Jansen")
    job_id = appointment["job_id"]
    add_line(garage, job_id, kind="labour", description="Small service", hours="1.50", hourly_rate=8000)
    add_line(
        garage,
        job_id,
        kind="part",
        description="Oil filter",
        quantity="2",
        unit_price=1250,
        part_number="OF-1",
    )
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert card.status_code == 200
    job = job_of(garage, job_id)
    for text in ("Karel Jansen", appointment["vehicle"]["plate"], "Small service", "Oil filter", "OF-1"):
        assert text in card.text
    assert euros(12000) in card.text and euros(2500) in card.text  # the lines' net amounts
    assert euros(job["totals"]["billable_gross"]) in card.text
    assert "Scheduled" in card.text or "scheduled" in card.text
    # The board and the customer card lead to it.
    board = advisor.get(garage.console_url + "/board", params={"day": appointment["start"][:10]}, timeout=10)
    assert f"/jobs/{job_id}" in board.text
    customer = advisor.get(f"{garage.console_url}/customers/{appointment['customer']['id']}", timeout=10)
    assert f"/jobs/{job_id}" in customer.text


def test_a_canned_job_sent_twice_with_one_key_is_added_once(
    garage: Garage, canned_job: dict[str, Any]
) -> None:
    job_id = booked_appointment(garage, "Lotte Bakker")["job_id"]
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    form = form_fields(card, "/canned-jobs")
    assert form["idempotency_key"]
    for _ in range(2):  # a double tap
        page = submit(advisor, garage, form, canned_job_id=canned_job["id"])
        assert page.status_code == 200 and "Lines added: 2." in page.text
    lines = job_of(garage, job_id)["lines"]
    assert sorted(line["description"] for line in lines) == ["Brake pad set", "Replace front pads"]
    assert {line["approval"] for line in lines} == {"pending"}
    # The next form shown carries a new key: adding it again is another, deliberate, add.
    again = form_fields(advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10), "/canned-jobs")
    assert again["idempotency_key"] != form["idempotency_key"]


def test_a_line_added_refused_shows_beside_its_field(garage: Garage) -> None:
    job_id = booked_appointment(garage, "Mila de Boer")["job_id"]
    advisor = garage.signed_in("advisor")
    form = form_fields(advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10), "/lines")
    refused = submit(advisor, garage, form, kind="labour", line_description="", amount="1.5")
    assert refused.status_code == 422
    assert 'id="f-line_description-error"' in refused.text
    # An amount the console cannot read is its own refusal, beside the price.
    refused = submit(
        advisor, garage, form, kind="part", line_description="Wiper", amount="2", unit_price="12,5x"
    )
    assert refused.status_code == 422 and 'id="f-unit_price-error"' in refused.text
    added = submit(
        advisor,
        garage,
        form,
        kind="part",
        line_description="Wiper blade",
        amount="2",
        unit_price="12,50",
    )
    assert added.status_code == 200 and "Line added." in added.text
    (line,) = job_of(garage, job_id)["lines"]
    assert (line["quantity"], line["unit_price"], line["net_amount"]) == ("2.00", 1250, 2500)


def test_an_estimate_is_sent_and_the_customers_decision_recorded_per_line(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Sanne Visser")
    job_id = appointment["job_id"]
    add_line(
        garage,
        job_id,
        kind="labour",
        description="Timing belt",
        hours="3.00",
        hourly_rate=8000,
        covered_by_booking=False,
    )
    add_line(
        garage,
        job_id,
        kind="part",
        description="Wiper blades",
        quantity="1",
        unit_price=2400,
        covered_by_booking=False,
    )
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert "Send an estimate for the lines awaiting a decision (2)" in card.text
    sent = submit(
        advisor, garage, form_fields(card, "/estimates"), channel="phone", message="Found while servicing"
    )
    assert sent.status_code == 200 and "Estimate sent." in sent.text
    (estimate,) = Api(garage, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}/estimates")["items"]
    assert estimate["channel"] == "phone" and estimate["status"] == "sent"
    lines = {line["description"]: line["id"] for line in job_of(garage, job_id)["lines"]}
    decision = form_fields(sent, "/decision")
    # A decision for one line of the two is refused, the reason beside the lines.
    half = submit(
        advisor,
        garage,
        decision,
        **{
            f"line-{lines['Timing belt']}": "approve",
            "decision_channel": "phone",
            "decided_by": "Sanne Visser",
        },
    )
    assert half.status_code == 422 and 'id="f-lines-error"' in half.text
    assert {line["approval"] for line in job_of(garage, job_id)["lines"]} == {"pending"}
    decided = submit(
        advisor,
        garage,
        decision,
        **{
            f"line-{lines['Timing belt']}": "approve",
            f"line-{lines['Wiper blades']}": "decline",
            "decision_channel": "phone",
            "decided_by": "Sanne Visser",
        },
    )
    assert decided.status_code == 200 and "The customer&#39;s decision is recorded." in decided.text
    approvals = {line["description"]: line["approval"] for line in job_of(garage, job_id)["lines"]}
    assert approvals == {"Timing belt": "approved", "Wiper blades": "declined"}
    trail = Api(garage, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}/approvals")["items"]
    assert {(a["decision"], a["channel"], a["decided_by"]) for a in trail} == {
        ("approved", "phone", "Sanne Visser"),
        ("declined", "phone", "Sanne Visser"),
    }
    assert "Decisions" in decided.text
    # The estimate as the customer saw it, passed through the console.
    pdf = advisor.get(f"{garage.console_url}/jobs/{job_id}/estimates/{estimate['id']}.pdf", timeout=10)
    assert pdf.status_code == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_start_clock_in_and_out_and_complete_move_the_job_on(garage: Garage) -> None:
    job_id = booked_appointment(garage, "Daan Smit")["job_id"]
    add_line(garage, job_id, kind="labour", description="Small service", hours="1.00", hourly_rate=8000)
    technician = garage.signed_in("technician")
    card = technician.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert card.status_code == 200 and "Send the estimate" not in card.text  # the front desk's
    page = submit(technician, garage, form_fields(card, "/start"), odometer_in="64000")
    assert "Started." in page.text
    job = job_of(garage, job_id)
    assert (job["status"], job["odometer_in"]) == ("in_progress", 64000)
    page = submit(technician, garage, form_fields(page, "/clock-in"))
    assert "Clocked in." in page.text
    running = job_of(garage, job_id)["time"]["clocked_in"]
    assert running == [
        Api(garage, "technician")(JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}/time-entries")["entries"][
            0
        ]["technician"]
    ]
    page = submit(technician, garage, form_fields(page, "/clock-out"))
    assert "Clocked out." in page.text and job_of(garage, job_id)["time"]["clocked_in"] == []
    (line,) = job_of(garage, job_id)["lines"]
    page = submit(technician, garage, form_fields(page, f"/lines/{line['id']}/done"))
    assert "Marked done." in page.text and job_of(garage, job_id)["lines"][0]["done"] is True
    page = submit(technician, garage, form_fields(page, "/complete"))
    assert "Completed" in page.text
    assert job_of(garage, job_id)["status"] == "completed"
    # The work order, passed through with the person's token kept on the server.
    pdf = technician.get(f"{garage.console_url}/jobs/{job_id}/work-order.pdf", timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")


def test_hold_and_resume(garage: Garage) -> None:
    job_id = booked_appointment(garage, "Eva Mulder")["job_id"]
    Api(garage, "technician")(JOBS, "POST", f"/api/v1/maintenance-jobs/{job_id}/start", {})
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    page = submit(advisor, garage, form_fields(card, "/hold"), reason="Waiting for parts")
    assert "On hold." in page.text and "Waiting for parts" in page.text
    assert job_of(garage, job_id)["status"] == "on_hold"
    page = submit(advisor, garage, form_fields(page, "/resume"))
    assert "Resumed." in page.text and job_of(garage, job_id)["status"] == "in_progress"


def test_a_stale_description_edit_offers_to_reload(garage: Garage) -> None:
    job_id = booked_appointment(garage, "Noah de Wit")["job_id"]
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    form = form_fields(card, "/notes")
    saved = submit(advisor, garage, form, description="Small service and brakes", technician_notes="")
    assert saved.status_code == 200 and "Saved." in saved.text
    assert job_of(garage, job_id)["description"] == "Small service and brakes"
    # The same page's form again: someone (here: the first save) changed the job since.
    stale = submit(advisor, garage, form, description="Small service only", technician_notes="Noisy")
    assert stale.status_code == 412
    assert "Someone else changed this in the meantime." in stale.text
    assert f'href="/jobs/{job_id}">Reload to see their change' in stale.text
    assert "Small service only" in stale.text  # what they typed is still there to copy
    assert job_of(garage, job_id)["description"] == "Small service and brakes"


def test_with_maintenance_stopped_the_card_says_so(garage: Garage) -> None:
    job_id = booked_appointment(garage, "Julia Hendriks")["job_id"]
    advisor = garage.signed_in("advisor")
    with service_stopped(garage, JOBS):
        page = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
        pdf = advisor.get(f"{garage.console_url}/jobs/{job_id}/work-order.pdf", timeout=10)
    assert page.status_code == 503
    assert "maintenance-job-management is not answering, try again" in page.text
    assert "Sign out" in page.text  # the console's frame is intact
    assert pdf.status_code == 503
    # customer-management down spoils only the customer's part of the card.
    with service_stopped(garage, "customer-management"):
        page = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert page.status_code == 200 and "customer-management is not answering, try again." in page.text


def test_an_unknown_job_is_not_found_and_an_accountant_only_reads(garage: Garage) -> None:
    advisor = garage.signed_in("advisor")
    assert advisor.get(f"{garage.console_url}/jobs/{uuid.uuid4()}", timeout=10).status_code == 404
    job_id = booked_appointment(garage, "Finn Dekker")["job_id"]
    accountant = garage.signed_in("accountant")
    card = accountant.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert card.status_code == 200 and 'action="' + f"/jobs/{job_id}/" not in card.text
    refused = accountant.post(
        f"{garage.console_url}/jobs/{job_id}/start", data={"csrf_token": csrf_of(card)}, timeout=10
    )
    assert refused.status_code == 403
