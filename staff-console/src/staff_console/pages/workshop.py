"""The workshop's tablet page: a technician's jobs of the day, with the big buttons for
what they do at the car (start, clock in and out, add work, tick tasks off, ask for the
customer's approval, complete). The buttons post to the job card's actions.

Whose jobs: workshop-scheduling plans a technician by its own record, which an admin
links to the person's identity account (``account_subject``, their token's subject).
The signed-in person's jobs are the appointments of the technician linked to them, and
of a technician linked to no account that has their name (as identity gives it): a
garage that has not linked its technicians yet still works. Anyone may look at another
technician's day by choosing them."""

from __future__ import annotations

from datetime import date, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, g, render_template, request

from staff_console import garage
from staff_console.pages.jobs import HANDS, JOBS, SCHEDULING, clocked_in, job_path, permissions
from staff_console.sign_in import Person, signed_in

blp = Blueprint("workshop", __name__)
EVERYONE = "all"
# Appointments whose work is not for today's workshop floor.
GONE = ("cancelled", "no_show")


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def technicians_of(appointments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The technicians planned this day, each once, by name."""
    seen: dict[str, dict[str, Any]] = {}
    for appointment in appointments:
        technician = appointment.get("technician")
        if technician and technician.get("id"):
            seen.setdefault(technician["id"], technician)
    return sorted(seen.values(), key=lambda t: str(t["name"]).casefold())


def is_person(technician: dict[str, Any], person: Person) -> bool:
    """The technician record is the person's: linked to their account, or linked to none
    and of their name."""
    linked = technician.get("account_subject")
    if linked:
        return bool(linked == person.subject)
    return same_name(str(technician["name"]), person.name)


def chosen_technicians(
    technicians: list[dict[str, Any]], choice: str | None, person: Person
) -> set[str] | None:
    """The technician ids to show: the one chosen, else the person's own; None for every
    appointment of the day."""
    if choice == EVERYONE:
        return None
    if choice:
        return {choice}
    return {t["id"] for t in technicians if is_person(t, person)}


def workshop_today() -> date:
    """Today on the workshop's clock (the server's may be another day near midnight)."""
    return datetime.now(ZoneInfo(current_app.config["WORKSHOP_TIME_ZONE"])).date()


def _day(value: str | None) -> date:
    try:
        return date.fromisoformat(value) if value else workshop_today()
    except ValueError:
        return workshop_today()


@blp.get("/workshop")
@signed_in(*HANDS)
def mine() -> str:
    day = _day(request.args.get("day"))
    planning = garage.get(SCHEDULING, f"/api/v1/workshop/planning/days/{day.isoformat()}")
    planning_day = planning["days"][0] if planning.get("days") else {"appointments": []}
    appointments = [a for a in planning_day["appointments"] if a["status"] not in GONE]
    technicians = technicians_of(appointments)
    choice = request.args.get("technician") or ""
    chosen = chosen_technicians(technicians, choice, g.person)
    shown = [a for a in appointments if chosen is None or (a.get("technician") or {}).get("id") in chosen]
    jobs = {
        a["id"]: garage.part(partial(garage.get, JOBS, job_path(a["job_id"])))
        for a in shown
        if a.get("job_id")
    }
    catalogue = garage.part(
        lambda: [c for c in garage.get(JOBS, "/api/v1/canned-jobs", limit=200)["items"] if c["active"]]
    )
    return render_template(
        "workshop/mine.html",
        day=day,
        today=workshop_today(),
        appointments=shown,
        jobs=jobs,
        technicians=technicians,
        choice=choice,
        nobody_chosen=chosen is not None and not chosen,
        everyone=EVERYONE,
        catalogue=catalogue,
        can=permissions(),
        clocked_in=clocked_in,
        new_key=garage.new_form_key,
        here=request.full_path.rstrip("?"),
    )
