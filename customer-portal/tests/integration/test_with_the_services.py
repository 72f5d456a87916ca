"""The portal against the real services (portal_harness): the links come from the
messages the services sent, the customer's answers are read back from the services."""

from __future__ import annotations

import re
from typing import Any

import requests
from portal_harness import (
    JOBS,
    SCHEDULING,
    PortalGarage,
    booking_invitation,
    confirmed_appointment,
    handed_over,
    sent_estimate,
)

from service_kit.garage_harness import Api, csrf_of


def page(garage: PortalGarage, browser: requests.Session, url: str, **params: Any) -> requests.Response:
    answer = browser.get(url, params=params or None, headers={"Accept-Language": "en"}, timeout=10)
    return answer


def estimates_of(garage: PortalGarage, job_id: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = Api(garage, "advisor")(
        JOBS, "GET", f"/api/v1/maintenance-jobs/{job_id}/estimates"
    )["items"]
    return items


def test_an_estimate_is_approved_line_by_line_from_the_emailed_link(portal_garage: PortalGarage) -> None:
    sent = sent_estimate(portal_garage)
    browser = requests.Session()
    shown = page(portal_garage, browser, sent["link"])
    assert shown.status_code == 200, shown.text[:500]
    assert "Brake pads front" in shown.text and "Your front brake pads are worn." in shown.text
    pads, fitting = (line["id"] for line in sent["lines"])
    answer = browser.post(
        sent["link"],
        data={
            "csrf_token": csrf_of(shown),
            f"line-{pads}": "approved",
            f"line-{fitting}": "declined",
            "signature": "Jan de Vries",
        },
        timeout=10,
    )
    assert answer.status_code == 200 and answer.url == sent["link"]  # after the redirect: the page again
    assert "signed by Jan de Vries" in answer.text
    [estimate] = estimates_of(portal_garage, sent["job_id"])
    assert estimate["status"] == "decided"
    job = Api(portal_garage, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{sent['job_id']}")
    approvals = {line["id"]: line["approval"] for line in job["lines"]}
    assert approvals[pads] == "approved" and approvals[fitting] == "declined"
    # Sent again (a double tap, the back button): nothing changes.
    again = browser.post(
        sent["link"],
        data={
            "csrf_token": csrf_of(shown),
            f"line-{pads}": "declined",
            f"line-{fitting}": "approved",
            "signature": "X Y",
        },
        timeout=10,
    )
    assert again.status_code == 200 and "already decided" in again.text
    job = Api(portal_garage, "advisor")(JOBS, "GET", f"/api/v1/maintenance-jobs/{sent['job_id']}")
    assert {line["id"]: line["approval"] for line in job["lines"]} == approvals


def test_tampered_and_other_purpose_links_are_refused_and_change_nothing(portal_garage: PortalGarage) -> None:
    sent = sent_estimate(portal_garage, "Kees Visser")
    visit = handed_over(portal_garage, "Kees Visser jr")
    browser = requests.Session()
    csrf = csrf_of(page(portal_garage, browser, sent["link"]))
    token = sent["link"].rsplit("/", 1)[1]
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload}.{signature[:-4]}{'AAAA' if not signature.endswith('AAAA') else 'BBBB'}"
    visit_token = visit["link"].rsplit("/", 1)[1]
    form = {
        "csrf_token": csrf,
        "signature": "Mallory",
        **{f"line-{line['id']}": "approved" for line in sent["lines"]},
    }
    for other in (tampered, visit_token):
        url = f"{portal_garage.portal_url}/estimate/{other}"
        assert page(portal_garage, browser, url).status_code == 403
        refused = browser.post(url, data=form, timeout=10)
        assert refused.status_code == 403
        assert "This link is not valid" in refused.text and "+31 20 123 4567" in refused.text
    # The estimate link on the feedback page: not a visit link.
    assert page(portal_garage, browser, f"{portal_garage.portal_url}/feedback/{token}").status_code == 403
    [estimate] = estimates_of(portal_garage, sent["job_id"])
    assert estimate["status"] == "sent"


def test_an_appointment_is_confirmed_and_moved_to_another_free_time(portal_garage: PortalGarage) -> None:
    booked = confirmed_appointment(portal_garage)
    browser = requests.Session()
    shown = page(portal_garage, browser, booked["link"])
    assert shown.status_code == 200, shown.text[:500]
    confirmed = browser.post(booked["link"] + "/confirm", data={"csrf_token": csrf_of(shown)}, timeout=10)
    assert "You confirmed this appointment" in confirmed.text
    moving = None
    for days in range(3, 20):  # the first day after the cut-off with a free time
        from datetime import date, timedelta

        day = (date.today() + timedelta(days=days)).isoformat()
        moving = page(portal_garage, browser, booked["link"] + "/move", date=day)
        starts = re.findall(r'name="start" value="([^"]+)"', moving.text)
        if starts:
            break
    assert moving is not None and starts, "no free time in the coming weeks"
    moved = browser.post(
        booked["link"] + "/move", data={"csrf_token": csrf_of(moving), "start": starts[-1]}, timeout=10
    )
    assert moved.status_code == 200 and "Your appointment has been moved." in moved.text
    now = Api(portal_garage, "advisor")(SCHEDULING, "GET", f"/api/v1/appointments/{booked['id']}")
    assert now["start"][:16] == starts[-1][:16]


def test_a_visit_is_booked_from_an_invitation(portal_garage: PortalGarage) -> None:
    invited = booking_invitation(portal_garage)
    browser = requests.Session()
    shown = page(portal_garage, browser, invited["link"])
    assert shown.status_code == 200, shown.text[:500]
    from datetime import date, timedelta

    slots = None
    for days in range(2, 20):
        day = (date.today() + timedelta(days=days)).isoformat()
        slots = page(
            portal_garage, browser, invited["link"], work="other", description="Rattle at the back", date=day
        )
        if 'name="start"' in slots.text:
            break
    assert slots is not None and 'name="start"' in slots.text
    start = re.findall(r'name="start" value="([^"]+)"', slots.text)[0]
    key = re.search(r'name="idempotency_key" value="([^"]+)"', slots.text)
    assert key
    form = {
        "csrf_token": csrf_of(slots),
        "idempotency_key": key.group(1),
        "work": "other",
        "description": "Rattle at the back",
        "start": start,
    }
    booked = browser.post(invited["link"], data=form, timeout=10)
    assert booked.status_code == 200 and "Your visit is booked" in booked.text, booked.text[:800]
    browser.post(invited["link"], data=form, timeout=10)  # sent twice: booked once
    appointments = Api(portal_garage, "advisor")(
        SCHEDULING, "GET", "/api/v1/appointments", vehicle_id=invited["vehicle"]["id"]
    )["items"]
    assert len([a for a in appointments if a["work_description"] == "Rattle at the back"]) == 1


def test_feedback_is_given_once_from_the_link(portal_garage: PortalGarage) -> None:
    visit = handed_over(portal_garage)
    browser = requests.Session()
    shown = page(portal_garage, browser, visit["link"])
    assert shown.status_code == 200 and "How was your visit?" in shown.text
    thanks = browser.post(
        visit["link"], data={"csrf_token": csrf_of(shown), "rating": "5", "comment": "Great"}, timeout=10
    )
    assert "Thank you for your feedback" in thanks.text
    given = Api(portal_garage, "advisor")(JOBS, "GET", "/api/v1/feedback")["items"]
    assert [(f["rating"], f["comment"]) for f in given if f["job_id"] == visit["job_id"]] == [(5, "Great")]


def test_the_portal_s_own_identity_lists_nothing_and_reads_no_one_s_data(portal_garage: PortalGarage) -> None:
    booked = confirmed_appointment(portal_garage, "Someone Else")
    token = portal_garage.portal_token()
    bearer = {"Authorization": f"Bearer {token}"}
    for service, path in (
        ("customer-management", "/api/v1/customers"),
        ("customer-management", f"/api/v1/customers/{booked['customer']['id']}"),
        ("vehicle-management", f"/api/v1/vehicles/{booked['vehicle']['id']}"),
        (SCHEDULING, "/api/v1/appointments"),
        (SCHEDULING, f"/api/v1/appointments/{booked['id']}"),
        (JOBS, f"/api/v1/maintenance-jobs/{booked['job_id']}"),
        ("invoicing", "/api/v1/invoices"),
    ):
        answer = requests.get(portal_garage.urls[service] + path, headers=bearer, timeout=10)
        assert answer.status_code == 403, (service, path, answer.status_code)
    # With the role but without a link the portal operations refuse too.
    answer = requests.get(
        portal_garage.urls[SCHEDULING] + "/api/v1/portal/appointment", headers=bearer, timeout=10
    )
    assert answer.status_code in (400, 403, 422)


def test_a_superseded_estimate_s_link_is_withdrawn_and_an_expired_one_says_so(
    portal_garage: PortalGarage,
) -> None:
    from datetime import UTC, datetime, timedelta

    from service_kit.links import issue_link

    sent = sent_estimate(portal_garage, "Anne Mulder")
    Api(portal_garage, "advisor")(
        JOBS, "POST", f"/api/v1/maintenance-jobs/{sent['job_id']}/estimates", {"channel": "email"}
    )
    browser = requests.Session()
    withdrawn = page(portal_garage, browser, sent["link"])
    assert withdrawn.status_code == 410 and "This link was withdrawn" in withdrawn.text
    newer = portal_garage.message_link(sent["customer"]["id"], "estimate_ready")
    assert newer != sent["link"] and page(portal_garage, browser, newer).status_code == 200
    current = next(e for e in estimates_of(portal_garage, sent["job_id"]) if e["status"] == "sent")
    jobs = portal_garage.apps[JOBS]
    with jobs.app_context():
        db = jobs.extensions["sqlalchemy"]
        token = issue_link(
            db.session,
            purpose="estimate",
            resource_id=current["id"],
            customer_id=sent["customer"]["id"],
            expires_at=datetime.now(UTC) - timedelta(minutes=1),
        )
        db.session.commit()
    expired = page(portal_garage, browser, f"{portal_garage.portal_url}/estimate/{token}")
    assert expired.status_code == 410 and "This link has expired" in expired.text
    assert "+31 20 123 4567" in expired.text


def test_the_invoice_from_the_message_is_shown_and_its_pdf_downloaded(portal_garage: PortalGarage) -> None:
    from portal_harness import issued_invoice

    invoiced = issued_invoice(portal_garage)
    browser = requests.Session()
    shown = page(portal_garage, browser, invoiced["link"])
    assert shown.status_code == 200, shown.text[:500]
    assert "Small service" in shown.text and "To pay" in shown.text
    pdf = browser.get(invoiced["link"] + "/pdf", timeout=10)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "filename=" in pdf.headers["Content-Disposition"]


def test_an_appointment_is_cancelled_and_the_garage_s_usual_work_is_offered_for_booking(
    portal_garage: PortalGarage,
) -> None:
    import uuid

    booked = confirmed_appointment(portal_garage, "Cor Dekker")
    browser = requests.Session()
    asking = page(portal_garage, browser, booked["link"] + "/cancel")
    assert asking.status_code == 200 and "Cancel your appointment?" in asking.text
    cancelled = browser.post(
        booked["link"] + "/cancel", data={"csrf_token": csrf_of(asking), "reason": "On holiday"}, timeout=10
    )
    assert "Your appointment has been cancelled." in cancelled.text
    now = Api(portal_garage, "advisor")(SCHEDULING, "GET", f"/api/v1/appointments/{booked['id']}")
    assert now["status"] == "cancelled"
    name = f"Airco check {uuid.uuid4().hex[:4]}"
    Api(portal_garage, "admin")(
        JOBS,
        "POST",
        "/api/v1/canned-jobs",
        {
            "code": f"airco-{uuid.uuid4().hex[:6]}",
            "name": name,
            "lines": [{"kind": "labour", "description": "Check airco", "hours": "0.50", "hourly_rate": 8000}],
        },
    )
    invited = booking_invitation(portal_garage, "Cor Dekker jr")
    offered = page(portal_garage, browser, invited["link"])
    assert name in offered.text
