"""Customers, people and businesses, with Dutch names, addresses and phone numbers,
and registering them and their vehicles."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from .api import Api, parallel
from .staff import OWNER, advisor
from .vehicles import VehicleMaker, VehicleSpec

SEED = 2026  # the same customers and vehicles on every run


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
                    # On account; persons are left to customer-management's default (on collection).
                    "payment_terms_days": 30,
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
