"""The workshop: opening hours, holidays, bays and the technicians who work at them."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from .api import Api
from .staff import OWNER, Staff, enrol
from .work_catalogue import LABOUR_RATES, WORK, canned_job_body

TZ = ZoneInfo("Europe/Amsterdam")

OPENING = {
    "monday": [{"opens": "08:00", "closes": "17:30"}],
    "tuesday": [{"opens": "08:00", "closes": "17:30"}],
    "wednesday": [{"opens": "08:00", "closes": "17:30"}],
    "thursday": [{"opens": "08:00", "closes": "17:30"}, {"opens": "18:30", "closes": "21:00"}],
    "friday": [{"opens": "08:00", "closes": "17:30"}],
    "saturday": [{"opens": "09:00", "closes": "13:00"}],
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
BAYS = [
    ("Lift 1", "lift"),
    ("Lift 2", "lift"),
    ("Lift 3", "lift"),
    ("Lift 4 (vans)", "lift"),
    ("Alignment bay", "alignment"),
    ("Diagnostics bay", "diagnostics"),
]
TECHNICIANS = [  # name, skills, the bay they work at
    ("Mehmet Kaya", ["apk", "brakes", "tyres"], "Lift 1"),
    ("Wouter Bos", ["apk", "service", "airco"], "Lift 2"),
    ("Anouk Verhoeven", ["ev", "hybrid", "service"], "Lift 3"),
    ("Kees Mulder", ["apk", "vans", "timing-belts"], "Lift 4 (vans)"),
    ("Jasper Vink", ["alignment", "tyres", "diagnostics"], "Alignment bay"),
]


def set_up_workshop(api: Api, today: date) -> tuple[dict[str, dict], dict[str, Staff]]:
    holidays = []
    for year in (today.year, today.year + 1):
        holidays += [
            {"date": f"{year}-04-27", "reason": "King's Day"},
            {"date": f"{year}-12-25", "reason": "Christmas Day"},
            {"date": f"{year}-12-26", "reason": "Boxing Day"},
            {"date": f"{year + 1}-01-01", "reason": "New Year's Day"},
        ]
    api.call(
        "PUT",
        "workshop-scheduling",
        "/api/v1/workshop/settings",
        OWNER.token,
        body={
            "time_zone": "Europe/Amsterdam",
            "opening_hours": OPENING,
            "closed_dates": sorted({h["date"]: h for h in holidays}.values(), key=lambda h: h["date"]),
            "slot_minutes": 15,
            "booking_horizon_days": 90,
        },
    )
    bays = {b["name"]: b for b in api.all("workshop-scheduling", "/api/v1/workshop/bays", OWNER.token)}
    for name, kind in BAYS:
        if name not in bays:
            bays[name] = api.call(
                "POST",
                "workshop-scheduling",
                "/api/v1/workshop/bays",
                OWNER.token,
                body={"name": name, "kind": kind},
                key=f"demo-bay-{name}",
            ).json()
    known = {
        t["name"]: t for t in api.all("workshop-scheduling", "/api/v1/workshop/technicians", OWNER.token)
    }
    technicians = {}
    for name, skills, bay in TECHNICIANS:
        if name not in known:
            known[name] = api.call(
                "POST",
                "workshop-scheduling",
                "/api/v1/workshop/technicians",
                OWNER.token,
                body={"name": name, "skills": skills},
                key=f"demo-technician-{name}",
            ).json()
        # Their id in the workshop; their token is their account's at identity.
        technicians[bay] = Staff(name, ("technician",), id=known[name]["id"])
    enrol(api, technicians.values())
    return bays, technicians


def set_up_prices(api: Api) -> dict[str, str]:
    """The owner sets the labour rates and a canned job for each kind of work sold once;
    answers canned job ids by code. Run again, it keeps what is there."""
    jobs = "maintenance-job-management"
    for code, (name, rate) in LABOUR_RATES.items():
        api.call(
            "PUT", jobs, f"/api/v1/labour-rates/{code}", OWNER.token, body={"name": name, "hourly_rate": rate}
        )
    canned = {item["code"]: item["id"] for item in api.all(jobs, "/api/v1/canned-jobs", OWNER.token)}
    for work in WORK:
        if work.code not in canned:
            made = api.call(
                "POST",
                jobs,
                "/api/v1/canned-jobs",
                OWNER.token,
                body=canned_job_body(work),
                key=f"demo-canned-{work.code}",
            )
            canned[work.code] = made.json()["id"]
    return canned
