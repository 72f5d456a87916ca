"""Book from the free slots for a kind of work; move or cancel a booking."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from decimal import Decimal
from itertools import groupby
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from staff_console import garage
from staff_console.sign_in import signed_in

blp = Blueprint("booking", __name__)
SCHEDULING = "workshop-scheduling"
JOBS = "maintenance-job-management"
VEHICLES = "vehicle-management"
DURATIONS = (30, 60, 90, 120, 180, 240, 360, 480)
DAYS_SHOWN = 7


def duration_for(canned_job: dict[str, Any] | None) -> int:
    """Minutes to book for a canned job: its labour hours, rounded up to the half hour
    (at least half an hour)."""
    if not canned_job:
        return 60
    hours = sum(
        (
            Decimal(line.get("hours") or line.get("quantity") or "0")
            for line in canned_job["lines"]
            if line["kind"] == "labour"
        ),
        Decimal(0),
    )
    return max(30, math.ceil(hours * 60 / 30) * 30)


def slots_by_day(slots: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(day, list(day_slots)) for day, day_slots in groupby(slots, key=lambda slot: slot["start"][:10])]


def _from_date(value: str | None) -> date:
    try:
        return max(date.fromisoformat(value), date.today()) if value else date.today()
    except ValueError:
        return date.today()


@blp.route("/book/<uuid:vehicle_id>", methods=["GET", "POST"])
@signed_in("advisor", "admin")
def book(vehicle_id: Any) -> Any:
    vehicle = garage.get(VEHICLES, f"/api/v1/vehicles/{vehicle_id}")
    catalogue = garage.part(
        lambda: [c for c in garage.get(JOBS, "/api/v1/canned-jobs")["items"] if c["active"]]
    )
    error = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        body: dict[str, Any] = {
            "vehicle_id": str(vehicle_id),
            "start": request.form.get("slot", "").split("|")[0],
            "end": request.form.get("slot", "|").split("|")[-1],
            "work_description": request.form.get("work_description", "").strip(),
        }
        if request.form.get("canned_job"):
            body["service_codes"] = [request.form["canned_job"]]
        try:
            appointment = garage.call(
                SCHEDULING,
                "POST",
                "/api/v1/appointments",
                json=body,
                idempotency_key=request.form.get("idempotency_key"),
            )
            flash(_("Booked."), "success")
            return redirect(url_for("board.today", day=appointment["start"][:10]))
        except garage.ServiceRefused as exc:
            error, errors = exc, exc.field_errors
    chosen_code = request.values.get("canned_job", "")
    chosen = next((c for c in catalogue.value or [] if c["code"] == chosen_code), None)
    duration = int(request.values.get("duration") or duration_for(chosen))
    start_day = _from_date(request.values.get("from"))
    availability = None
    if request.values.get("find") or request.method == "POST":
        availability = garage.part(
            lambda: garage.get(
                SCHEDULING,
                "/api/v1/availability",
                **{
                    "from": start_day.isoformat(),
                    "to": (start_day + timedelta(days=DAYS_SHOWN - 1)).isoformat(),
                },
                duration=duration,
            )
        )
    return render_template(
        "booking/book.html",
        vehicle=vehicle,
        catalogue=catalogue,
        chosen=chosen,
        chosen_code=chosen_code,
        duration=duration,
        durations=sorted(set(DURATIONS) | {duration}),
        start_day=start_day,
        work_description=request.values.get("work_description") or (chosen["name"] if chosen else ""),
        availability=availability,
        days=slots_by_day(availability.value["slots"]) if availability and availability.value else [],
        error=error,
        errors=errors,
        idempotency_key=request.form.get("idempotency_key") or garage.new_form_key(),
    )


@blp.route("/appointments/<uuid:appointment_id>/move", methods=["GET", "POST"])
@signed_in("advisor", "admin")
def move(appointment_id: Any) -> Any:
    appointment = garage.get(SCHEDULING, f"/api/v1/appointments/{appointment_id}")
    error = None
    if request.method == "POST":
        start, _sep, end = request.form.get("slot", "").partition("|")
        try:
            moved = garage.call(
                SCHEDULING,
                "POST",
                f"/api/v1/appointments/{appointment_id}/reschedule",
                json={"start": start, "end": end},
                if_match=request.form.get("etag"),
            )
            flash(_("Moved."), "success")
            return redirect(url_for("board.today", day=moved["start"][:10]))
        except garage.ServiceRefused as exc:
            error = exc
    start_day = _from_date(request.values.get("from"))
    minutes = _minutes_between(appointment["start"], appointment["end"])
    availability = garage.part(
        lambda: garage.get(
            SCHEDULING,
            "/api/v1/availability",
            **{"from": start_day.isoformat(), "to": (start_day + timedelta(days=DAYS_SHOWN - 1)).isoformat()},
            duration=minutes,
        )
    )
    return render_template(
        "booking/move.html",
        appointment=appointment,
        availability=availability,
        days=slots_by_day(availability.value["slots"]) if availability.value else [],
        start_day=start_day,
        error=error,
    )


def _minutes_between(start: str, end: str) -> int:
    return int((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() // 60)


@blp.post("/appointments/<uuid:appointment_id>/cancel")
@signed_in("advisor", "admin")
def cancel(appointment_id: Any) -> Response:
    try:
        garage.call(
            SCHEDULING,
            "POST",
            f"/api/v1/appointments/{appointment_id}/cancel",
            json={"reason": request.form.get("reason", "").strip() or "cancelled at the front desk"},
            if_match=request.form.get("etag"),
        )
        flash(_("Cancelled."), "success")
    except garage.ServiceRefused as exc:
        flash(_("Could not cancel: %(detail)s", detail=exc.detail), "error")
        return redirect(url_for("booking.move", appointment_id=appointment_id))
    return redirect(url_for("board.today"))
