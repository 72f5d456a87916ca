"""`make demo`: a realistic garage, loaded through the public APIs of a running `make run`.

    python tools/demo.py [--customers 300]

Everything goes through the services' HTTP APIs with the tokens the garage's staff
would carry (service_kit.auth.mint_token: advisors at the front desk, technicians, an
accountant, the owner as admin) - never through a database. It makes:

- the workshop: opening hours, holidays, six bays, five technicians;
- a few hundred customers, people and businesses, with Dutch names, addresses and
  phone numbers, consent as given at the counter;
- their vehicles: Dutch plates, valid VINs (ISO 3779 check digit computed, as North
  American VINs must carry it), makes and models as seen in the Netherlands;
- a week of appointments from today (the API refuses bookings in the past), each
  booking checking the vehicle and creating its maintenance job;
- the first appointments worked on: jobs in progress, on hold (waiting for parts, or
  for the customer's approval of an estimate), completed with labour and parts, and
  cancelled ones; then invoices for the completed jobs, paid, part-paid and unpaid.

Running it again changes nothing that is already there: everything is looked up by
its natural key (a customer's email or phone, a plate, a bay's name, an appointment's
bay and start) before it is made, creates carry an Idempotency-Key, and a job is only
moved on from the state it is in. Run on another day, it books that day's week.

Overdue invoices: invoicing dates an invoice the day it is issued and no API can move
that date, so nothing is overdue on the day of the first run. The invoices of
customers who pay on collection (payment terms 0 days) and did not pay are due today
and show as `overdue` from tomorrow on.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from service_kit.auth import mint_token
from service_kit.config import kit_settings

sys.path.insert(0, str(Path(__file__).resolve().parent))
from services import PORTS  # tools/services.py: the one list of services

ROOT = Path(__file__).resolve().parent.parent
STATE_FILE = ROOT / ".run" / "run.json"
TZ = ZoneInfo("Europe/Amsterdam")
SEED = 2026  # the same customers and vehicles on every run
PARALLEL = 8

# --------------------------------------------------------------------------- the API


class DemoError(RuntimeError):
    pass


class Api:
    """Calls the services over HTTP: a pooled session per thread, a token per call,
    429 and 503 waited out and retried (every retried POST carries its Idempotency-Key)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.local = threading.local()
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        accept: Iterable[int] = (),
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        for attempt in range(10):
            try:
                response = self._session().request(
                    method,
                    self.urls[service] + path,
                    json=body,
                    params=params,
                    headers=headers,
                    timeout=30,
                )
            except requests.ConnectionError as exc:
                if attempt == 9:
                    raise DemoError(f"{service} does not answer: {exc}") from exc
                time.sleep(0.5 * (attempt + 1))
                continue
            with self.lock:
                self.counts[method] += 1
            if response.status_code == 429:  # the per-person rate limit: wait as told
                with self.lock:
                    self.counts["429"] += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code == 503 and (method == "GET" or key):
                time.sleep(0.5 * (attempt + 1))
                continue
            break
        if response.status_code < 400 or response.status_code in set(accept):
            return response
        raise DemoError(f"{method} {service}{path}: {response.status_code} {response.text[:600]}")

    def all(self, service: str, path: str, token: str, params: dict[str, Any] | None = None) -> list[dict]:
        """Every item of a list, page by page."""
        items: list[dict] = []
        query = {**(params or {}), "limit": 200}
        while True:
            page = self.call("GET", service, path, token, params=query).json()
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]


def service_urls() -> dict[str, str]:
    """Where `make run` serves: .run/run.json, else <SERVICE>_URL, else the default ports."""
    running = json.loads(STATE_FILE.read_text()).get("urls", {}) if STATE_FILE.exists() else {}
    return {
        name: os.environ.get(f"{name.upper().replace('-', '_')}_URL")
        or running.get(name)
        or f"http://127.0.0.1:{port}"
        for name, port in PORTS.items()
    }


@dataclass
class Staff:
    name: str
    subject: str
    roles: tuple[str, ...]
    token: str = ""
    id: str = ""  # a technician's id in workshop-scheduling


def sign(staff: Staff) -> Staff:
    config = kit_settings(service="demo", schema="demo")
    staff.token = mint_token(config, roles=staff.roles, subject=staff.subject, ttl_seconds=4 * 3600)
    return staff


