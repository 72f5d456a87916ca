"""How the pages show things: money as money, times in the workshop's zone, in the
customer's language (Flask-Babel's formats)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import Flask
from flask_babel import format_currency, format_date, format_decimal, format_time
from flask_babel import gettext as _


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def money(minor_units: Any, currency: str | None = "EUR") -> str:
    if minor_units is None or minor_units == "":
        return ""
    return str(format_currency(Decimal(int(minor_units)) / 100, currency or "EUR"))


def number(value: Any) -> str:
    """A quantity as the contracts give it ("1.50") in the customer's way of writing it."""
    try:
        return str(format_decimal(Decimal(str(value)).normalize()))
    except (InvalidOperation, ValueError):
        return str(value or "")


def when(value: Any) -> str:
    """A moment as a day and a clock time in the workshop's zone, no seconds: "7 Dec 2026, 10:00"."""
    moment = _moment(value)
    if moment is None:
        return ""
    return f"{format_date(moment, 'medium')}, {format_time(moment, 'HH:mm')}"


def clock(value: Any) -> str:
    moment = _moment(value)
    return str(format_time(moment, "HH:mm")) if moment else ""


def day(value: Any, form: str = "full") -> str:
    if isinstance(value, str) and len(value) == 10:
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, str):
        value = _moment(value)
    return str(format_date(value, form)) if value else ""


def minutes_label(minutes: Any) -> str:
    """90 -> "1 h 30 min" (in the customer's language)."""
    hours, rest = divmod(int(minutes or 0), 60)
    if hours and rest:
        return str(_("%(hours)s h %(minutes)s min", hours=hours, minutes=rest))
    if hours:
        return str(_("%(hours)s h", hours=hours))
    return str(_("%(minutes)s min", minutes=rest))


def register(app: Flask) -> None:
    for name in ("money", "number", "when", "clock", "day", "minutes_label"):
        app.add_template_filter(globals()[name], name)
