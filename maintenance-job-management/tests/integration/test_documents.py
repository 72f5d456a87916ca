"""A job's documents as PDF, parsed back: the estimate as the customer was shown it
(its snapshot's lines, totals and message), and the work order the workshop ticks off;
in English or Dutch (``?lang=``, default GARAGE_LANGUAGE), with the garage's letterhead."""

from __future__ import annotations

import io
import uuid
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

URL = "/api/v1/maintenance-jobs"


@pytest.fixture(autouse=True)
def garage_details(app, monkeypatch):
    for key, value in {
        "GARAGE_NAME": "Garage De Vries",
        "GARAGE_ADDRESS": "Werkplaatsweg 7|3511 AB Utrecht",
        "GARAGE_CHAMBER_OF_COMMERCE": "12345678",
        "GARAGE_PHONE": "030 123 4567",
        "GARAGE_EMAIL": "werkplaats@devries.example",
        "GARAGE_LANGUAGE": "en",
    }.items():
        monkeypatch.setitem(app.config, key, value)


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def assert_in(text: str, *expected: str) -> None:
    missing = [item for item in expected if item not in text]
    assert missing == [], text


def get_pdf(client, path: str, headers, **query):
    response = client.get(path, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    assert response.content_type == "application/pdf" and response.data.startswith(b"%PDF-")
    return response


def part_without_number(jobs, job_id: str, description: str, **fields):
    response = jobs.add_line(job_id, kind="part", description=description, covered_by_booking=False, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def estimated_job(jobs):
    job = jobs.create(description="brakes squeal")
    jobs.labour(job["id"])  # booked: not on the estimate
    pads = jobs.labour(job["id"], hours="1.25", rate=7200, booked=False, description="replace brake pads")
    discs = jobs.part(
        job["id"], quantity="2", price=4550, booked=False, description="brake discs", part_number="BD-9"
    )
    oil = part_without_number(jobs, job["id"], "oil", quantity="4.5", unit_price=1499, vat_rate="9.00")
    response = jobs.estimate(job["id"], channel="phone", message="pads and discs are worn")
    assert response.status_code == 201, response.get_json()
    return job, response.get_json(), (pads, discs, oil)


# ----------------------------------------------------------------------------- estimate


def test_the_estimate_pdf_shows_what_the_customer_was_shown(client, jobs):
    job, estimate, _ = estimated_job(jobs)
    snapshot = estimate["snapshot"]
    response = get_pdf(client, f"{URL}/{job['id']}/estimates/{estimate['id']}/pdf", jobs.advisor)
    assert response.headers["Content-Disposition"] == f'inline; filename="estimate-{estimate["id"]}.pdf"'
    text = text_of(response.data)
    assert_in(
        text,
        "ESTIMATE",
        "Garage De Vries",
        "Werkplaatsweg 7",
        "Chamber of Commerce 12345678",
        "Phone 030 123 4567",
        f"Job {job['id']}",
        f"Vehicle {job['vehicle_id']}",
        "Work brakes squeal",
        "Message pads and discs are worn",
        "replace brake pads (hours)",
        "1.25",
        "€ 72.00",
        "€ 90.00",  # 1.25 h x 72.00
        "brake discs [BD-9]",
        "€ 45.50",
        "€ 91.00",
        "€ 110.11",
        "4.50",
        "€ 67.46",  # 4.5 x 14.99, half up
        f"Total excl. VAT € {snapshot['total_net'] // 100}.{snapshot['total_net'] % 100:02d}",
        "VAT 21% on € 181.00",
        "VAT 9% on € 67.46",
        f"Total incl. VAT € {snapshot['total_gross'] // 100}.{snapshot['total_gross'] % 100:02d}",
        "only after your approval",
        "Page 1 of 1",
    )
    assert "labour " not in text  # the booked line was not on the estimate
    # The same estimate renders to the same bytes.
    again = get_pdf(client, f"{URL}/{job['id']}/estimates/{estimate['id']}/pdf", jobs.technician)
    assert again.data == response.data


def test_a_dutch_estimate(client, jobs):
    job, estimate, _ = estimated_job(jobs)
    text = text_of(
        get_pdf(client, f"{URL}/{job['id']}/estimates/{estimate['id']}/pdf", jobs.advisor, lang="nl").data
    )
    sent = datetime.fromisoformat(estimate["sent_at"])
    assert_in(
        text,
        "OFFERTE",
        "KvK 12345678",
        "Tel. 030 123 4567",
        f"Opdracht {job['id']}",
        "Toelichting pads and discs are worn",
        "replace brake pads (uren)",
        "1,25",
        "€ 72,00",
        "Btw 21% over € 181,00",
        "Btw 9% over € 67,46",
        "Totaal excl. btw",
        "Totaal incl. btw",
        "pas na uw akkoord",
        "Pagina 1 van 1",
        f"{sent.year}",
    )
    assert "ESTIMATE" not in text


def test_the_garage_language_is_the_default(client, jobs, app, monkeypatch):
    monkeypatch.setitem(app.config, "GARAGE_LANGUAGE", "nl")
    job, estimate, _ = estimated_job(jobs)
    assert "OFFERTE" in text_of(
        get_pdf(client, f"{URL}/{job['id']}/estimates/{estimate['id']}/pdf", jobs.advisor).data
    )
    order = text_of(get_pdf(client, f"{URL}/{job['id']}/work-order", jobs.technician).data)
    assert "WERKORDER" in order
    assert "WORK ORDER" in text_of(
        get_pdf(client, f"{URL}/{job['id']}/work-order", jobs.technician, lang="en").data
    )


def test_the_estimate_keeps_what_was_shown_when_lines_change_later(client, jobs):
    job, estimate, (pads, _, _) = estimated_job(jobs)
    path = f"{URL}/{job['id']}/estimates/{estimate['id']}/pdf"
    before = get_pdf(client, path, jobs.advisor).data
    changed = jobs.patch_line(job["id"], pads["id"], description="replace brake pads and sensor")
    assert changed.status_code == 200, changed.get_json()
    assert get_pdf(client, path, jobs.advisor).data == before
    # A new estimate replaces it; the old one says so.
    assert jobs.estimate(job["id"]).status_code == 201
    text = text_of(get_pdf(client, path, jobs.advisor).data)
    assert_in(text, "replace brake pads (hours)", "replaced by a later one")
    assert "sensor" not in text


def test_estimate_pdfs_that_do_not_exist_are_404(client, jobs):
    job, estimate, _ = estimated_job(jobs)
    other = jobs.create()
    for path in (
        f"{URL}/{job['id']}/estimates/{uuid.uuid4()}/pdf",
        f"{URL}/{other['id']}/estimates/{estimate['id']}/pdf",
        f"{URL}/{uuid.uuid4()}/estimates/{estimate['id']}/pdf",
        f"{URL}/{uuid.uuid4()}/work-order",
    ):
        response = client.get(path, headers=jobs.advisor)
        assert response.status_code == 404, path
        assert response.content_type == "application/problem+json"


def test_a_language_documents_are_not_printed_in_is_422(client, jobs):
    job = jobs.create()
    response = client.get(f"{URL}/{job['id']}/work-order", headers=jobs.advisor, query_string={"lang": "de"})
    assert response.status_code == 422
    assert "lang" in str(response.get_json()["errors"])


# --------------------------------------------------------------------------- work order


def test_the_work_order_lists_the_lines_to_tick_off(client, jobs):
    start = datetime(2031, 3, 5, 7, 0, tzinfo=UTC)  # 08:00 in Amsterdam
    job = jobs.create(
        planned_start=start.isoformat(),
        planned_end=start.replace(hour=9, minute=30).isoformat(),
        description="APK",
    )
    oil = jobs.labour(job["id"], hours="0.75", description="oil change")
    jobs.part(job["id"], quantity="1", description="oil filter", part_number="OF-123")
    pads = jobs.labour(job["id"], booked=False, description="brake pads")
    wipers = jobs.part(job["id"], booked=False, description="wipers", part_number="W-2")
    estimate = jobs.estimate(job["id"]).get_json()
    jobs.decide(job["id"], estimate, approve={pads["id"]: True, wipers["id"]: False})
    jobs.must(job["id"], "start", {"odometer_in": 123456})
    assert jobs.patch_line(job["id"], oil["id"], done=True).status_code == 200
    version = jobs.get(job["id"])["version"]
    noted = client.patch(
        f"{URL}/{job['id']}",
        json={"technician_notes": "rear tyres near the limit"},
        headers={**jobs.technician, "If-Match": f'"{version}"'},
    )
    assert noted.status_code == 200, noted.get_json()

    response = get_pdf(client, f"{URL}/{job['id']}/work-order", jobs.technician)
    assert response.headers["Content-Disposition"] == f'inline; filename="work-order-{job["id"]}.pdf"'
    text = text_of(response.data)
    assert_in(
        text,
        "WORK ORDER",
        "Status in progress",
        f"Technician {jobs.technician_id}",
        f"Job {job['id']}",
        "Planned 5 March 2031 08:00\u201310:30",
        f"Vehicle {job['vehicle_id']}",
        f"Customer {job['customer_id']}",
        f"Appointment {job['appointment_id']}",
        "Odometer in 123,456 km",
        "Work APK",
        "[x] Labour oil change",
        "0.75 (hours)",
        "[  ] Part oil filter OF-123",
        "brake pads",
        "wipers W-2",
        "declined: do not do",
        "Technician notes",
        "rear tyres near the limit",
        "Odometer out",
        "Garage De Vries",
    )
    assert "€" not in text  # the workshop's card shows no prices
    assert get_pdf(client, f"{URL}/{job['id']}/work-order", jobs.advisor).data == response.data


def test_a_dutch_work_order_before_the_car_is_in(client, jobs):
    job = jobs.create(description="APK")
    part_without_number(jobs, job["id"], "motorolie", quantity="4.5", unit_price=1499)
    text = text_of(get_pdf(client, f"{URL}/{job['id']}/work-order", jobs.technician, lang="nl").data)
    assert_in(
        text,
        "WERKORDER",
        "Status gepland",
        "Gepland",
        "Km-stand binnen ____________ km",
        "Werkzaamheden APK",
        "[  ] Onderdeel motorolie",
        "4,50",
        "akkoord",
        "Opmerkingen monteur",
        "Km-stand uit",
        "KvK 12345678",
    )
