"""Who issues a service's documents, in which language by default, in which time zone
dates are printed, and with which font: read from ``GARAGE_*`` settings, the same in
every service that prints documents.

``document_settings(env)`` reads them (development values when unset, blank in
production); ``document_problems(...)`` names what is wrong with them, so a service
adds them to its own start-up problems and fails with one message.
``DocumentSettings.from_config(app.config)`` is what a renderer is given."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from service_kit.documents.formats import LANGUAGES

# Blank in production: each service names those it cannot print without.
DEVELOPMENT_VALUES = {
    "GARAGE_NAME": "The Garage",
    # Lines separated by "|" or new lines: street, postal code and city, country.
    "GARAGE_ADDRESS": "Werkplaatsweg 1|3511 AB Utrecht|Netherlands",
    "GARAGE_VAT_NUMBER": "NL000000000B01",
    "GARAGE_CHAMBER_OF_COMMERCE": "00000000",
    "GARAGE_IBAN": "NL00BANK0000000000",
}
OPTIONAL = ("GARAGE_BIC", "GARAGE_PHONE", "GARAGE_EMAIL")
DEFAULT_LANGUAGE = "en"
DEFAULT_TIMEZONE = "Europe/Amsterdam"


def document_settings(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    env = os.environ if env is None else env
    production = env.get("GARAGE_ENV", "development") == "production"
    settings: dict[str, Any] = {
        name: env.get(name) or ("" if production else default) for name, default in DEVELOPMENT_VALUES.items()
    }
    settings.update({name: env.get(name, "") for name in OPTIONAL})
    settings.update(
        {
            # For a reader whose language documents are not printed in, and a document
            # asked for without one.
            "GARAGE_LANGUAGE": (env.get("GARAGE_LANGUAGE") or DEFAULT_LANGUAGE).lower(),
            "GARAGE_TIMEZONE": env.get("GARAGE_TIMEZONE") or DEFAULT_TIMEZONE,
            # A TrueType font (e.g. DejaVuSans.ttf) prints every script; without one the
            # built-in Helvetica prints Western European text and transliterates the rest.
            "PDF_FONT_PATH": env.get("PDF_FONT_PATH", ""),
        }
    )
    return settings


def document_problems(
    settings: Mapping[str, Any], *, production: bool, required_in_production: Iterable[str] = ()
) -> list[str]:
    problems = []
    if production:
        problems += [
            f"missing production setting: {name}" for name in required_in_production if not settings[name]
        ]
    if settings["GARAGE_LANGUAGE"] not in LANGUAGES:
        problems.append(
            f"GARAGE_LANGUAGE must be one of {', '.join(LANGUAGES)}: {settings['GARAGE_LANGUAGE']!r}"
        )
    try:
        ZoneInfo(settings["GARAGE_TIMEZONE"])
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"GARAGE_TIMEZONE is not a known time zone: {settings['GARAGE_TIMEZONE']!r}")
    if settings["PDF_FONT_PATH"] and not os.path.isfile(settings["PDF_FONT_PATH"]):
        problems.append(f"PDF_FONT_PATH does not name a file: {settings['PDF_FONT_PATH']!r}")
    return problems


@dataclass(frozen=True)
class Letterhead:
    """The issuer's details printed on every document."""

    name: str
    address: tuple[str, ...]
    vat_number: str = ""
    chamber_of_commerce: str = ""
    iban: str = ""
    bic: str = ""
    phone: str = ""
    email: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Letterhead:
        address = config["GARAGE_ADDRESS"].replace("\n", "|")
        return cls(
            name=config["GARAGE_NAME"],
            address=tuple(part.strip() for part in address.split("|") if part.strip()),
            vat_number=config.get("GARAGE_VAT_NUMBER", ""),
            chamber_of_commerce=config.get("GARAGE_CHAMBER_OF_COMMERCE", ""),
            iban=config.get("GARAGE_IBAN", ""),
            bic=config.get("GARAGE_BIC", ""),
            phone=config.get("GARAGE_PHONE", ""),
            email=config.get("GARAGE_EMAIL", ""),
        )


@dataclass(frozen=True)
class DocumentSettings:
    letterhead: Letterhead
    language: str = DEFAULT_LANGUAGE  # the default
    timezone: str = DEFAULT_TIMEZONE
    font_path: str = ""

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DocumentSettings:
        return cls(
            letterhead=Letterhead.from_config(config),
            language=config["GARAGE_LANGUAGE"],
            timezone=config["GARAGE_TIMEZONE"],
            font_path=config["PDF_FONT_PATH"],
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
