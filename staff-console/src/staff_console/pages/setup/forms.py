"""What the set-up pages share: a refusal's field errors by the form's field names, and
the few translations between what a person types and what a contract takes (euros to
minor units, "1,5" to "1.5", a list of words). Nothing here decides what a service
decides: a value that cannot be translated is sent as typed, and the service's refusal
is shown beside its field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from staff_console import garage
from staff_console.formatting import minor_units


def errors_of(exc: garage.ServiceRefused) -> dict[str, str]:
    """A refusal's field errors, nested ones by their dotted path: ``lines.0.hours`` for
    ``{"lines": {"0": {"hours": [...]}}}`` and for a domain rule's ``lines[0].hours``."""
    flat: dict[str, str] = {}

    def walk(path: str, value: Any) -> None:
        if isinstance(value, Mapping):
            for key, inner in value.items():
                walk(f"{path}.{key}" if path else str(key), inner)
        elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
            flat.setdefault(dotted(path), value[0])
        elif isinstance(value, list):
            for number, inner in enumerate(value):
                walk(f"{path}.{number}", inner)
        elif value is not None:
            flat.setdefault(dotted(path), str(value))

    walk("", exc.problem.get("errors") or {})
    return flat


def dotted(path: str) -> str:
    """``opening_hours.monday[0]`` -> ``opening_hours.monday.0``."""
    return re.sub(r"\[(\w+)\]", r".\1", path).strip(".")


def renumbered(errors: dict[str, str], prefix: str, rows: list[int]) -> dict[str, str]:
    """Errors of ``prefix.<n>...`` for the n-th item sent moved to the form row it came
    from (blank rows are not sent, so the numbers differ)."""
    moved: dict[str, str] = {}
    for key, message in errors.items():
        head = prefix + "."
        if key.startswith(head):
            number, _, rest = key[len(head) :].partition(".")
            if number.isdigit() and int(number) < len(rows):
                key = f"{head}{rows[int(number)]}" + (f".{rest}" if rest else "")
        moved[key] = message
    return moved


def folded(errors: Mapping[str, str], name: str) -> dict[str, str]:
    """Errors of a list's items (``roles.1``) shown beside the list's one field (``roles``)."""
    shown: dict[str, str] = {}
    for key, message in errors.items():
        shown.setdefault(name if key.startswith(name + ".") else key, message)
    return shown


def unplaced(errors: Mapping[str, str], shown: Iterable[str]) -> dict[str, str]:
    """The errors no field on the form shows (a field named by the service that the page
    does not have, a rule about the whole form): listed with the problem at the top."""
    names = set(shown)
    return {
        key: message
        for key, message in errors.items()
        if key not in names and not any(key.startswith(name + ".") for name in names)
    }


def amount_or_as_typed(text: str | None) -> int | str | None:
    """Euros as typed ("78.50", "78,50", "€ 78") in minor units (7850); None when empty;
    anything else as typed, for the service to refuse beside its field."""
    if text is None or not text.strip():
        return None
    amount = minor_units(text)
    return text.strip() if amount is None else amount


def words(text: str | None) -> list[str]:
    """ "brakes, tyres  diagnosis" -> ["brakes", "tyres", "diagnosis"]."""
    return [word for word in re.split(r"[,\s]+", text or "") if word]


def etag_of(item: Mapping[str, Any]) -> str:
    """The ETag of an item read from a list (a resource's ETag is its version, quoted)."""
    return item.get("_etag") or f'"{item["version"]}"'
