"""The due-date rules in plain Python: the Dutch APK on the cases the RDW and the police
publish (docs/due-dates.md), the measured use and the service due by date and distance."""

import uuid
from datetime import UTC, date, datetime

import pytest
from vehicle_management import due_dates
from vehicle_management.domain import Reading

RULES = due_dates.load_inspection_rules()
NL = RULES["NL"]


def apk(admitted, fuel, as_of, **kwargs):
    return due_dates.inspection_due(
        NL,
        country="NL",
        fuel_type=fuel,
        first_admission_on=admitted,
        model_year=kwargs.pop("model_year", None),
        expires_on=kwargs.pop("expires_on", None),
        as_of=as_of,
    )


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------ APK


@pytest.mark.parametrize(
    ("as_of", "due"),
    [
        # A new petrol car: first after 4 years, then at 6 and 8, then every year.
        ("2026-12-07", "2030-03-15"),
        ("2030-03-15", "2030-03-15"),  # due that very day
        ("2030-03-16", "2032-03-15"),
        ("2032-03-16", "2034-03-15"),
        ("2034-03-16", "2035-03-15"),
        ("2035-03-16", "2036-03-15"),
    ],
)
def test_a_new_petrol_car_4_then_6_and_8_years_then_yearly(as_of, due):
    result = apk(date(2026, 3, 15), "petrol", date.fromisoformat(as_of))
    assert result.status == "due"
    assert result.due_on == date.fromisoformat(due)
    assert result.schedule == "petrol, electric and other fuels"
    assert not result.estimated


@pytest.mark.parametrize("fuel", ["electric", "hybrid", "plug_in_hybrid", "hydrogen", "other"])
def test_electric_and_other_fuels_follow_the_petrol_schedule(fuel):
    assert apk(date(2026, 3, 15), fuel, date(2026, 12, 7)).due_on == date(2030, 3, 15)
    assert apk(date(2026, 3, 15), fuel, date(2030, 3, 16)).due_on == date(2032, 3, 15)


@pytest.mark.parametrize("fuel", ["diesel", "lpg", "cng"])
def test_diesel_and_gas_first_after_3_years_then_yearly(fuel):
    admitted = date(2026, 3, 15)
    assert apk(admitted, fuel, date(2026, 12, 7)).due_on == date(2029, 3, 15)
    assert apk(admitted, fuel, date(2029, 3, 16)).due_on == date(2030, 3, 15)
    assert apk(admitted, fuel, date(2030, 3, 16)).due_on == date(2031, 3, 15)
    assert apk(admitted, fuel, date(2026, 12, 7)).schedule == "diesel, LPG or natural gas"


def test_a_ten_year_old_petrol_car_is_due_yearly_on_its_admission_date():
    assert apk(date(2016, 9, 1), "petrol", date(2026, 12, 7)).due_on == date(2027, 9, 1)


@pytest.mark.parametrize("fuel", ["petrol", "diesel"])
def test_thirty_years_or_older_every_two_years(fuel):
    """Admitted 1995-06-01: inspected yearly up to 30 (2025-06-01), then every 2 years."""
    admitted = date(1995, 6, 1)
    assert apk(admitted, fuel, date(2025, 1, 1)).due_on == date(2025, 6, 1)
    assert apk(admitted, fuel, date(2025, 6, 2)).due_on == date(2027, 6, 1)
    assert apk(admitted, fuel, date(2027, 6, 2)).due_on == date(2029, 6, 1)
    # Just under 30 it is still yearly.
    assert apk(admitted, fuel, date(2023, 6, 2)).due_on == date(2024, 6, 1)


def test_fifty_years_or_older_is_exempt():
    """Since 1 January 2021 vehicles of 50 years or older (not only those before 1960)."""
    result = apk(date(1976, 5, 1), "petrol", date(2026, 12, 7))
    assert result.status == "exempt"
    assert result.due_on is None
    assert "50 years or older are exempt" in " ".join(result.reasons)
    assert apk(date(1958, 1, 1), "diesel", date(2026, 12, 7)).status == "exempt"


