"""The front desk's day: appointments per bay and hour, each with its job's status, and
check-in when the vehicle arrives."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from staff_console import garage
from staff_console.sign_in import signed_in

blp = Blueprint("board", __name__)
SCHEDULING = "workshop-scheduling"


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else date.today()
    except ValueError:
        return date.today()


def hour_rows(planning_day: dict[str, Any]) -> list[tuple[int, dict[str, list[dict[str, Any]]]]]:
    """(hour, bay id -> appointments starting in that hour), from the first opening hour
    (or the first appointment) to the last."""
    appointments = planning_day.get("appointments", [])
    hours = {int(interval["opens"][:2]) for interval in planning_day.get("opening_hours", [])}
    hours |= {
        int(interval["closes"][:2]) - (interval["closes"][3:] == "00")
        for interval in planning_day.get("opening_hours", [])
    }
    starts = [datetime.fromisoformat(a["start"]) for a in appointments]
    hours |= {s.hour for s in starts}
    if not hours:
        return []
    rows: list[tuple[int, dict[str, list[dict[str, Any]]]]] = []
    for hour in range(min(hours), max(hours) + 1):
        cells: dict[str, list[dict[str, Any]]] = {}
        for appointment, start in zip(appointments, starts, strict=True):
            if start.hour == hour:
                cells.setdefault(appointment["bay"]["id"], []).append(appointment)
        rows.append((hour, cells))
    return rows


def board_bays(planning_day: dict[str, Any], bays: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The active bays, and any bay that has an appointment today though inactive now."""
    shown = {bay["id"]: bay for bay in bays if bay.get("active", True)}
    for appointment in planning_day.get("appointments", []):
        shown.setdefault(appointment["bay"]["id"], appointment["bay"])
    return list(shown.values())


@blp.get("/")
@signed_in()
def home() -> Response:
    return redirect(url_for("board.today"))


@blp.get("/board")
@signed_in("advisor", "admin")
def today() -> str:
    day = _day(request.args.get("day"))
    planning = garage.get(SCHEDULING, f"/api/v1/workshop/planning/days/{day.isoformat()}")
    planning_day = planning["days"][0] if planning.get("days") else {"appointments": [], "opening_hours": []}
    bays = garage.part(lambda: garage.every(SCHEDULING, "/api/v1/workshop/bays"))
    return render_template(
        "board.html",
        day=day,
        planning=planning,
        planning_day=planning_day,
        bays=board_bays(planning_day, bays.value or []),
        rows=hour_rows(planning_day),
        previous_day=date.fromordinal(day.toordinal() - 1),
        next_day=date.fromordinal(day.toordinal() + 1),
    )


@blp.post("/board/appointments/<uuid:appointment_id>/check-in")
@signed_in("advisor", "admin")
def check_in(appointment_id: Any) -> Response:
    try:
        garage.call(SCHEDULING, "POST", f"/api/v1/appointments/{appointment_id}/check-in")
        flash(_("Checked in."), "success")
    except garage.ServiceRefused as exc:
        flash(_("Could not check in: %(detail)s", detail=exc.detail), "error")
    # Back to the day the board showed (the form says which: pages send no Referer), so a
    # car checked in from another day's board is seen on it.
    return redirect(url_for("board.today", day=_day(request.form.get("day")).isoformat()))
