"""Every invoice and credit note renders to a PDF; parsed back, it holds the garage's
details, the customer, the vehicle, the lines, the VAT breakdown, the total and the
payment instructions."""

from __future__ import annotations

import io
import os
import uuid

import pytest
from pypdf import PdfReader

from invoicing import pdf

URL = "/api/v1/invoices"
CREDIT_NOTES = "/api/v1/credit-notes"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def fetch(garage, path: str, headers=None) -> bytes:
    response = garage.client.get(path, headers=headers or garage.accountant)
    assert response.status_code == 200, response.data[:300]
    assert response.content_type == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return response


def test_the_invoice_pdf_reads_back(garage, labour, part):
    customer = garage.customers.add(
        name="Klant & Zonen BV", kind="business", vat_number="NL111222333B01", contact_person="Joost"
    )
    invoice = garage.invoice(
        [
            labour(175, 6500, description="Replace timing belt"),
            part(100, 8950, description="Timing belt kit", part_number="TB-9"),
            part(400, 1499, vat="9.00", description="Coolant"),
        ],
        customer=customer,
    )
    response = fetch(garage, f"{URL}/{invoice['id']}/pdf")
    assert response.headers["Content-Disposition"] == f'inline; filename="invoice-{invoice["number"]}.pdf"'
    text = text_of(response.data)
    for expected in (
        "INVOICE",
        invoice["number"],
        invoice["issue_date"],
        invoice["due_date"],
        "Garage De Vries",
        "Werkplaatsweg 7",
        "NL123456789B01",
        "KvK 12345678",
        "Klant & Zonen BV",
        "Attn. Joost",
        "NL111222333B01",
        "Oudegracht 1",
        "AB-123-C (Volkswagen Golf)",
        "123,456 km",
        "annual service",
        "Replace timing belt",
        "Timing belt kit [TB-9]",
        "Coolant",
        "EUR 113.75",  # 1.75 h x 65.00
        "EUR 59.96",  # 4 x 14.99
        "VAT 21% on EUR 203.25",
        "VAT 9% on EUR 59.96",
        "Total to pay",
        "NL91ABNA0417164300",
        "ABNANL2A",
        f"quoting invoice number {invoice['number']}",
    ):
        assert expected in text, expected
    gross = invoice["totals"]["gross"]
    assert f"EUR {gross // 100:,}.{gross % 100:02d}" in text


def test_the_same_invoice_renders_the_same_document(garage):
    invoice = garage.invoice()
    first = fetch(garage, f"{URL}/{invoice['id']}/pdf").data
    garage.pay(invoice["id"], 100)
    again = fetch(garage, f"{URL}/{invoice['id']}/pdf", headers=garage.service).data
    assert first == again


def test_discounts_are_on_the_pdf(garage, labour):
    job = garage.job([labour(100, 10000)])
    response = garage.create(job["id"], headers=garage.admin, discount={"amount": 1500})
    text = text_of(fetch(garage, f"{URL}/{response.get_json()['id']}/pdf").data)
    assert "Invoice discount" in text and "-EUR 15.00" in text
    assert "EUR 85.00" in text


def test_the_credit_note_pdf_reads_back(garage):
    invoice = garage.invoice()
    note = garage.credit(invoice["id"], reason="Warranty: belt replaced twice").get_json()
    response = fetch(garage, f"{CREDIT_NOTES}/{note['id']}/pdf", headers=garage.service)
    assert response.headers["Content-Disposition"] == f'inline; filename="credit-note-{note["number"]}.pdf"'
    text = text_of(response.data)
    gross = -note["totals"]["gross"]
    for expected in (
        "CREDIT NOTE",
        note["number"],
        invoice["number"],
        "Warranty: belt replaced twice",
        "labour",
        "oil filter",
        f"-EUR {gross // 100:,}.{gross % 100:02d}",
        "Total credited",
    ):
        assert expected in text, expected


def test_unknown_documents_are_404(garage):
    assert garage.client.get(f"{URL}/{uuid.uuid4()}/pdf", headers=garage.accountant).status_code == 404
    assert (
        garage.client.get(f"{CREDIT_NOTES}/{uuid.uuid4()}/pdf", headers=garage.accountant).status_code == 404
    )


def test_names_helvetica_cannot_print_are_transliterated(garage):
    customer = garage.customers.add(name="Łukasz Wałęsa-Ødegård")
    invoice = garage.invoice(customer=customer)
    text = text_of(fetch(garage, f"{URL}/{invoice['id']}/pdf").data)
    assert "Lukasz Walesa-Ødegård" in text
    assert garage.get(invoice["id"])["customer"]["name"] == "Łukasz Wałęsa-Ødegård"


@pytest.mark.skipif(not os.path.isfile(DEJAVU), reason="no DejaVu font on this machine")
def test_a_configured_truetype_font_prints_every_name(garage):
    customer = garage.customers.add(name="Łukasz Wałęsa")
    invoice = garage.invoice(customer=customer)
    from invoicing.models import Invoice, db

    with garage.client.application.app_context():
        stored = db.session.get(Invoice, uuid.UUID(invoice["id"]))
        content = pdf.render_invoice(
            stored, pdf.Garage.from_config(garage.client.application.config), font_path=DEJAVU
        )
    assert "Łukasz Wałęsa" in text_of(content)


def test_money_formatting():
    assert pdf.money(123456, "EUR") == "EUR 1,234.56"
    assert pdf.money(-5, "EUR") == "-EUR 0.05"
    assert pdf.money(0, "USD") == "USD 0.00"
    assert pdf.quantity(150) == "1.50" and pdf.quantity(200) == "2" and pdf.quantity(None) == ""