def test_a_car_turning_fifty_before_its_next_inspection_needs_none():
    # 1977-01-10: inspected at 48 (2025-01-10), the next would be at 50 (2027-01-10).
    result = apk(date(1977, 1, 10), "petrol", date(2026, 12, 7))
    assert result.status == "exempt"
    assert "2027-01-10" in " ".join(result.reasons)
    # At 48 it was still due.
    assert apk(date(1977, 1, 10), "petrol", date(2024, 12, 7)).due_on == date(2025, 1, 10)


def test_the_expiry_date_on_record_wins():
    result = apk(date(2016, 9, 1), "petrol", date(2026, 12, 7), expires_on=date(2027, 2, 3))
    assert (result.status, result.due_on) == ("due", date(2027, 2, 3))
    assert "on record" in result.reasons[0]


def test_without_an_admission_date_the_model_year_estimates_it():
    result = apk(None, "diesel", date(2026, 12, 7), model_year=2024)
    assert result.estimated
    assert result.due_on == date(2027, 1, 1)
    assert "model year" in result.reasons[0]


def test_without_admission_date_or_model_year_it_is_unknown():
    result = apk(None, "petrol", date(2026, 12, 7))
    assert (result.status, result.due_on) == ("unknown", None)


def test_an_unknown_fuel_takes_the_earlier_schedule():
    result = apk(date(2026, 3, 15), None, date(2026, 12, 7))
    assert result.due_on == date(2029, 3, 15)
    assert "fuel type unknown" in result.reasons[0]


def test_a_country_without_rules_is_unknown_not_guessed():
    result = due_dates.inspection_due(
        RULES.get("BE"),
        country="BE",
        fuel_type="petrol",
        first_admission_on=date(2020, 1, 1),
        model_year=None,
        expires_on=None,
        as_of=date(2026, 12, 7),
    )
    assert (result.status, result.due_on) == ("unknown", None)
    assert "BE" in result.reasons[0]


def test_the_29th_of_february_falls_on_the_28th():
    assert apk(date(2024, 2, 29), "diesel", date(2026, 12, 7)).due_on == date(2027, 2, 28)


def test_the_rules_file_is_checked_when_read():
    with pytest.raises(ValueError, match="XX"):
        due_dates.parse_inspection_rules({"XX": {"name": "x", "authority": "y", "schedules": []}})
    bad_period = {
        "name": "x",
        "authority": "y",
        "schedules": [
            {
                "name": "all",
                "fuel_types": None,
                "first_at_age_years": 4,
                "periods": [{"from_age_years": 4, "every_years": 0}],
            }
        ],
    }
    with pytest.raises(ValueError, match="at least one year"):
        due_dates.parse_inspection_rules({"XX": bad_period})


# ------------------------------------------------------------------------------ use


def test_use_measured_between_the_first_and_last_reading():
    readings = [
        Reading(40_000, "km", at("2026-01-10")),
        Reading(45_000, "km", at("2026-03-01")),
        Reading(52_000, "km", at("2026-07-10")),
    ]
    usage = due_dates.measure_use(readings, first_admission_on=None)
    assert usage.method == "readings"
    assert usage.km_per_day == pytest.approx(12_000 / 181)
    assert "12000 km in 181 days" in usage.explanation


def test_use_counts_the_latest_two_years_when_they_span_enough():
    readings = [
        Reading(0, "km", at("2016-01-01")),  # long ago, driven little then
        Reading(10_000, "km", at("2024-02-01")),
        Reading(40_000, "km", at("2026-01-01")),
    ]
    usage = due_dates.measure_use(readings, first_admission_on=None)
    assert usage.km_per_day == pytest.approx(30_000 / 700)


def test_use_from_one_reading_and_the_first_admission():
    usage = due_dates.measure_use(
        [Reading(36_500, "km", at("2026-01-01"))], first_admission_on=date(2025, 1, 1)
    )
    assert usage.method == "since_admission"
    assert usage.km_per_day == pytest.approx(100.0)


