"""An A4 page with the issuer's letterhead, in one language, drawn with fpdf2 (pure
Python; the kit's ``documents`` extra).

A service draws its document with ``Document``'s parts (``letterhead_block``,
``block``, ``pair``, ``table``, ``totals`` ...) and its own words, and takes the bytes
with ``output_bytes(moment)``: the document is stamped with ``moment`` (a time in
the data it shows, never "now"), so the same data always gives the same bytes."""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos
from fpdf.fonts import FontFace

from service_kit.documents.labels import LETTERHEAD
from service_kit.documents.settings import Letterhead

CORE_ENCODING = "windows-1252"
LEFT, RIGHT, CENTER = "LEFT", "RIGHT", "CENTER"

# Latin letters that Unicode does not decompose into a base letter and a mark.
_LATIN = str.maketrans("ŁłĐđĦħıĸŊŋŦŧ", "LlDdHhikNnTt")


def printable(character: str) -> str:
    """A character Helvetica (Windows-1252) can print: itself, its base letter without
    accents (Ł -> L), or "?" when it has no Latin form."""
    try:
        character.encode(CORE_ENCODING)
        return character
    except UnicodeEncodeError:
        character = character.translate(_LATIN)
        decomposed = unicodedata.normalize("NFKD", character)
        base = "".join(c for c in decomposed if not unicodedata.combining(c))
        return base.encode(CORE_ENCODING, "replace").decode(CORE_ENCODING) or "?"


def tick(done: bool) -> str:
    """A tick box as text (it survives every font and text extraction)."""
    return "[x]" if done else "[  ]"


class Document(FPDF):
    def __init__(
        self, *, letterhead: Letterhead, language: str, title: str, font_path: str = "", creator: str = ""
    ) -> None:
        super().__init__(format="A4")
        self.letterhead = letterhead
        self.language = language
        self.words = LETTERHEAD(language)
        self.unicode = bool(font_path)
        if font_path:
            self.add_font("body", "", font_path)
            bold = font_path[:-4] + "-Bold.ttf" if font_path.lower().endswith(".ttf") else ""
            self.add_font("body", "B", bold if bold and os.path.isfile(bold) else font_path)
            self.family = "body"
        else:
            self.core_fonts_encoding = CORE_ENCODING
            self.family = "Helvetica"
        self.set_lang(language)
        self.set_title(title)
        self.set_author(letterhead.name)
        if creator:
            self.set_creator(creator)
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
        return "".join(printable(character) for character in text)

    # ------------------------------------------------------------------ the letterhead

    def registration(self) -> list[str]:
        """The issuer's registration details, each as "label value"."""
        issuer, words = self.letterhead, self.words
        details = [
            (words["vat_number"], issuer.vat_number),
            (words["chamber_of_commerce"], issuer.chamber_of_commerce),
        ]
        return [f"{label} {value}" for label, value in details if value]

    def contact(self) -> list[str]:
        issuer, words = self.letterhead, self.words
        details = [(words["phone"], issuer.phone), (words["email"], issuer.email)]
        return [f"{label} {value}" for label, value in details if value]

    def bank(self) -> str:
        issuer, words = self.letterhead, self.words
        details = [(words["iban"], issuer.iban), (words["bic"], issuer.bic)]
        return "  ".join(f"{label} {value}" for label, value in details if value)

    def letterhead_block(self, title: str, facts: Iterable[tuple[str, Any]]) -> None:
        """The issuer on the left (name, address, contact, registration, bank); the
        document's title and its facts (number, dates ...) on the right."""
        issuer = self.letterhead
        top = self.get_y()
        self.text_line(issuer.name, size=15, bold=True, height=7, width=100)
        for line in issuer.address:
            self.text_line(line, width=100)
        for line in ("   ".join(self.contact()), "   ".join(self.registration()), self.bank()):
            if line:
                self.text_line(line, size=8, width=100)
        bottom = self.get_y()
        self.set_xy(120, top)
        self.set_font(self.family, "B", 16)
        self.cell(0, 8, self.clean(title), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        for label, value in facts:
            self.set_x(120)
            self.set_font(self.family, "", 9)
            self.cell(30, 5, self.clean(label))
            self.set_font(self.family, "B", 9)
            self.cell(0, 5, self.clean(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(bottom, self.get_y()) + 6)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(self.family, size=7)
        self.set_text_color(110)
        parts = [self.letterhead.name, *self.registration()]
        parts.append(self.words("page", page=self.page_no(), pages=self.str_alias_nb_pages))
        self.cell(0, 5, self.clean("  ·  ".join(parts)), align="C")
        self.set_text_color(0)

    # ---------------------------------------------------------------------- the body

    def text_line(
        self, text: Any, *, size: float = 9, bold: bool = False, height: float = 4.6, width: float = 0
    ) -> None:
        self.set_font(self.family, "B" if bold else "", size)
        self.multi_cell(width, height, self.clean(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def heading(self, text: str) -> None:
        self.text_line(text, size=10, bold=True, height=6)

    def block(self, heading: str, lines: Iterable[Any], *, first_bold: bool = True) -> None:
        """A small heading over lines (an address, a vehicle ...); empty lines left out."""
        self.text_line(heading, size=8, bold=True)
        for index, line in enumerate(line for line in lines if line):
            strong = first_bold and index == 0
            self.text_line(line, size=10 if strong else 9, bold=strong)
        self.ln(3)

    def pair(self, label: str, value: Any, *, width: float = 40) -> None:
        self.set_font(self.family, "B", 9)
        self.cell(width, 4.8, self.clean(label))
        self.set_font(self.family, "", 9)
        self.multi_cell(0, 4.8, self.clean(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def table(  # type: ignore[override]  # unlike FPDF.table (a context manager), draws whole rows
        self, rows: Sequence[Sequence[Any]], widths: Sequence[float], aligns: Sequence[str]
    ) -> None:
        """The first row is the headings."""
        self.set_font(self.family, "", 8.5)
        with super().table(
            col_widths=tuple(widths),
            text_align=tuple(aligns),
            borders_layout="HORIZONTAL_LINES",
            line_height=5,
            first_row_as_headings=True,
            headings_style=FontFace(family=self.family, emphasis="BOLD", fill_color=(235, 235, 235)),
            padding=(1, 1.5),
        ) as table:
            for values in rows:
                row = table.row()
                for value in values:
                    row.cell(self.clean(value))
        self.ln(3)

    def totals(self, rows: Sequence[tuple[str, str]], *, bold_last: bool = True) -> None:
        """Label and amount rows on the right, the last one (the total) in bold."""
        for index, (label, value) in enumerate(rows):
            strong = bold_last and index == len(rows) - 1
            self.set_x(100)
            self.set_font(self.family, "B" if strong else "", 10 if strong else 9)
            self.cell(62, 5.5, self.clean(label))
            self.cell(0, 5.5, self.clean(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.ln(3)

    def ruled_lines(self, count: int, *, gap: float = 7) -> None:
        """Lines to write on by hand."""
        for _ in range(count):
            self.ln(gap)
            self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(3)

    def output_bytes(self, moment: datetime) -> bytes:
        self.set_creation_date(moment)
        return bytes(self.output())
