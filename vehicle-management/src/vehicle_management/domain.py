"""Vehicle rules in plain Python: plates, VINs (ISO 3779), model years, who may own a
vehicle, ownership transfers and odometer readings."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from service_kit.problems import Conflict, NotFound, Unprocessable

STATUSES = ("active", "deregistered")
FUEL_TYPES = ("petrol", "diesel", "hybrid", "plug_in_hybrid", "electric", "lpg", "cng", "hydrogen", "other")
ODOMETER_UNITS = ("km", "mi")
ODOMETER_SOURCES = ("workshop", "customer", "inspection", "import", "other")
KM_PER_MILE = 1.609344
# Clocks of front-desk machines and phones drift: "now" may be a little ahead.
CLOCK_LEEWAY = timedelta(minutes=5)
FIRST_MODEL_YEAR = 1886
PLATE_MAX_LENGTH = 12
PLATE_SEPARATORS = re.compile(r"[\s\-.·]+")

# The Dutch side codes (sidecodes) of the RDW, 1 to 14, as printed on the plate: X is a
# letter, 9 a digit. Each has its own order of letters and digits, so a plate's order
# says which side code it is and where its dashes go.
DUTCH_SIDE_CODES: Mapping[int, str] = {
    1: "XX-99-99",
    2: "99-99-XX",
    3: "99-XX-99",
    4: "XX-99-XX",
    5: "XX-XX-99",
    6: "99-XX-XX",
    7: "99-XXX-9",
    8: "9-XXX-99",
    9: "XX-999-X",
    10: "X-999-XX",
    11: "XXX-99-X",
    12: "X-99-XXX",
    13: "9-XX-999",
    14: "999-XX-9",
}
# How each country prints its plates; a country not here is shown as stored (normalised)
# until its rules are added.
PLATE_FORMATS: Mapping[str, Mapping[int, str]] = {"NL": DUTCH_SIDE_CODES}

# ISO 3166-1 alpha-2.
_ISO_3166_CODES = """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE
EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM
HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC
LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA
NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW
SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO
TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW
"""
COUNTRIES = frozenset(_ISO_3166_CODES.split())

# ISO 3779 / 49 CFR 565: letters stand for digits, each position has a weight.
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# Position 10: a 30-year cycle starting at 1980 (no I, O, Q, U, Z or 0).
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # pragma: allowlist secret - model-year letters, not a key
NORTH_AMERICAN_PREFIXES = "12345"


# ------------------------------------------------------------------------------ errors


class VehicleNotFound(NotFound):
    def __init__(self, vehicle_id: object) -> None:
        super().__init__(f"vehicle {vehicle_id} does not exist")


class InvalidVehicle(Unprocessable):
    """One or more fields break a vehicle rule; ``errors`` says which."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the vehicle data breaks one or more rules", errors=errors)


class PlateAlreadyRegistered(Conflict):
    def __init__(self, plate: str, country: str, vehicle_id: object) -> None:
        super().__init__(
            f"the plate {plate} ({country}) is already registered to active vehicle {vehicle_id}"
        )


class VinAlreadyRegistered(Conflict):
    def __init__(self, vin: str, vehicle_id: object) -> None:
        super().__init__(
            f"a vehicle with VIN {vin} is already registered as {vehicle_id}; "
            "update or transfer that vehicle instead"
        )


class OwnerNotFound(Unprocessable):
    def __init__(self, owner_id: object, field: str = "owner_id") -> None:
        message = f"customer {owner_id} does not exist"
        super().__init__(message, errors={field: [message]})


class OwnerErased(Unprocessable):
    def __init__(self, owner_id: object, field: str = "owner_id") -> None:
        message = f"customer {owner_id} has been erased and cannot own a vehicle"
        super().__init__(message, errors={field: [message]})


class VehicleDeregistered(Conflict):
    def __init__(self, vehicle_id: object) -> None:
        super().__init__(f"vehicle {vehicle_id} is deregistered; reactivate it first")


class AlreadyOwner(Conflict):
    def __init__(self, owner_id: object) -> None:
        super().__init__(f"customer {owner_id} already owns this vehicle")


class InvalidTransfer(Unprocessable):
    def __init__(self, message: str) -> None:
        super().__init__(message, errors={"transferred_at": [message]})


class OdometerWentDown(Unprocessable):
    def __init__(self, message: str) -> None:
        super().__init__(message, errors={"value": [message]})


class InvalidReading(Unprocessable):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={field: [message]})


# ------------------------------------------------------------------------------ plates


