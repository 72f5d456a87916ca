"""The workshop's rules without I/O, including the days Amsterdam's clocks move:
2026-03-29 (02:00 CET -> 03:00 CEST, a 23-hour day) and 2026-10-25 (03:00 CEST ->
02:00 CET, a 25-hour day)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from workshop_scheduling.domain.appointments import (
    Booking,
    Conflicts,
    InvalidAppointmentTime,
    InvalidPlate,
    InWorkshopTime,
    NoShowTooEarly,
    TransitionNotAllowed,
    check_appointment_time,
    describe_work,
    ensure_no_show_allowed,
    ensure_reschedulable,
    find_conflicts,
    follows_job,
    is_newer,
    normalise_plate,
    overlaps,
    transition,
)
from workshop_scheduling.domain.planning import Timeline, availability
from workshop_scheduling.domain.reminders import reminder_window
from workshop_scheduling.domain.workshop import (
    WEEKDAYS,
    Interval,
    InvalidSettings,
    Workshop,
    day_bounds,
    interval_bounds,
    local_instants,
    merge,
    validate_settings,
    workshop_from_settings,
)

AMS = ZoneInfo("Europe/Amsterdam")
SPRING = date(2026, 3, 29)  # a Sunday
AUTUMN = date(2026, 10, 25)  # a Sunday
NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(day: date, clock: str, fold: int = 0) -> datetime:
    hours, minutes = map(int, clock.split(":"))
    return datetime.combine(day, time(hours, minutes), tzinfo=AMS).replace(fold=fold)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def shop(hours: dict[str, list[tuple[str, str]]] | None = None, **settings) -> Workshop:
    hours = hours or {day: [("08:00", "12:00"), ("13:00", "17:30")] for day in WEEKDAYS}
    stored = validate_settings(
        {
            "time_zone": "Europe/Amsterdam",
            "slot_minutes": settings.pop("slot_minutes", 15),
            "booking_horizon_days": settings.pop("horizon", 400),
            "opening_hours": {d: [{"opens": o, "closes": c} for o, c in i] for d, i in hours.items()},
            "closed_dates": [{"date": d} for d in settings.pop("closed", [])],
        }
    )
    return workshop_from_settings(stored)


def around_the_clock() -> Workshop:
    return shop({day: [("00:00", "24:00")] for day in WEEKDAYS})


def errors(workshop, start, end, now=NOW) -> dict[str, list[str]]:
    with pytest.raises(InvalidAppointmentTime) as caught:
        check_appointment_time(workshop, start, end, now=now)
    return caught.value.errors


# ------------------------------------------------------------------------------ settings


def test_settings_are_normalised():
    stored = validate_settings(
        {
            "time_zone": "Europe/Amsterdam",
            "opening_hours": {
                "monday": [{"opens": "13:00", "closes": "17:00"}, {"opens": "08:00", "closes": "12:00"}]
            },
            "closed_dates": [
                {"date": date(2026, 12, 26)},
                {"date": date(2026, 12, 25), "reason": "Christmas"},
            ],
        }
    )
    assert stored["slot_minutes"] == 15 and stored["booking_horizon_days"] == 90
    assert stored["opening_hours"]["monday"] == [
        {"opens": "08:00", "closes": "12:00"},
        {"opens": "13:00", "closes": "17:00"},
    ]
    assert stored["opening_hours"]["sunday"] == []
    assert stored["closed_dates"] == [
        {"date": "2026-12-25", "reason": "Christmas"},
        {"date": "2026-12-26", "reason": None},
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "../etc/passwd"}, "time_zone"),
        ({"slot_minutes": 7}, "slot_minutes"),
        ({"booking_horizon_days": 0}, "booking_horizon_days"),
        ({"opening_hours": {"monday": [{"opens": "12:00", "closes": "08:00"}]}}, "opening_hours.monday[0]"),
        ({"opening_hours": {"monday": [{"opens": "08:10", "closes": "12:00"}]}}, "opening_hours.monday[0]"),
        ({"opening_hours": {"monday": [{"opens": "25:00", "closes": "26:00"}]}}, "opening_hours.monday[0]"),
        (
            {
                "opening_hours": {
                    "monday": [{"opens": "08:00", "closes": "12:00"}, {"opens": "11:00", "closes": "13:00"}]
                }
            },
            "opening_hours.monday[1]",
        ),
        ({"opening_hours": {"funday": []}}, "opening_hours.funday"),
    ],
)
def test_invalid_settings_name_the_field(change, field):
    data = {"time_zone": "Europe/Amsterdam", "opening_hours": {}, **change}
    with pytest.raises(InvalidSettings) as caught:
        validate_settings(data)
    assert field in caught.value.errors


def test_touching_intervals_merge():
    merged = merge([Interval(600, 720), Interval(480, 600), Interval(780, 900)])
    assert merged == (Interval(480, 720), Interval(780, 900))


# ---------------------------------------------------------------------------- the rules


def test_a_good_appointment_passes():
    check_appointment_time(shop(), at(date(2026, 3, 10), "08:00"), at(date(2026, 3, 10), "12:00"), now=NOW)


def test_start_before_end():
    day = date(2026, 3, 10)
    assert "end" in errors(shop(), at(day, "10:00"), at(day, "10:00"))
    assert "end" in errors(shop(), at(day, "10:00"), at(day, "09:00"))


def test_on_the_slot_grid_of_the_workshop_zone():
    day = date(2026, 3, 10)
    assert "slot grid" in errors(shop(), at(day, "10:05"), at(day, "11:00"))["start"][0]
    assert "slot grid" in errors(shop(), at(day, "10:00"), at(day, "10:40"))["end"][0]
    assert "slot grid" in errors(shop(), at(day, "10:00").replace(second=30), at(day, "11:00"))["start"][0]
    hourly = shop({d: [("08:00", "17:00")] for d in WEEKDAYS}, slot_minutes=60)
    assert "start" in errors(hourly, at(day, "10:30"), at(day, "11:30"))
    # The grid is wall-clock time in the workshop's zone, whatever offset the caller used.
    check_appointment_time(
        shop(), utc("2026-03-10T09:15:00+00:00"), utc("2026-03-10T10:15:00+00:00"), now=NOW
    )


def test_inside_one_opening_interval():
    day = date(2026, 3, 10)
    assert "opening hours" in errors(shop(), at(day, "07:45"), at(day, "08:30"))["start"][0]
    assert "opening hours" in errors(shop(), at(day, "11:30"), at(day, "13:30"))["start"][0], "not over lunch"
    assert "opening hours" in errors(shop(), at(day, "17:00"), at(day, "17:45"))["start"][0]
    check_appointment_time(shop(), at(day, "17:00"), at(day, "17:30"), now=NOW)
    assert "start" in errors(shop(), at(day, "16:00"), at(day + timedelta(days=1), "09:00"))


def test_a_day_without_hours_is_closed():
    saturday = date(2026, 3, 14)
    weekdays = shop({d: [("08:00", "17:00")] for d in WEEKDAYS[:5]})
    assert "start" in errors(weekdays, at(saturday, "10:00"), at(saturday, "11:00"))


def test_not_on_a_closed_date():
    day = date(2026, 4, 27)
    closed = shop(closed=[day])
    assert "closed on 2026-04-27" in errors(closed, at(day, "10:00"), at(day, "11:00"))["start"][0]


def test_not_in_the_past_and_not_beyond_the_horizon():
    now = at(date(2026, 3, 10), "10:07").astimezone(UTC)
    day = date(2026, 3, 10)
    assert "past" in errors(shop(), at(day, "10:00"), at(day, "11:00"), now=now)["start"][0]
    check_appointment_time(shop(), at(day, "10:15"), at(day, "11:00"), now=now)
    near = shop(horizon=14)
    check_appointment_time(
        near, at(day + timedelta(days=14), "16:00"), at(day + timedelta(days=14), "17:00"), now=now
    )
    late = day + timedelta(days=15)
    assert "horizon" in errors(near, at(late, "08:00"), at(late, "09:00"), now=now)["start"][0]


# ------------------------------------------------------------------------ daylight saving


def test_opening_hours_are_wall_clock_time_on_both_sides_of_the_change():
    """08:00 in Amsterdam is 07:00 UTC the day before spring forward, 06:00 UTC on it."""
    before, after = SPRING - timedelta(days=1), SPRING
    check_appointment_time(
        shop(), utc("2026-03-28T07:00:00+00:00"), utc("2026-03-28T08:00:00+00:00"), now=NOW
    )
    check_appointment_time(
        shop(), utc("2026-03-29T06:00:00+00:00"), utc("2026-03-29T07:00:00+00:00"), now=NOW
    )
    assert "start" in errors(shop(), utc("2026-03-29T05:45:00+00:00"), utc("2026-03-29T06:45:00+00:00"))
    assert at(before, "08:00").utcoffset() != at(after, "08:00").utcoffset()
    check_appointment_time(
        shop(), utc("2026-10-25T07:00:00+00:00"), utc("2026-10-25T08:00:00+00:00"), now=NOW
    )
    assert "start" in errors(shop(), utc("2026-10-25T06:00:00+00:00"), utc("2026-10-25T07:00:00+00:00"))


def test_spring_forward_night_has_no_0200_to_0300():
    day = SPRING
    assert local_instants(day, 2 * 60 + 30, AMS) == []
    assert local_instants(day, 3 * 60, AMS) == [utc("2026-03-29T01:00:00+00:00")]
    # 01:45 to 03:15 wall clock is half an hour of real time: allowed around the clock.
    start, end = utc("2026-03-29T00:45:00+00:00"), utc("2026-03-29T01:15:00+00:00")
    assert (start.astimezone(AMS).strftime("%H:%M"), end.astimezone(AMS).strftime("%H:%M")) == (
        "01:45",
        "03:15",
    )
    check_appointment_time(around_the_clock(), start, end, now=NOW)


def test_an_interval_starting_in_the_skipped_hour_starts_when_the_clocks_jump():
    night = shop({"sunday": [("02:30", "06:00")]})
    low, high = interval_bounds(SPRING, Interval(150, 360), AMS)
    assert (low, high) == (utc("2026-03-29T01:00:00+00:00"), utc("2026-03-29T04:00:00+00:00"))
    check_appointment_time(night, utc("2026-03-29T01:00:00+00:00"), utc("2026-03-29T02:00:00+00:00"), now=NOW)


def test_fall_back_night_has_0200_to_0300_twice():
    first, second = local_instants(AUTUMN, 2 * 60 + 30, AMS)
    assert first == utc("2026-10-25T00:30:00+00:00") and second == utc("2026-10-25T01:30:00+00:00")
    day_start, day_end = day_bounds(AUTUMN, AMS)
    assert day_end - day_start == timedelta(hours=25)
    spring_start, spring_end = day_bounds(SPRING, AMS)
    assert spring_end - spring_start == timedelta(hours=23)
    # An hour in the repeated hour, and one across it, are both on the grid and open.
    check_appointment_time(around_the_clock(), first, second, now=NOW)
    check_appointment_time(
        around_the_clock(), utc("2026-10-25T00:15:00+00:00"), utc("2026-10-25T02:15:00+00:00"), now=NOW
    )


def test_availability_on_the_spring_forward_day():
    slots = availability(
        around_the_clock(),
        first_day=SPRING,
        last_day=SPRING,
        duration=timedelta(hours=1),
        now=NOW,
        bays=[uuid.uuid4()],
        busy={},
    )
    local_starts = [s.start.astimezone(AMS).strftime("%H:%M") for s in slots]
    assert "02:00" not in local_starts and "02:30" not in local_starts
    assert local_starts[:10] == [
        "00:00",
        "00:15",
        "00:30",
        "00:45",
        "01:00",
        "01:15",
        "01:30",
        "01:45",
        "03:00",
        "03:15",
    ]
    assert local_starts[-1] == "23:00"
    assert len(slots) == 23 * 4 - 3, "a 23-hour day; the last start is an hour before midnight"
    assert all(s.end - s.start == timedelta(hours=1) for s in slots)


def test_availability_on_the_fall_back_day_offers_the_repeated_hour_twice():
    slots = availability(
        around_the_clock(),
        first_day=AUTUMN,
        last_day=AUTUMN,
        duration=timedelta(minutes=30),
        now=NOW,
        bays=[uuid.uuid4()],
        busy={},
    )
    twice = [s.start for s in slots if s.start.astimezone(AMS).strftime("%H:%M") == "02:15"]
    assert twice == [utc("2026-10-25T00:15:00+00:00"), utc("2026-10-25T01:15:00+00:00")]
    assert len(slots) == 25 * 4 - 1


def test_availability_in_opening_hours_on_a_dst_day_is_shifted_in_utc():
    slots = availability(
        shop(),
        first_day=SPRING,
        last_day=SPRING,
        duration=timedelta(hours=4),
        now=NOW,
        bays=[uuid.uuid4()],
        busy={},
    )
    assert [s.start for s in slots] == [
        utc("2026-03-29T06:00:00+00:00"),  # 08:00 CEST
        utc("2026-03-29T11:00:00+00:00"),  # 13:00 CEST, and on to 17:30
        utc("2026-03-29T11:15:00+00:00"),
        utc("2026-03-29T11:30:00+00:00"),
    ]


def test_reminders_cover_tomorrow_in_the_workshop_zone():
    evening = at(SPRING - timedelta(days=1), "20:00").astimezone(UTC)
    day, start, end = reminder_window(around_the_clock(), evening)
    assert day == SPRING
    assert (start, end) == (utc("2026-03-28T23:00:00+00:00"), utc("2026-03-29T22:00:00+00:00"))
    late = at(AUTUMN - timedelta(days=1), "23:30").astimezone(UTC)  # 21:30 UTC: still the 24th here
    day, start, end = reminder_window(around_the_clock(), late)
    assert day == AUTUMN and end - start == timedelta(hours=25)


# ------------------------------------------------------------------------- overlaps, bays


def test_overlap_is_strict_back_to_back_is_fine():
    day = date(2026, 3, 10)
    assert overlaps(at(day, "10:00"), at(day, "11:00"), at(day, "10:59"), at(day, "12:00"))
    assert not overlaps(at(day, "10:00"), at(day, "11:00"), at(day, "11:00"), at(day, "12:00"))
    assert not overlaps(at(day, "10:00"), at(day, "11:00"), at(day, "09:00"), at(day, "10:00"))


def test_conflicts_name_the_vehicle_technician_and_busy_bays():
    day = date(2026, 3, 10)
    bay, other_bay, vehicle, technician = (uuid.uuid4() for _ in range(4))
    booked = Booking(uuid.uuid4(), at(day, "10:00"), at(day, "11:00"), bay, vehicle, technician)
    clash = find_conflicts(
        [booked], at(day, "10:30"), at(day, "11:30"), vehicle_id=vehicle, technician_id=technician
    )
    assert clash.busy_bays == {bay} and clash.vehicle == booked and clash.technician == booked
    clear = find_conflicts(
        [booked], at(day, "11:00"), at(day, "12:00"), vehicle_id=vehicle, technician_id=technician
    )
    assert clear == Conflicts(frozenset(), None, None)
    itself = find_conflicts(
        [booked],
        at(day, "10:30"),
        at(day, "11:30"),
        vehicle_id=vehicle,
        technician_id=None,
        ignore=booked.appointment_id,
    )
    assert itself.vehicle is None
    assert other_bay not in clash.busy_bays


def test_availability_lists_the_free_bays_at_each_start():
    day = date(2026, 3, 10)
    first, second = uuid.uuid4(), uuid.uuid4()
    busy = {first: [(at(day, "08:00"), at(day, "10:00"))], second: [(at(day, "09:00"), at(day, "09:30"))]}
    hours = shop({d: [("08:00", "11:00")] for d in WEEKDAYS})
    slots = availability(
        hours,
        first_day=day,
        last_day=day,
        duration=timedelta(hours=1),
        now=NOW,
        bays=[first, second],
        busy=busy,
    )
    by_start = {s.start.astimezone(AMS).strftime("%H:%M"): s.bay_ids for s in slots}
    assert by_start == {
        "08:00": (second,),
        "09:30": (second,),
        "09:45": (second,),
        "10:00": (first, second),
    }


def test_availability_skips_the_past_closed_days_and_beyond_the_horizon():
    day = date(2026, 3, 10)
    now = at(day, "16:00").astimezone(UTC)
    hours = shop(closed=[day + timedelta(days=1)], horizon=2)
    slots = availability(
        hours,
        first_day=day - timedelta(days=3),
        last_day=day + timedelta(days=10),
        duration=timedelta(hours=1),
        now=now,
        bays=[uuid.uuid4()],
        busy={},
    )
    days = sorted({s.start.astimezone(AMS).date() for s in slots})
    assert days == [day, day + timedelta(days=2)]
    assert min(s.start for s in slots) == now


def test_a_technician_must_be_free_too():
    day = date(2026, 3, 10)
    hours = shop({d: [("08:00", "10:00")] for d in WEEKDAYS})
    slots = availability(
        hours,
        first_day=day,
        last_day=day,
        duration=timedelta(hours=1),
        now=NOW,
        bays=[uuid.uuid4()],
        busy={},
        technician_busy=[(at(day, "08:30"), at(day, "09:00"))],
    )
    assert [s.start.astimezone(AMS).strftime("%H:%M") for s in slots] == ["09:00"]


def test_timeline_lookups():
    day = date(2026, 3, 10)
    line = Timeline.of([(at(day, "12:00"), at(day, "13:00")), (at(day, "09:00"), at(day, "10:00"))])
    assert line.free(at(day, "10:00"), at(day, "12:00"))
    assert not line.free(at(day, "09:30"), at(day, "10:30"))
    assert not line.free(at(day, "11:00"), at(day, "14:00"))
    assert line.free(at(day, "13:00"), at(day, "14:00"))


# ---------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(
    ("verb", "status", "target"),
    [
        ("check-in", "booked", "checked_in"),
        ("complete", "checked_in", "completed"),
        ("no-show", "booked", "no_show"),
        ("cancel", "booked", "cancelled"),
        ("cancel", "checked_in", "cancelled"),
    ],
)
def test_transitions(verb, status, target):
    assert transition(verb, status) == target


@pytest.mark.parametrize(
    ("verb", "status"),
    [
        ("check-in", "checked_in"),
        ("complete", "booked"),
        ("no-show", "checked_in"),
        ("cancel", "completed"),
        ("cancel", "no_show"),
        ("check-in", "cancelled"),
    ],
)
def test_impossible_transitions_name_the_status(verb, status):
    with pytest.raises(TransitionNotAllowed) as caught:
        transition(verb, status)
    assert caught.value.to_dict()["current_status"] == status
    assert caught.value.status == 409


def test_only_booked_appointments_move():
    ensure_reschedulable("booked")
    with pytest.raises(TransitionNotAllowed):
        ensure_reschedulable("checked_in")


def test_no_show_only_after_the_start():
    start = at(date(2026, 3, 10), "10:00")
    with pytest.raises(NoShowTooEarly):
        ensure_no_show_allowed(start, start - timedelta(minutes=1))
    ensure_no_show_allowed(start, start)


def test_the_job_description_carries_the_service_codes():
    assert describe_work("  annual service ", ["APK", "OIL"]) == "annual service [APK, OIL]"
    assert describe_work("brakes", []) == "brakes"


def test_an_appointment_is_shown_on_the_workshop_clock_with_the_offset_of_its_moment():
    class Stored:
        start_at = utc("2026-03-28T09:00:00+00:00")  # the Saturday before summer time
        end_at = utc("2026-03-30T08:00:00+00:00")  # the Monday after
        cancelled_at = None
        status = "booked"

    shown = InWorkshopTime(Stored(), AMS)
    assert shown.value("start_at").isoformat() == "2026-03-28T10:00:00+01:00"
    assert shown.value("end_at").isoformat() == "2026-03-30T10:00:00+02:00"
    assert shown.value("start_at") == Stored.start_at, "the same instant"
    assert (shown.value("cancelled_at"), shown.value("status")) == (None, "booked")


# ----------------------------------------------------------------------- one state per visit


@pytest.mark.parametrize(
    ("status", "job_status", "becomes"),
    [
        ("booked", "completed", "completed"),
        ("checked_in", "completed", "completed"),
        ("booked", "cancelled", "cancelled"),
        ("checked_in", "cancelled", "cancelled"),
        ("checked_in", "in_progress", None),
        ("booked", "on_hold", None),
        ("cancelled", "cancelled", None),
        ("no_show", "cancelled", None),
        ("completed", "cancelled", None),
        ("cancelled", "completed", None),
    ],
)
def test_what_a_job_status_makes_of_its_appointment(status, job_status, becomes):
    assert follows_job(status, job_status) == becomes


def test_a_report_is_applied_once_and_never_after_a_newer_one():
    assert is_newer(1, None)
    assert is_newer(4, 3)
    assert not is_newer(3, 3)
    assert not is_newer(2, 3)


@pytest.mark.parametrize(
    ("raw", "plate"), [("xd-123-z", "XD123Z"), (" XD 123 Z ", "XD123Z"), ("xd.123·z", "XD123Z")]
)
def test_plates_are_compared_as_vehicle_management_compares_them(raw, plate):
    assert normalise_plate(raw) == plate


@pytest.mark.parametrize("raw", ["", "---", "XD/123", "ABCDEFGHIJKLM"])
def test_a_plate_no_vehicle_can_have_is_refused(raw):
    with pytest.raises(InvalidPlate):
        normalise_plate(raw)
