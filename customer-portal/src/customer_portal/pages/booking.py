"""``/book/<token>``: a known customer books a visit for the vehicle the link names: the
work (one of the garage's usual jobs, or other work described), a day, a free time at
the workshop's real capacity (workshop-scheduling decides), booked once however often
the form is sent (``Idempotency-Key``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Blueprint, flash, render_template, request, session
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.pages.appointment import chosen_day, free_times, starts_of
from customer_portal.pages.common import back_to, new_form_key, read, text, today

blp = Blueprint("booking", __name__)
SERVICE = "workshop-scheduling"
PATH = "/api/v1/portal/booking"
DAYS_AHEAD = 90
OTHER = "other"
OTHER_MINUTES = 60  # other work: an hour is booked; the garage adjusts it if needed
DESCRIPTION_MAX = 500


def work_options(booking: dict[str, Any]) -> list[dict[str, Any]]:
    """What one can book: the garage's usual jobs (its code, name and minutes)."""
    options = []
    for work in booking.get("work") or []:
        if isinstance(work, dict) and work.get("name") and work.get("code"):
            minutes = int(work.get("duration_minutes") or other_minutes(booking))
            options.append({"value": str(work["code"]), "name": str(work["name"]), "minutes": minutes})
    return options


def other_minutes(booking: dict[str, Any]) -> int:
    return int(booking.get("other_work_duration_minutes") or OTHER_MINUTES)


def chosen_work(booking: dict[str, Any], value: str | None, described: str) -> tuple[str, int] | None:
    """(description, minutes) of the choice, None when nothing (valid) was chosen."""
    if value == OTHER:
        return (described, other_minutes(booking)) if described else None
    for option in work_options(booking):
        if option["value"] == value:
            return option["name"], option["minutes"]
    return None


@blp.get("/book/<token>")
def show(token: str) -> str:
    booking = read(SERVICE, PATH, token)
    first = today() + timedelta(days=1)
    work_value = request.args.get("work")
    described = text(request.args.get("description"), DESCRIPTION_MAX)
    work = chosen_work(booking, work_value, described)
    starts: list[str] | None = None
    horizon = int(booking.get("booking_horizon_days") or DAYS_AHEAD)
    day = chosen_day(request.args.get("date"), first, horizon)
    errors: dict[str, str] = {}
    if request.args.get("date") is not None:
        if work is None:
            errors["work"] = _("Choose the work, or describe it under other work.")
        else:
            free = free_times(PATH + "/availability", token, date=day.isoformat(), duration_minutes=work[1])
            starts = starts_of(free)
    return render_template(
        "booking/show.html",
        token=token,
        booking=booking,
        options=work_options(booking),
        work_value=work_value,
        described=described,
        work=work,
        day=day,
        first_day=first,
        last_day=first + timedelta(days=horizon),
        starts=starts,
        form_key=new_form_key(),
        errors=errors,
    )


@blp.post("/book/<token>")
def book(token: str) -> Response | tuple[str, int]:
    booking = read(SERVICE, PATH, token)
    described = text(request.form.get("description"), DESCRIPTION_MAX)
    work = chosen_work(booking, request.form.get("work"), described)
    start = request.form.get("start", "")
    if work is None or not start or booking.get("bookable") is False:
        flash(_("Choose the work, a day and a free time."), "error")
        return back_to("booking.show", token)
    try:
        booked = services.call(
            SERVICE,
            "POST",
            PATH,
            token,
            json={"start": start, "description": work[0], "duration_minutes": work[1]},
            idempotency_key=request.form.get("idempotency_key") or None,
        )
    except services.ServiceRefused as exc:
        if exc.status not in (409, 422):
            raise
        return render_template("booking/refused.html", token=token, error=exc), exc.status
    session["booked"] = {
        "start": (booked or {}).get("start", start),
        "end": (booked or {}).get("end"),
        "work": work[0],
    }
    return back_to("booking.done", token)


@blp.get("/book/<token>/booked")
def done(token: str) -> str | Response:
    booked = session.get("booked")
    if not booked:
        return back_to("booking.show", token)
    booking = read(SERVICE, PATH, token)
    return render_template("booking/done.html", token=token, booking=booking, booked=booked)
