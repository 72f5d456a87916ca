"""When a vehicle is due, in plain Python: its measured use (km per day), its next
service by date and by distance, and its periodic inspection (the Dutch APK first;
each country's rules are data, ``data/inspection_rules.json``). Every answer carries
the reasons it was reached by, in words a front desk can read out. docs/due-dates.md
says where the rules come from and why they are as they are."""

from __future__ import annotations

import calendar
import json
import math
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import resources
from typing import Any

from vehicle_management.domain import KM_PER_MILE, Reading

# Two readings closer together than this say little about a vehicle's use.
MIN_SPAN_DAYS = 30
# The use measured over the latest two years: a car's use changes with its owners.
USE_WINDOW_DAYS = 730
SERVICE = "service"
INSPECTION = "inspection"
KINDS = (SERVICE, INSPECTION)


# ------------------------------------------------------------------------- calendar


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later; the month's last day when it has no such day
    (31 January + 1 month = 28 or 29 February)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def _iso(day: date | datetime | None) -> str:
    return "-" if day is None else (day.date() if isinstance(day, datetime) else day).isoformat()


# ------------------------------------------------------------------------------ use


@dataclass(frozen=True)
class Usage:
    """How far the vehicle goes per day; ``km_per_day`` None when it cannot be told.
    ``method``: ``readings`` (measured between two readings), ``since_admission`` (one
    reading, the vehicle new at its first admission) or ``unknown``."""

    km_per_day: float | None
    method: str
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        km_per_day = None if self.km_per_day is None else round(self.km_per_day, 1)
        return {"km_per_day": km_per_day, "method": self.method, "explanation": self.explanation}


def current_meter(readings: Sequence[Reading]) -> list[Reading]:
    """The readings of the meter in the vehicle now, oldest first: those since the
    latest reading flagged ``corrected`` (a meter replaced or reset), that one included."""
    ordered = sorted(readings, key=lambda r: r.read_at)
    starts = [i for i, r in enumerate(ordered) if r.corrected]
    return ordered[starts[-1] :] if starts else ordered


def measure_use(readings: Sequence[Reading], *, first_admission_on: date | None) -> Usage:
    """The vehicle's average use in km per day.

    - Two readings of the current meter at least ``MIN_SPAN_DAYS`` apart: the distance
      between the earliest and the latest reading divided by the days between them,
      over the latest ``USE_WINDOW_DAYS`` when that window still spans enough.
    - Otherwise one reading and the first admission date, on a meter never replaced:
      the reading divided by the days since the first admission (a new car's meter
      starts near zero).
    - Otherwise unknown: the due date by distance is not estimated."""
    meter = current_meter(readings)
    if len(meter) >= 2:
        latest = meter[-1]
        recent = [r for r in meter if (latest.read_at - r.read_at).days <= USE_WINDOW_DAYS]
        for chosen in (recent, meter):
            first = chosen[0]
            days = (latest.read_at - first.read_at).total_seconds() / 86400
            if len(chosen) >= 2 and days >= MIN_SPAN_DAYS:
                km_per_day = max(0.0, latest.km - first.km) / days
                return Usage(
                    km_per_day,
                    "readings",
                    f"measured: {round(latest.km - first.km)} km in {round(days)} days between the readings "
                    f"of {_iso(first.read_at)} and {_iso(latest.read_at)} ({len(chosen)} readings), "
                    f"{km_per_day:.1f} km a day",
                )
    corrected = any(r.corrected for r in readings)
    if meter and first_admission_on is not None and not corrected:
        latest = meter[-1]
        days = (latest.read_at.date() - first_admission_on).days
        if days >= MIN_SPAN_DAYS:
            km_per_day = latest.km / days
            return Usage(
                km_per_day,
                "since_admission",
                f"estimated from one reading: {round(latest.km)} km on {_iso(latest.read_at)}, "
                f"{days} days after the first admission on {_iso(first_admission_on)} (a new vehicle's "
                f"meter starts near zero), {km_per_day:.1f} km a day",
            )
    reasons = "no odometer reading" if not readings else f"{len(meter)} reading(s) of the current meter"
    return Usage(
        None,
        "unknown",
        f"too few odometer readings to measure the vehicle's use ({reasons}): it takes two readings "
        f"at least {MIN_SPAN_DAYS} days apart, or one reading and the first admission date of a vehicle "
        "whose meter was never replaced; the date by distance is not estimated",
    )


