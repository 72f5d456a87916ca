"""Issuing the invoice of a completed job: what is copied, what is billed, the totals,
once per job, and every refusal."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from service_kit.outbox import RETRY, classify

URL = "/api/v1/invoices"


def test_issues_a_numbered_invoice_from_the_job_customer_and_vehicle(garage, labour, part):
    customer = garage.customers.add(
        name="Garage Client BV",
        kind="business",
        vat_number="NL999999999B01",
        contact_person="Piet Jansen",
        email="billing@client.example",
    )
    job = garage.job([labour(150, 6000, description="annual service"), part(200, 1250)], customer=customer)
    response = garage.create(job["id"])
    assert response.status_code == 201, response.get_json()
    invoice = response.get_json()
    assert response.headers["Location"].endswith(f"{URL}/{invoice['id']}")
    assert response.headers["ETag"] == f'"{invoice["version"]}"'
    assert invoice["number"] == f"{date.today().year}-000001"
    assert invoice["job_id"] == job["id"]
    assert invoice["customer"] == {
        "id": customer["id"],
        "kind": "business",
        "name": "Garage Client BV",
        "vat_number": "NL999999999B01",
        "contact_person": "Piet Jansen",
        "email": "billing@client.example",
        "phone": "+31612345678",
        "address": {"street": "Oudegracht 1", "postal_code": "3511 AA", "city": "Utrecht", "country": "NL"},
        "language": "nl",
    }
    assert invoice["vehicle"] == {
        "id": job["vehicle_id"],
        "plate": "AB-123-C",
        "description": "Volkswagen Golf",
        "odometer": 123456,
        "odometer_unit": "km",
    }
    assert invoice["job_description"] == "annual service"
    assert invoice["currency"] == "EUR"
    # 1.5 h x 60.00 = 90.00; 2 x 12.50 = 25.00; VAT 21% per line: 18.90 + 5.25
    assert [(line["kind"], line["amount"], line["net"], line["vat"]) for line in invoice["lines"]] == [
        ("labour", 9000, 9000, 1890),
        ("part", 2500, 2500, 525),
    ]
    assert invoice["lines"][0]["job_line_id"] == job["lines"][0]["id"]
    assert invoice["vat_breakdown"] == [{"rate": "21.00", "net": 11500, "vat": 2415, "gross": 13915}]
    assert invoice["totals"] == {
        "subtotal": 11500,
        "line_discounts": 0,
        "invoice_discount": 0,
        "net": 11500,
        "vat": 2415,
        "gross": 13915,
        "credited": 0,
        "paid": 0,
        "outstanding": 13915,
        "refund_due": 0,
    }
    issue = date.fromisoformat(invoice["issue_date"])
    assert date.fromisoformat(invoice["due_date"]) == issue + timedelta(days=30)  # the business's terms
    assert invoice["payment_terms_days"] == 30
    assert invoice["status"] == "sent" and invoice["sent_at"] is not None and invoice["send_count"] == 1
    assert invoice["overdue"] is False
    assert invoice["issued_by"] == "maintenance-job-management"
    assert invoice["pdf_url"] == f"http://invoicing.test{URL}/{invoice['id']}/pdf"
    assert invoice["payments"] == [] and invoice["credit_notes"] == []


def test_numbers_follow_each_other(garage):
    numbers = [garage.invoice()["number"] for _ in range(3)]
    year = date.today().year
    assert numbers == [f"{year}-000001", f"{year}-000002", f"{year}-000003"]


def test_declined_lines_are_not_billed(garage, labour, part):
    invoice = garage.invoice([labour(100, 5000), part(100, 9999, approved=False, description="wipers")])
    assert [line["description"] for line in invoice["lines"]] == ["labour"]
    assert invoice["totals"]["net"] == 5000


def test_mixed_vat_rates_and_discounts(garage, labour, part):
    job = garage.job(
        [
            labour(125, 7350, description="brakes"),  # 91.875 -> 91.88
            part(300, 333, vat="9.00", description="fluid"),  # 9.99
            part(100, 20000, description="discs"),
        ]
    )
    lines = job["lines"]
    response = garage.create(
        job["id"],
        headers=garage.admin,
        discount={"percent": "10"},
        line_discounts=[{"job_line_id": lines[2]["id"], "amount": 2000}],
        payment_terms_days=30,
    )
    assert response.status_code == 201, response.get_json()
    invoice = response.get_json()
    assert [line["amount"] for line in invoice["lines"]] == [9188, 999, 20000]
    assert [line["line_discount"] for line in invoice["lines"]] == [0, 0, 2000]
    # 10% of 9188 + 999 + 18000 = 2818.7 -> 2819, spread in proportion
    assert sum(line["invoice_discount"] for line in invoice["lines"]) == 2819
    assert invoice["totals"]["invoice_discount"] == 2819
    assert invoice["totals"]["line_discounts"] == 2000
    assert invoice["totals"]["net"] == 9188 + 999 + 20000 - 2000 - 2819
    assert [row["rate"] for row in invoice["vat_breakdown"]] == ["9.00", "21.00"]
    assert sum(row["vat"] for row in invoice["vat_breakdown"]) == invoice["totals"]["vat"]
    assert invoice["discount"] == {"percent": "10.00", "amount": None}
    assert invoice["payment_terms_days"] == 30


def test_a_second_create_for_the_job_returns_the_first_invoice(garage, counters):
    job = garage.job()
    first = garage.create(job["id"])
    again = garage.create(job["id"], headers=garage.admin)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json()["id"] == first.get_json()["id"]
    assert again.get_json()["number"] == first.get_json()["number"]
    assert list(counters().values()) == [1]


def test_the_job_services_outbox_call_is_answered_and_replayed(garage):
    """Exactly what maintenance-job-management's outbox sends: {job_id}, key invoice-<job id>."""
    job = garage.job()
    headers = {**garage.service, "Idempotency-Key": f"invoice-{job['id']}"}
    first = garage.client.post(URL, json={"job_id": job["id"]}, headers=headers)
    replay = garage.client.post(URL, json={"job_id": job["id"]}, headers=headers)
    assert first.status_code == replay.status_code == 201
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.get_json()["id"] == first.get_json()["id"]


