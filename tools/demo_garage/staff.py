"""The garage's staff and the tokens they carry (service_kit.auth.mint_token)."""

from __future__ import annotations

from dataclasses import dataclass

from service_kit.auth import mint_token
from service_kit.config import kit_settings


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
