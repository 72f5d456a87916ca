"""Every invoice, credit note and payment renders to a PDF in the customer's language;
parsed back, it holds the garage's letterhead and registration details, the customer,
the vehicle, the lines, the VAT breakdown, the totals, the payments received and the
balance due (the invoice), or what was received and the balance just after (a receipt)."""

from __future__ import annotations

import dataclasses
import io
import os
import uuid
from datetime import date

import pytest
from pypdf import PdfReader

from invoicing import pdf
from service_kit.documents import formats
from service_kit.documents.settings import DocumentSettings

URL = "/api/v1/invoices"
CREDIT_NOTES = "/api/v1/credit-notes"
DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def text_of(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def fetch(garage, path: str, headers=None):
    response = garage.client.get(path, headers=headers or garage.accountant)
    assert response.status_code == 200, response.data[:300]
    assert response.content_type == "application/pdf"
    assert response.data.startswith(b"%PDF-")
    return response


def invoice_text(garage, invoice) -> str:
    return text_of(fetch(garage, f"{URL}/{invoice['id']}/pdf").data)


def day(value: str, language: str) -> str:
    return formats.day(date.fromisoformat(value), language)


def euros(minor: int, language: str) -> str:
    return formats.money(minor, "EUR", language)


def assert_in(text: str, *expected: str) -> None:
    missing = [item for item in expected if item not in text]
    assert missing == [], text


# ------------------------------------------------------------------------------ invoices


def test_the_invoice_pdf_reads_back_in_english(garage, labour, part):
    customer = garage.customers.add(
        name="Klant & Zonen BV",
        kind="business",
        vat_number="NL111222333B01",
        contact_person="Joost",
        preferred_language="en-GB",
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
    assert_in(
        text_of(response.data),
        "INVOICE",
        invoice["number"],
        day(invoice["issue_date"], "en"),
        day(invoice["due_date"], "en"),
        "Garage De Vries",
        "Werkplaatsweg 7",
        "VAT number NL123456789B01",
        "Chamber of Commerce 12345678",
        "Phone 030 123 4567",
        "Email werkplaats@devries.example",
        "IBAN NL91ABNA0417164300",
        "Klant & Zonen BV",
        "Attn. Joost",
        "NL111222333B01",
        "Oudegracht 1",
        "AB-123-C (Volkswagen Golf)",
        "123,456 km",
        "annual service",
        "Replace timing belt (hours)",
        "Timing belt kit [TB-9]",
        "Coolant",
        "€ 113.75",  # 1.75 h x 65.00
        "€ 59.96",  # 4 x 14.99
        "VAT 21% on € 203.25",
        "VAT 9% on € 59.96",
        f"Total to pay {euros(invoice['totals']['gross'], 'en')}",
        "(BIC ABNANL2A)",
        f"quoting invoice number {invoice['number']}",
        "Page 1 of 1",
    )


def test_a_dutch_customer_gets_a_dutch_invoice(garage, labour, part):
    customer = garage.customers.add(name="Jan de Vries", preferred_language="nl")
    invoice = garage.invoice(
        [
            labour(150, 7000, description="Grote beurt"),
            part(400, 1499, vat="9.00", description="Koelvloeistof"),
        ],
        customer=customer,
    )
    gross = invoice["totals"]["gross"]
    text = invoice_text(garage, invoice)
    assert_in(
        text,
        "FACTUUR",
        "Factuurnummer",
        f"Factuurdatum {day(invoice['issue_date'], 'nl')}",
        f"Vervaldatum {day(invoice['due_date'], 'nl')}",
        "Factuuradres",
        "Btw-nummer NL123456789B01",
        "KvK 12345678",
        "Tel. 030 123 4567",
        "E-mail werkplaats@devries.example",
        "Kilometerstand",
        "123.456 km",
        "Grote beurt (uren)",
        "1,50",
        "€ 105,00",
        "Btw 21% over € 105,00",
        "Btw 9% over € 59,96",
        "Totaal excl. btw",
        f"Te betalen {euros(gross, 'nl')}",
        f"Graag {euros(gross, 'nl')} vóór {day(invoice['due_date'], 'nl')} overmaken",
        f"onder vermelding van factuurnummer {invoice['number']}",
        "Pagina 1 van 1",
    )
    assert "INVOICE" not in text and "Total" not in text


def test_a_language_documents_are_not_printed_in_falls_back_to_the_garage_language(garage, app):
    customer = garage.customers.add(preferred_language="de-AT")
    invoice = garage.invoice(customer=customer)
    assert "INVOICE" in invoice_text(garage, invoice)  # GARAGE_LANGUAGE: en in the tests
    app.config["GARAGE_LANGUAGE"] = "nl"
    try:
        assert "FACTUUR" in invoice_text(garage, invoice)
    finally:
        app.config["GARAGE_LANGUAGE"] = "en"


def test_a_part_paid_invoice_shows_the_payments_received_and_the_balance_due(garage):
    invoice = garage.invoice()
    gross = invoice["totals"]["gross"]
    assert garage.pay(invoice["id"], 5000, method="card", reference="PIN 4471").status_code == 201
    paid_at = "2026-03-05T23:30:00Z"  # 6 March in Amsterdam
    assert (
        garage.pay(invoice["id"], 2550, method="cash", paid_at=paid_at, headers=garage.advisor).status_code
        == 201
    )
    text = invoice_text(garage, invoice)
    assert_in(
        text,
        f"Totaal incl. btw {euros(gross, 'nl')}",
        "Betaald -€ 75,50",
        f"Te betalen {euros(gross - 7550, 'nl')}",
        "Ontvangen betalingen",
        "Pin",
        "PIN 4471",
        "€ 50,00",
        "6 maart 2026 Contant",
        "€ 25,50",
        f"Graag {euros(gross - 7550, 'nl')} vóór",
    )


def test_a_paid_invoice_says_so_and_a_credit_note_after_payment_shows_the_refund_due(garage):
    invoice = garage.invoice()
    gross = invoice["totals"]["gross"]
    garage.pay(invoice["id"], gross, method="bank_transfer")
    assert_in(
        invoice_text(garage, invoice), f"Te betalen {euros(0, 'nl')}", "Volledig betaald. Hartelijk dank."
    )
    note = garage.credit(invoice["id"], reason="goodwill").get_json()
    text = invoice_text(garage, invoice)
    assert_in(
        text,
        f"Creditnota {note['number']} {euros(-gross, 'nl')}",
        f"Terug te betalen {euros(gross, 'nl')}",
        f"Er is {euros(gross, 'nl')} meer betaald dan verschuldigd",
    )
    assert garage.pay(invoice["id"], gross, method="bank_transfer", kind="refund").status_code == 201
    text = invoice_text(garage, invoice)
    assert_in(text, "Terugbetaling (overboeking)", f"-{euros(gross, 'nl')}", "Volledig betaald")


def test_the_same_data_renders_the_same_document(garage):
    invoice = garage.invoice()
    first = fetch(garage, f"{URL}/{invoice['id']}/pdf").data
    assert fetch(garage, f"{URL}/{invoice['id']}/pdf", headers=garage.service).data == first
    garage.pay(invoice["id"], 100)
    paid = fetch(garage, f"{URL}/{invoice['id']}/pdf").data
    assert paid != first
    assert fetch(garage, f"{URL}/{invoice['id']}/pdf", headers=garage.service).data == paid


def test_discounts_are_on_the_pdf(garage, labour):
    customer = garage.customers.add(preferred_language="en")
    job = garage.job([labour(100, 10000)], customer=customer)
    response = garage.create(job["id"], headers=garage.admin, discount={"amount": 1500})
    text = text_of(fetch(garage, f"{URL}/{response.get_json()['id']}/pdf").data)
    assert_in(text, "Invoice discount -€ 15.00", "€ 85.00")


# -------------------------------------------------------------------------- credit notes


def test_the_credit_note_pdf_reads_back(garage):
    invoice = garage.invoice(customer=garage.customers.add(preferred_language="en"))
    note = garage.credit(invoice["id"], reason="Warranty: belt replaced twice").get_json()
    response = fetch(garage, f"{CREDIT_NOTES}/{note['id']}/pdf", headers=garage.service)
    assert response.headers["Content-Disposition"] == f'inline; filename="credit-note-{note["number"]}.pdf"'
    gross = note["totals"]["gross"]
    assert_in(
        text_of(response.data),
        "CREDIT NOTE",
        note["number"],
        invoice["number"],
        "Warranty: belt replaced twice",
        "labour",
        "oil filter",
        f"Total credited {euros(gross, 'en')}",
        f"on invoice {invoice['number']} by {euros(-gross, 'en')}",
        "Chamber of Commerce 12345678",
    )


def test_a_dutch_credit_note(garage):
    invoice = garage.invoice()
    note = garage.credit(invoice["id"], reason="Garantie").get_json()
    text = text_of(fetch(garage, f"{CREDIT_NOTES}/{note['id']}/pdf").data)
    assert_in(
        text,
        "CREDITNOTA",
        f"Creditnotanummer {note['number']}",
        f"Crediteert factuur {invoice['number']}",
        "Reden Garantie",
        f"Totaal gecrediteerd {euros(note['totals']['gross'], 'nl')}",
        "KvK 12345678",
    )


# ------------------------------------------------------------------------------ receipts


def receipt(garage, invoice_id: str, payment_id: str, headers=None):
    return garage.client.get(
        f"{URL}/{invoice_id}/payments/{payment_id}/receipt", headers=headers or garage.advisor
    )


def test_a_receipt_for_each_payment_with_the_balance_just_after_it(garage):
    invoice = garage.invoice(customer=garage.customers.add(name="Ann de Vries"))
    gross = invoice["totals"]["gross"]
    first = garage.pay(
        invoice["id"], 5000, method="cash", paid_at="2026-03-05T15:04:00Z", headers=garage.advisor
    ).get_json()
    response = receipt(garage, invoice["id"], first["id"])
    assert response.status_code == 200 and response.content_type == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="receipt-{invoice["number"]}-{first["id"]}.pdf"'
    )
    text = text_of(response.data)
    assert_in(
        text,
        "KWITANTIE",
        "Ontvangen van",
        "Ann de Vries",
        "Ontvangen bedrag: € 50,00",
        "Ontvangen op 5 maart 2026 16:04",  # Amsterdam
        "Betaalwijze Contant",
        f"Kwitantienummer {first['id']}",
        f"Voor factuur {invoice['number']}",
        f"Factuurbedrag {euros(gross, 'nl')}",
        "Totaal betaald € 50,00",
        f"Te betalen {euros(gross - 5000, 'nl')}",
        "Hartelijk dank voor uw betaling.",
        "KvK 12345678",
    )
    before = response.data
    second = garage.pay(invoice["id"], gross - 5000, method="card", reference="PIN 1").get_json()
    text = text_of(receipt(garage, invoice["id"], second["id"]).data)
    assert_in(
        text, "Betaalwijze Pin", "Kenmerk PIN 1", f"Totaal betaald {euros(gross, 'nl')}", "Te betalen € 0,00"
    )
    # The first receipt still shows the balance just after the first payment.
    assert receipt(garage, invoice["id"], first["id"]).data == before


def test_a_refund_receipt_in_english(garage):
    invoice = garage.invoice(customer=garage.customers.add(preferred_language="en"))
    gross = invoice["totals"]["gross"]
    garage.pay(invoice["id"], gross)
    garage.credit(invoice["id"], reason="goodwill")
    refund = garage.pay(invoice["id"], gross, kind="refund").get_json()
    text = text_of(receipt(garage, invoice["id"], refund["id"], headers=garage.accountant).data)
    assert_in(
        text,
        "REFUND",
        "Refunded to",
        f"Amount refunded: {euros(gross, 'en')}",
        "Refund (bank transfer)",
        f"Credited {euros(-gross, 'en')}",
        "Paid to date € 0.00",
        "Balance due € 0.00",
        "Chamber of Commerce 12345678",
    )
    assert "Thank you for your payment" not in text


def test_a_receipt_of_a_payment_that_is_not_the_invoices_is_404(garage):
    invoice = garage.invoice()
    other = garage.invoice()
    payment = garage.pay(other["id"], 100).get_json()
    for invoice_id, payment_id in (
        (invoice["id"], payment["id"]),
        (invoice["id"], str(uuid.uuid4())),
        (str(uuid.uuid4()), payment["id"]),
    ):
        response = receipt(garage, invoice_id, payment_id)
        assert response.status_code == 404, (invoice_id, payment_id)
        assert response.content_type == "application/problem+json"
    assert payment["id"] in receipt(garage, invoice["id"], payment["id"]).get_json()["detail"]


# ---------------------------------------------------------------------- the rest, fonts


def test_unknown_documents_are_404(garage):
    assert garage.client.get(f"{URL}/{uuid.uuid4()}/pdf", headers=garage.accountant).status_code == 404
    assert (
        garage.client.get(f"{CREDIT_NOTES}/{uuid.uuid4()}/pdf", headers=garage.accountant).status_code == 404
    )


def test_names_helvetica_cannot_print_are_transliterated(garage):
    customer = garage.customers.add(name="Łukasz Wałęsa-Ødegård")
    invoice = garage.invoice(customer=customer)
    assert "Lukasz Walesa-Ødegård" in invoice_text(garage, invoice)
    assert garage.get(invoice["id"])["customer"]["name"] == "Łukasz Wałęsa-Ødegård"


@pytest.mark.skipif(not os.path.isfile(DEJAVU), reason="no DejaVu font on this machine")
def test_a_configured_truetype_font_prints_every_name(garage):
    customer = garage.customers.add(name="Łukasz Wałęsa")
    invoice = garage.invoice(customer=customer)
    from invoicing.models import Invoice, db

    with garage.client.application.app_context():
        stored = db.session.get(Invoice, uuid.UUID(invoice["id"]))
        settings = DocumentSettings.from_config(garage.client.application.config)
        content = pdf.render_invoice(stored, dataclasses.replace(settings, font_path=DEJAVU))
    assert "Łukasz Wałęsa" in text_of(content)