def test_a_job_that_is_not_completed_is_refused_with_its_status(garage, counters):
    job = garage.job(status="in_progress")
    response = garage.create(job["id"])
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["type"] == "urn:garage:problem:job-not-completed"
    assert problem["current_status"] == "in_progress"
    assert response.content_type == "application/problem+json"
    assert counters() == {}


def test_an_unknown_job_is_unprocessable(garage):
    response = garage.create(str(uuid.uuid4()))
    assert response.status_code == 422
    assert "job_id" in response.get_json()["errors"]


def test_a_job_with_nothing_approved_is_not_invoiced(garage, counters, labour):
    job = garage.job([labour(approved=False)])
    response = garage.create(job["id"])
    assert response.status_code == 422
    assert response.get_json()["type"] == "urn:garage:problem:nothing-to-invoice"
    assert counters() == {}


def test_an_unknown_customer_is_unprocessable(garage):
    job = garage.jobs.add(customer_id=str(uuid.uuid4()), vehicle_id=str(uuid.uuid4()))
    response = garage.create(job["id"])
    assert response.status_code == 422
    assert response.get_json()["type"] == "urn:garage:problem:customer-not-found"


def test_an_unknown_vehicle_leaves_the_plate_out(garage):
    customer = garage.customers.add()
    job = garage.jobs.add(customer_id=customer["id"], vehicle_id=str(uuid.uuid4()))
    invoice = garage.create(job["id"]).get_json()
    assert invoice["vehicle"]["plate"] is None
    assert invoice["vehicle"]["odometer"] == 123456


