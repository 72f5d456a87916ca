"""Everything a customer sees is in English and Dutch: every text the portal's code and
templates mark for translation has its Dutch in translations/nl/*.po."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "customer_portal"
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2")]
KEYWORDS = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None}


def dutch() -> dict[str, str]:
    texts: dict[str, str] = {}
    for po_file in sorted((PACKAGE / "translations" / "nl").glob("*.po")):
        with po_file.open("rb") as handle:
            for message in read_po(handle):
                if message.id and message.string:
                    texts[str(message.id)] = str(message.string)
    return texts


def marked_texts() -> set[str]:
    found = extract_from_dir(str(PACKAGE), METHODS, keywords=KEYWORDS)
    return {message if isinstance(message, str) else message[0] for _, _, message, *_ in found}


def test_every_marked_text_has_its_dutch() -> None:
    missing = sorted(marked_texts() - set(dutch()))
    assert not missing, f"no Dutch for: {missing}"


def test_the_dutch_keeps_every_placeholder() -> None:
    import re

    placeholder = re.compile(r"%\((\w+)\)s")
    wrong = {
        english: text
        for english, text in dutch().items()
        if sorted(placeholder.findall(english)) != sorted(placeholder.findall(text))
    }
    assert not wrong
