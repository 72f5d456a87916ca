"""Vehicle rules without I/O: plates, VINs, model years, transfers, odometer readings."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from vehicle_management import domain

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def at(days: float) -> datetime:
    return NOW - timedelta(days=days)


# -------------------------------------------------------------------------- plates


@pytest.mark.parametrize("spelling", ["AB-12-CD", "ab 12 cd", "AB12CD", " Ab-12 cD ", "ab.12.cd"])
def test_every_spelling_of_a_plate_is_the_same_plate(spelling):
    assert domain.normalise_plate(spelling) == "AB12CD"


@pytest.mark.parametrize(
    ("plate", "message"),
    [("--", "letters or digits"), ("AB/12", "only letters"), ("ABCDEFGHIJKLM", "more than 12")],
)
def test_rejects_what_cannot_be_a_plate(plate, message):
    with pytest.raises(ValueError, match=message):
        domain.normalise_plate(plate)


def test_plates_with_national_letters_are_kept():
    assert domain.normalise_plate("m-ö 123") == "MÖ123"


# An example of each RDW side code, as typed and as printed on the plate.
@pytest.mark.parametrize(
    ("typed", "code", "printed"),
    [
        ("AB1234", 1, "AB-12-34"),
        ("1234AB", 2, "12-34-AB"),
        ("12ab34", 3, "12-AB-34"),
        ("AB 12 CD", 4, "AB-12-CD"),
        ("ABCD12", 5, "AB-CD-12"),
        ("12-abcd", 6, "12-AB-CD"),
        ("12ABC3", 7, "12-ABC-3"),
        ("1ABC23", 8, "1-ABC-23"),
        ("xd123z", 9, "XD-123-Z"),
        ("A123BC", 10, "A-123-BC"),
        ("ABC12D", 11, "ABC-12-D"),
        ("A12BCD", 12, "A-12-BCD"),
        ("1AB234", 13, "1-AB-234"),
        ("123AB4", 14, "123-AB-4"),
    ],
)
def test_a_dutch_plate_is_shown_in_its_side_code(typed, code, printed):
    plate = domain.normalise_plate(typed)
    assert domain.side_code(plate, "NL") == code
    assert domain.display_plate(plate, "NL") == printed


def test_every_side_code_1_to_14_is_known_and_fits_one_order_of_letters_and_digits():
    assert list(domain.DUTCH_SIDE_CODES) == list(range(1, 15))
    orders = [layout.replace("-", "") for layout in domain.DUTCH_SIDE_CODES.values()]
    assert len(set(orders)) == 14 and all(len(order) == 6 for order in orders)


@pytest.mark.parametrize("plate", ["AB123", "ABC1234", "ABCDEF", "123456", "MÖ1234"])
def test_a_dutch_plate_of_no_side_code_is_shown_as_stored(plate):
    assert domain.side_code(plate, "NL") is None
    assert domain.display_plate(plate, "NL") == plate


def test_other_countries_are_shown_as_stored_until_their_rules_are_added():
    assert domain.display_plate("XD123Z", "BE") == "XD123Z"
    assert domain.side_code("XD123Z", "DE") is None


# ---------------------------------------------------------------------------- VINs

# Published examples with a correct check digit: the Wikipedia / 49 CFR 565 example
# (check digit X), the all-ones VIN, and VINs used as examples by VIN decoders.
VALID_VINS = [
    "1M8GDM9AXKP042788",
    "11111111111111111",
    "1HGCM82633A004352",
    "1G1JC5444R7252367",
    "JH4KA7561PC008269",
]
# The same VINs with one character changed: the check digit no longer fits.
INVALID_VINS = [
    "1M8GDM9AXKP042789",
    "11111111111111112",
    "1HGCM82633A004353",
    "1G1JC5444R7252368",
    "JH4KA7561PC008260",
]


@pytest.mark.parametrize("vin", VALID_VINS)
def test_published_vins_have_the_right_check_digit(vin):
    assert domain.vin_check_digit(vin) == vin[8]
    assert domain.check_digit_error(vin) is None


@pytest.mark.parametrize("vin", INVALID_VINS)
def test_a_changed_character_breaks_the_check_digit(vin):
    assert domain.check_digit_error(vin) is not None


def test_check_digit_ten_is_written_x():
    assert domain.vin_check_digit("1M8GDM9AXKP042788") == "X"


@pytest.mark.parametrize(
    ("vin", "message"),
    [
        ("1M8GDM9AXKP04278", "17 characters, not 16"),
        ("1M8GDM9AXKP0427881", "17 characters, not 18"),
        ("1M8GDM9AXKP04278I", "I, O or Q"),
        ("OM8GDM9AXKP042788", "I, O or Q"),
        ("1M8GDM9AXKP04278Q", "I, O or Q"),
        ("1M8GDM9AXKP04278_", "only the letters"),
    ],
)
def test_a_vin_is_17_characters_without_i_o_or_q(vin, message):
    with pytest.raises(ValueError, match=message):
        domain.normalise_vin(vin)


def test_vins_are_upper_cased_and_stripped_of_spaces():
    assert domain.normalise_vin(" 1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"
    assert domain.normalise_vin("1M8-GDM9AXK-P042788") == "1M8GDM9AXKP042788"


def test_model_year_comes_from_position_10():
    # North America: position 7 a digit means 1980-2009, a letter 2010-2039.
    assert domain.model_year_from_vin("1M8GDM9AXKP042788", current_year=2026) == 1989
    assert domain.model_year_from_vin("1HGCM82633A004352", current_year=2026) == 2003
    assert domain.model_year_from_vin("5YJ3E1EA2KF317000", current_year=2026) == 2019
    # Elsewhere: the latest year that is not beyond next year.
    assert domain.model_year_from_vin("WVWZZZ1KZAW000001", current_year=2026) == 2010
    assert domain.model_year_from_vin("WVWZZZ1KZTW000001", current_year=2026) == 2026
    assert domain.model_year_from_vin("WVWZZZ1KZVW000001", current_year=2026) == 2027
    assert domain.model_year_from_vin("WVWZZZ1KZWW000001", current_year=2026) == 1998


def test_position_10_that_is_no_year_code_gives_no_year():
    assert domain.model_year_from_vin("WVWZZZ1KZ0W000001", current_year=2026) is None


def test_validation_enforces_the_check_digit_only_for_north_american_vins():
    fields = {"plate": "AB-12-CD", "make": "Ford", "model": "F-150"}
    with pytest.raises(domain.InvalidVehicle) as caught:
        domain.validate_vehicle(
            {**fields, "vin": "1M8GDM9AXKP042789"}, default_country="NL", current_year=2026
        )
    assert "North-American" in caught.value.errors["vin"][0]

    european = domain.validate_vehicle(
        {**fields, "vin": "WVWZZZ1KZAW000001"}, default_country="NL", current_year=2026
    )
    assert european["vin"] == "WVWZZZ1KZAW000001"
    assert domain.vehicle_warnings(european["vin"], european["year"])[0].startswith("vin: the check digit")


def test_validation_reads_the_year_from_the_vin_unless_given():
    fields = {"plate": "AB-12-CD", "make": "Ford", "model": "F-150", "vin": "1M8GDM9AXKP042788"}
    assert domain.validate_vehicle(fields, default_country="NL", current_year=2026)["year"] == 1989
    given = domain.validate_vehicle({**fields, "year": 1990}, default_country="NL", current_year=2026)
    assert given["year"] == 1990
    assert domain.vehicle_warnings(given["vin"], given["year"]) == [
        "year: the VIN's model year code (K) does not stand for 1990"
    ]


def test_validation_names_every_broken_field():
    with pytest.raises(domain.InvalidVehicle) as caught:
        domain.validate_vehicle(
            {"plate": "--", "country": "XX", "make": " ", "model": "", "year": 1700, "vin": "short"},
            default_country="NL",
            current_year=2026,
        )
    assert set(caught.value.errors) == {"plate", "country", "make", "model", "year", "vin"}


def test_validation_normalises_and_defaults_the_country():
    fields = domain.validate_vehicle(
        {"plate": " ab-12-cd ", "make": " Volvo ", "model": "V60"}, default_country="NL", current_year=2026
    )
    assert fields["plate"] == "ab-12-cd"
    assert fields["plate_normalised"] == "AB12CD"
    assert fields["country"] == "NL"
    assert fields["make"] == "Volvo"
    assert fields["vin"] is None


# --------------------------------------------------------------------------- owners


def test_only_an_existing_not_erased_customer_may_own_a_vehicle():
    owner = uuid.uuid4()
    domain.ensure_may_own(owner, "active")
    with pytest.raises(domain.OwnerNotFound):
        domain.ensure_may_own(owner, None)
    with pytest.raises(domain.OwnerErased) as caught:
        domain.ensure_may_own(owner, "erased", field="new_owner_id")
    assert "new_owner_id" in caught.value.errors


def test_transfer_rules():
    old, new = uuid.uuid4(), uuid.uuid4()
    domain.check_transfer(
        current_owner_id=old, owned_since=at(30), new_owner_id=new, transferred_at=at(1), now=NOW
    )
    with pytest.raises(domain.AlreadyOwner):
        domain.check_transfer(
            current_owner_id=old, owned_since=at(30), new_owner_id=old, transferred_at=NOW, now=NOW
        )
    with pytest.raises(domain.InvalidTransfer, match="before"):
        domain.check_transfer(
            current_owner_id=old, owned_since=at(30), new_owner_id=new, transferred_at=at(31), now=NOW
        )
    with pytest.raises(domain.InvalidTransfer, match="ahead of time"):
        domain.check_transfer(
            current_owner_id=old, owned_since=at(30), new_owner_id=new, transferred_at=at(-1), now=NOW
        )


# ------------------------------------------------------------------------- odometer


def reading(value, days_ago, unit="km", corrected=False):
    return domain.Reading(value, unit, at(days_ago), corrected)


def test_odometer_readings_only_go_up():
    history = [reading(10_000, 100), reading(20_000, 50)]
    domain.check_odometer_reading(reading(20_000, 1), history, now=NOW)
    domain.check_odometer_reading(reading(25_000, 1), history, now=NOW)
    with pytest.raises(domain.OdometerWentDown, match="lower than the reading of 20000 km"):
        domain.check_odometer_reading(reading(19_999, 1), history, now=NOW)


def test_a_backdated_reading_must_fit_between_its_neighbours():
    history = [reading(10_000, 100), reading(20_000, 50)]
    domain.check_odometer_reading(reading(15_000, 75), history, now=NOW)
    with pytest.raises(domain.OdometerWentDown, match="higher than the later reading"):
        domain.check_odometer_reading(reading(25_000, 75), history, now=NOW)


def test_a_corrected_meter_starts_again():
    history = [reading(210_000, 100)]
    domain.check_odometer_reading(reading(12, 50, corrected=True), history, now=NOW)
    history.append(reading(12, 50, corrected=True))
    domain.check_odometer_reading(reading(5_000, 1), history, now=NOW)
    with pytest.raises(domain.OdometerWentDown):
        domain.check_odometer_reading(reading(10, 1), history, now=NOW)
    # Before the correction the old meter still counts.
    domain.check_odometer_reading(reading(215_000, 75), history, now=NOW)


def test_readings_in_miles_and_kilometres_are_compared():
    history = [reading(10_000, 50, unit="mi")]
    domain.check_odometer_reading(reading(16_094, 1), history, now=NOW)
    with pytest.raises(domain.OdometerWentDown):
        domain.check_odometer_reading(reading(15_000, 1), history, now=NOW)


def test_a_reading_cannot_be_taken_in_the_future():
    with pytest.raises(domain.InvalidReading, match="future"):
        domain.check_odometer_reading(reading(1, -1), [], now=NOW)