def test_bad_discounts_are_refused(garage, counters, labour):
    job = garage.job([labour(100, 1000)])
    line_id = job["lines"][0]["id"]
    cases = [
        ({"discount": {"amount": 5000}}, "discount"),
        ({"discount": {"percent": "10", "amount": 5}}, "discount"),
        ({"discount": {"percent": "100.5"}}, "discount"),
        ({"discount": {"percent": "1.234"}}, "discount"),
        ({"line_discounts": [{"job_line_id": str(uuid.uuid4()), "amount": 1}]}, "line_discounts"),
        ({"line_discounts": [{"job_line_id": line_id, "amount": 1001}]}, "line_discounts.0"),
        (
            {
                "line_discounts": [
                    {"job_line_id": line_id, "amount": 1},
                    {"job_line_id": line_id, "amount": 2},
                ]
            },
            "line_discounts",
        ),
    ]
    for body, field in cases:
        response = garage.create(job["id"], headers=garage.admin, **body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["errors"], (body, response.get_json())
    assert counters() == {}


def test_malformed_bodies_are_refused(garage):
    assert (
        garage.client.post(
            URL, data="{", headers={**garage.service, "Content-Type": "application/json"}
        ).status_code
        == 400
    )
    response = garage.client.post(URL, json={"job_id": "not-a-uuid"}, headers=garage.service)
    assert response.status_code == 422 and "job_id" in response.get_json()["errors"]
    response = garage.client.post(
        URL, json={"job_id": str(uuid.uuid4()), "payment_terms_days": -1}, headers=garage.service
    )
    assert response.status_code == 422 and "payment_terms_days" in response.get_json()["errors"]


# ----------------------------------------------------------------------- payment terms


def days_to_pay(invoice: dict) -> int:
    return (date.fromisoformat(invoice["due_date"]) - date.fromisoformat(invoice["issue_date"])).days


def test_the_job_services_invoice_for_a_person_is_due_on_collection(garage):
    """The outbox's create carries only the job: the customer's terms decide."""
    invoice = garage.invoice(customer=garage.customers.add(kind="person"))
    assert invoice["payment_terms_days"] == 0
    assert invoice["due_date"] == invoice["issue_date"]


def test_the_job_services_invoice_for_a_business_is_on_account(garage):
    invoice = garage.invoice(customer=garage.customers.add(kind="business", name="Fleet BV"))
    assert (invoice["payment_terms_days"], days_to_pay(invoice)) == (30, 30)


def test_a_business_with_its_own_terms_gets_them(garage):
    customer = garage.customers.add(kind="business", name="Slow Payer BV", payment_terms_days=45)
    invoice = garage.invoice(customer=customer)
    assert (invoice["payment_terms_days"], days_to_pay(invoice)) == (45, 45)


def test_terms_given_when_creating_win_over_the_customers(garage):
    customer = garage.customers.add(kind="business", name="Fleet BV", payment_terms_days=45)
    invoice = garage.invoice(customer=customer, payment_terms_days=7, headers=garage.admin)
    assert (invoice["payment_terms_days"], days_to_pay(invoice)) == (7, 7)
    person = garage.invoice(customer=garage.customers.add(kind="person"), payment_terms_days=14)
    assert (person["payment_terms_days"], days_to_pay(person)) == (14, 14)


def test_the_invoice_is_a_snapshot(garage, labour):
    """Later changes to the customer or the job change nothing on an issued invoice."""
    customer = garage.customers.add(name="Before BV")
    job = garage.job([labour(100, 1000)], customer=customer)
    invoice = garage.create(job["id"]).get_json()
    garage.customers.add(id=customer["id"], name="After BV", email="new@example.com")
    garage.jobs.add(
        customer_id=customer["id"], vehicle_id=job["vehicle_id"], id=job["id"], lines=[labour(999, 1)]
    )
    again = garage.get(invoice["id"])
    assert again["customer"]["name"] == "Before BV"
    assert again["lines"] == invoice["lines"]
    assert garage.create(job["id"]).get_json()["customer"]["name"] == "Before BV"


def test_the_dependency_failure_answer_is_one_the_job_outbox_retries(garage):
    garage.jobs.stop()
    response = garage.create(str(uuid.uuid4()))
    assert response.status_code == 503
    assert classify(response.status_code) == RETRY


def test_get_unknown_invoice_is_a_problem(garage):
    response = garage.client.get(f"{URL}/{uuid.uuid4()}", headers=garage.accountant)
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert garage.client.get(f"{URL}/not-a-uuid", headers=garage.accountant).status_code == 404
