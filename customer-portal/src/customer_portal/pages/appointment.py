"""``/appointment/<token>``: the appointment; confirm it, move it to another free time,
or cancel it, within the garage's rules (workshop-scheduling refuses a change within its
cut-off before the start with ``too-late-to-change``: then the page says so plainly)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from flask import Blueprint, current_app, flash, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.pages.common import back_to, read, text, today

blp = Blueprint("appointment", __name__)
SERVICE = "workshop-scheduling"
PATH = "/api/v1/portal/appointment"
# How far ahead the move page offers days (the service decides what is free).
DAYS_AHEAD = 60
REASON_MAX = 500


def changeable(appointment: dict[str, Any]) -> bool:
    """May the customer still move or cancel it online? The service says (``changeable``:
    booked and before ``changeable_until``), and checks again when asked."""
    if "changeable" in appointment:
        return bool(appointment["changeable"])
    if appointment.get("status") != "booked":
        return False
    try:
        until = datetime.fromisoformat(str(appointment.get("changeable_until")).replace("Z", "+00:00"))
    except ValueError:
        return False
    return datetime.now(until.tzinfo) < until


def is_cancelled(appointment: dict[str, Any]) -> bool:
    return appointment.get("status") == "cancelled"


@blp.get("/appointment/<token>")
def show(token: str) -> str:
    appointment = read(SERVICE, PATH, token)
    return render_template("appointment/show.html", token=token, appointment=appointment)


@blp.post("/appointment/<token>/confirm")
def confirm(token: str) -> Response:
    services.call(SERVICE, "POST", PATH + "/confirm", token)
    flash(_("Thank you: your appointment is confirmed."), "ok")
    return back_to("appointment.show", token)


def chosen_day(value: str | None, first: date, days_ahead: int = DAYS_AHEAD) -> date:
    try:
        day = date.fromisoformat(value or "")
    except ValueError:
        return first
    return min(max(day, first), first + timedelta(days=days_ahead))


@blp.get("/appointment/<token>/move")
def move_form(token: str) -> str | tuple[str, int]:
    appointment = read(SERVICE, PATH, token)
    if not changeable(appointment):
        return render_template("appointment/too_late.html", token=token, appointment=appointment), 409
    first = today()
    day = chosen_day(request.args.get("date"), first)
    free = free_times(PATH + "/availability", token, date=day.isoformat())
    return render_template(
        "appointment/move.html",
        token=token,
        appointment=appointment,
        day=day,
        first_day=first,
        last_day=first + timedelta(days=DAYS_AHEAD),
        starts=starts_of(free),
        error=None,
    )


@blp.post("/appointment/<token>/move")
def move(token: str) -> Response | tuple[str, int]:
    start = request.form.get("start", "")
    if not start:
        flash(_("Choose one of the free times."), "error")
        return back_to("appointment.move_form", token, date=request.form.get("date", ""))
    try:
        services.call(
            SERVICE,
            "POST",
            PATH + "/move",
            token,
            json={"start": start},
        )
    except services.ServiceRefused as exc:
        return _refused(token, exc)
    flash(_("Your appointment has been moved."), "ok")
    return back_to("appointment.show", token)


@blp.get("/appointment/<token>/cancel")
def cancel_form(token: str) -> str | tuple[str, int]:
    appointment = read(SERVICE, PATH, token)
    if is_cancelled(appointment):
        return render_template("appointment/show.html", token=token, appointment=appointment)
    if not changeable(appointment):
        return render_template("appointment/too_late.html", token=token, appointment=appointment), 409
    return render_template("appointment/cancel.html", token=token, appointment=appointment)


@blp.post("/appointment/<token>/cancel")
def cancel(token: str) -> Response | tuple[str, int]:
    try:
        # The form allows no more (maxlength); what a client sends beyond it is cut.
        reason = text(request.form.get("reason"), REASON_MAX)[:REASON_MAX] or None
        services.call(SERVICE, "POST", PATH + "/cancel", token, json={"reason": reason})
    except services.ServiceRefused as exc:
        return _refused(token, exc)
    flash(_("Your appointment has been cancelled."), "ok")
    return back_to("appointment.show", token)


def _refused(token: str, exc: services.ServiceRefused) -> tuple[str, int]:
    if exc.type == "too-late-to-change":
        appointment = read(SERVICE, PATH, token)
        return render_template("appointment/too_late.html", token=token, appointment=appointment), 409
    if exc.status in (409, 422):
        current_app.logger.info("the appointment change was refused: %s", exc.detail)
        return render_template("appointment/refused.html", token=token, error=exc), exc.status
    raise exc


def starts_of(free: Any) -> list[str]:
    """The free start times of an availability answer (``starts``: each a ``start`` and an
    ``end``)."""
    if not isinstance(free, dict) or not isinstance(free.get("starts"), list):
        return []
    return [str(s["start"]) if isinstance(s, dict) else str(s) for s in free["starts"] if s]


def free_times(path: str, token: str, **params: Any) -> Any:
    """A day's free times; a day the service will not look at (past its horizon, not a
    day) has none."""
    try:
        return services.get(SERVICE, path, token, **params)
    except services.ServiceRefused as exc:
        if exc.status in (409, 422):
            return {"starts": []}
        raise


blp.add_app_template_global(changeable, "changeable")
blp.add_app_template_global(is_cancelled, "is_cancelled")