def day_at_km(target_km: float, latest: Reading, usage: Usage) -> date | None:
    """When the meter will show (or showed) ``target_km`` at the measured pace."""
    if usage.km_per_day is None or usage.km_per_day <= 0:
        return None
    days = (target_km - latest.km) / usage.km_per_day
    if not math.isfinite(days) or abs(days) > 365 * 100:
        return None
    return latest.read_at.date() + timedelta(days=math.floor(days))


# -------------------------------------------------------------------------- service


@dataclass(frozen=True)
class ServiceInterval:
    """A kind of service and how often it is due: every ``months`` or every ``km``,
    whichever comes first. A completed job with a line from one of ``canned_job_codes``
    counts as that service (a major service can count as a small one too)."""

    code: str
    name: str
    months: int | None
    km: int | None
    canned_job_codes: tuple[str, ...]


@dataclass(frozen=True)
class ServiceVisit:
    """A completed maintenance job, as far as due dates care."""

    job_id: uuid.UUID
    completed_on: date
    km: float | None
    canned_job_codes: frozenset[str]


@dataclass(frozen=True)
class Anchor:
    """Where counting starts when no service is on record."""

    on: date
    km: float | None
    explanation: str


@dataclass
class ServiceDue:
    interval: ServiceInterval
    last_service: ServiceVisit | None
    due_by_date: date | None
    due_km: int | None
    due_by_distance_on: date | None
    due_on: date | None
    due_by: str | None
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        last = self.last_service
        return {
            "kind": SERVICE,
            "interval": self.interval.code,
            "name": self.interval.name,
            "due_on": self.due_on,
            "due_by": self.due_by,
            "due_by_date": self.due_by_date,
            "due_km": self.due_km,
            "due_by_distance_on": self.due_by_distance_on,
            "last_service": None
            if last is None
            else {
                "job_id": last.job_id,
                "completed_on": last.completed_on,
                "km": None if last.km is None else round(last.km),
            },
            "reasons": self.reasons,
        }


def anchor_without_service(
    *, first_admission_on: date | None, model_year: int | None, registered_on: date
) -> Anchor:
    if first_admission_on is not None:
        return Anchor(
            first_admission_on,
            0.0,
            f"no service on record: counted from the first admission on {first_admission_on}",
        )
    if model_year is not None:
        start = date(model_year, 1, 1)
        return Anchor(
            start,
            0.0,
            f"no service on record and no first admission date: counted from the model year ({start})",
        )
    return Anchor(
        registered_on,
        None,
        f"no service on record, no first admission date or model year: counted from the vehicle's "
        f"registration with the garage on {registered_on}",
    )


