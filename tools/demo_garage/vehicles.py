"""Vehicles as seen in the Netherlands: Dutch plates, valid VINs, makes and models."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import Any


@dataclass
class VehicleSpec:
    body: dict[str, Any]  # without owner_id

    @property
    def plate_key(self) -> str:
        return re.sub(r"[\s.-]", "", self.body["plate"]).upper()


_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
# pragma: allowlist nextline secret - a table of letters, not a key
_YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"  # 1980 (A) ... 2009 (9), then again from 2010 (A)
# pragma: allowlist nextline secret - a table of letters, not a key
VIN_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # no I, O or Q
PLATE_LETTERS = "BDFGHJKLNPRSTVXZ"  # Dutch plates: no vowels, no C, M, Q, W, Y

# (make, model, WMI, fuel types, first model year, business use)
MODELS = [
    ("Volkswagen", "Golf", "WVW", ("petrol", "diesel", "plug_in_hybrid"), 2012, False),
    ("Volkswagen", "Polo", "WVW", ("petrol",), 2010, False),
    ("Volkswagen", "Transporter", "WV1", ("diesel",), 2012, True),
    ("Volkswagen", "ID.3", "WVW", ("electric",), 2020, False),
    ("Kia", "Niro", "KNA", ("hybrid", "electric"), 2017, False),
    ("Kia", "Picanto", "KNA", ("petrol",), 2012, False),
    ("Toyota", "Yaris", "VNK", ("petrol", "hybrid"), 2011, False),
    ("Toyota", "Corolla", "SB1", ("hybrid",), 2019, False),
    ("Toyota", "Aygo", "JTD", ("petrol",), 2010, False),
    ("Peugeot", "208", "VR3", ("petrol", "electric"), 2013, False),
    ("Peugeot", "Partner", "VF3", ("diesel", "electric"), 2012, True),
    ("Renault", "Clio", "VF1", ("petrol", "hybrid"), 2011, False),
    ("Renault", "Kangoo", "VF1", ("diesel",), 2011, True),
    ("Opel", "Corsa", "W0L", ("petrol", "electric"), 2011, False),
    ("Ford", "Fiesta", "WF0", ("petrol",), 2010, False),
    ("Ford", "Transit Custom", "WF0", ("diesel",), 2014, True),
    ("Skoda", "Octavia", "TMB", ("petrol", "diesel"), 2013, False),
    ("Skoda", "Fabia", "TMB", ("petrol",), 2011, False),
    ("Volvo", "V60", "YV1", ("petrol", "plug_in_hybrid"), 2013, False),
    ("Volvo", "XC40", "YV1", ("petrol", "electric"), 2018, False),
    ("BMW", "3 Series", "WBA", ("petrol", "diesel"), 2012, False),
    ("Mercedes-Benz", "Sprinter", "W1V", ("diesel",), 2018, True),
    ("Mercedes-Benz", "A-Class", "WDD", ("petrol",), 2013, False),
    ("Fiat", "500", "ZFA", ("petrol",), 2010, False),
    ("Citroën", "Berlingo", "VF7", ("diesel",), 2012, True),
    # North American VINs (first character 1-5): the check digit is compulsory.
    ("Tesla", "Model 3", "5YJ", ("electric",), 2019, False),
    ("Ford", "Mustang", "1FA", ("petrol",), 2016, False),
    ("Jeep", "Wrangler", "1C4", ("petrol",), 2012, False),
    ("RAM", "1500", "1C6", ("petrol", "lpg"), 2014, True),
]
COLOURS = ["grijs", "zwart", "wit", "zilver", "blauw", "rood", "donkerblauw", "groen", "bruin"]


def vin_check_digit(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def make_vin(rng: random.Random, wmi: str, year: int) -> str:
    descriptor = "".join(rng.choice(VIN_LETTERS) for _ in range(5))
    if wmi[0] in "12345" and year >= 2010:
        descriptor = descriptor[:3] + rng.choice("ABCDEFGH") + descriptor[4:]  # position 7: a letter, 2010 on
    code = _YEAR_CODES[(year - 1980) % 30]
    # pragma: allowlist nextline secret - a table of letters, not a key
    tail = code + rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") + f"{rng.randrange(10**6):06d}"
    vin = wmi + descriptor + "0" + tail
    # Computed for every VIN: North American ones must carry it, European ones may.
    return vin[:8] + vin_check_digit(vin) + vin[9:]


class VehicleMaker:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.plates: set[str] = set()
        self.vins: set[str] = set()

    def plate(self, year: int) -> str:
        """A Dutch plate in the side code of its year (sidecodes 6 to 11)."""
        rng = self.rng

        def letters(n: int) -> str:
            return "".join(rng.choice(PLATE_LETTERS) for _ in range(n))

        def digits(n: int) -> str:
            return "".join(rng.choice("0123456789") for _ in range(n))

        while True:
            if year < 2011:
                plate = f"{digits(2)}-{letters(2)}-{letters(2)}"  # 6: 99-XX-XX
            elif year < 2014:
                plate = f"{digits(2)}-{letters(3)}-{digits(1)}"  # 7: 99-XXX-9
            elif year < 2016:
                plate = f"{digits(1)}-{letters(3)}-{digits(2)}"  # 8: 9-XXX-99
            elif year < 2019:
                plate = f"{letters(2)}-{digits(3)}-{letters(1)}"  # 9: XX-999-X
            elif year < 2022:
                plate = f"{letters(1)}-{digits(3)}-{letters(2)}"  # 10: X-999-XX
            else:
                plate = f"{letters(3)}-{digits(2)}-{letters(1)}"  # 11: XXX-99-X
            if plate.replace("-", "") not in self.plates:
                self.plates.add(plate.replace("-", ""))
                return plate

    def make(self, *, business: bool) -> VehicleSpec:
        rng = self.rng
        choices = [m for m in MODELS if m[5] == business or (business and rng.random() < 0.3)]
        make, model, wmi, fuels, first_year, _ = rng.choice(choices)
        year = rng.randint(first_year, 2026)
        vin = make_vin(rng, wmi, year)
        while vin in self.vins:
            vin = make_vin(rng, wmi, year)
        self.vins.add(vin)
        body: dict[str, Any] = {
            "plate": self.plate(year),
            "country": "NL",
            "make": make,
            "model": model,
            "year": year,
            "fuel_type": rng.choice(fuels),
            "colour": rng.choice(COLOURS),
        }
        if rng.random() < 0.92:  # some owners' papers are not at hand
            body["vin"] = vin
        return VehicleSpec(body)
