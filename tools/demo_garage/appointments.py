"""The week's appointments: planned per bay from opening time, then booked."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .api import Api, parallel
from .staff import OWNER, Staff, advisor
from .work_catalogue import WORK, Work
from .workshop import BAYS, OPENING, TZ, WEEKDAYS


@dataclass
class Booking:
    start: datetime
    end: datetime
    bay: str
    work: Work
    vehicle: dict[str, Any] = field(default_factory=dict)
    appointment: dict[str, Any] = field(default_factory=dict)
    target: str = "scheduled"
    rng: random.Random = field(default_factory=random.Random)


def plan_week(today: date, vehicles: list[dict]) -> list[Booking]:
    """The same plan for the same day: each bay filled from opening time with work of
    its kind, with gaps, so the availability still shows free time."""
    rng = random.Random(today.toordinal())
    plan: list[Booking] = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        for interval in OPENING.get(WEEKDAYS[day.weekday()], []):
            opens = datetime.combine(day, datetime.strptime(interval["opens"], "%H:%M").time(), tzinfo=TZ)
            closes = datetime.combine(day, datetime.strptime(interval["closes"], "%H:%M").time(), tzinfo=TZ)
            for bay, kind in BAYS:
                cursor = opens
                while True:
                    work = rng.choice([w for w in WORK if w.bay_kind == kind])
                    start = cursor + timedelta(minutes=rng.choice([0, 0, 0, 15, 30, 60, 90]))
                    end = start + timedelta(minutes=work.minutes)
                    if end > closes:
                        break
                    cursor = end
                    if rng.random() < 0.8:
                        plan.append(Booking(start, end, bay, work, rng=random.Random(rng.random())))
    plan.sort(key=lambda b: (b.start, b.bay))
    for booking, vehicle in zip(plan, rng.sample(vehicles, min(len(plan), len(vehicles))), strict=False):
        booking.vehicle = vehicle
    return [b for b in plan if b.vehicle]


def book_week(
    api: Api, today: date, bays: dict[str, dict], technicians: dict[str, Staff], vehicles: dict[str, dict]
) -> tuple[list[Booking], int, int]:
    """Book the plan's appointments that are not there yet; skip what the past or an
    earlier run (of another day) has taken."""
    ordered = [vehicles[k] for k in sorted(vehicles) if vehicles[k]["status"] == "active"]
    plan = plan_week(today, ordered)
    first = datetime.combine(today, datetime.min.time(), tzinfo=TZ)
    window = {"from": first.isoformat(), "to": (first + timedelta(days=8)).isoformat()}
    every = api.all("workshop-scheduling", "/api/v1/appointments", OWNER.token, window)
    existing = [a for a in every if a["status"] not in ("cancelled", "no_show")]
    bay_ids = {name: bay["id"] for name, bay in bays.items()}
    by_id = {v["id"]: v for v in vehicles.values()}
    # An appointment in the planned bay at the planned start is this plan's, made by an
    # earlier run today (whichever vehicle it has: the fleet may have changed since).
    # (cancelled ones too: the plan cancelled them).
    there = {(a["bay_id"], datetime.fromisoformat(a["start"])): a for a in every}
    now = datetime.now(TZ)
    to_book: list[Booking] = []
    for booking in plan:
        found = there.get((bay_ids[booking.bay], booking.start))
        if found and found["vehicle_id"] in by_id:
            booking.appointment, booking.vehicle = found, by_id[found["vehicle_id"]]
            continue
        taken = any(
            datetime.fromisoformat(a["start"]) < booking.end
            and datetime.fromisoformat(a["end"]) > booking.start
            and (a["bay_id"] == bay_ids[booking.bay] or a["vehicle_id"] == booking.vehicle["id"])
            for a in existing
        )
        if not taken and booking.start > now + timedelta(minutes=5):
            to_book.append(booking)

    def book(item: tuple[int, Booking]) -> None:
        n, booking = item
        technician = technicians.get(booking.bay)
        body = {
            "vehicle_id": booking.vehicle["id"],
            "start": booking.start.isoformat(),
            "end": booking.end.isoformat(),
            "bay_id": bay_ids[booking.bay],
            "work_description": booking.work.description,
            "service_codes": list(booking.work.codes),
        }
        if technician:
            body["technician_id"] = technician.id
        response = api.call(
            "POST",
            "workshop-scheduling",
            "/api/v1/appointments",
            advisor(n),
            body=body,
            key=f"demo-appointment-{body['bay_id']}-{body['start']}",
            accept=(409,),
        )
        if response.status_code == 409:  # booked meanwhile by someone else: leave it
            return
        booking.appointment = response.json()

    parallel(book, list(enumerate(to_book)), workers=4)
    booked = [b for b in plan if b.appointment]
    return booked, len(to_book), len(booked) - len(to_book)
