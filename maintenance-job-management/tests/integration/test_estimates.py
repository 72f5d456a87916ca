"""Estimates and approval: what the customer saw, who decided, when and how; declined
work is not billed and stays as a recommendation; work growing past the approval by
more than the margin puts the job on hold until the customer approves again."""

from __future__ import annotations

import uuid

import pytest

URL = "/api/v1/maintenance-jobs"


@pytest.fixture
def margin(app):
    """Set the approval margin for one test."""
    before = app.config["APPROVAL_MARGIN_PERCENT"]

    def set_margin(percent: int) -> None:
        app.config["APPROVAL_MARGIN_PERCENT"] = percent

    yield set_margin
    app.config["APPROVAL_MARGIN_PERCENT"] = before


def test_an_estimate_records_exactly_what_the_customer_is_shown(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"])  # booked: not on the estimate
    pads = jobs.labour(job["id"], hours="1.00", rate=6000, booked=False, description="replace brake pads")
    discs = jobs.part(
        job["id"], quantity="2", price=4550, booked=False, description="brake discs", part_number="BD-9"
    )
    response = jobs.estimate(job["id"], channel="phone", message="pads and discs are worn")
    assert response.status_code == 201
    estimate = response.get_json()
    assert response.headers["Location"].endswith(f"/estimates/{estimate['id']}")
    assert (estimate["status"], estimate["channel"], estimate["sent_by"]) == ("sent", "phone", "advisor-bea")
    snapshot = estimate["snapshot"]
    assert [line["line_id"] for line in snapshot["lines"]] == [pads["id"], discs["id"]]
    assert snapshot["lines"][1] == {
        "line_id": discs["id"],
        "kind": "part",
        "description": "brake discs",
        "part_number": "BD-9",
        "quantity": "2.00",
        "unit_price": 4550,
        "vat_rate": "21.00",
        "net": 9100,
        "vat": 1911,
        "gross": 11011,
    }
    assert (snapshot["total_net"], snapshot["total_vat"], snapshot["total_gross"]) == (15100, 3171, 18271)
    assert (snapshot["currency"], snapshot["message"]) == ("EUR", "pads and discs are worn")
    assert client.get(response.headers["Location"], headers=jobs.technician).get_json() == estimate


def test_nothing_to_estimate_is_a_conflict(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"])
    response = jobs.estimate(job["id"])
    assert response.status_code == 409
    assert "no line awaits" in response.get_json()["detail"]


def test_approving_and_declining_lines_leaves_an_audit_trail(client, jobs):
    job = jobs.create()
    pads = jobs.labour(job["id"], booked=False, description="pads")
    wipers = jobs.part(job["id"], booked=False, description="wipers", part_number="W-2", price=2500)
    estimate = jobs.estimate(job["id"], channel="email").get_json()
    decided = jobs.decide(
        job["id"],
        estimate,
        approve={pads["id"]: True, wipers["id"]: False},
        decided_by="Jan de Vries",
        channel="phone",
        note="will do the wipers himself",
    )
    assert decided.status_code == 200
    assert (decided.get_json()["status"], decided.get_json()["decided_at"] is not None) == ("decided", True)
    lines = {line["id"]: line for line in jobs.get(job["id"])["lines"]}
    assert (lines[pads["id"]]["approval"], lines[pads["id"]]["approved"]) == ("approved", True)
    assert (lines[wipers["id"]]["approval"], lines[wipers["id"]]["approved"]) == ("declined", False)
    trail = client.get(f"{URL}/{job['id']}/approvals", headers=jobs.accountant).get_json()["items"]
    assert {(a["line_id"], a["decision"]) for a in trail} == {
        (pads["id"], "approved"),
        (wipers["id"], "declined"),
    }
    for entry in trail:
        assert entry["decided_by"] == "Jan de Vries"
        assert entry["channel"] == "phone"
        assert entry["recorded_by"] == "advisor-bea"
        assert entry["estimate_id"] == estimate["id"]
        assert entry["note"] == "will do the wipers himself"
        assert entry["decided_at"] and entry["recorded_at"]
        shown = next(s for s in estimate["snapshot"]["lines"] if s["line_id"] == entry["line_id"])
        assert entry["shown"] == shown


def test_booked_lines_carry_the_booking_as_their_approval(client, jobs):
    job = jobs.create()
    line = jobs.labour(job["id"])
    (entry,) = client.get(f"{URL}/{job['id']}/approvals", headers=jobs.advisor).get_json()["items"]
    assert (entry["line_id"], entry["channel"], entry["estimate_id"]) == (line["id"], "booking", None)
    assert entry["decided_by"] == jobs.technician_id


def test_declined_work_is_not_billed_and_stays_as_a_recommendation(client, jobs):
    vehicle = str(uuid.uuid4())
    job = jobs.create(vehicle_id=vehicle)
    jobs.labour(job["id"], hours="1.00", rate=5000)
    tyres = jobs.part(
        job["id"], booked=False, description="rear tyres", part_number="T-205", quantity="2", price=8900
    )
    estimate = jobs.estimate(job["id"]).get_json()
    jobs.decide(job["id"], estimate, approve=False)
    jobs.must(job["id"], "start")
    done = jobs.must(job["id"], "complete")
    assert done["totals"]["billable_net"] == 5000
    assert done["totals"]["declined_net"] == 17800
    assert [line["approved"] for line in done["lines"]] == [True, False]
    assert done["progress"]["total"] == 1
    recommendations = client.get(f"{URL}/recommendations?vehicle_id={vehicle}", headers=jobs.advisor)
    assert recommendations.status_code == 200
    (item,) = recommendations.get_json()["items"]
    assert (item["id"], item["job_id"], item["vehicle_id"]) == (tyres["id"], job["id"], vehicle)
    assert item["description"] == "rear tyres"
    by_customer = client.get(f"{URL}/recommendations?customer_id={job['customer_id']}", headers=jobs.advisor)
    assert len(by_customer.get_json()["items"]) == 1
    assert client.get(f"{URL}/recommendations", headers=jobs.advisor).status_code == 422


def test_a_declined_line_is_kept_but_can_be_offered_again(client, jobs):
    job = jobs.create()
    line = jobs.labour(job["id"], booked=False)
    jobs.decide(job["id"], jobs.estimate(job["id"]).get_json(), approve=False)
    assert jobs.patch_line(job["id"], line["id"], hours="0.10").status_code == 409
    assert client.delete(f"{URL}/{job['id']}/lines/{line['id']}", headers=jobs.advisor).status_code == 409
    assert jobs.estimate(job["id"]).status_code == 409, "declined lines are not offered by default"
    again = jobs.estimate(job["id"], line_ids=[line["id"]])
    assert again.status_code == 201
    jobs.decide(job["id"], again.get_json(), approve=True, channel="counter")
    assert jobs.get(job["id"])["lines"][0]["approval"] == "approved"


def test_an_estimate_is_decided_once_and_completely(client, jobs):
    job = jobs.create()
    a = jobs.labour(job["id"], booked=False)
    jobs.part(job["id"], booked=False)
    estimate = jobs.estimate(job["id"]).get_json()
    partial = client.post(
        f"{URL}/{job['id']}/estimates/{estimate['id']}/decision",
        json={"decided_by": "Jan", "channel": "phone", "lines": [{"line_id": a["id"], "approved": True}]},
        headers=jobs.advisor,
    )
    assert partial.status_code == 422
    assert "lines" in partial.get_json()["errors"]
    twice = client.post(
        f"{URL}/{job['id']}/estimates/{estimate['id']}/decision",
        json={
            "decided_by": "Jan",
            "channel": "phone",
            "lines": [{"line_id": a["id"], "approved": True}, {"line_id": a["id"], "approved": False}],
        },
        headers=jobs.advisor,
    )
    assert twice.status_code == 422
    assert jobs.decide(job["id"], estimate).status_code == 200
    again = jobs.decide(job["id"], estimate)
    assert again.status_code == 409
    assert "decided" in again.get_json()["detail"]


def test_a_decision_on_lines_changed_since_the_estimate_is_refused(client, jobs):
    job = jobs.create()
    line = jobs.labour(job["id"], booked=False, rate=6000)
    estimate = jobs.estimate(job["id"]).get_json()
    jobs.patch_line(job["id"], line["id"], hourly_rate=9000)
    stale = jobs.decide(job["id"], estimate)
    assert stale.status_code == 409
    assert stale.get_json()["changed_lines"] == [line["id"]]
    assert jobs.get(job["id"])["lines"][0]["approval"] == "pending"


def test_a_new_estimate_supersedes_an_undecided_one(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"], booked=False)
    first = jobs.estimate(job["id"]).get_json()
    second = jobs.estimate(job["id"]).get_json()
    listed = client.get(f"{URL}/{job['id']}/estimates", headers=jobs.advisor).get_json()["items"]
    assert [(e["id"], e["status"]) for e in listed] == [(second["id"], "sent"), (first["id"], "superseded")]
    assert jobs.decide(job["id"], first).status_code == 409


def test_unknown_estimate_or_lines_not_of_the_job(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"], booked=False)
    other = jobs.create()
    foreign = jobs.estimate(other["id"], line_ids=[str(uuid.uuid4())])
    assert foreign.status_code == 422
    fake = {"id": str(uuid.uuid4()), "snapshot": {"lines": []}}
    assert jobs.decide(job["id"], fake).status_code in (404, 422)
    assert client.get(f"{URL}/{job['id']}/estimates/{uuid.uuid4()}", headers=jobs.advisor).status_code == 404


def test_completion_waits_for_the_customers_decision(client, jobs):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"])
    jobs.part(job["id"], booked=False)
    refused = jobs.act(job["id"], "complete")
    assert refused.status_code == 409
    assert "await the customer's decision" in refused.get_json()["detail"]


def test_growth_within_the_margin_goes_on(client, jobs):
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], hours="1.00", rate=10000)
    response = jobs.patch_line(job["id"], line["id"], hours="1.10")  # +10%: within
    assert response.status_code == 200
    after = jobs.get(job["id"])
    assert after["status"] == "in_progress"
    assert after["lines"][0]["needs_reapproval"] is True
    assert after["totals"]["approved_net"] == 10000 and after["totals"]["billable_net"] == 11000


def test_growth_past_the_margin_holds_the_job_until_the_customer_approves(client, jobs, outbox_rows):
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], hours="1.00", rate=10000)
    jobs.patch_line(job["id"], line["id"], hours="1.11")  # +11%
    held = jobs.get(job["id"])
    assert (held["status"], held["hold_kind"]) == ("on_hold", "approval")
    assert "10%" in held["hold_reason"]
    (notice,) = outbox_rows(target="notification-management")
    assert notice.body["type"] == "job_on_hold"
    assert notice.body["data"]["awaiting_approval"] is True
    refused = jobs.act(job["id"], "resume")
    assert refused.status_code == 409
    assert "exceeds what the customer approved" in refused.get_json()["detail"]
    estimate = jobs.estimate(job["id"]).get_json()
    assert [s["line_id"] for s in estimate["snapshot"]["lines"]] == [line["id"]]
    assert estimate["snapshot"]["total_net"] == 11100
    jobs.decide(job["id"], estimate, approve=True)
    resumed = jobs.get(job["id"])
    assert (resumed["status"], resumed["hold_kind"], resumed["hold_reason"]) == ("in_progress", None, None)
    assert resumed["totals"]["approved_net"] == 11100