def test_use_in_miles_is_counted_in_km():
    readings = [Reading(1_000, "mi", at("2026-01-01")), Reading(2_000, "mi", at("2026-04-11"))]
    assert due_dates.measure_use(readings, first_admission_on=None).km_per_day == pytest.approx(
        1609.344 / 100
    )


@pytest.mark.parametrize(
    "readings",
    [
        [],
        [Reading(10_000, "km", at("2026-01-01"))],
        [Reading(10_000, "km", at("2026-01-01")), Reading(10_400, "km", at("2026-01-20"))],  # 19 days
    ],
)
def test_too_few_readings_say_so(readings):
    usage = due_dates.measure_use(readings, first_admission_on=None)
    assert (usage.km_per_day, usage.method) == (None, "unknown")
    assert "too few odometer readings" in usage.explanation


def test_a_replaced_meter_starts_again():
    readings = [
        Reading(150_000, "km", at("2025-01-01")),
        Reading(160_000, "km", at("2025-06-01")),
        Reading(0, "km", at("2025-07-01"), corrected=True),
        Reading(6_000, "km", at("2025-10-09")),
    ]
    usage = due_dates.measure_use(readings, first_admission_on=date(2015, 1, 1))
    assert usage.km_per_day == pytest.approx(6_000 / 100)
    # One reading since the new meter and a replaced meter: the admission date does not help.
    only = [Reading(150_000, "km", at("2025-01-01")), Reading(0, "km", at("2025-07-01"), corrected=True)]
    assert due_dates.measure_use(only, first_admission_on=date(2015, 1, 1)).method == "unknown"


# -------------------------------------------------------------------------- service

SMALL = due_dates.ServiceInterval(
    "small-service", "small service", 12, 15_000, ("small-service", "major-service")
)
MAJOR = due_dates.ServiceInterval("major-service", "major service", 24, 30_000, ("major-service",))
ANCHOR = due_dates.Anchor(date(2024, 1, 10), 0.0, "no service on record")


def visit(on: str, km: float | None, *codes: str) -> due_dates.ServiceVisit:
    return due_dates.ServiceVisit(uuid.uuid4(), date.fromisoformat(on), km, frozenset(codes))


def test_a_busy_car_is_due_by_distance_before_the_date():
    readings = [Reading(40_000, "km", at("2026-01-10")), Reading(52_000, "km", at("2026-07-10"))]
    usage = due_dates.measure_use(readings, first_admission_on=None)
    due = due_dates.service_due(
        SMALL, [visit("2026-01-10", 40_000, "small-service")], anchor=ANCHOR, latest=readings[-1], usage=usage
    )
    assert due.due_by_date == date(2027, 1, 10)
    assert due.due_km == 55_000
    # 3,000 km to go at 66.3 km a day: 45 days after 10 July.
    assert due.due_by_distance_on == date(2026, 8, 24)
    assert (due.due_on, due.due_by) == (date(2026, 8, 24), "distance")


def test_a_quiet_car_is_due_by_date():
    readings = [Reading(40_000, "km", at("2026-01-10")), Reading(42_000, "km", at("2026-07-10"))]
    usage = due_dates.measure_use(readings, first_admission_on=None)
    due = due_dates.service_due(
        SMALL, [visit("2026-01-10", 40_000, "small-service")], anchor=ANCHOR, latest=readings[-1], usage=usage
    )
    assert (due.due_on, due.due_by) == (date(2027, 1, 10), "date")
    # 13,000 km to go at 11 km a day: long after the date.
    assert due.due_by_distance_on == date(2029, 9, 28)


