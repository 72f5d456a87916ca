"""Numbers are gap-free and strictly increasing per series and year, correct when many
invoices are issued at once, and a failed issue leaves no gap."""

from __future__ import annotations

import random
import threading
import time
from datetime import UTC, datetime

from invoicing.models import db
from invoicing.service import invoices, sending

from invoicing import domain
from service_kit.testing import run_concurrently

URL = "/api/v1/invoices"


def sequence(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


def test_many_invoices_issued_at_once_get_every_number_once(app, garage):
    jobs = [garage.job()["id"] for _ in range(20)]

    def issue(job_id):
        return app.test_client().post(URL, json={"job_id": job_id}, headers=garage.service)

    responses = run_concurrently(issue, jobs)
    assert [r.status_code for r in responses] == [201] * len(jobs), [r.get_json() for r in responses]
    numbers = sorted(sequence(r.get_json()["number"]) for r in responses)
    assert numbers == list(range(1, len(jobs) + 1))
    # Strictly increasing in issue order: a later issue never has a lower number.
    invoices = [garage.get(r.get_json()["id"]) for r in responses]
    by_time = sorted(invoices, key=lambda invoice: invoice["issued_at"])
    assert [sequence(i["number"]) for i in by_time] == sorted(sequence(i["number"]) for i in by_time)


def test_issues_failing_after_taking_a_number_leave_no_gap(app, garage, monkeypatch):
    """Every third issue dies after its number was taken and its row written; the
    numbers that stay are still 1..n with no hole."""
    doomed = {garage.job(customer=garage.customers.add(name=f"Doomed {n}"))["id"] for n in range(5)}
    fine = [garage.job()["id"] for _ in range(10)]
    real = sending.request_sending

    def failing(session, invoice, **kwargs):
        if invoice.customer_name.startswith("Doomed"):
            time.sleep(random.random() / 50)
            raise RuntimeError("the disk is full")
        return real(session, invoice, **kwargs)

    monkeypatch.setattr(sending, "request_sending", failing)
    jobs = [*doomed, *fine]
    random.shuffle(jobs)
    responses = run_concurrently(
        lambda job_id: app.test_client().post(URL, json={"job_id": job_id}, headers=garage.service), jobs
    )
    statuses = {job_id: r.status_code for job_id, r in zip(jobs, responses, strict=True)}
    assert {statuses[j] for j in doomed} == {500}
    assert {statuses[j] for j in fine} == {201}
    numbers = sorted(sequence(r.get_json()["number"]) for r in responses if r.status_code == 201)
    assert numbers == list(range(1, len(fine) + 1))
    listed = garage.client.get(f"{URL}?limit=200", headers=garage.accountant).get_json()["items"]
    assert len(listed) == len(fine)


def test_counter_transactions_that_roll_back_give_their_number_back(app):
    """Straight at the counter, in parallel transactions: what commits is 1..k."""
    committed: list[int] = []
    lock = threading.Lock()

    def take(index: int) -> None:
        with app.app_context():
            number = invoices.next_number(db.session, series=domain.INVOICE_SERIES, year=1999)
            time.sleep(0.001)
            if index % 3 == 0:
                db.session.rollback()
            else:
                db.session.commit()
                with lock:
                    committed.append(number)
            db.session.remove()

    try:
        run_concurrently(take, range(30))
        assert sorted(committed) == list(range(1, 21))
    finally:
        from invoicing.models import DocumentCounter

        with app.app_context():
            db.session.query(DocumentCounter).filter_by(year=1999).delete()
            db.session.commit()


def test_each_series_and_year_counts_on_its_own(garage, monkeypatch, clock):
    first = garage.invoice()
    year = datetime.now(UTC).year
    clock(datetime(2025, 12, 31, 12, tzinfo=UTC))
    last_year = garage.invoice()
    monkeypatch.undo()
    second = garage.invoice()
    note = garage.credit(first["id"]).get_json()
    another = garage.credit(second["id"]).get_json()
    assert (first["number"], second["number"]) == (f"{year}-000001", f"{year}-000002")
    assert last_year["number"] == "2025-000001"
    assert last_year["issue_date"] == "2025-12-31"
    assert (note["number"], another["number"]) == (f"CN-{year}-000001", f"CN-{year}-000002")


def test_the_year_is_the_garages(garage, clock):
    """23:30 UTC on New Year's Eve is already the next year in Amsterdam."""
    clock(datetime(2030, 12, 31, 23, 30, tzinfo=UTC))
    invoice = garage.invoice()
    assert invoice["number"] == "2031-000001"
    assert invoice["issue_date"] == "2031-01-01"


def test_a_refused_issue_takes_no_number(garage, counters, labour):
    assert garage.create(garage.job(status="on_hold")["id"]).status_code == 409
    assert garage.create(garage.job([labour(approved=False)])["id"]).status_code == 422
    assert counters() == {}
    assert sequence(garage.invoice()["number"]) == 1