def service_due(
    interval: ServiceInterval,
    visits: Sequence[ServiceVisit],
    *,
    anchor: Anchor,
    latest: Reading | None,
    usage: Usage,
) -> ServiceDue:
    """The next ``interval`` service: by date (the last such service, or ``anchor``,
    plus the months), by distance (its odometer plus the km) and the day the measured
    use reaches that distance; due on whichever comes first."""
    matching = [v for v in visits if v.canned_job_codes & set(interval.canned_job_codes)]
    last = max(matching, key=lambda v: v.completed_on, default=None)
    reasons = []
    if last is not None:
        start_on, start_km = last.completed_on, last.km
        reasons.append(f"last {interval.name} on {last.completed_on} (job {last.job_id})")
        if start_km is None:
            reasons.append("that job recorded no odometer reading: the distance is not counted")
    else:
        start_on, start_km = anchor.on, anchor.km
        reasons.append(anchor.explanation)
    due_by_date = add_months(start_on, interval.months) if interval.months else None
    if due_by_date:
        reasons.append(f"every {interval.months} months: due by {due_by_date}")
    due_km = None
    due_by_distance_on = None
    if interval.km and start_km is not None:
        due_km = round(start_km) + interval.km
        reasons.append(f"every {interval.km} km: due at {due_km} km")
        if latest is not None:
            reasons.append(usage.explanation)
            due_by_distance_on = day_at_km(due_km, latest, usage)
            if due_by_distance_on is not None:
                reasons.append(f"at that pace {due_km} km is reached around {due_by_distance_on}")
        else:
            reasons.append("no odometer reading: when that distance is reached cannot be estimated")
    candidates = [(d, by) for d, by in ((due_by_date, "date"), (due_by_distance_on, "distance")) if d]
    due_on, due_by = min(candidates) if candidates else (None, None)
    return ServiceDue(interval, last, due_by_date, due_km, due_by_distance_on, due_on, due_by, reasons)


def next_service(dues: Sequence[ServiceDue]) -> ServiceDue | None:
    """The service due first; on the same day, the one of the longer interval (the
    major service, which covers the small one)."""
    dated = [d for d in dues if d.due_on is not None]
    if not dated:
        return None
    return min(dated, key=lambda d: (d.due_on, -(d.interval.months or 0), -(d.interval.km or 0)))


# ----------------------------------------------------------------------- inspection


@dataclass(frozen=True)
class InspectionSchedule:
    name: str
    fuel_types: tuple[str, ...] | None  # None: every fuel no other schedule names
    first_at_age_years: int
    periods: tuple[tuple[int, int], ...]  # (from age, every so many years), by age

    def every_at(self, age: int) -> int:
        every = self.periods[0][1]
        for from_age, years in self.periods:
            if age >= from_age:
                every = years
        return every


@dataclass(frozen=True)
class InspectionRules:
    country: str
    name: str
    authority: str
    exempt_from_age_years: int | None
    schedules: tuple[InspectionSchedule, ...]
    sources: tuple[str, ...]

    def schedules_for(self, fuel_type: str | None) -> list[InspectionSchedule]:
        if fuel_type is None:
            return list(self.schedules)
        named = [s for s in self.schedules if s.fuel_types is not None and fuel_type in s.fuel_types]
        return named or [s for s in self.schedules if s.fuel_types is None]


