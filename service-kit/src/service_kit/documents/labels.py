"""A document's words in every language documents are printed in.

A catalogue is a plain dictionary per language, written beside the document that
uses it. Its languages must all have the same keys (checked when the catalogue is
made, so a word missing in one language fails at import and in every test, never on
a customer's page). Placeholders are ``str.format`` fields: ``{number}``."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from service_kit.documents.formats import LANGUAGES


class Labels(Mapping[str, str]):
    """One language's words: ``labels["total"]``, or ``labels("due", date=...)`` to
    fill placeholders."""

    def __init__(self, language: str, words: Mapping[str, str]) -> None:
        self.language = language
        self._words = dict(words)

    def __getitem__(self, key: str) -> str:
        return self._words[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._words)

    def __len__(self) -> int:
        return len(self._words)

    def __call__(self, key: str, /, **values: Any) -> str:
        return self._words[key].format(**values)


class Catalogue:
    """``Catalogue(en={...}, nl={...})``; ``catalogue("nl")`` gives the Dutch words."""

    def __init__(self, **languages: Mapping[str, str]) -> None:
        missing = [language for language in LANGUAGES if language not in languages]
        unknown = [language for language in languages if language not in LANGUAGES]
        if missing or unknown:
            raise ValueError(
                f"a catalogue has exactly the languages {LANGUAGES}: missing {missing}, unknown {unknown}"
            )
        keys = {language: set(words) for language, words in languages.items()}
        every = set().union(*keys.values())
        gaps = {language: sorted(every - own) for language, own in keys.items() if every - own}
        if gaps:
            raise ValueError(f"labels missing in some languages: {gaps}")
        self._labels = {language: Labels(language, words) for language, words in languages.items()}

    def __call__(self, language: str) -> Labels:
        try:
            return self._labels[language]
        except KeyError:
            raise ValueError(f"documents are not printed in {language!r}; one of {LANGUAGES}") from None


# The kit's own words: the letterhead and the footer of every document.
LETTERHEAD = Catalogue(
    en={
        "vat_number": "VAT number",
        "chamber_of_commerce": "Chamber of Commerce",
        "phone": "Phone",
        "email": "Email",
        "iban": "IBAN",
        "bic": "BIC",
        "page": "Page {page} of {pages}",
    },
    nl={
        "vat_number": "Btw-nummer",
        "chamber_of_commerce": "KvK",
        "phone": "Tel.",
        "email": "E-mail",
        "iban": "IBAN",
        "bic": "BIC",
        "page": "Pagina {page} van {pages}",
    },
)