def test_a_manual_hold_is_not_lifted_by_an_approval(client, jobs):
    job = jobs.in_status("in_progress")
    jobs.labour(job["id"], booked=False)
    jobs.must(job["id"], "hold", {"reason": "waiting for parts"})
    jobs.decide(job["id"], jobs.estimate(job["id"]).get_json())
    assert jobs.get(job["id"])["status"] == "on_hold"


def test_a_scheduled_job_past_its_approval_does_not_start(client, jobs):
    job = jobs.create()
    line = jobs.labour(job["id"], hours="1.00", rate=10000)
    jobs.patch_line(job["id"], line["id"], hourly_rate=20000)
    assert jobs.get(job["id"])["status"] == "scheduled"
    refused = jobs.act(job["id"], "start")
    assert refused.status_code == 409
    jobs.decide(job["id"], jobs.estimate(job["id"]).get_json())
    assert jobs.must(job["id"], "start")["status"] == "in_progress"


def test_the_margin_is_configurable(client, jobs, margin):
    margin(0)
    job = jobs.in_status("in_progress")
    line = jobs.labour(job["id"], hours="1.00", rate=10000)
    jobs.patch_line(job["id"], line["id"], hours="1.01")
    assert jobs.get(job["id"])["status"] == "on_hold"
    margin(50)
    other = jobs.in_status("in_progress")
    line = jobs.labour(other["id"], hours="1.00", rate=10000)
    jobs.patch_line(other["id"], line["id"], hours="1.50")
    assert jobs.get(other["id"])["status"] == "in_progress"