def parse_inspection_rules(data: Mapping[str, Any]) -> dict[str, InspectionRules]:
    """The rules file's countries; raises ValueError naming what is wrong."""
    rules = {}
    for country, entry in data.items():
        if country.startswith("_"):
            continue
        try:
            schedules = []
            for raw in entry["schedules"]:
                periods = tuple(
                    sorted((int(p["from_age_years"]), int(p["every_years"])) for p in raw["periods"])
                )
                if not periods or any(every < 1 for _, every in periods):
                    raise ValueError("every schedule needs periods of at least one year")
                fuels = raw["fuel_types"]
                schedules.append(
                    InspectionSchedule(
                        name=str(raw["name"]),
                        fuel_types=None if fuels is None else tuple(str(f) for f in fuels),
                        first_at_age_years=int(raw["first_at_age_years"]),
                        periods=periods,
                    )
                )
            if sum(1 for s in schedules if s.fuel_types is None) != 1:
                raise ValueError("exactly one schedule must have fuel_types null (every other fuel)")
            exempt = entry.get("exempt_from_age_years")
            rules[country] = InspectionRules(
                country=country,
                name=str(entry["name"]),
                authority=str(entry["authority"]),
                exempt_from_age_years=None if exempt is None else int(exempt),
                schedules=tuple(schedules),
                sources=tuple(entry.get("sources", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"inspection rules of {country}: {exc}") from exc
    return rules


def load_inspection_rules() -> dict[str, InspectionRules]:
    text = resources.files("vehicle_management").joinpath("data/inspection_rules.json").read_text("utf-8")
    return parse_inspection_rules(json.loads(text))


@dataclass
class InspectionDue:
    status: str  # due, exempt or unknown
    due_on: date | None
    rule: str | None
    schedule: str | None
    estimated: bool
    reasons: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": INSPECTION,
            "status": self.status,
            "due_on": self.due_on,
            "rule": self.rule,
            "schedule": self.schedule,
            "estimated": self.estimated,
            "reasons": self.reasons,
        }


def _next_on_schedule(
    schedule: InspectionSchedule, admission: date, as_of: date, exempt_from: int | None
) -> tuple[date, int]:
    """The first inspection date on the schedule on or after ``as_of`` and the age it
    falls at (stopping at the exemption age: the answer's age is then that age)."""
    age = schedule.first_at_age_years
    while add_years(admission, age) < as_of and (exempt_from is None or age < exempt_from):
        age += schedule.every_at(age)
    if exempt_from is not None and age > exempt_from:
        age = exempt_from
    return add_years(admission, age), age


def inspection_due(
    rules: InspectionRules | None,
    *,
    country: str,
    fuel_type: str | None,
    first_admission_on: date | None,
    model_year: int | None,
    expires_on: date | None,
    as_of: date,
) -> InspectionDue:
    """The next periodic inspection: the expiry date on record when there is one,
    else the first date on the country's schedule (by age since the first admission and
    fuel) on or after ``as_of``; ``exempt`` from the exemption age on."""
    if rules is None:
        return InspectionDue(
            "unknown",
            None,
            None,
            None,
            False,
            [f"no periodic inspection rules for vehicles registered in {country}"],
        )
    reasons = []
    estimated = False
    admission = first_admission_on
    if admission is None and model_year is not None:
        admission = date(model_year, 1, 1)
        estimated = True
        reasons.append(
            f"no first admission date: the model year is taken as the first admission ({admission}); "
            "record the date from the registration certificate for an exact due date"
        )
    exempt_from = rules.exempt_from_age_years
    if admission is not None and exempt_from is not None and add_years(admission, exempt_from) <= as_of:
        reasons.append(
            f"{rules.name}: vehicles {exempt_from} years or older are exempt; this one is since "
            f"{add_years(admission, exempt_from)}"
        )
        return InspectionDue("exempt", None, rules.name, None, estimated, reasons)
    if expires_on is not None:
        reasons.append(f"the {rules.name} expiry date on record: {expires_on}")
        return InspectionDue("due", expires_on, rules.name, None, False, reasons)
    if admission is None:
        reasons.append(
            "no first admission date, model year or expiry date on record: the due date is unknown"
        )
        return InspectionDue("unknown", None, rules.name, None, False, reasons)
    schedules = rules.schedules_for(fuel_type)
    if fuel_type is None:
        reasons.append("fuel type unknown: the earliest of the schedules")
    options = sorted((*_next_on_schedule(s, admission, as_of, exempt_from), s.name) for s in schedules)
    due_on, age, schedule = options[0]
    if exempt_from is not None and age >= exempt_from:
        reasons.append(
            f"{rules.name}: vehicles {exempt_from} years or older are exempt; this one will be on {due_on} "
            "and needs no further inspection"
        )
        return InspectionDue("exempt", None, rules.name, schedule, estimated, reasons)
    chosen = next(s for s in schedules if s.name == schedule)
    reasons.append(
        f"{rules.name} for {schedule}: first at {chosen.first_at_age_years} years, then "
        + ", ".join(f"every {every} year(s) from {start} years" for start, every in chosen.periods)
    )
    reasons.append(f"first admission {admission}: next inspection due at {age} years, on {due_on}")
    return InspectionDue("due", due_on, rules.name, schedule, estimated, reasons)


def km(value: float, unit: str) -> float:
    return value * KM_PER_MILE if unit == "mi" else float(value)