ADVISORS = [
    sign(Staff(name, f"advisor-{name.split()[0].lower()}", ("advisor",)))
    for name in ("Sanne Visser", "Bas Hoekstra", "Lotte Kramer", "Jeroen Smit")
]
ACCOUNTANT = sign(Staff("Ingrid de Wit", "accountant-ingrid", ("accountant",)))
OWNER = sign(Staff("Peter van Leeuwen", "owner-peter", ("admin",)))


def advisor(n: int) -> str:
    """The front desk shares the work (and so each person's rate limit)."""
    return ADVISORS[n % len(ADVISORS)].token


def parallel(work: Callable[[Any], Any], items: list[Any], workers: int = PARALLEL) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))


def say(message: str = "") -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------- the garage's people


def words(text: str, separator: str = "|") -> list[str]:
    return [word.strip() for word in text.split(separator)]


FIRST_NAMES = words(
    "Daan Sem Lucas Levi Finn Milan Noah Luuk Bram Jesse Thijs Ruben Lars Stijn Tim Jasper Koen "
    "Sven Wouter Joost Maarten Pieter Gert Henk Kees Johan Willem Erik Marco Dennis "
    "Emma Julia Tess Sophie Anna Zoë Sara Eva Lotte Fleur Noor Lisa Iris Sanne Femke Anouk "
    "Esther Marieke Annemarie Ingrid Petra Monique Wendy Linda Saskia Ilse Mirjam Yvonne Karin",
    " ",
)
SURNAMES = words(
    "de Jong|Jansen|de Vries|van den Berg|van Dijk|Bakker|Janssen|Visser|Smit|Meijer|de Boer|"
    "Mulder|de Groot|Bos|Vos|Peters|Hendriks|van Leeuwen|Dekker|Brouwer|de Wit|Dijkstra|Smits|"
    "de Graaf|van der Meer|van der Linden|Kok|Jacobs|de Haan|Vermeulen|van den Heuvel|"
    "van der Veen|van den Broek|de Bruijn|de Bruin|van der Heijden|Schouten|van Beek|Willems|"
    "van Vliet|van de Ven|Hoekstra|Maas|Verhoeven|Koster|van Dam|van der Wal|Prins|Blom|Huisman|"
    "Peeters|de Kok|Kuipers|van Wijk|Post|Kuiper|Veenstra|Kramer|van den Brink|Scholten|"
    "van Wijngaarden|Martens|Vink|Postma|Timmermans|Boersma|Yilmaz|El Amrani|Nguyen|Kaya"
)
# city -> (postal code range, area code, streets)
CITIES = {
    "Utrecht": (
        (3511, 3585),
        "030",
        "Oudegracht|Biltstraat|Amsterdamsestraatweg|Kanaalstraat|Nachtegaalstraat|Twijnstraat|"
        "Adelaarstraat|Burgemeester Reigerstraat|Vleutenseweg|Marnixlaan|Croeselaan|Hooghiemstraat",
    ),
    "Zeist": ((3701, 3709), "030", "Slotlaan|Utrechtseweg|Laan van Vollenhove|Het Rond|Steynlaan|Jagerlaan"),
    "Nieuwegein": ((3430, 3439), "030", "Herenweg|Zuidstedeweg|Dukatenburg|Wijkersloot|Muntplein"),
    "Houten": ((3991, 3998), "030", "Het Rond|Lobbendijk|Oude Dorp|Molenweg|Structuurweg"),
    "Amersfoort": ((3811, 3829), "033", "Langestraat|Utrechtseweg|Leusderweg|Kruiskamp|Hogeweg|Soesterweg"),
    "Amsterdam": ((1011, 1109), "020", "Overtoom|Ferdinand Bolstraat|Javastraat|Kinkerstraat|Linnaeusstraat"),
    "Bilthoven": ((3721, 3723), "030", "Soestdijkseweg|Julianalaan|Emmaplein|Van Dijklaan"),
}
TRADES = words(
    "Bakkerij|Schildersbedrijf|Installatietechniek|Loodgietersbedrijf|Hoveniersbedrijf|Koeriersdienst|"
    "Bloemenhandel|Elektrotechniek|Taxibedrijf|Thuiszorg|Bouwbedrijf|Dakdekkersbedrijf|Schoonmaakbedrijf|"
    "Verhuisbedrijf|Glazenwasserij|Timmerbedrijf|Tegelzetter|Cateringbedrijf|Fietskoerier|Slagerij"
)
POSTAL_LETTERS = [a + b for a in "ABCEGHJKLMNPRTVWXZ" for b in "ABCEGHJKLMNPRTVWXZ"]


