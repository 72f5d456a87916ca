"""Headers set on every answer, the cheap way. werkzeug's ``Headers`` is a list:
``set`` and ``setdefault`` walk it lower-casing every name, and a name it does not hold
is found missing by raising (and building) a ``BadRequestKeyError``. A dozen headers an
answer made that a visible part of a read's CPU; here the names present are collected
once and the missing ones appended."""

from __future__ import annotations

from collections.abc import Iterable

from werkzeug.datastructures import Headers


def present(headers: Headers) -> set[str]:
    """The lower-cased names ``headers`` holds."""
    return {name.lower() for name, _ in headers}


def add_missing(headers: Headers, values: Iterable[tuple[str, str]], names: set[str] | None = None) -> None:
    """``headers.setdefault`` for each of ``values``: a header already there is kept."""
    names = present(headers) if names is None else names
    for name, value in values:
        lower = name.lower()
        if lower not in names:
            headers.add(name, value)
            names.add(lower)


def put(headers: Headers, name: str, value: str, names: set[str] | None = None) -> None:
    """``headers[name] = value``: replaces the header when there, else appends it."""
    names = present(headers) if names is None else names
    lower = name.lower()
    if lower in names:
        headers[name] = value
    else:
        headers.add(name, value)
        names.add(lower)
