"""Money, numbers, dates and times as each language writes them on a document.

Money is in minor units (cents) throughout the services, so ``money(123456, "EUR",
"nl")`` is ``€ 1.234,56``. Dates are written out (``3 March 2026``, ``3 maart 2026``):
unambiguous to a reader of either language, unlike ``03/04/2026``."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, tzinfo
from decimal import Decimal

LANGUAGES = ("en", "nl")

# (thousands, decimal) separators.
_SEPARATORS: Mapping[str, tuple[str, str]] = {"en": (",", "."), "nl": (".", ",")}
CURRENCY_SYMBOLS: Mapping[str, str] = {"EUR": "€", "GBP": "£", "USD": "$"}
WEEKDAYS: Mapping[str, tuple[str, ...]] = {
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
}
MONTHS: Mapping[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "nl": (
        "januari",
        "februari",
        "maart",
        "april",
        "mei",
        "juni",
        "juli",
        "augustus",
        "september",
        "oktober",
        "november",
        "december",
    ),
}


def is_language(language: str) -> bool:
    return language in LANGUAGES


def language_of(tag: str | None, *, default: str) -> str:
    """The language to print in for a language tag: ``nl-BE`` -> ``nl``; a tag in a
    language documents are not printed in (or none) -> ``default``."""
    primary = (tag or "").split("-")[0].split("_")[0].strip().lower()
    return primary if primary in LANGUAGES else default


def _separators(language: str) -> tuple[str, str]:
    try:
        return _SEPARATORS[language]
    except KeyError:
        raise ValueError(f"documents are not printed in {language!r}; one of {LANGUAGES}") from None


def whole(value: int, language: str) -> str:
    """``123456`` -> ``123,456`` (en), ``123.456`` (nl)."""
    thousands, _ = _separators(language)
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", thousands)


def decimal(value: Decimal | int | str, language: str, *, places: int = 2) -> str:
    """A number with ``places`` decimals, without them when they are all zero:
    ``1.5`` -> ``1.50`` (en), ``1,50`` (nl); ``2`` -> ``2``."""
    _, point = _separators(language)
    quantised = Decimal(str(value)).quantize(Decimal(1).scaleb(-places))
    sign = "-" if quantised < 0 else ""
    units, _, fraction = f"{abs(quantised):f}".partition(".")
    text = sign + whole(int(units), language)
    if fraction and fraction.strip("0"):
        text += point + fraction
    return text


def quantity(hundredths: int | None, language: str) -> str:
    """A quantity stored in hundredths: ``150`` -> ``1.50``; ``None`` -> ``""``."""
    if hundredths is None:
        return ""
    return decimal(Decimal(hundredths) / 100, language)


def percent(rate: Decimal | int | str, language: str) -> str:
    """``Decimal("21.00")`` -> ``21%``; ``9.5`` -> ``9.50%`` (en), ``9,50%`` (nl)."""
    return decimal(rate, language) + "%"


def money(minor: int, currency: str, language: str) -> str:
    """``123456, "EUR"`` -> ``€ 1,234.56`` (en), ``€ 1.234,56`` (nl); a negative amount
    keeps its sign in front (``-€ 15.00``); a currency without a symbol here is written
    by its code (``CHF 1,234.56``)."""
    _, point = _separators(language)
    units, cents = divmod(abs(minor), 100)
    sign = "-" if minor < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    return f"{sign}{symbol} {whole(units, language)}{point}{cents:02d}"


def day(value: date | datetime, language: str) -> str:
    """``3 March 2026`` (en), ``3 maart 2026`` (nl). A datetime gives its own date: turn
    it into the reader's time zone first (``local``)."""
    _separators(language)
    return f"{value.day} {MONTHS[language][value.month - 1]} {value.year}"


def clock(value: datetime | time) -> str:
    """``14:05``: the 24-hour clock, as both languages write it on a document."""
    return f"{value.hour:02d}:{value.minute:02d}"


def local(value: datetime, zone: tzinfo) -> datetime:
    """An instant as the clock on the wall of ``zone`` shows it (naive values are UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(zone)


def moment(value: datetime, language: str, zone: tzinfo) -> str:
    """``3 March 2026 14:05`` in ``zone``."""
    shown = local(value, zone)
    return f"{day(shown, language)} {clock(shown)}"
