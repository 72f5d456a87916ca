"""The workshop's set-up in workshop-scheduling: opening hours per weekday and closed
days (the settings, replaced as a whole), bays and technicians."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from staff_console import garage
from staff_console.pages.setup import blp, identity_is_provider
from staff_console.pages.setup.forms import errors_of, etag_of, folded, renumbered, unplaced, words
from staff_console.sign_in import signed_in

SCHEDULING = "workshop-scheduling"
SETTINGS = "/api/v1/workshop/settings"
BAYS = "/api/v1/workshop/bays"
TECHNICIANS = "/api/v1/workshop/technicians"
WEEKDAYS = (
    ("monday", _l("Monday")),
    ("tuesday", _l("Tuesday")),
    ("wednesday", _l("Wednesday")),
    ("thursday", _l("Thursday")),
    ("friday", _l("Friday")),
    ("saturday", _l("Saturday")),
    ("sunday", _l("Sunday")),
)
MAX_INTERVALS = 6  # a day has at most six opening intervals (the contract's maxItems)
# What a settings read has that a settings write does not take; every other field is sent
# back as read, so a field this page does not show is never lost by a save.
SETTINGS_READ_ONLY = ("version", "updated_at", "_etag")


# --------------------------------------------------------------- opening hours and closed days


def _hours_rows(form: Any | None, settings: dict[str, Any]) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(day, its name, [(opens, closes)]) with one empty interval to add, from the form
    sent (shown again with its refusal) or the stored settings."""
    days = []
    for day, label in WEEKDAYS:
        if form is not None:
            intervals = [
                (
                    form.get(f"opening_hours.{day}.{n}.opens", "").strip(),
                    form.get(f"opening_hours.{day}.{n}.closes", "").strip(),
                )
                for n in range(MAX_INTERVALS)
                if f"opening_hours.{day}.{n}.opens" in form
            ]
            # The rows keep their numbers (a refusal names them); only empty ones at the end go.
            while intervals and intervals[-1] == ("", ""):
                intervals.pop()
        else:
            intervals = [(i["opens"], i["closes"]) for i in settings["opening_hours"].get(day, [])]
        if len(intervals) < MAX_INTERVALS:
            intervals.append(("", ""))
        days.append((day, str(label), intervals))
    return days


def _closed_rows(form: Any | None, settings: dict[str, Any]) -> list[dict[str, Any]]:
    """The closed days shown (each with a box to remove it) and an empty one to add."""
    if form is None:
        rows = [
            {"date": c["date"], "reason": c.get("reason") or "", "remove": False}
            for c in settings["closed_dates"]
        ]
    else:
        rows = []
        n = 0
        while f"closed_dates.{n}.date" in form:
            rows.append(
                {
                    "date": form.get(f"closed_dates.{n}.date", "").strip(),
                    "reason": form.get(f"closed_dates.{n}.reason", "").strip(),
                    "remove": bool(form.get(f"closed_dates.{n}.remove")),
                }
            )
            n += 1
        while rows and not (rows[-1]["date"] or rows[-1]["reason"]):
            rows.pop()
    return [*rows, {"date": "", "reason": "", "remove": False}]


def settings_body(form: Any, current: dict[str, Any]) -> tuple[dict[str, Any], dict[str, list[int]]]:
    """The settings to PUT: what was read, with the opening hours and closed days of the
    form; and, per list sent, the form row each item came from."""
    body = {key: value for key, value in current.items() if key not in SETTINGS_READ_ONLY}
    hours: dict[str, list[dict[str, str]]] = {}
    rows: dict[str, list[int]] = {}
    for day, _label in WEEKDAYS:
        hours[day] = []
        rows[f"opening_hours.{day}"] = []
        for n in range(MAX_INTERVALS):
            opens = form.get(f"opening_hours.{day}.{n}.opens", "").strip()
            closes = form.get(f"opening_hours.{day}.{n}.closes", "").strip()
            if opens or closes:
                hours[day].append({"opens": opens, "closes": closes})
                rows[f"opening_hours.{day}"].append(n)
    closed: list[dict[str, Any]] = []
    rows["closed_dates"] = []
    n = 0
    while f"closed_dates.{n}.date" in form:
        date = form.get(f"closed_dates.{n}.date", "").strip()
        reason = form.get(f"closed_dates.{n}.reason", "").strip()
        if (date or reason) and not form.get(f"closed_dates.{n}.remove"):
            closed.append({"date": date, "reason": reason or None})
            rows["closed_dates"].append(n)
        n += 1
    body["opening_hours"] = hours
    body["closed_dates"] = closed
    return body, rows


