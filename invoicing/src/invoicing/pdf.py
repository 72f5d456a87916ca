"""Invoices and credit notes as PDF (fpdf2, pure Python).

A document is rendered from what was stored when it was issued — never from live
data — and dated with its issue time, so the same invoice renders to the same
document whenever it is fetched. Payments made since are not printed: the PDF is
the invoice as issued, the API tells what is still owed."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

CORE_ENCODING = "windows-1252"


@dataclass(frozen=True)
class Garage:
    """The seller's details printed on every document (from configuration)."""

    name: str
    address: tuple[str, ...]
    vat_number: str
    iban: str
    bic: str = ""
    registration: str = ""
    email: str = ""
    phone: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Garage:
        address = config["GARAGE_ADDRESS"].replace("\n", "|")
        return cls(
            name=config["GARAGE_NAME"],
            address=tuple(part.strip() for part in address.split("|") if part.strip()),
            vat_number=config["GARAGE_VAT_NUMBER"],
            iban=config["GARAGE_IBAN"],
            bic=config.get("GARAGE_BIC", ""),
            registration=config.get("GARAGE_REGISTRATION", ""),
            email=config.get("GARAGE_EMAIL", ""),
            phone=config.get("GARAGE_PHONE", ""),
        )


def money(minor: int, currency: str) -> str:
    """``123456, "EUR"`` -> ``EUR 1,234.56``; negative amounts keep their sign."""
    sign = "-" if minor < 0 else ""
    units, cents = divmod(abs(minor), 100)
    return f"{sign}{currency} {units:,}.{cents:02d}"


def quantity(hundredths: int | None) -> str:
    if hundredths is None:
        return ""
    text = f"{Decimal(hundredths) / 100:.2f}"
    return text[:-3] if text.endswith(".00") else text


def rate(value: Decimal) -> str:
    text = f"{Decimal(value):.2f}"
    return (text[:-3] if text.endswith(".00") else text) + "%"


def day(value: date) -> str:
    return value.isoformat()


# Latin letters that Unicode does not decompose into a base letter and a mark.
_LATIN = str.maketrans("ŁłĐđĦħıĸŊŋŦŧ", "LlDdHhikNnTt")


def _printable(character: str) -> str:
    try:
        character.encode(CORE_ENCODING)
        return character
    except UnicodeEncodeError:
        character = character.translate(_LATIN)
        decomposed = unicodedata.normalize("NFKD", character)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        return base.encode(CORE_ENCODING, "replace").decode(CORE_ENCODING) or "?"