@dataclass
class VehicleSpec:
    body: dict[str, Any]  # without owner_id

    @property
    def plate_key(self) -> str:
        return re.sub(r"[\s.-]", "", self.body["plate"]).upper()


@dataclass
class CustomerSpec:
    body: dict[str, Any]
    vehicles: list[VehicleSpec] = field(default_factory=list)
    id: str = ""

    @property
    def natural_key(self) -> str:
        return (self.body.get("email") or "").lower() or self.body["phone_e164"]


def mobile(rng: random.Random) -> tuple[str, str]:
    digits = f"{rng.choice('12345')}{rng.randrange(10**7):07d}"
    shown = rng.choice([f"06 {digits[:4]} {digits[4:]}", f"06-{digits}", f"+31 6 {digits[:2]} {digits[2:]}"])
    return shown, f"+316{digits}"


def landline(rng: random.Random, area: str) -> tuple[str, str]:
    rest = f"{rng.choice('23456789')}{rng.randrange(10**6):06d}"
    return f"{area} {rest[:3]} {rest[3:]}", f"+31{area[1:]}{rest}"


def address(rng: random.Random) -> dict[str, str]:
    city = rng.choices(list(CITIES), weights=(40, 10, 10, 8, 8, 4, 6))[0]
    (low, high), _, streets = CITIES[city]
    number = f"{rng.randint(1, 240)}{rng.choice(['', '', '', '', 'A', 'B', '-2', ' bis'])}"
    return {
        "street": f"{rng.choice(streets.split('|'))} {number}",
        "postal_code": f"{rng.randint(low, high)} {rng.choice(POSTAL_LETTERS)}",
        "city": city,
        "country": "NL",
    }


