"""No field coerces, in any service: the walk over every committed contract sends a
fractional number to every integer property, a string that is no number to every
numeric one, and to every decimal string (hours, quantities, rates: ``format:
decimal``) both a number and a third decimal. Each is a 422 that names the field, and
nothing is stored."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, text

from service_kit.db import normalise_url

WRONG = {"integer": [19732.5], "number": ["about twenty"], "decimal": [1.5, "1.005", "about twenty"]}


def kind_of(field: dict[str, Any]) -> str | None:
    if field.get("type") == "string" and field.get("format") == "decimal":
        return "decimal"
    return field.get("type")


def body_with(name: str, value: Any) -> dict[str, Any]:
    """``lines[].hours`` -> {"lines": [{"hours": value}]}."""
    head, _, rest = name.partition(".")
    if not rest:
        return {head.removesuffix("[]"): value}
    inner = body_with(rest, value)
    return {head.removesuffix("[]"): [inner] if head.endswith("[]") else inner}


def named(errors: Any, name: str) -> bool:
    """Is the field's path in webargs' nested error messages (lists by index)?"""
    for part in name.replace("[]", ".0").split("."):
        if not isinstance(errors, dict):
            return False
        errors = errors.get(part, errors.get(int(part)) if part.isdigit() else None)
    return errors is not None


def stored_rows(url: str) -> dict[str, int]:
    engine = create_engine(normalise_url(url))
    with engine.connect() as connection:
        tables = connection.execute(
            text(
                "SELECT schemaname || '.' || relname FROM pg_stat_user_tables "
                "WHERE relname NOT IN ('alembic_version') ORDER BY 1"
            )
        ).scalars()
        counts = {
            table: connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in tables
        }
    engine.dispose()
    return counts


def test_no_numeric_field_coerces_and_nothing_is_stored(
    apps, contracts, body_fields, fill_path, fresh_database_url, caller_headers
):
    # The callers' headers first: a portal operation's link is a row of its own.
    callers = {
        (service, method, path): caller_headers(
            apps[service], contracts[service]["paths"][path][method], "typist"
        )
        for service, method, path, _ in body_fields
    }
    before = stored_rows(fresh_database_url)
    coerced, walked = [], 0
    for service, method, path, fields in body_fields:
        operation = contracts[service]["paths"][path][method]
        parameters = [
            *contracts[service]["paths"][path].get("parameters", []),
            *operation.get("parameters", []),
        ]
        app = apps[service]
        headers = callers[(service, method, path)]
        for name, field in fields:
            for wrong in WRONG.get(kind_of(field) or "", []):
                walked += 1
                response = getattr(app.test_client(), method)(
                    fill_path(path, parameters),
                    json=body_with(name, wrong),
                    headers=headers,
                )
                errors = (response.get_json() or {}).get("errors", {})
                if response.status_code != 422 or not named(errors, name):
                    coerced.append(
                        f"{service} {method.upper()} {path} {name}={wrong!r}: {response.status_code} {errors}"
                    )
    assert walked >= 40, walked  # 46 sendings when decimal strings were added
    assert coerced == []
    assert stored_rows(fresh_database_url) == before
