"""Invoice lists (by customer, job, status, overdue, issue dates; keyset pages) and the
accounts-receivable summary aged 0-30 / 31-60 / 61-90 / 90+ days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

URL = "/api/v1/invoices"


@pytest.fixture
def issue_days_ago(garage, monkeypatch, clock):
    """Issue an invoice as if it were ``days`` ago (14 days to pay, asked for: the
    fakes' customers are persons, who would pay on collection)."""

    def issue(days: int, **kwargs):
        kwargs.setdefault("payment_terms_days", 14)
        moment = datetime.now(UTC) - timedelta(days=days)
        clock(moment)
        try:
            return garage.invoice(**kwargs)
        finally:
            monkeypatch.undo()

    return issue


def ids(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def test_lists_newest_first_in_keyset_pages(garage):
    made = [garage.invoice()["id"] for _ in range(5)]
    first = garage.client.get(f"{URL}?limit=2", headers=garage.advisor).get_json()
    assert [i["id"] for i in first["items"]] == made[::-1][:2]
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = garage.client.get(f"{URL}?limit=2&cursor={cursor}", headers=garage.advisor).get_json()
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == made[::-1]
    bad = garage.client.get(f"{URL}?cursor=bogus", headers=garage.advisor)
    assert bad.status_code == 422 and "cursor" in bad.get_json()["errors"]
    assert garage.client.get(f"{URL}?limit=500", headers=garage.advisor).status_code == 422


def test_filters_by_customer_and_job(garage):
    customer = garage.customers.add(name="Regular")
    mine = [garage.invoice(customer=customer) for _ in range(2)]
    other = garage.invoice()
    assert ids(garage.client.get(f"{URL}?customer_id={customer['id']}", headers=garage.advisor)) == [
        mine[1]["id"],
        mine[0]["id"],
    ]
    assert ids(garage.client.get(f"{URL}?job_id={other['job_id']}", headers=garage.advisor)) == [other["id"]]


def test_filters_by_status_and_overdue(garage, issue_days_ago):
    overdue = issue_days_ago(20)
    current = issue_days_ago(3)
    paid = garage.invoice()
    garage.pay(paid["id"], paid["totals"]["gross"])
    partly = issue_days_ago(40)
    garage.pay(partly["id"], 1)
    assert garage.get(overdue["id"])["status"] == "overdue"
    assert garage.get(overdue["id"])["overdue"] is True
    assert garage.get(partly["id"])["status"] == "overdue"

    def listed(query: str) -> set[str]:
        return set(ids(garage.client.get(f"{URL}?{query}", headers=garage.accountant)))

    assert listed("status=overdue") == {overdue["id"], partly["id"]}
    assert listed("overdue=true") == {overdue["id"], partly["id"]}
    assert listed("overdue=false") == {current["id"], paid["id"]}
    assert listed("status=sent") == {current["id"]}
    assert listed("status=paid") == {paid["id"]}
    assert listed("status=partially_paid") == set()
    assert listed("status=credited") == set()
    assert garage.client.get(f"{URL}?status=lost", headers=garage.accountant).status_code == 422


def test_filters_by_issue_dates(garage, issue_days_ago):
    old = issue_days_ago(50)
    recent = issue_days_ago(5)
    today = garage.invoice()
    day = datetime.fromisoformat(recent["issue_date"]).date()
    assert set(ids(garage.client.get(f"{URL}?issued_from={day}", headers=garage.advisor))) == {
        recent["id"],
        today["id"],
    }
    assert ids(garage.client.get(f"{URL}?issued_to={day - timedelta(days=1)}", headers=garage.advisor)) == [
        old["id"]
    ]
    assert ids(garage.client.get(f"{URL}?issued_from={day}&issued_to={day}", headers=garage.advisor)) == [
        recent["id"]
    ]
    reversed_range = garage.client.get(
        f"{URL}?issued_from={day}&issued_to={old['issue_date']}", headers=garage.advisor
    )
    assert reversed_range.status_code == 422 and "issued_from" in reversed_range.get_json()["errors"]


def test_receivables_per_customer_aged_by_invoice_date(garage, issue_days_ago):
    ann = garage.customers.add(name="Ann")
    bob = garage.customers.add(name="Bob")
    a1 = issue_days_ago(10, customer=ann)
    issue_days_ago(45, customer=ann)
    issue_days_ago(75, customer=ann)
    a4 = issue_days_ago(120, customer=ann)
    garage.pay(a4["id"], 1000)
    b1 = issue_days_ago(5, customer=bob)
    b2 = garage.invoice(customer=bob)
    garage.pay(b2["id"], b2["totals"]["gross"])  # paid: not receivable
    b3 = garage.invoice(customer=bob)
    garage.credit(b3["id"])  # credited: not receivable
    gross = a1["totals"]["gross"]  # every default job comes to the same
    response = garage.client.get(f"{URL}/receivables", headers=garage.accountant)
    assert response.status_code == 200, response.get_json()
    report = response.get_json()
    assert report["as_of"] == datetime.now(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    items = {item["customer_name"]: item for item in report["items"]}
    assert set(items) == {"Ann", "Bob"}
    assert items["Ann"] == {
        "customer_id": ann["id"],
        "customer_name": "Ann",
        "currency": "EUR",
        "invoices": 4,
        "outstanding": 4 * gross - 1000,
        "overdue": 3 * gross - 1000,
        "days_0_30": gross,
        "days_31_60": gross,
        "days_61_90": gross,
        "days_90_plus": gross - 1000,
    }
    assert items["Bob"]["outstanding"] == b1["totals"]["gross"] and items["Bob"]["overdue"] == 0
    assert report["totals"] == [
        {
            "currency": "EUR",
            "invoices": 5,
            "outstanding": 5 * gross - 1000,
            "overdue": 3 * gross - 1000,
            "days_0_30": 2 * gross,
            "days_31_60": gross,
            "days_61_90": gross,
            "days_90_plus": gross - 1000,
        }
    ]
    assert report["next_cursor"] is None
    first = garage.client.get(f"{URL}/receivables?limit=1", headers=garage.accountant).get_json()
    second = garage.client.get(
        f"{URL}/receivables?limit=1&cursor={first['next_cursor']}", headers=garage.accountant
    ).get_json()
    assert {first["items"][0]["customer_name"], second["items"][0]["customer_name"]} == {"Ann", "Bob"}
    assert second["next_cursor"] is None
    just_bob = garage.client.get(
        f"{URL}/receivables?customer_id={bob['id']}", headers=garage.accountant
    ).get_json()
    assert [item["customer_name"] for item in just_bob["items"]] == ["Bob"]