@blp.route("/hours", methods=["GET", "POST"])
@signed_in("admin")
def hours() -> Any:
    error = None
    errors: dict[str, str] = {}
    form = None
    etag = None
    if request.method == "POST":
        form, etag = request.form, request.form.get("etag")
        # The fields this page does not show go back as they are now; had anyone changed
        # anything since the form was read, If-Match refuses the save (412).
        current = garage.get(SCHEDULING, SETTINGS)
        body, rows = settings_body(request.form, current)
        try:
            garage.call(SCHEDULING, "PUT", SETTINGS, json=body, if_match=etag)
            flash(_("Opening hours and closed days saved."), "success")
            return redirect(url_for("setup.hours"))
        except garage.ServiceRefused as exc:
            error, errors = exc, errors_of(exc)
            for prefix, sent_rows in rows.items():
                errors = renumbered(errors, prefix, sent_rows)
    settings = garage.get(SCHEDULING, SETTINGS)
    shown = [f"opening_hours.{day}" for day, _label in WEEKDAYS] + ["closed_dates"]
    return render_template(
        "setup/hours.html",
        settings=settings,
        etag=etag or settings.get("_etag"),
        days=_hours_rows(form, settings),
        closed=_closed_rows(form, settings),
        error=error,
        errors=errors,
        leftover=unplaced(errors, shown),
    )


# ------------------------------------------------------------------------ bays and technicians


@dataclass(frozen=True)
class Rows:
    """A list page with a form per row (change, take in or out of use) and one to add."""

    path: str  # the collection in workshop-scheduling
    template: str
    endpoint: str
    fields: tuple[str, ...]  # the fields a row's form changes
    body: Callable[[Any], dict[str, Any]]  # the form -> what to send
    added: Any  # the flashed texts
    saved: Any
    more: Callable[[], dict[str, Any]] = dict  # what else the page shows


def _changed(form: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    return {name: form.get(name, "").strip() for name in fields if name in form}


def _rows_page(rows: Rows) -> Any:
    error = None
    errors: dict[str, str] = {}
    failed = None  # the row (an item's id, or "new") the refusal is about
    if request.method == "POST":
        action = request.form.get("action")
        item_id = request.form.get("item_id", "")
        try:
            if action == "add":
                failed = "new"
                garage.call(
                    SCHEDULING,
                    "POST",
                    rows.path,
                    json=rows.body(request.form),
                    idempotency_key=request.form.get("idempotency_key"),
                )
                flash(str(rows.added), "success")
            else:
                failed = item_id
                body = (
                    {"active": request.form.get("active") == "true"}
                    if action == "active"
                    else rows.body(request.form)
                )
                garage.call(
                    SCHEDULING,
                    "PATCH",
                    f"{rows.path}/{item_id}",
                    json=body,
                    if_match=request.form.get("etag"),
                )
                flash(str(rows.saved), "success")
            return redirect(url_for(rows.endpoint))
        except garage.ServiceRefused as exc:
            # A list's items (skills.0) are refused beside the list's field.
            error, errors = exc, folded(errors_of(exc), "skills")
    return render_template(
        rows.template,
        items=garage.every(SCHEDULING, rows.path),
        etag_of=etag_of,
        form=request.form,
        failed=failed,
        error=error,
        errors=errors,
        leftover=unplaced(errors, (*rows.fields, "active")),
        idempotency_key=(request.form.get("idempotency_key") if failed == "new" else None)
        or garage.new_form_key(),
        **rows.more(),
    )


def _technician_body(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = _changed(form, ("name",))
    if "skills" in form:
        body["skills"] = words(form.get("skills"))
    if "account_subject" in form:  # their sign-in account; none unlinks it
        body["account_subject"] = form["account_subject"].strip() or None
    return body


def _accounts() -> dict[str, Any]:
    """The sign-in accounts a technician may be linked to (identity's technicians), when
    identity is the provider; else the account's id is typed (the garage's provider's
    subject)."""
    if not identity_is_provider():
        return {"accounts": None}
    accounts = garage.part(
        lambda: [
            (account["id"], f"{account['name']} ({account['email']})")
            for account in garage.every("identity", "/api/v1/accounts", role="technician", status="active")
        ]
    )
    return {"accounts": accounts}


BAY_ROWS = Rows(
    BAYS,
    "setup/bays.html",
    "setup.bays",
    ("name", "kind"),
    lambda form: _changed(form, ("name", "kind")),
    _l("Bay added."),
    _l("Bay saved."),
)
TECHNICIAN_ROWS = Rows(
    TECHNICIANS,
    "setup/technicians.html",
    "setup.technicians",
    ("name", "skills", "account_subject"),
    _technician_body,
    _l("Technician added."),
    _l("Technician saved."),
    _accounts,
)


@blp.route("/bays", methods=["GET", "POST"])
@signed_in("admin")
def bays() -> Any:
    return _rows_page(BAY_ROWS)


@blp.route("/technicians", methods=["GET", "POST"])
@signed_in("admin")
def technicians() -> Any:
    return _rows_page(TECHNICIAN_ROWS)
