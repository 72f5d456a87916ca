"""How the pages show things: money as money, times in the workshop's zone, in the
person's language (Flask-Babel's formats)."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, request, url_for
from flask_babel import format_currency, format_date, format_datetime, format_time
from flask_babel import gettext as _
from werkzeug.wrappers import Response


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and value:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return None


def money(minor_units: Any, currency: str = "EUR") -> str:
    if minor_units is None or minor_units == "":
        return ""
    return str(format_currency(Decimal(int(minor_units)) / 100, currency))


def minor_units(text: str | None) -> int | None:
    """Money as a person types it ("175.45", "175,45", "€ 1.234,50") in minor units; None
    when it is not an amount with at most two decimals. Whether the amount is allowed is
    the service's to say."""
    cleaned = (text or "").replace("€", "").replace(" ", "").replace("\u00a0", "")
    if "," in cleaned and "." in cleaned:
        # The last separator is the decimal one, the other groups thousands.
        thousands = "." if cleaned.rfind(",") > cleaned.rfind(".") else ","
        cleaned = cleaned.replace(thousands, "")
    cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", cleaned):
        return None
    return int(Decimal(cleaned) * 100)


def amount_text(minor: Any) -> str:
    """Minor units as a form shows an amount for editing: 7850 -> "78.50" ("" for none)."""
    if minor is None or minor == "":
        return ""
    return f"{Decimal(int(minor)) / 100:.2f}"


def decimal_text(text: str | None) -> str | None:
    """Hours or a quantity as typed, as the contracts take them: "1,5" -> "1.5" (a Dutch
    comma becomes a point); None when empty. Whether it is a valid number is the
    service's to say."""
    if text is None or not text.strip():
        return None
    return text.strip().replace(",", ".")


def when(value: Any, form: str = "short") -> str:
    moment = _moment(value)
    return str(format_datetime(moment, form)) if moment else ""


def clock(value: Any) -> str:
    moment = _moment(value)
    return str(format_time(moment, "HH:mm")) if moment else ""


def day(value: Any, form: str = "medium") -> str:
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)
    if isinstance(value, str):
        value = _moment(value)
    return str(format_date(value, form)) if value else ""


def minutes_label(minutes: Any) -> str:
    """90 -> "1 h 30 min" (in the person's language)."""
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return str(_("%(hours)s h %(minutes)s min", hours=hours, minutes=rest))
    if hours:
        return str(_("%(hours)s h", hours=hours))
    return str(_("%(minutes)s min", minutes=rest))


def back(default: str = "board.today") -> Response:
    """Back to the page the form was on (this app's only), else ``default``."""
    target = request.referrer or ""
    parts = urlsplit(target)
    if parts.netloc == request.host and parts.path.startswith("/"):
        return redirect(parts.path + (f"?{parts.query}" if parts.query else ""))
    return redirect(url_for(default))


def register(app: Flask) -> None:
    app.add_template_filter(money)
    app.add_template_filter(when)
    app.add_template_filter(clock)
    app.add_template_filter(day)
    app.add_template_filter(minutes_label)
    app.jinja_env.filters["zip"] = zip