def vat_number(rng: random.Random) -> str:
    """NL + nine digits that pass the eleven test (RSIN) + B01."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(8)]
        check = sum(d * w for d, w in zip(digits, range(9, 1, -1), strict=True)) % 11
        if check < 10:
            return "NL" + "".join(map(str, digits)) + str(check) + "B01"


def make_customers(count: int) -> list[CustomerSpec]:
    rng = random.Random(SEED)
    customers: list[CustomerSpec] = []
    emails: set[str] = set()
    phones: set[str] = set()
    businesses = count // 6
    for _ in range(count - businesses):
        first, last = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        phone, e164 = mobile(rng)
        while e164 in phones:
            phone, e164 = mobile(rng)
        phones.add(e164)
        body: dict[str, Any] = {
            "kind": "person",
            "name": f"{first} {last}",
            "phone": phone,
            "address": address(rng),
            "preferred_language": "en" if rng.random() < 0.08 else "nl",
        }
        if rng.random() < 0.85:
            local = f"{first}.{last}".lower().replace(" ", "").replace("ë", "e")
            email = f"{local}@example.{rng.choice(['com', 'net', 'org'])}"
            while email in emails:
                email = f"{local}{rng.randint(2, 99)}@example.{rng.choice(['com', 'net', 'org'])}"
            emails.add(email)
            body["email"] = email
            if rng.random() < 0.04:
                body["preferred_channel"] = "none"
            elif rng.random() < 0.15:
                body["preferred_channel"] = "sms"
        else:
            body["preferred_channel"] = "sms"
        if rng.random() < 0.3:
            body["consents"] = [
                {
                    "channel": "email" if "email" in body else "sms",
                    "purpose": "marketing",
                    "granted": True,
                    "source": "counter",
                    "wording": "Ja, ik ontvang graag aanbiedingen en onderhoudstips van de garage.",
                }
            ]
        if rng.random() < 0.1:
            body["notes"] = rng.choice(
                [
                    "prefers mornings",
                    "brings the car by bike rack",
                    "leaves the key in the box",
                    "fleet discount",
                ]
            )
        customers.append(CustomerSpec({**body, "phone_e164": e164}))
    for n in range(businesses):
        trade, owner = TRADES[n % len(TRADES)], SURNAMES[(n * 7 + n // len(TRADES)) % len(SURNAMES)]
        name = f"{trade} {owner[0].upper() + owner[1:]}" + (" B.V." if n % 3 == 0 else "")
        place = address(rng)
        phone, e164 = landline(rng, CITIES[place["city"]][1])
        slug = re.sub(r"[^a-z]+", "-", f"{trade} {owner}".lower()).strip("-")
        contact = f"{rng.choice(FIRST_NAMES)} {owner}"
        customers.append(
            CustomerSpec(
                {
                    "kind": "business",
                    "name": name,
                    "vat_number": vat_number(rng),
                    "contact_person": contact,
                    "email": f"administratie@{slug}.example",
                    "phone": phone,
                    "phone_e164": e164,
                    "address": place,
                    "preferred_language": "nl",
                    "notes": f"KvK {rng.randrange(10**7, 10**8)}; invoices to the administration address",
                }
            )
        )
    vehicles = VehicleMaker(rng)
    for spec in customers:
        fleet = (
            rng.choice([2, 2, 3, 3, 4, 5, 6]) if spec.body["kind"] == "business" else rng.choice([1, 1, 1, 2])
        )
        spec.vehicles = [vehicles.make(business=spec.body["kind"] == "business") for _ in range(fleet)]
    return customers


# ------------------------------------------------------------------------- vehicles

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
COLOURS = words("grijs|zwart|wit|zilver|blauw|rood|donkerblauw|groen|bruin")


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


# ------------------------------------------------------------------------- the workshop

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
LABOUR_RATE = 7_850  # cents an hour, VAT excluded


@dataclass(frozen=True)
class Work:
    description: str
    minutes: int
    bay_kind: str
    codes: tuple[str, ...]
    lines: tuple[tuple[Any, ...], ...]  # ("labour", text, hours) | ("part", text, part number, qty, price)


WORK = [
    Work(
        "APK inspection and small service",
        90,
        "lift",
        ("APK", "SRV-S"),
        (
            ("labour", "APK inspection", 0.75),
            ("labour", "Small service", 1.0),
            ("part", "Oil filter", "OF-1021", 1, 1_295),
            ("part", "Engine oil 5W-30", "OIL-5W30", 4.5, 1_450),
        ),
    ),
    Work(
        "Major service",
        180,
        "lift",
        ("SRV-L",),
        (
            ("labour", "Major service", 2.5),
            ("part", "Oil filter", "OF-1021", 1, 1_295),
            ("part", "Air filter", "AF-2210", 1, 2_450),
            ("part", "Cabin filter", "CF-3105", 1, 1_995),
            ("part", "Spark plugs", "SP-0417", 4, 1_150),
            ("part", "Engine oil 5W-30", "OIL-5W30", 4.5, 1_450),
        ),
    ),
    Work(
        "Brake pads front",
        60,
        "lift",
        ("BRK-F",),
        (("labour", "Replace front brake pads", 0.8), ("part", "Brake pad set front", "BP-F-880", 1, 6_495)),
    ),
    Work(
        "Winter tyres fitted",
        45,
        "lift",
        ("TYR-W",),
        (
            ("labour", "Swap and balance four wheels", 0.6),
            ("part", "Tyre storage one season", "STO-1", 1, 4_500),
        ),
    ),
    Work(
        "Airco service",
        60,
        "lift",
        ("AC",),
        (
            ("labour", "Airco service and leak test", 0.75),
            ("part", "Refrigerant R1234yf (100 g)", "R1234", 5, 1_200),
        ),
    ),
    Work(
        "Timing belt replacement",
        240,
        "lift",
        ("TB",),
        (
            ("labour", "Replace timing belt and water pump", 3.5),
            ("part", "Timing belt kit with water pump", "TBK-5520", 1, 28_950),
            ("part", "Coolant G13", "COOL-G13", 5, 695),
        ),
    ),
    Work(
        "EV annual check",
        60,
        "lift",
        ("EV",),
        (
            ("labour", "EV check: battery health, cables, brakes", 1.0),
            ("part", "Cabin filter", "CF-3105", 1, 1_995),
        ),
    ),
    Work(
        "Wheel alignment",
        60,
        "alignment",
        ("ALN",),
        (("labour", "Four-wheel alignment", 0.9),),
    ),
    Work(
        "Engine warning light: diagnosis",
        60,
        "diagnostics",
        ("DIAG",),
        (("labour", "Read fault codes and diagnose", 1.0),),
    ),
]
EXTRA_WORK = [  # found during the work: offered to the customer as an estimate
    (("part", "Wiper blades front", "WB-650", 2, 2_495),),
    (
        ("labour", "Replace rear brake discs and pads", 1.5),
        ("part", "Brake discs and pads rear", "BD-R-410", 1, 17_450),
    ),
    (("part", "Battery 12V 70Ah", "BAT-70", 1, 15_995), ("labour", "Replace and code battery", 0.5)),
    (("part", "Tyre 205/55 R16", "TYR-20555", 2, 9_450), ("labour", "Fit and balance two tyres", 0.5)),
]


def line_body(line: tuple[Any, ...], *, covered: bool) -> dict[str, Any]:
    if line[0] == "labour":
        return {
            "kind": "labour",
            "description": line[1],
            "hours_hundredths": round(line[2] * 100),
            "hourly_rate": LABOUR_RATE,
            "covered_by_booking": covered,
        }
    _, text, number, quantity, price = line
    return {
        "kind": "part",
        "description": text,
        "part_number": number,
        "quantity": quantity,
        "unit_price": price,
        "covered_by_booking": covered,
    }


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
        # A technician's token carries their id in the workshop as its subject.
        technician_id = known[name]["id"]
        technicians[bay] = sign(Staff(name, technician_id, ("technician",), id=technician_id))
    return bays, technicians


# ------------------------------------------------------------------ customers, vehicles


def load_customers(api: Api, specs: list[CustomerSpec]) -> tuple[int, int]:
    existing: dict[str, str] = {}
    for customer in api.all("customer-management", "/api/v1/customers", OWNER.token):
        if customer.get("email"):
            existing[customer["email"].lower()] = customer["id"]
        if customer.get("phone"):
            existing.setdefault(customer["phone"], customer["id"])
    missing = [(n, s) for n, s in enumerate(specs) if s.natural_key not in existing]
    for spec in specs:
        spec.id = existing.get(spec.natural_key, "")

    def create(item: tuple[int, CustomerSpec]) -> None:
        n, spec = item
        body = {k: v for k, v in spec.body.items() if k != "phone_e164"}
        response = api.call(
            "POST",
            "customer-management",
            "/api/v1/customers",
            advisor(n),
            body=body,
            key=f"demo-customer-{spec.natural_key}",
        )
        spec.id = response.json()["id"]

    parallel(create, missing)
    return len(specs) - len(missing), len(missing)


def load_vehicles(api: Api, specs: list[CustomerSpec]) -> tuple[dict[str, dict], int]:
    """Every vehicle by plate, and how many were made now."""
    vehicles = {
        v["plate_normalised"]: v for v in api.all("vehicle-management", "/api/v1/vehicles", OWNER.token)
    }
    missing = [(spec, v) for spec in specs for v in spec.vehicles if v.plate_key not in vehicles]

    def create(item: tuple[int, tuple[CustomerSpec, VehicleSpec]]) -> None:
        n, (owner, vehicle) = item
        response = api.call(
            "POST",
            "vehicle-management",
            "/api/v1/vehicles",
            advisor(n),
            body={**vehicle.body, "owner_id": owner.id},
            key=f"demo-vehicle-{vehicle.plate_key}",
        )
        vehicles[vehicle.plate_key] = response.json()

    parallel(create, list(enumerate(missing)))
    return vehicles, len(missing)


# ------------------------------------------------------------------------- the week


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


# -------------------------------------------------------------------- the work itself

# Of the week's first appointments, in order of start: what has happened to them.
WORKED = ["completed"] * 24 + ["in_progress"] * 5 + ["on_hold_parts"] * 2 + ["on_hold_approval"] * 2
CANCELLED = 4  # customers who called off, later in the week
# What the completed jobs' customers did about their invoice.
PAYMENTS = [
    "paid",
    "paid",
    "paid",
    "part",
    "unpaid",
    "paid",
    "open",
    "paid",
    "part",
    "unpaid",
    "paid",
    "open",
]


def choose_targets(bookings: list[Booking]) -> None:
    for booking, target in zip(bookings, WORKED, strict=False):
        booking.target = target
    later = bookings[len(WORKED) :]
    for booking in random.Random(len(bookings)).sample(later, min(CANCELLED, len(later))):
        booking.target = "cancelled"


class Garage:
    """Moves one booking's job on to its target, from whatever state it is in."""

    def __init__(self, api: Api, technicians: dict[str, Staff], customers: dict[str, dict]) -> None:
        self.api = api
        self.technicians = technicians
        self.customers = customers
        self.invoices: list[dict] = []
        self.lock = threading.Lock()

    def job(self, job_id: str) -> dict[str, Any]:
        return self.api.call(
            "GET", "maintenance-job-management", f"/api/v1/maintenance-jobs/{job_id}", OWNER.token
        ).json()

    def jobs_call(self, token: str, job_id: str, verb: str, body: Any = None, key: str | None = None) -> Any:
        path = f"/api/v1/maintenance-jobs/{job_id}/{verb}"
        return self.api.call("POST", "maintenance-job-management", path, token, body=body, key=key).json()

    def appointment_call(self, token: str, appointment: dict[str, Any], verb: str, body: Any = None) -> None:
        path = f"/api/v1/appointments/{appointment['id']}/{verb}"
        self.api.call("POST", "workshop-scheduling", path, token, body=body, accept=(409,))

    def work(self, item: tuple[int, Booking]) -> None:
        n, booking = item
        appointment, target, rng = booking.appointment, booking.target, booking.rng
        if target == "scheduled" or not appointment.get("job_id"):
            return
        desk = advisor(n)
        job = self.job(appointment["job_id"])
        if target == "cancelled":
            if job["status"] == "scheduled":
                reason = rng.choice(
                    ["customer sold the car", "customer is abroad that week", "will come in January"]
                )
                self.appointment_call(desk, appointment, "cancel", {"reason": reason})
            return
        technician = self.technicians.get(booking.bay) or self.technicians["Lift 1"]
        tech = technician.token
        if job["status"] == "scheduled":
            if appointment["status"] == "booked":
                self.appointment_call(desk, appointment, "check-in")
            odometer = 8_000 + rng.randrange(12_000) * max(1, 2026 - (booking.vehicle.get("year") or 2020))
            job = self.jobs_call(tech, job["id"], "start", {"odometer_in": odometer, "odometer_unit": "km"})
            self.api.call(
                "POST",
                "vehicle-management",
                f"/api/v1/vehicles/{booking.vehicle['id']}/odometer-readings",
                tech,
                body={"value": odometer, "unit": "km", "source": "workshop"},
                key=f"demo-odometer-{job['id']}",
            )
            if target == "in_progress":  # at it now; a technician's clock runs on one job at a time
                path = f"/api/v1/maintenance-jobs/{job['id']}/clock-in"
                self.api.call("POST", "maintenance-job-management", path, tech, body={}, accept=(409,))
        if not job["lines"] and job["status"] in ("in_progress", "on_hold"):
            for number, line in enumerate(booking.work.lines):
                key = f"demo-line-{job['id']}-{number}"
                self.jobs_call(tech, job["id"], "lines", line_body(line, covered=True), key=key)
            job = self.job(job["id"])
        wants_extra = target == "on_hold_approval" or (target == "completed" and rng.random() < 0.35)
        if wants_extra and job["status"] != "completed":
            job = self.offer_extra_work(n, tech, desk, job, email=target == "on_hold_approval")
            if target == "on_hold_approval":
                if job["status"] == "in_progress":
                    reason = "waiting for the customer's approval of the estimate sent by email"
                    self.jobs_call(tech, job["id"], "hold", {"reason": reason})
                return
            self.decide(desk, job, booking, approve=rng.random() < 0.7)
            job = self.job(job["id"])
        if target == "on_hold_parts":
            if job["status"] == "in_progress":
                parts = [line[1].lower() for line in booking.work.lines if line[0] == "part"]
                part = rng.choice(parts or ["a replacement sensor"])
                self.jobs_call(
                    tech, job["id"], "hold", {"reason": f"waiting for parts: {part}, expected tomorrow"}
                )
            return
        if target == "in_progress":
            for line in job["lines"][: len(job["lines"]) // 2]:
                self.mark_done(tech, job, line)
            return
        if target == "completed" and job["status"] == "in_progress":
            for line in job["lines"]:
                if line["approval"] == "approved":
                    self.mark_done(tech, job, line)
            notes = rng.choice(
                [
                    "All done; tyre tread front 4 mm.",
                    "Done. Advised new wiper blades at the next visit.",
                    "Work done as booked, test drive OK.",
                    "Done; small oil leak at the sump gasket, keep an eye on it.",
                ]
            )
            job = self.jobs_call(tech, job["id"], "complete", {"technician_notes": notes})
            self.appointment_call(tech, appointment, "complete")
        if job["status"] == "completed":
            self.invoice(n, job, rng)

    def open_estimates(self, job: dict) -> list[dict]:
        path = f"/api/v1/maintenance-jobs/{job['id']}/estimates"
        return [
            e for e in self.api.all("maintenance-job-management", path, OWNER.token) if e["status"] == "sent"
        ]

    def offer_extra_work(self, n: int, tech: str, desk: str, job: dict, *, email: bool) -> dict:
        """The technician finds more to do; the front desk puts it before the customer."""
        extra = EXTRA_WORK[n % len(EXTRA_WORK)]
        if extra[0][1] not in {line["description"] for line in job["lines"]}:
            for number, line in enumerate(extra):
                key = f"demo-extra-{job['id']}-{number}"
                self.jobs_call(tech, job["id"], "lines", line_body(line, covered=False), key=key)
            job = self.job(job["id"])
        if any(line["approval"] == "pending" for line in job["lines"]) and not self.open_estimates(job):
            channel = "email" if email else self.rng_choice(n, ["phone", "counter"])
            message = "While servicing your car we found more that needs doing; please let us know."
            self.jobs_call(desk, job["id"], "estimates", {"channel": channel, "message": message})
        return job

    @staticmethod
    def rng_choice(n: int, options: list[str]) -> str:
        return options[n % len(options)]

    def decide(self, desk: str, job: dict, booking: Booking, *, approve: bool) -> None:
        customer = self.customers.get(booking.vehicle["owner_id"], {})
        for estimate in self.open_estimates(job):
            decisions = [
                {"line_id": line["line_id"], "approved": approve} for line in estimate["snapshot"]["lines"]
            ]
            self.jobs_call(
                desk,
                job["id"],
                f"estimates/{estimate['id']}/decision",
                {
                    "channel": "phone",
                    "decided_by": customer.get("contact_person") or customer.get("name") or "the customer",
                    "lines": decisions,
                    "note": "approved by phone" if approve else "declined for now; next visit",
                },
                key=f"demo-decision-{estimate['id']}",
            )

    def mark_done(self, tech: str, job: dict, line: dict) -> None:
        if line["done"] or line["approval"] != "approved":
            return
        path = f"/api/v1/maintenance-jobs/{job['id']}/lines/{line['id']}"
        self.api.call("PATCH", "maintenance-job-management", path, tech, body={"done": True})

    def invoice(self, n: int, job: dict, rng: random.Random) -> None:
        """What the garage does with a completed job's invoice and what the customer paid.

        Businesses get 30 days; people pay on collection (terms 0). The job service also
        asks invoicing for the invoice through its outbox: whichever comes first makes
        it, the other gets the same invoice back."""
        customer = self.customers.get(job["customer_id"], {})
        business = customer.get("kind") == "business"
        found = self.api.call(
            "GET", "invoicing", "/api/v1/invoices", OWNER.token, params={"job_id": job["id"]}
        )
        invoices = found.json()["items"]
        if invoices:
            invoice = invoices[0]
        else:
            invoice = self.api.call(
                "POST",
                "invoicing",
                "/api/v1/invoices",
                OWNER.token,
                body={"job_id": job["id"], "payment_terms_days": 30 if business else 0},
                key=f"demo-invoice-{job['id']}",
            ).json()
        outcome = "open" if business and n % 3 else PAYMENTS[n % len(PAYMENTS)]
        totals = invoice["totals"]
        if totals["paid"] == 0 and outcome in ("paid", "part"):
            amount = (
                totals["outstanding"]
                if outcome == "paid"
                else max(100, totals["outstanding"] * 2 // 5 // 100 * 100)
            )
            self.api.call(
                "POST",
                "invoicing",
                f"/api/v1/invoices/{invoice['id']}/payments",
                ACCOUNTANT.token,
                body={
                    "amount": amount,
                    "method": rng.choice(["card", "card", "cash"]) if outcome == "paid" else "bank_transfer",
                    "reference": f"demo {invoice['number']}",
                },
                key=f"demo-payment-{invoice['id']}",
            )
        with self.lock:
            self.invoices.append(invoice)


# ------------------------------------------------------------------------------ main


def wait_for_services(api: Api) -> None:
    for name, url in api.urls.items():
        try:
            requests.get(f"{url}/readyz", timeout=3).raise_for_status()
        except requests.RequestException as exc:
            raise DemoError(
                f"{name} does not answer at {url} ({exc}): start the garage with `make run` first"
            ) from exc


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=300)
    args = parser.parse_args()
    started = time.monotonic()
    api = Api(service_urls())
    try:
        wait_for_services(api)
        today = datetime.now(TZ).date()
        bays, technicians = set_up_workshop(api, today)
        say(f"workshop: opening hours, holidays, {len(bays)} bays, {len(technicians)} technicians")

        specs = make_customers(args.customers)
        had, made = load_customers(api, specs)
        say(f"customers: {made} registered, {had} were there already")
        vehicles, made = load_vehicles(api, specs)
        say(f"vehicles: {made} registered, {len(vehicles) - made} were there already")

        bookings, booked, kept = book_week(api, today, bays, technicians, vehicles)
        week = f"{today} - {today + timedelta(days=6)}"
        say(f"appointments {week}: {booked} booked now, {kept} were there already")

        customers = {c["id"]: c for c in api.all("customer-management", "/api/v1/customers", OWNER.token)}
        choose_targets(bookings)
        garage = Garage(api, technicians, customers)
        parallel(garage.work, list(enumerate(bookings)))
        jobs = Counter(
            j["status"]
            for j in api.all("maintenance-job-management", "/api/v1/maintenance-jobs", OWNER.token)
        )
        say("jobs: " + ", ".join(f"{count} {status}" for status, count in sorted(jobs.items())))
        invoices = Counter(i["status"] for i in api.all("invoicing", "/api/v1/invoices", ACCOUNTANT.token))
        say("invoices: " + ", ".join(f"{count} {status}" for status, count in sorted(invoices.items())))
    except DemoError as exc:
        say(f"make demo: {exc}")
        return 1
    calls = sum(v for k, v in api.counts.items() if k != "429")
    say(
        f"\n{calls} API calls in {time.monotonic() - started:.0f} s"
        + (f" ({api.counts['429']} waited out a rate limit)" if api.counts["429"] else "")
    )
    show_around(api, today, bookings, garage)
    return 0


def show_around(api: Api, today: date, bookings: list[Booking], garage: Garage) -> None:
    worked = next((b for b in bookings if b.target == "completed"), None)
    week = today.isocalendar()
    say(
        "\nLook around (README, 'Demo'):\n"
        "  TOKEN=$(make -s token ROLE=advisor)\n"
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"'{api.urls['customer-management']}/api/v1/customers?q=jansen'\n"
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"{api.urls['workshop-scheduling']}/api/v1/workshop/planning/weeks/{week.year}-W{week.week:02d}"
    )
    if worked and worked.appointment:
        say(
            f'  curl -s -H "Authorization: Bearer $TOKEN" '
            f"{api.urls['maintenance-job-management']}/api/v1/maintenance-jobs/{worked.appointment['job_id']}"
        )
    if garage.invoices:
        invoice = garage.invoices[0]
        say(
            f'  curl -s -H "Authorization: Bearer $TOKEN" -o invoice.pdf '
            f"{api.urls['invoicing']}/api/v1/invoices/{invoice['id']}/pdf"
        )
    say("Mail the customers got is in .run/mail (the dispatcher sends it within seconds).")


if __name__ == "__main__":
    sys.exit(main())
