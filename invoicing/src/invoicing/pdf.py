"""Invoices, credit notes and payment receipts as PDF, in the customer's language.

The page, the letterhead, the formats and the core-font encoding are the kit's
(service_kit.documents); this module knows what each document says. A document is
drawn from what is stored — the invoice as issued, and what followed it — never from
live data elsewhere, and is stamped with the time of the last of those facts, so the
same data always renders to the same bytes. The invoice shows the payments received
and the balance due as they stand when it is rendered; a receipt shows the balance
just after its payment.

The language is the customer's at issue (``customer_language``, e.g. ``nl-BE`` ->
``nl``); a language documents are not printed in falls back to ``GARAGE_LANGUAGE``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from invoicing import domain
from service_kit.documents import formats
from service_kit.documents.labels import Catalogue, Labels
from service_kit.documents.pdf import LEFT, RIGHT, Document
from service_kit.documents.settings import DocumentSettings

CREATOR = "invoicing"

WORDS = Catalogue(
    en={
        "invoice": "INVOICE",
        "invoice_title": "Invoice {number}",
        "invoice_number": "Invoice number",
        "invoice_date": "Invoice date",
        "due_date": "Due date",
        "bill_to": "Bill to",
        "attention": "Attn. {name}",
        "vat_number": "VAT number {number}",
        "vehicle": "Vehicle",
        "odometer": "Odometer",
        "work": "Work",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "discount": "Discount",
        "net": "Net",
        "vat": "VAT",
        "vat_rate": "VAT rate",
        "hours": "(hours)",
        "subtotal": "Subtotal",
        "line_discounts": "Line discounts",
        "invoice_discount": "Invoice discount",
        "total_net": "Total excl. VAT",
        "vat_on": "VAT {rate} on {amount}",
        "total_gross": "Total incl. VAT",
        "total_to_pay": "Total to pay",
        "credit_note_row": "Credit note {number}",
        "paid": "Paid",
        "balance_due": "Balance due",
        "refund_due": "To be refunded",
        "payments_received": "Payments received",
        "date": "Date",
        "method": "Method",
        "reference": "Reference",
        "amount": "Amount",
        "cash": "Cash",
        "card": "Card",
        "bank_transfer": "Bank transfer",
        "online": "Online",
        "refund_by": "Refund ({method})",
        "payment": "Payment",
        "bank": "{iban} (BIC {bic})",
        "please_pay": "Please pay {amount} by {due} to {bank} in the name of {name}, "
        "quoting invoice number {number}.",
        "paid_in_full": "Paid in full. Thank you.",
        "refund_text": "{amount} was paid beyond what is owed; it is refunded to you.",
        "credit_note": "CREDIT NOTE",
        "credit_note_title": "Credit note {number}",
        "credit_note_number": "Credit note number",
        "credits_invoice": "Credits invoice",
        "reason": "Reason",
        "total_credited": "Total credited",
        "settlement": "Settlement",
        "settlement_text": "This credit note reduces what is owed on invoice {number} by {amount}. "
        "An amount already paid beyond what is owed is refunded to you.",
        "receipt": "RECEIPT",
        "refund_receipt": "REFUND",
        "receipt_title": "Receipt {number}",
        "received_from": "Received from",
        "refunded_to": "Refunded to",
        "amount_received": "Amount received",
        "amount_refunded": "Amount refunded",
        "received_at": "Received",
        "refunded_at": "Refunded",
        "receipt_reference": "Receipt reference",
        "for_invoice": "For invoice",
        "invoice_total": "Invoice total",
        "credited": "Credited",
        "paid_to_date": "Paid to date",
        "thanks": "Thank you for your payment.",
    },
    nl={
        "invoice": "FACTUUR",
        "invoice_title": "Factuur {number}",
        "invoice_number": "Factuurnummer",
        "invoice_date": "Factuurdatum",
        "due_date": "Vervaldatum",
        "bill_to": "Factuuradres",
        "attention": "T.a.v. {name}",
        "vat_number": "Btw-nummer {number}",
        "vehicle": "Voertuig",
        "odometer": "Kilometerstand",
        "work": "Werkzaamheden",
        "description": "Omschrijving",
        "quantity": "Aantal",
        "unit_price": "Prijs",
        "discount": "Korting",
        "net": "Netto",
        "vat": "Btw",
        "vat_rate": "Btw-tarief",
        "hours": "(uren)",
        "subtotal": "Subtotaal",
        "line_discounts": "Regelkortingen",
        "invoice_discount": "Factuurkorting",
        "total_net": "Totaal excl. btw",
        "vat_on": "Btw {rate} over {amount}",
        "total_gross": "Totaal incl. btw",
        "total_to_pay": "Te betalen",
        "credit_note_row": "Creditnota {number}",
        "paid": "Betaald",
        "balance_due": "Te betalen",
        "refund_due": "Terug te betalen",
        "payments_received": "Ontvangen betalingen",
        "date": "Datum",
        "method": "Betaalwijze",
        "reference": "Kenmerk",
        "amount": "Bedrag",
        "cash": "Contant",
        "card": "Pin",
        "bank_transfer": "Overboeking",
        "online": "Online",
        "refund_by": "Terugbetaling ({method})",
        "payment": "Betaling",
        "bank": "{iban} (BIC {bic})",
        "please_pay": "Graag {amount} vóór {due} overmaken naar {bank} ten name van {name}, "
        "onder vermelding van factuurnummer {number}.",
        "paid_in_full": "Volledig betaald. Hartelijk dank.",
        "refund_text": "Er is {amount} meer betaald dan verschuldigd; dit bedrag wordt aan u terugbetaald.",
        "credit_note": "CREDITNOTA",
        "credit_note_title": "Creditnota {number}",
        "credit_note_number": "Creditnotanummer",
        "credits_invoice": "Crediteert factuur",
        "reason": "Reden",
        "total_credited": "Totaal gecrediteerd",
        "settlement": "Verrekening",
        "settlement_text": "Deze creditnota verlaagt wat op factuur {number} verschuldigd is met {amount}. "
        "Wat al meer is betaald dan verschuldigd, wordt aan u terugbetaald.",
        "receipt": "KWITANTIE",
        "refund_receipt": "TERUGBETALING",
        "receipt_title": "Kwitantie {number}",
        "received_from": "Ontvangen van",
        "refunded_to": "Terugbetaald aan",
        "amount_received": "Ontvangen bedrag",
        "amount_refunded": "Terugbetaald bedrag",
        "received_at": "Ontvangen op",
        "refunded_at": "Terugbetaald op",
        "receipt_reference": "Kwitantienummer",
        "for_invoice": "Voor factuur",
        "invoice_total": "Factuurbedrag",
        "credited": "Gecrediteerd",
        "paid_to_date": "Totaal betaald",
        "thanks": "Hartelijk dank voor uw betaling.",
    },
)


def language_of(invoice: Any, settings: DocumentSettings) -> str:
    return formats.language_of(invoice.customer_language, default=settings.language)


class _Page:
    """One document being drawn: the kit's page, this document's words and formats."""

    def __init__(
        self, settings: DocumentSettings, invoice: Any, currency: str, title: str, number: str
    ) -> None:
        self.settings = settings
        self.language = language_of(invoice, settings)
        self.currency = currency
        self.words: Labels = WORDS(self.language)
        self.document = Document(
            letterhead=settings.letterhead,
            language=self.language,
            title=self.words(title, number=number),
            font_path=settings.font_path,
            creator=CREATOR,
        )

    def money(self, minor: int) -> str:
        return formats.money(minor, self.currency, self.language)

    def day(self, value: Any) -> str:
        return formats.day(
            formats.local(value, self.settings.zone) if isinstance(value, datetime) else value, self.language
        )

    def method(self, payment: Any) -> str:
        method = self.words[payment.method]
        if getattr(payment, "provider_method", None):  # online: how, at the provider (iDEAL ...)
            method = f"{method} ({payment.provider_method})"
        return self.words("refund_by", method=method.lower()) if payment.kind == domain.REFUND else method

    def customer(self, invoice: Any, heading: str) -> None:
        words = self.words
        city = " ".join(part for part in (invoice.customer_postal_code, invoice.customer_city) if part)
        self.document.block(
            heading,
            [
                invoice.customer_name,
                words("attention", name=invoice.customer_contact_person)
                if invoice.customer_contact_person
                else "",
                invoice.customer_street,
                city,
                invoice.customer_country,
                words("vat_number", number=invoice.customer_vat_number)
                if invoice.customer_vat_number
                else "",
            ],
        )

    def vehicle(self, invoice: Any) -> None:
        words, document = self.words, self.document
        if invoice.vehicle_plate:
            vehicle = invoice.vehicle_plate
            if invoice.vehicle_description:
                vehicle += f" ({invoice.vehicle_description})"
            document.pair(words["vehicle"], vehicle)
        if invoice.odometer is not None:
            document.pair(
                words["odometer"],
                f"{formats.whole(invoice.odometer, self.language)} {invoice.odometer_unit or 'km'}",
            )
        if invoice.job_description:
            document.pair(words["work"], invoice.job_description)
        document.ln(3)

    def vat_rows(self, breakdown: Iterable[domain.VatRow]) -> list[tuple[str, str]]:
        return [
            (
                self.words(
                    "vat_on", rate=formats.percent(row.rate, self.language), amount=self.money(row.net)
                ),
                self.money(row.vat),
            )
            for row in breakdown
        ]


def _last_fact(invoice: Any) -> datetime:
    """When the latest fact an invoice's PDF shows was recorded: its stamp."""
    moments = [invoice.issued_at]
    moments += [payment.recorded_at for payment in invoice.payments]
    moments += [note.issued_at for note in invoice.credit_notes]
    return max(moments)