def normalise_plate(raw: str) -> str:
    """The plate as compared: upper case, without spaces, dashes or dots.
    "AB-12-CD", "ab 12 cd" and "AB12CD" are one plate."""
    normalised = PLATE_SEPARATORS.sub("", raw).upper()
    if not normalised:
        raise ValueError("must contain letters or digits")
    if not normalised.isalnum():
        raise ValueError("may contain only letters, digits, spaces, dashes and dots")
    if len(normalised) > PLATE_MAX_LENGTH:
        raise ValueError(f"has more than {PLATE_MAX_LENGTH} letters and digits")
    return normalised


def _plate_shape(plate: str) -> str:
    """The order of letters and digits in the format's own notation: "XD123Z" -> "XX999X"."""
    return "".join("9" if char in "0123456789" else "X" if "A" <= char <= "Z" else "?" for char in plate)


def side_code(plate_normalised: str, country: str) -> int | None:
    """Which of the country's plate formats the plate is in; None when none fits."""
    shape = _plate_shape(plate_normalised)
    for code, layout in PLATE_FORMATS.get(country, {}).items():
        if layout.replace("-", "") == shape:
            return code
    return None


def display_plate(plate_normalised: str, country: str) -> str:
    """The plate as its country prints it (NL: XD123Z -> XD-123-Z); the normalised
    plate when the country's formats are not known or none fits."""
    code = side_code(plate_normalised, country)
    if code is None:
        return plate_normalised
    characters = iter(plate_normalised)
    layout = PLATE_FORMATS[country][code]
    return "".join("-" if place == "-" else next(characters) for place in layout)


# -------------------------------------------------------------------------------- VINs


def normalise_vin(raw: str) -> str:
    """Upper case without spaces or dashes; raises ValueError when it cannot be a VIN."""
    vin = re.sub(r"[\s-]+", "", raw).upper()
    if len(vin) != 17:
        raise ValueError(f"must be 17 characters, not {len(vin)}")
    if set(vin) & set("IOQ"):
        raise ValueError("must not contain the letters I, O or Q")
    if not re.fullmatch(r"[A-Z0-9]{17}", vin):
        raise ValueError("may contain only the letters A-Z (not I, O, Q) and the digits 0-9")
    return vin


def vin_check_digit(vin: str) -> str:
    """The ISO 3779 / 49 CFR 565 check digit of a 17-character VIN ('0'-'9' or 'X')."""
    total = sum(_VIN_VALUES[char] * weight for char, weight in zip(vin, _VIN_WEIGHTS, strict=True))
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def is_north_american(vin: str) -> bool:
    return vin[0] in NORTH_AMERICAN_PREFIXES


def check_digit_error(vin: str) -> str | None:
    expected = vin_check_digit(vin)
    if vin[8] == expected:
        return None
    return f"the check digit (position 9) is {vin[8]}, but the VIN's characters give {expected}"


def model_years(vin: str) -> tuple[int, ...]:
    """The model years position 10 may stand for, oldest first; () when it is no year code."""
    index = _YEAR_CODES.find(vin[9])
    if index < 0:
        return ()
    return tuple(1980 + index + 30 * cycle for cycle in range(3))


def model_year_from_vin(vin: str, *, current_year: int) -> int | None:
    """The model year in position 10. North-American VINs of cars and light trucks
    say which 30-year cycle in position 7 (a digit: 1980-2009, a letter: 2010-2039);
    elsewhere the latest year that is not in the future (next year's models are sold
    from the summer on)."""
    candidates = model_years(vin)
    if not candidates:
        return None
    if is_north_american(vin):
        return candidates[0] if vin[6].isdigit() else candidates[1]
    plausible = [year for year in candidates if year <= current_year + 1]
    return plausible[-1] if plausible else None


def vehicle_warnings(vin: str | None, year: int | None) -> list[str]:
    """What looks wrong but is not refused: a VIN check digit outside North America
    (optional there), or a model year the VIN disagrees with."""
    if not vin:
        return []
    warnings = []
    if not is_north_american(vin):
        error = check_digit_error(vin)
        if error:
            warnings.append(f"vin: {error}; outside North America the check digit is optional, check the VIN")
    if year is not None and is_north_american(vin):
        candidates = model_years(vin)
        if candidates and year not in candidates:
            warnings.append(f"year: the VIN's model year code ({vin[9]}) does not stand for {year}")
    return warnings


# ---------------------------------------------------------------------------- vehicles


