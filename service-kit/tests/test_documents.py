"""service_kit.documents: money, numbers and dates per language, the label catalogues,
the document settings, and a page read back with pypdf."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from service_kit.documents import formats
from service_kit.documents.labels import Catalogue
from service_kit.documents.pdf import Document, tick
from service_kit.documents.settings import (
    DocumentSettings,
    Letterhead,
    document_problems,
    document_settings,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


@pytest.mark.parametrize(
    ("minor", "currency", "language", "expected"),
    [
        (123456, "EUR", "en", "€ 1,234.56"),
        (123456, "EUR", "nl", "€ 1.234,56"),
        (123456789, "EUR", "nl", "€ 1.234.567,89"),
        (-1500, "EUR", "en", "-€ 15.00"),
        (-1500, "EUR", "nl", "-€ 15,00"),
        (5, "EUR", "nl", "€ 0,05"),
        (0, "GBP", "en", "£ 0.00"),
        (99, "USD", "en", "$ 0.99"),
        (123456, "CHF", "nl", "CHF 1.234,56"),
    ],
)
def test_money_per_language(minor, currency, language, expected):
    assert formats.money(minor, currency, language) == expected


def test_numbers_quantities_and_percentages_per_language():
    assert formats.whole(123456, "en") == "123,456"
    assert formats.whole(123456, "nl") == "123.456"
    assert formats.whole(-1000, "nl") == "-1.000"
    assert formats.quantity(150, "en") == "1.50"
    assert formats.quantity(150, "nl") == "1,50"
    assert formats.quantity(200, "nl") == "2"
    assert formats.quantity(123456, "nl") == "1.234,56"
    assert formats.quantity(None, "en") == ""
    assert formats.decimal("2.00", "en") == "2"
    assert formats.decimal(Decimal("-0.5"), "nl") == "-0,50"
    assert formats.percent(Decimal("21.00"), "nl") == "21%"
    assert formats.percent(Decimal("9.5"), "en") == "9.50%"
    assert formats.percent("9.5", "nl") == "9,50%"


def test_dates_and_times_per_language():
    assert formats.day(date(2026, 3, 5), "en") == "5 March 2026"
    assert formats.day(date(2026, 3, 5), "nl") == "5 maart 2026"
    assert formats.day(date(2026, 10, 31), "nl") == "31 oktober 2026"
    # 23:30 UTC on 5 March is 00:30 on 6 March in Amsterdam.
    late = datetime(2026, 3, 5, 23, 30, tzinfo=UTC)
    assert formats.moment(late, "nl", AMSTERDAM) == "6 maart 2026 00:30"
    assert formats.moment(late, "en", ZoneInfo("UTC")) == "5 March 2026 23:30"
    assert formats.moment(datetime(2026, 7, 1, 6, 5), "en", AMSTERDAM) == "1 July 2026 08:05"  # naive is UTC


def test_an_unknown_language_is_refused_not_guessed():
    with pytest.raises(ValueError, match="not printed in 'de'"):
        formats.money(100, "EUR", "de")
    with pytest.raises(ValueError, match="not printed in 'de'"):
        formats.day(date(2026, 1, 1), "de")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("nl", "nl"),
        ("nl-BE", "nl"),
        ("NL", "nl"),
        ("en-GB", "en"),
        ("en_US", "en"),
        ("de", "nl"),
        (None, "nl"),
        ("", "nl"),
    ],
)
def test_the_language_of_a_tag(tag, expected):
    assert formats.language_of(tag, default="nl") == expected


def test_a_catalogue_has_every_word_in_every_language():
    words = Catalogue(en={"total": "Total {n}"}, nl={"total": "Totaal {n}"})
    assert words("nl")("total", n=3) == "Totaal 3"
    assert words("en")["total"] == "Total {n}"
    with pytest.raises(ValueError, match="missing in some languages"):
        Catalogue(en={"total": "Total", "due": "Due"}, nl={"total": "Totaal"})
    with pytest.raises(ValueError, match="exactly the languages"):
        Catalogue(en={"total": "Total"})
    with pytest.raises(ValueError, match="not printed in 'fr'"):
        words("fr")


def test_document_settings_have_development_values_and_are_required_in_production():
    settings = document_settings({})
    assert settings["GARAGE_NAME"] == "The Garage"
    assert (settings["GARAGE_LANGUAGE"], settings["GARAGE_TIMEZONE"]) == ("en", "Europe/Amsterdam")
    assert document_problems(settings, production=False, required_in_production=["GARAGE_NAME"]) == []
    production = document_settings({"GARAGE_ENV": "production", "GARAGE_ADDRESS": "Dorpsstraat 1"})
    assert production["GARAGE_NAME"] == ""
    problems = document_problems(
        production, production=True, required_in_production=["GARAGE_NAME", "GARAGE_ADDRESS"]
    )
    assert problems == ["missing production setting: GARAGE_NAME"]


def test_document_settings_that_cannot_work_are_named():
    settings = document_settings(
        {"GARAGE_LANGUAGE": "de", "GARAGE_TIMEZONE": "Mars/Olympus", "PDF_FONT_PATH": "/no/such/font.ttf"}
    )
    problems = " ".join(document_problems(settings, production=False))
    for name in ("GARAGE_LANGUAGE", "GARAGE_TIMEZONE", "PDF_FONT_PATH"):
        assert name in problems


def test_the_letterhead_from_configuration():
    config = document_settings(
        {
            "GARAGE_NAME": "Garage De Vries",
            "GARAGE_ADDRESS": "Werkplaatsweg 7\n3511 AB Utrecht| Netherlands ",
            "GARAGE_CHAMBER_OF_COMMERCE": "12345678",
            "GARAGE_PHONE": "030 123 4567",
            "GARAGE_LANGUAGE": "NL",
        }
    )
    settings = DocumentSettings.from_config(config)
    assert settings.letterhead.address == ("Werkplaatsweg 7", "3511 AB Utrecht", "Netherlands")
    assert (settings.letterhead.chamber_of_commerce, settings.letterhead.phone) == (
        "12345678",
        "030 123 4567",
    )
    assert (settings.language, settings.zone) == ("nl", AMSTERDAM)


LETTERHEAD = Letterhead(
    name="Garage De Vries",
    address=("Werkplaatsweg 7", "3511 AB Utrecht"),
    vat_number="NL123456789B01",
    chamber_of_commerce="12345678",
    iban="NL91ABNA0417164300",
    bic="ABNANL2A",
    phone="030 123 4567",
    email="werkplaats@devries.example",
)
STAMP = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)


def render(language: str, name: str = "Ann de Vries") -> bytes:
    document = Document(letterhead=LETTERHEAD, language=language, title="Test", creator="tests")
    document.letterhead_block("DOCUMENT", [("Number", "2026-000001")])
    document.block("To", [name, "Oudegracht 1"])
    document.table(
        [("What", "Done", "Amount"), ("oil filter", tick(True), formats.money(1250, "EUR", language))],
        (100, 20, 54),
        ("LEFT", "CENTER", "RIGHT"),
    )
    document.totals([("Total", formats.money(123456, "EUR", language))])
    return document.output_bytes(STAMP)


def text_of(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_document_carries_the_letterhead_in_its_language():
    dutch = text_of(render("nl"))
    for expected in (
        "Garage De Vries",
        "Werkplaatsweg 7",
        "Tel. 030 123 4567",
        "E-mail werkplaats@devries.example",
        "Btw-nummer NL123456789B01",
        "KvK 12345678",
        "IBAN NL91ABNA0417164300",
        "BIC ABNANL2A",
        "Pagina 1 van 1",
        "[x]",
        "€ 12,50",
        "€ 1.234,56",
    ):
        assert expected in dutch, expected
    english = text_of(render("en"))
    for expected in (
        "Phone 030 123 4567",
        "VAT number NL123456789B01",
        "Chamber of Commerce 12345678",
        "Page 1 of 1",
    ):
        assert expected in english, expected


def test_the_same_data_gives_the_same_bytes():
    assert render("nl") == render("nl")
    assert PdfReader(io.BytesIO(render("nl"))).metadata.creation_date == STAMP


def test_letters_helvetica_cannot_print_lose_their_accents():
    text = text_of(render("en", name="Łukasz Wałęsa-Ødegård 東"))
    assert "Lukasz Walesa-Ødegård ?" in text
