"""How the visits went: the customers' ratings (1 to 5) and comments in a period, newest
first, and the count and average per technician and per month, as
maintenance-job-management keeps them (docs/feedback.md). The front desk follows up a
bad rating from here (each links to its job); the owner sees how the team is doing."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from flask_babel import format_date, format_decimal

from staff_console import garage
from staff_console.sign_in import signed_in

blp = Blueprint("feedback", __name__)
JOBS = "maintenance-job-management"
PAGE_SIZE = 50
# Who reads the ratings, as maintenance-job-management's x-roles have it.
READERS = ("advisor", "admin")
FILTERS = ("from", "to", "technician_id")


@blp.app_template_filter("average")
def average(value: Any) -> str:
    """The service's average ("4.33") as the person's language writes it (4,33)."""
    if value is None or value == "":
        return "\u2013"  # an en dash: no average
    return str(format_decimal(Decimal(str(value)), format="0.00"))


@blp.app_template_filter("month")
def month(value: Any) -> str:
    """ "2026-12" as "December 2026" (december 2026)."""
    try:
        year, number = (int(part) for part in str(value).split("-"))
        return str(format_date(date(year, number, 1), "LLLL yyyy"))
    except ValueError:
        return str(value)


def default_period() -> dict[str, str]:
    """This month and the two before it, up to today (the workshop's calendar)."""
    today = datetime.now(ZoneInfo(current_app.config["WORKSHOP_TIME_ZONE"])).date()
    first = date(today.year, today.month, 1)
    for _ in range(2):
        first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return {"from": first.isoformat(), "to": today.isoformat()}


def _filters() -> dict[str, str]:
    chosen = {name: request.args.get(name, "").strip() for name in FILTERS}
    chosen = {name: value for name, value in chosen.items() if value}
    if "from" not in chosen and "to" not in chosen:
        chosen.update(default_period())
    return chosen


def _summary(by: str, filters: dict[str, str]) -> garage.Part[dict[str, Any]]:
    period = {name: filters[name] for name in ("from", "to") if name in filters}
    return garage.part(lambda: garage.get(JOBS, "/api/v1/feedback/summary", by=by, **period))


@blp.get("/feedback")
@signed_in(*READERS)
def ratings() -> str:
    filters = _filters()
    errors: dict[str, str] = {}
    error = None
    try:
        page = garage.get(
            JOBS, "/api/v1/feedback", cursor=request.args.get("cursor"), limit=PAGE_SIZE, **filters
        )
    except garage.ServiceRefused as exc:
        # A period the service cannot read: said beside its field; nothing listed.
        page = {"items": [], "next_cursor": None}
        errors = exc.field_errors
        error = None if errors else exc
    per_technician = per_month = None
    if not errors:
        per_technician = _summary("technician", filters)
        per_month = _summary("month", filters)
    technicians = [
        (group["technician_id"], group["technician_name"] or group["technician_id"])
        for group in (per_technician.value["groups"] if per_technician and per_technician.value else [])
        if group["technician_id"]
    ]
    if filters.get("technician_id") and filters["technician_id"] not in dict(technicians):
        technicians.append((filters["technician_id"], filters["technician_id"]))
    return render_template(
        "feedback/ratings.html",
        page=page,
        filters=filters,
        errors=errors,
        error=error,
        per_technician=per_technician,
        per_month=per_month,
        technicians=technicians,
    )