def validate_vehicle(fields: Mapping[str, Any], *, default_country: str, current_year: int) -> dict[str, Any]:
    """Check a vehicle's complete field set; return it normalised, with
    ``plate_normalised`` and the model year read from the VIN when none was given."""
    errors: dict[str, list[str]] = {}
    result = dict(fields)

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    plate = (result.get("plate") or "").strip()
    result["plate"] = plate
    try:
        result["plate_normalised"] = normalise_plate(plate)
    except ValueError as exc:
        fail("plate", str(exc))

    country = (result.get("country") or default_country).strip().upper()
    result["country"] = country
    if country not in COUNTRIES:
        fail("country", "must be an ISO 3166-1 alpha-2 code, e.g. NL")

    for field in ("make", "model"):
        value = (result.get(field) or "").strip()
        if not value:
            fail(field, "must not be blank")
        result[field] = value
    if result.get("colour") is not None:
        result["colour"] = result["colour"].strip() or None

    if result.get("vin"):
        try:
            vin = normalise_vin(result["vin"])
        except ValueError as exc:
            fail("vin", str(exc))
        else:
            result["vin"] = vin
            error = check_digit_error(vin)
            if error and is_north_american(vin):
                fail("vin", f"{error}: a North-American VIN (first character 1-5) must carry the right one")
            if result.get("year") is None:
                result["year"] = model_year_from_vin(vin, current_year=current_year)
    else:
        result["vin"] = None

    year = result.get("year")
    if year is not None and not FIRST_MODEL_YEAR <= year <= current_year + 2:
        fail("year", f"must be between {FIRST_MODEL_YEAR} and {current_year + 2}")

    admitted = result.get("first_admission_on")
    if admitted is not None:
        if not FIRST_MODEL_YEAR <= admitted.year <= current_year:
            fail("first_admission_on", f"must be in the years {FIRST_MODEL_YEAR} to {current_year}")
        elif year is not None and admitted.year < year - 1:
            fail("first_admission_on", f"cannot be more than a year before the model year {year}")
    expires = result.get("inspection_expires_on")
    if expires is not None and not FIRST_MODEL_YEAR <= expires.year <= current_year + 10:
        fail("inspection_expires_on", f"must be in the years {FIRST_MODEL_YEAR} to {current_year + 10}")

    if errors:
        raise InvalidVehicle(errors)
    return result


def ensure_may_own(owner_id: object, status: str | None, *, field: str = "owner_id") -> None:
    """A vehicle belongs to a customer who exists and is not erased (``status`` None:
    customer-management does not know the customer)."""
    if status is None:
        raise OwnerNotFound(owner_id, field)
    if status == "erased":
        raise OwnerErased(owner_id, field)


def check_transfer(
    *,
    current_owner_id: object,
    owned_since: datetime,
    new_owner_id: object,
    transferred_at: datetime,
    now: datetime,
) -> None:
    if new_owner_id == current_owner_id:
        raise AlreadyOwner(new_owner_id)
    if transferred_at > now + CLOCK_LEEWAY:
        raise InvalidTransfer("a transfer cannot be recorded ahead of time")
    if transferred_at < owned_since:
        raise InvalidTransfer(
            f"the current owner has had the vehicle since {owned_since.isoformat()}; "
            "a transfer cannot be dated before that"
        )


# ---------------------------------------------------------------------------- odometer


@dataclass(frozen=True)
class Reading:
    value: int
    unit: str
    read_at: datetime
    corrected: bool = False

    @property
    def km(self) -> float:
        return self.value * KM_PER_MILE if self.unit == "mi" else float(self.value)

    def describe(self) -> str:
        return f"{self.value} {self.unit} on {self.read_at.isoformat()}"


def _lower(a: Reading, b: Reading) -> bool:
    """Is ``a`` a lower reading than ``b``? Across units, allow the rounding of a
    meter that shows whole units."""
    if a.unit == b.unit:
        return a.value < b.value
    return a.km < b.km - KM_PER_MILE


def check_odometer_reading(new: Reading, existing: Sequence[Reading], *, now: datetime) -> None:
    """An odometer only goes up: a reading may not be lower than one taken before it,
    nor higher than one taken after it, on the same meter. A reading flagged
    ``corrected`` (meter replaced or reset) starts a new meter and may be anything."""
    if new.read_at > now + CLOCK_LEEWAY:
        raise InvalidReading("read_at", "a reading cannot be taken in the future")
    if new.corrected:
        return
    ordered = sorted(existing, key=lambda r: r.read_at)
    meter_start = max((r.read_at for r in ordered if r.corrected and r.read_at <= new.read_at), default=None)
    meter_end = min((r.read_at for r in ordered if r.corrected and r.read_at > new.read_at), default=None)
    same_meter = [
        r
        for r in ordered
        if (meter_start is None or r.read_at >= meter_start) and (meter_end is None or r.read_at < meter_end)
    ]
    for earlier in (r for r in same_meter if r.read_at <= new.read_at):
        if _lower(new, earlier):
            raise OdometerWentDown(
                f"{new.value} {new.unit} is lower than the reading of {earlier.describe()}; "
                "flag the reading as corrected if the meter was replaced or reset"
            )
    for later in (r for r in same_meter if r.read_at > new.read_at):
        if _lower(later, new):
            raise OdometerWentDown(
                f"{new.value} {new.unit} is higher than the later reading of {later.describe()}"
            )