def render_invoice(invoice: Any, settings: DocumentSettings) -> bytes:
    page = _Page(settings, invoice, invoice.currency, "invoice_title", invoice.number)
    words, document, money = page.words, page.document, page.money
    document.letterhead_block(
        words["invoice"],
        [
            (words["invoice_number"], invoice.number),
            (words["invoice_date"], page.day(invoice.issue_date)),
            (words["due_date"], page.day(invoice.due_date)),
        ],
    )
    page.customer(invoice, words["bill_to"])
    page.vehicle(invoice)
    rows = [
        (
            words["description"],
            words["quantity"],
            words["unit_price"],
            words["discount"],
            words["net"],
            words["vat"],
        )
    ]
    for line in invoice.lines:
        description = line.description
        if line.part_number:
            description += f" [{line.part_number}]"
        if line.kind == domain.LABOUR:
            description += f" {words['hours']}"
        discount = line.line_discount + line.invoice_discount
        rows.append(
            (
                description,
                formats.quantity(line.quantity_hundredths, page.language),
                money(line.unit_price),
                money(-discount) if discount else "",
                money(line.net),
                formats.percent(line.vat_rate, page.language),
            )
        )
    document.table(rows, (74, 14, 26, 22, 26, 12), (LEFT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT))

    totals = [(words["subtotal"], money(invoice.subtotal))]
    if invoice.line_discounts:
        totals.append((words["line_discounts"], money(-invoice.line_discounts)))
    if invoice.invoice_discount:
        totals.append((words["invoice_discount"], money(-invoice.invoice_discount)))
    totals.append((words["total_net"], money(invoice.total_net)))
    totals += page.vat_rows(invoice.vat_breakdown)
    balance = invoice.balance
    if not invoice.payments and not invoice.credit_notes:
        totals.append((words["total_to_pay"], money(invoice.total_gross)))
    else:
        totals.append((words["total_gross"], money(invoice.total_gross)))
        totals += [
            (words("credit_note_row", number=note.number), money(note.total_gross))
            for note in invoice.credit_notes
        ]
        if invoice.payments:
            totals.append((words["paid"], money(-balance.paid)))
        if balance.refund_due:
            totals.append((words["refund_due"], money(balance.refund_due)))
        else:
            totals.append((words["balance_due"], money(balance.outstanding)))
    document.totals(totals)

    if invoice.payments:
        document.heading(words["payments_received"])
        payments = [(words["date"], words["method"], words["reference"], words["amount"])]
        for payment in invoice.payments:
            amount = payment.amount if payment.kind == domain.PAYMENT else -payment.amount
            payments.append(
                (page.day(payment.paid_at), page.method(payment), payment.reference or "", money(amount))
            )
        document.table(payments, (34, 50, 60, 30), (LEFT, LEFT, LEFT, RIGHT))

    document.heading(words["payment"])
    letterhead = settings.letterhead
    bank = words("bank", iban=letterhead.iban, bic=letterhead.bic) if letterhead.bic else letterhead.iban
    if balance.refund_due:
        document.text_line(words("refund_text", amount=money(balance.refund_due)))
    elif balance.outstanding:
        document.text_line(
            words(
                "please_pay",
                amount=money(balance.outstanding),
                due=page.day(invoice.due_date),
                bank=bank,
                name=letterhead.name,
                number=invoice.number,
            )
        )
    else:
        document.text_line(words["paid_in_full"])
    return document.output_bytes(_last_fact(invoice))