class _Document(FPDF):
    def __init__(self, garage: Garage, font_path: str, title: str) -> None:
        super().__init__(format="A4")
        self.garage = garage
        self.unicode = bool(font_path)
        if font_path:
            self.add_font("body", "", font_path)
            bold = font_path[:-4] + "-Bold.ttf" if font_path.lower().endswith(".ttf") else ""
            self.add_font("body", "B", bold if bold and os.path.isfile(bold) else font_path)
            self.family = "body"
        else:
            self.core_fonts_encoding = CORE_ENCODING
            self.family = "Helvetica"
        self.set_title(title)
        self.set_author(garage.name)
        self.set_creator("invoicing")
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)
        self.add_page()

    def clean(self, text: Any) -> str:
        """Text the chosen font can print. Helvetica knows Windows-1252 (Western
        European and the euro sign): other letters lose their accents, and what has no
        Latin form becomes "?"."""
        text = "" if text is None else str(text)
        if self.unicode:
            return text
        return "".join(_printable(character) for character in text)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, size=7)
        self.set_text_color(110)
        parts = [self.garage.name, f"VAT {self.garage.vat_number}"]
        if self.garage.registration:
            parts.append(self.garage.registration)
        parts.append(f"page {self.page_no()}")
        self.cell(0, 5, self.clean("  ·  ".join(parts)), align="C")
        self.set_text_color(0)

    def text_line(self, text: Any, *, size: float = 9, bold: bool = False, height: float = 4.6) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(0, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def pair(self, label: str, value: Any, *, width: float = 34) -> None:
        self.set_font(self.family, "B", 9)
        self.cell(width, 4.8, self.clean(label))
        self.set_font(self.family, "", 9)
        self.multi_cell(0, 4.8, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def header_block(self, title: str, facts: Iterable[tuple[str, Any]]) -> None:
        garage = self.garage
        top = self.get_y()
        self.text_line(garage.name, size=15, bold=True, height=7)
        for line in garage.address:
            self.text_line(line)
        contact = "  ".join(part for part in (garage.phone, garage.email) if part)
        if contact:
            self.text_line(contact)
        self.text_line(f"VAT number {garage.vat_number}")
        if garage.registration:
            self.text_line(garage.registration)
        bottom = self.get_y()
        self.set_xy(120, top)
        self.set_font(self.family, "B", 16)
        self.cell(0, 8, self.clean(title), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for label, value in facts:
            self.set_x(120)
            self.set_font(self.family, "", 9)
            self.cell(32, 5, self.clean(label))
            self.set_font(self.family, "B", 9)
            self.cell(0, 5, self.clean(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(bottom, self.get_y()) + 6)

    def customer_block(self, snapshot: Any) -> None:
        self.text_line("Bill to", size=8, bold=True)
        self.text_line(snapshot.customer_name, size=10, bold=True)
        if snapshot.customer_contact_person:
            self.text_line(f"Attn. {snapshot.customer_contact_person}")
        if snapshot.customer_street:
            self.text_line(snapshot.customer_street)
        city = " ".join(part for part in (snapshot.customer_postal_code, snapshot.customer_city) if part)
        if city:
            self.text_line(city)
        if snapshot.customer_country:
            self.text_line(snapshot.customer_country)
        if snapshot.customer_vat_number:
            self.text_line(f"VAT number {snapshot.customer_vat_number}")
        self.ln(3)

    def vehicle_block(self, invoice: Any) -> None:
        if invoice.vehicle_plate:
            vehicle = invoice.vehicle_plate
            if invoice.vehicle_description:
                vehicle += f" ({invoice.vehicle_description})"
            self.pair("Vehicle", vehicle)
        if invoice.odometer is not None:
            self.pair("Odometer", f"{invoice.odometer:,} {invoice.odometer_unit or 'km'}")
        if invoice.job_description:
            self.pair("Work", invoice.job_description)
        self.ln(3)

    def table(  # type: ignore[override]  # unlike FPDF.table (a context manager), draws whole rows
        self, rows: Sequence[tuple[str, ...]], widths: tuple[float, ...], aligns: tuple[str, ...]
    ) -> None:
        self.set_font(self.family, "", 8.5)
        with super().table(
            col_widths=widths,
            text_align=aligns,
            borders_layout="HORIZONTAL_LINES",
            line_height=5,
            first_row_as_headings=True,
            headings_style=_headings(self.family),
            padding=(1, 1.5),
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.clean(value))
        self.ln(3)

    def totals(self, rows: list[tuple[str, str]], *, bold_last: bool = True) -> None:
        for index, (label, value) in enumerate(rows):
            strong = bold_last and index == len(rows) - 1
            self.set_x(100)
            self.set_font(self.family, "B" if strong else "", 10 if strong else 9)
            self.cell(62, 5.5, self.clean(label))
            self.cell(0, 5.5, self.clean(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def output_bytes(self, moment: Any) -> bytes:
        self.set_creation_date(moment)
        return bytes(self.output())


def _headings(family: str) -> Any:
    from fpdf.fonts import FontFace

    return FontFace(family=family, emphasis="BOLD", fill_color=(235, 235, 235))


def _vat_rows(breakdown: Iterable[Any], currency: str) -> list[tuple[str, str]]:
    return [
        (f"VAT {rate(row.rate)} on {money(row.net, currency)}", money(row.vat, currency)) for row in breakdown
    ]


def render_invoice(invoice: Any, garage: Garage, *, font_path: str = "") -> bytes:
    currency = invoice.currency
    document = _Document(garage, font_path, f"Invoice {invoice.number}")
    document.header_block(
        "INVOICE",
        [
            ("Invoice number", invoice.number),
            ("Invoice date", day(invoice.issue_date)),
            ("Due date", day(invoice.due_date)),
        ],
    )
    document.customer_block(invoice)
    document.vehicle_block(invoice)
    rows = [("Description", "Qty", "Unit price", "Discount", "Net", "VAT")]
    for line in invoice.lines:
        description = line.description
        if line.part_number:
            description += f" [{line.part_number}]"
        if line.kind == "labour":
            description += " (hours)"
        discount = line.line_discount + line.invoice_discount
        rows.append(
            (
                description,
                quantity(line.quantity_hundredths),
                money(line.unit_price, currency),
                money(-discount, currency) if discount else "",
                money(line.net, currency),
                rate(line.vat_rate),
            )
        )
    document.table(rows, (74, 14, 26, 22, 26, 12), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    totals = [("Subtotal", money(invoice.subtotal, currency))]
    if invoice.line_discounts:
        totals.append(("Line discounts", money(-invoice.line_discounts, currency)))
    if invoice.invoice_discount:
        totals.append(("Invoice discount", money(-invoice.invoice_discount, currency)))
    totals.append(("Total excl. VAT", money(invoice.total_net, currency)))
    totals += _vat_rows(invoice.vat_breakdown, currency)
    totals.append(("Total to pay", money(invoice.total_gross, currency)))
    document.totals(totals)
    document.text_line("Payment", size=9, bold=True)
    bank = garage.iban + (f" (BIC {garage.bic})" if garage.bic else "")
    document.text_line(
        f"Please pay {money(invoice.total_gross, currency)} by {day(invoice.due_date)} to {bank} "
        f"in the name of {garage.name}, quoting invoice number {invoice.number}."
    )
    return document.output_bytes(invoice.issued_at)


def render_credit_note(note: Any, garage: Garage, *, font_path: str = "") -> bytes:
    invoice = note.invoice
    currency = note.currency
    document = _Document(garage, font_path, f"Credit note {note.number}")
    document.header_block(
        "CREDIT NOTE",
        [
            ("Credit note number", note.number),
            ("Date", day(note.issue_date)),
            ("Credits invoice", invoice.number),
            ("Invoice date", day(invoice.issue_date)),
        ],
    )
    document.customer_block(invoice)
    document.vehicle_block(invoice)
    document.pair("Reason", note.reason)
    document.ln(2)
    rows = [("Description", "Qty", "Net", "VAT rate", "VAT")]
    for line in note.lines:
        rows.append(
            (
                line.description,
                quantity(line.quantity_hundredths),
                money(line.net, currency),
                rate(line.vat_rate),
                money(line.vat, currency),
            )
        )
    document.table(rows, (84, 16, 28, 18, 28), ("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"))
    totals = [("Total excl. VAT", money(note.total_net, currency))]
    totals += _vat_rows(note.vat_breakdown, currency)
    totals.append(("Total credited", money(note.total_gross, currency)))
    document.totals(totals)
    document.text_line("Settlement", size=9, bold=True)
    document.text_line(
        f"This credit note reduces what is owed on invoice {invoice.number} by "
        f"{money(-note.total_gross, currency)}. An amount already paid beyond what is owed "
        f"is refunded to you."
    )
    return document.output_bytes(note.issued_at)