def test_without_measured_use_only_the_date_counts_and_the_reasons_say_why():
    readings = [Reading(40_000, "km", at("2026-01-10"))]
    usage = due_dates.measure_use(readings, first_admission_on=None)
    due = due_dates.service_due(
        SMALL, [visit("2026-01-10", 40_000, "small-service")], anchor=ANCHOR, latest=readings[-1], usage=usage
    )
    assert (due.due_on, due.due_by, due.due_km, due.due_by_distance_on) == (
        date(2027, 1, 10),
        "date",
        55_000,
        None,
    )
    assert any("too few odometer readings" in r for r in due.reasons)


def test_a_major_service_counts_as_a_small_one_and_is_chosen_on_the_same_day():
    visits = [visit("2025-01-10", 20_000, "small-service"), visit("2026-01-10", 35_000, "major-service")]
    none = due_dates.Usage(None, "unknown", "unknown")
    small = due_dates.service_due(SMALL, visits, anchor=ANCHOR, latest=None, usage=none)
    major = due_dates.service_due(MAJOR, visits, anchor=ANCHOR, latest=None, usage=none)
    assert small.last_service == visits[1]
    assert small.due_by_date == date(2027, 1, 10)
    assert major.due_by_date == date(2028, 1, 10)
    assert due_dates.next_service([small, major]) is small
    # Both due the same day: the major service.
    both = due_dates.service_due(
        MAJOR, [visits[0]], anchor=due_dates.Anchor(date(2025, 1, 10), None, "x"), latest=None, usage=none
    )
    same_day_small = due_dates.service_due(
        SMALL, [], anchor=due_dates.Anchor(date(2026, 1, 10), None, "x"), latest=None, usage=none
    )
    assert both.due_on == same_day_small.due_on == date(2027, 1, 10)
    assert due_dates.next_service([same_day_small, both]) is both


def test_other_work_does_not_count_as_a_service():
    due = due_dates.service_due(
        SMALL,
        [visit("2026-06-01", 50_000, "brakes")],
        anchor=ANCHOR,
        latest=None,
        usage=due_dates.Usage(None, "unknown", ""),
    )
    assert due.last_service is None
    assert due.due_by_date == date(2025, 1, 10)  # counted from the anchor: overdue


def test_no_service_on_record_counts_from_the_first_admission():
    anchor = due_dates.anchor_without_service(
        first_admission_on=date(2025, 3, 1), model_year=2025, registered_on=date(2026, 1, 1)
    )
    assert (anchor.on, anchor.km) == (date(2025, 3, 1), 0.0)
    from_year = due_dates.anchor_without_service(
        first_admission_on=None, model_year=2025, registered_on=date(2026, 1, 1)
    )
    assert (from_year.on, from_year.km) == (date(2025, 1, 1), 0.0)
    unknown = due_dates.anchor_without_service(
        first_admission_on=None, model_year=None, registered_on=date(2026, 1, 1)
    )
    assert (unknown.on, unknown.km) == (date(2026, 1, 1), None)


def test_a_service_without_its_odometer_is_due_by_date_only():
    due = due_dates.service_due(
        SMALL,
        [visit("2026-01-10", None, "small-service")],
        anchor=ANCHOR,
        latest=None,
        usage=due_dates.Usage(None, "unknown", ""),
    )
    assert (due.due_km, due.due_on) == (None, date(2027, 1, 10))
    assert any("no odometer reading" in r for r in due.reasons)


def test_an_interval_by_distance_only():
    interval = due_dates.ServiceInterval("timing-belt", "timing belt", None, 120_000, ("timing-belt",))
    readings = [
        Reading(100_000, "km", at("2026-01-01")),
        Reading(110_000, "km", at("2026-04-11")),
    ]  # 100 km/day
    usage = due_dates.measure_use(readings, first_admission_on=None)
    due = due_dates.service_due(
        interval, [], anchor=due_dates.Anchor(date(2015, 1, 1), 0.0, "x"), latest=readings[-1], usage=usage
    )
    assert due.due_by_date is None
    assert (due.due_km, due.due_on, due.due_by) == (120_000, date(2026, 7, 20), "distance")


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
    ],
)
def test_add_months_keeps_to_the_month_end(day, months, expected):
    assert due_dates.add_months(day, months) == expected