def test_an_estimate_by_email_or_sms_tells_the_customer(client, jobs, outbox_rows):
    job = jobs.create()
    jobs.labour(job["id"], booked=False)
    at_counter = jobs.estimate(job["id"], channel="counter").get_json()
    assert outbox_rows() == []
    by_sms = jobs.estimate(job["id"], channel="sms").get_json()
    (row,) = outbox_rows()
    assert (row.target, row.path, row.idempotency_key) == (
        "notification-management",
        "/api/v1/notifications",
        f"estimate-ready-{by_sms['id']}",
    )
    assert row.body["type"] == "estimate_ready" and row.body["channel"] == "sms"
    assert row.body["customer_id"] == job["customer_id"]
    assert row.body["data"]["estimate_id"] == by_sms["id"]
    assert row.body["data"]["lines"] == by_sms["snapshot"]["lines"]
    assert at_counter["id"] != by_sms["id"]


def test_decision_time_must_lie_between_sending_and_now(client, jobs):
    job = jobs.create()
    jobs.labour(job["id"], booked=False)
    estimate = jobs.estimate(job["id"]).get_json()
    early = jobs.decide(job["id"], estimate, decided_at="2000-01-01T00:00:00+00:00")
    assert early.status_code == 422
    assert "decided_at" in early.get_json()["errors"]
