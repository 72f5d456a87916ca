"""The garage's staff and the tokens they carry: each person is an account at identity
(made through its admin API when missing) and calls with a token identity issued for
them, so what they do is recorded under their account (booked by, recorded by, ...)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from run import identity_tokens  # tools/run.py: tokens of the running garage's identity

from .api import Api

TOKEN_SECONDS = 4 * 3600  # longer than the demo runs


@dataclass
class Staff:
    name: str
    roles: tuple[str, ...]
    token: str = ""
    subject: str = ""  # their account at identity
    id: str = ""  # a technician's id in workshop-scheduling

    @property
    def email(self) -> str:
        return ".".join(self.name.lower().split()) + "@garage.example"


def enrol(api: Api, people: Iterable[Staff]) -> None:
    """Each person has an account at identity (made by the development admin, without a
    password: the demo never signs in) and a token identity issued for it."""
    people = list(people)
    (admin,) = identity_tokens(["admin"])
    for person in people:
        found = api.call("GET", "identity", "/api/v1/accounts", admin, params={"email": person.email}).json()
        account = (found["items"] or [None])[0]
        if account is None:
            body = {"email": person.email, "name": person.name, "roles": list(person.roles)}
            key = f"demo-account-{person.email}"
            account = api.call("POST", "identity", "/api/v1/accounts", admin, body=body, key=key).json()
        person.subject = account["id"]
    tokens = identity_tokens([person.email for person in people], ttl=TOKEN_SECONDS)
    for person, token in zip(people, tokens, strict=True):
        person.token = token


ADVISORS = [
    Staff(name, ("advisor",)) for name in ("Sanne Visser", "Bas Hoekstra", "Lotte Kramer", "Jeroen Smit")
]
ACCOUNTANT = Staff("Ingrid de Wit", ("accountant",))
OWNER = Staff("Peter van Leeuwen", ("admin",))
OFFICE = [*ADVISORS, ACCOUNTANT, OWNER]


def advisor(n: int) -> str:
    """The front desk shares the work (and so each person's rate limit)."""
    return ADVISORS[n % len(ADVISORS)].token
