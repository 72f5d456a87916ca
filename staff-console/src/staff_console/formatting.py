"""How the pages show things: money as money, times in the workshop's zone, in the
person's language (Flask-Babel's formats)."""

from __future__ import annotations

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