def render_credit_note(note: Any, settings: DocumentSettings) -> bytes:
    invoice = note.invoice
    page = _Page(settings, invoice, note.currency, "credit_note_title", note.number)
    words, document, money = page.words, page.document, page.money
    document.letterhead_block(
        words["credit_note"],
        [
            (words["credit_note_number"], note.number),
            (words["date"], page.day(note.issue_date)),
            (words["credits_invoice"], invoice.number),
            (words["invoice_date"], page.day(invoice.issue_date)),
        ],
    )
    page.customer(invoice, words["bill_to"])
    page.vehicle(invoice)
    document.pair(words["reason"], note.reason)
    document.ln(2)
    rows = [(words["description"], words["quantity"], words["net"], words["vat_rate"], words["vat"])]
    for line in note.lines:
        rows.append(
            (
                line.description,
                formats.quantity(line.quantity_hundredths, page.language),
                money(line.net),
                formats.percent(line.vat_rate, page.language),
                money(line.vat),
            )
        )
    document.table(rows, (84, 16, 28, 18, 28), (LEFT, RIGHT, RIGHT, RIGHT, RIGHT))
    totals = [(words["total_net"], money(note.total_net))]
    totals += page.vat_rows(note.vat_breakdown)
    totals.append((words["total_credited"], money(note.total_gross)))
    document.totals(totals)
    document.heading(words["settlement"])
    document.text_line(words("settlement_text", number=invoice.number, amount=money(-note.total_gross)))
    return document.output_bytes(note.issued_at)


