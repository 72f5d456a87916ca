"""After the visit, through the console against the real services: the job card's
"Handed over" button (maintenance-job-management records the collection and asks the
customer how the visit went), and the feedback page (the ratings and comments in a
period, the averages per technician and per month), in English and Dutch."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
from console_harness import Api, Garage, booked_appointment, csrf_of, form_fields, service_stopped, submit
from staff_console.pages import feedback as feedback_page

JOBS = "maintenance-job-management"
NOTIFICATIONS = "notification-management"


def job_path(job_id: str, *rest: str) -> str:
    return "/".join((f"/api/v1/maintenance-jobs/{job_id}", *rest))


def done_job(garage: Garage, customer: str, hands_role: str = "technician") -> dict[str, Any]:
    """A booked job started by ``hands_role`` (its technician), its work added, completed."""
    appointment = booked_appointment(garage, customer)
    job_id = appointment["job_id"]
    hands = Api(garage, hands_role)
    hands(JOBS, "POST", job_path(job_id, "start"), {"assigned_technician": hands.subject})
    hands(
        JOBS,
        "POST",
        job_path(job_id, "lines"),
        {
            "kind": "labour",
            "description": "Small service",
            "hours": "1.00",
            "hourly_rate": 6000,
            "covered_by_booking": True,
        },
    )
    hands(JOBS, "POST", job_path(job_id, "complete"), {})
    return appointment


def feedback_requests(garage: Garage, customer_id: str) -> list[dict[str, Any]]:
    garage.drain()
    sent: list[dict[str, Any]] = Api(garage, "admin")(
        NOTIFICATIONS, "GET", "/api/v1/notifications", customer_id=customer_id, type="feedback_request"
    )["items"]
    return sent


def portal_token(garage: Garage) -> str:
    """The customer portal's own identity (client credentials, role portal)."""
    settings = garage.client_settings("customer-portal")
    answer = requests.post(
        settings["SERVICE_TOKEN_URL"],
        data={"grant_type": "client_credentials"},
        auth=(settings["SERVICE_CLIENT_ID"], settings["SERVICE_CLIENT_SECRET"]),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def rate(garage: Garage, customer_id: str, rating: int, comment: str) -> None:
    """What the customer does from the message's link, as the portal calls for them."""
    (request,) = feedback_requests(garage, customer_id)
    token = request["data"]["link_url"].rsplit("/", 1)[1]
    answer = requests.post(
        garage.urls[JOBS] + "/api/v1/portal/visit/feedback",
        json={"rating": rating, "comment": comment},
        headers={"Authorization": f"Bearer {portal_token(garage)}", "Portal-Link": token},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text


# ------------------------------------------------------------------------- hand-over


def test_the_hand_over_button_records_the_collection_and_asks_for_feedback(garage: Garage) -> None:
    appointment = done_job(garage, "Ruud Hendriks")
    job_id, customer_id = appointment["job_id"], appointment["customer"]["id"]
    card_url = f"{garage.console_url}/jobs/{job_id}"
    # The workshop does not hand over: no button for a technician.
    assert "/hand-over" not in garage.signed_in("technician").get(card_url, timeout=10).text
    advisor = garage.signed_in("advisor")
    card = advisor.get(card_url, timeout=10)
    assert card.status_code == 200 and "Waiting for" not in card.text
    form = form_fields(card, "/hand-over")
    assert form["csrf_token"]
    done = submit(advisor, garage, form)
    assert done.status_code == 200
    assert "Handed over: the customer is asked how the visit went." in done.text
    job = Api(garage, "advisor")(JOBS, "GET", job_path(job_id))
    assert job["collected_at"] and job["collected_by_name"]
    # The card says when and by whom, and offers the button no more.
    assert "/hand-over" not in done.text
    collected = datetime.fromisoformat(job["collected_at"]).astimezone(ZoneInfo("Europe/Amsterdam"))
    assert f"{collected:%H:%M}" in done.text and f"by {job['collected_by_name']}" in done.text
    (request,) = feedback_requests(garage, customer_id)
    assert request["data"]["job_id"] == job_id and "/feedback/" in request["data"]["link_url"]
    # The same form again (a second tap, a resend): nothing more happens, no second message.
    again = submit(advisor, garage, form)
    assert again.status_code == 200 and "Could not" not in again.text
    assert Api(garage, "advisor")(JOBS, "GET", job_path(job_id))["collected_at"] == job["collected_at"]
    assert len(feedback_requests(garage, customer_id)) == 1


def test_a_hand_over_refused_or_forged_records_nothing(garage: Garage) -> None:
    appointment = booked_appointment(garage, "Sanne Visser")
    job_id = appointment["job_id"]
    advisor = garage.signed_in("advisor")
    card = advisor.get(f"{garage.console_url}/jobs/{job_id}", timeout=10)
    assert "/hand-over" not in card.text  # not completed: no button
    # Posted all the same: the service's 409 said, nothing recorded.
    refused = advisor.post(
        f"{garage.console_url}/jobs/{job_id}/hand-over", data={"csrf_token": csrf_of(card)}, timeout=10
    )
    assert refused.status_code == 200 and "Could not do that" in refused.text
    assert Api(garage, "advisor")(JOBS, "GET", job_path(job_id))["collected_at"] is None
    # Without the CSRF token (another site's post), and for an accountant: refused.
    completed = done_job(garage, "Joost Mulder")["job_id"]
    forged = advisor.post(f"{garage.console_url}/jobs/{completed}/hand-over", data={}, timeout=10)
    assert forged.status_code == 400
    accountant = garage.signed_in("accountant")
    page = accountant.get(f"{garage.console_url}/jobs/{completed}", timeout=10)
    assert "/hand-over" not in page.text
    refused = accountant.post(
        f"{garage.console_url}/jobs/{completed}/hand-over", data={"csrf_token": csrf_of(page)}, timeout=10
    )
    assert refused.status_code == 403
    assert Api(garage, "advisor")(JOBS, "GET", job_path(completed))["collected_at"] is None


# -------------------------------------------------------------------------- the page


@pytest.fixture(scope="module")
def rated(garage: Garage) -> dict[str, Any]:
    """Three visits handed over and rated: two by the technician (5 and 4), one by the
    admin working as a technician (2)."""
    given = {}
    for customer, role, rating, comment in (
        ("Eva Smit", "technician", 5, "Quick and friendly"),
        ("Tim de Wit", "technician", 4, "Good, but the car was not washed"),
        ("Noor Kok", "admin", 2, "Waited an hour past the time"),
    ):
        appointment = done_job(garage, customer, hands_role=role)
        Api(garage, "advisor")(JOBS, "POST", job_path(appointment["job_id"], "hand-over"))
        rate(garage, appointment["customer"]["id"], rating, comment)
        given[comment] = appointment
    return {
        "visits": given,
        "technician": Api(garage, "technician").subject,
        "admin": Api(garage, "admin").subject,
    }


def names(garage: Garage, rated: dict[str, Any]) -> dict[str, str]:
    """The technicians' names as the ratings keep them."""
    found = Api(garage, "advisor")(JOBS, "GET", "/api/v1/feedback", limit=200)["items"]
    return {item["technician_id"]: item["technician_name"] for item in found}


def test_the_feedback_page_shows_the_ratings_and_the_averages(garage: Garage, rated: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    assert 'href="/feedback"' in board.text  # in the menu
    page = advisor.get(garage.console_url + "/feedback", timeout=10)
    assert page.status_code == 200
    for comment, appointment in rated["visits"].items():
        assert comment in page.text or comment.replace("'", "&#39;") in page.text
        assert f'href="/jobs/{appointment["job_id"]}"' in page.text
    assert "5 of 5" in page.text and "2 of 5" in page.text
    who = names(garage, rated)
    technician, admin = who[rated["technician"]], who[rated["admin"]]
    per_technician = page.text.split('id="technicians-heading"')[1].split("</section>")[0]
    assert "Ratings: 3, on average 3.67." in per_technician
    assert technician in per_technician and "4.50" in per_technician
    assert admin in per_technician and "2.00" in per_technician
    per_month = page.text.split('id="months-heading"')[1].split("</section>")[0]
    today = datetime.now(ZoneInfo("Europe/Amsterdam")).date()
    assert today.strftime("%B %Y") in per_month and "3.67" in per_month
    # The period chosen: from the form, its defaults this month and the two before.
    assert f'value="{today.isoformat()}"' in page.text


def test_one_technicians_ratings_and_a_period_without_any(garage: Garage, rated: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    mine = advisor.get(
        garage.console_url + "/feedback", params={"technician_id": rated["technician"]}, timeout=10
    )
    listed = mine.text.split('id="ratings-heading"')[1]
    assert "Quick and friendly" in listed and "Waited an hour" not in listed
    assert f'<option value="{rated["technician"]}" selected>' in mine.text
    tomorrow = date.today() + timedelta(days=2)
    later = advisor.get(
        garage.console_url + "/feedback",
        params={"from": tomorrow.isoformat(), "to": (tomorrow + timedelta(days=5)).isoformat()},
        timeout=10,
    )
    assert later.status_code == 200 and "No ratings in this period." in later.text
    assert "Ratings: 0, on average" in later.text


def test_a_period_the_service_refuses_is_said_beside_its_field(garage: Garage, rated: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    backwards = advisor.get(
        garage.console_url + "/feedback", params={"from": "2026-12-10", "to": "2026-12-01"}, timeout=10
    )
    assert backwards.status_code == 200
    assert 'id="f-to-error"' in backwards.text and "must not be before from" in backwards.text
    assert "Quick and friendly" not in backwards.text
    garbled = advisor.get(garage.console_url + "/feedback", params={"from": "yesterday"}, timeout=10)
    assert garbled.status_code == 200 and 'id="f-from-error"' in garbled.text


def test_the_ratings_come_a_page_at_a_time(
    garage: Garage, rated: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(feedback_page, "PAGE_SIZE", 2)
    advisor = garage.signed_in("advisor")
    first = advisor.get(garage.console_url + "/feedback", timeout=10)
    shown = [c for c in rated["visits"] if c in first.text.split('id="ratings-heading"')[1]]
    assert len(shown) == 2
    more = form_link(first.text, "cursor=")
    second = advisor.get(garage.console_url + more, timeout=10)
    rest = [c for c in rated["visits"] if c in second.text.split('id="ratings-heading"')[1]]
    assert len(rest) == 1 and not set(rest) & set(shown)
    assert "cursor=" not in second.text.split('id="ratings-heading"')[1]


def form_link(text: str, part: str) -> str:
    match = re.search(r'href="([^"]*' + re.escape(part) + r'[^"]*)"', text)
    assert match, f"no link with {part}"
    return html.unescape(match.group(1))


def test_the_feedback_page_in_dutch(garage: Garage, rated: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    board = advisor.get(garage.console_url + "/board", timeout=10)
    advisor.post(
        garage.console_url + "/language",
        data={"csrf_token": csrf_of(board), "language": "nl"},
        headers={"Referer": garage.console_url + "/board"},
        timeout=10,
    )
    page = advisor.get(garage.console_url + "/feedback", timeout=10)
    assert 'lang="nl"' in page.text
    for text in (
        "Beoordelingen",
        "Per monteur",
        "Per maand",
        "Beoordelingen: 3, gemiddeld 3,67.",
        "4,50",
        "5 van 5",
    ):
        assert text in page.text, text


def test_who_reads_the_feedback(garage: Garage, rated: dict[str, Any]) -> None:
    for role in ("accountant", "technician"):
        person = garage.signed_in(role)
        assert person.get(garage.console_url + "/feedback", timeout=10).status_code == 403
        assert 'href="/feedback"' not in person.get(garage.console_url + "/", timeout=10).text
    admin = garage.signed_in("admin")
    assert admin.get(garage.console_url + "/feedback", timeout=10).status_code == 200
    signed_out = requests.get(garage.console_url + "/feedback", allow_redirects=False, timeout=10)
    assert signed_out.status_code == 302


def test_the_feedback_page_when_maintenance_does_not_answer(garage: Garage, rated: dict[str, Any]) -> None:
    advisor = garage.signed_in("advisor")
    with service_stopped(garage, JOBS):
        page = advisor.get(garage.console_url + "/feedback", timeout=20)
    assert page.status_code == 503
    assert "maintenance-job-management is not answering" in page.text and 'href="/board"' in page.text