def render_receipt(receipt: Any, settings: DocumentSettings) -> bytes:
    """A receipt for a payment, or for a refund: what was received (or given back),
    how and when, and the invoice's balance just after it."""
    payment, invoice, balance = receipt.payment, receipt.invoice, receipt.balance
    refund = payment.kind == domain.REFUND
    page = _Page(settings, invoice, invoice.currency, "receipt_title", invoice.number)
    words, document, money = page.words, page.document, page.money
    document.letterhead_block(
        words["refund_receipt" if refund else "receipt"],
        [
            (words["date"], page.day(payment.paid_at)),
            (words["for_invoice"], invoice.number),
            (words["invoice_date"], page.day(invoice.issue_date)),
        ],
    )
    page.customer(invoice, words["refunded_to" if refund else "received_from"])
    document.text_line(
        f"{words['amount_refunded' if refund else 'amount_received']}: {money(payment.amount)}",
        size=13,
        bold=True,
        height=8,
    )
    document.ln(2)
    document.pair(
        words["refunded_at" if refund else "received_at"],
        formats.moment(payment.paid_at, page.language, settings.zone),
    )
    document.pair(words["method"], page.method(payment))
    if payment.reference:
        document.pair(words["reference"], payment.reference)
    document.pair(words["receipt_reference"], str(payment.id))
    document.ln(4)
    totals = [(words["invoice_total"], money(invoice.total_gross))]
    if balance.credited:
        totals.append((words["credited"], money(-balance.credited)))
    totals.append((words["paid_to_date"], money(balance.paid)))
    if balance.refund_due:
        totals.append((words["refund_due"], money(balance.refund_due)))
    else:
        totals.append((words["balance_due"], money(balance.outstanding)))
    document.totals(totals)
    if not refund:
        document.text_line(words["thanks"])
    return document.output_bytes(payment.recorded_at)
