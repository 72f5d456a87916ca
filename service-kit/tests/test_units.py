"""Kit pieces with no I/O: ids, config, cursors, ETags."""

import uuid
from decimal import Decimal

import marshmallow as ma
import pytest
from flask import Flask

from service_kit.config import DEV_JWT_SECRET, ConfigError, kit_settings
from service_kit.etag import ensure_version, if_match_versions
from service_kit.ids import uuid7
from service_kit.pagination import encode_cursor
from service_kit.problems import BadRequest, PreconditionFailed, Unprocessable
from service_kit.validation import DecimalString, UtcDateTime


def test_uuid7_is_version_7_unique_and_increasing():
    ids = [uuid7() for _ in range(20_000)]
    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert ids == sorted(ids)
    assert len(set(ids)) == len(ids)


def test_development_defaults_need_no_environment():
    settings = kit_settings(service="x", schema="x", env={})
    assert settings["JWT_SECRET"] == DEV_JWT_SECRET
    assert settings["CORS_ORIGINS"] == ["*"]


def test_production_names_every_missing_setting():
    with pytest.raises(ConfigError) as caught:
        kit_settings(service="x", schema="x", env={"GARAGE_ENV": "production"})
    for setting in ("DATABASE_URL", "JWT_JWKS_URL", "RATE_LIMIT_STORAGE_URL"):
        assert setting in str(caught.value)


def test_production_refuses_the_development_secret():
    env = {"GARAGE_ENV": "production", "DATABASE_URL": "postgresql://db/garage", "JWT_SECRET": DEV_JWT_SECRET}
    with pytest.raises(ConfigError):
        kit_settings(service="x", schema="x", env=env)


def test_production_with_jwks_is_accepted_and_closes_cors():
    env = {
        "GARAGE_ENV": "production",
        "DATABASE_URL": "postgresql://db/g",
        "JWT_JWKS_URL": "https://idp/jwks",
        "RATE_LIMIT_STORAGE_URL": "redis://redis:6379/0",
    }
    settings = kit_settings(service="x", schema="x", env=env)
    assert settings["CORS_ORIGINS"] == []


def test_integer_settings_are_checked():
    with pytest.raises(ConfigError):
        kit_settings(service="x", schema="x", env={"DB_POOL_SIZE": "lots"})


class _Column:
    """Stands in for a mapped column in cursor decoding."""

    class type:
        python_type = uuid.UUID


def test_cursor_round_trip_and_garbage():
    from service_kit.pagination import decode_cursor

    value = uuid7()
    assert decode_cursor(encode_cursor([value]), [_Column]) == [value]
    for garbage in ("garbage", encode_cursor([1, 2]), encode_cursor(["not-a-uuid"]), "!!!"):
        with pytest.raises(Unprocessable):
            decode_cursor(garbage, [_Column])


@pytest.mark.parametrize(
    ("header", "expected"),
    [(None, None), ("*", None), ('"3"', {3}), ('"3", "4"', {3, 4}), ('W/"3"', set()), ('"abc"', set())],
)
def test_if_match_parsing(header, expected):
    app = Flask("t")
    headers = {"If-Match": header} if header else {}
    with app.test_request_context(headers=headers):
        assert if_match_versions() == expected


@pytest.mark.parametrize("header", ["3", '"3", 4', "W/3", '"', "'3'"])
def test_an_if_match_that_is_no_entity_tag_is_malformed_not_stale(header):
    with (
        Flask("t").test_request_context(headers={"If-Match": header}),
        pytest.raises(BadRequest, match="double quotes"),
    ):
        if_match_versions()


def test_ensure_version():
    ensure_version(3, None)
    ensure_version(3, {3})
    with pytest.raises(PreconditionFailed):
        ensure_version(3, {2})


def test_utc_date_time_takes_any_rfc3339_offset_and_refuses_unrepresentable_times():
    """PostgreSQL refuses offsets beyond 15:59 ("time zone displacement out of range"),
    and stores year 0 as 1 BC, which Python cannot read back."""

    schema = ma.Schema.from_dict({"at": UtcDateTime()})()
    assert schema.load({"at": "2026-07-26T15:02:50-23:59"})["at"].isoformat() == "2026-07-27T15:01:50+00:00"
    for unrepresentable in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        with pytest.raises(ma.ValidationError, match="not a representable time"):
            schema.load({"at": unrepresentable})
    with pytest.raises(ma.ValidationError):
        schema.load({"at": "2026-07-26T15:02:50"})


def test_a_decimal_string_is_exact_or_refused():
    field = DecimalString(minimum=Decimal(0), exclusive_minimum=True, maximum=Decimal(100))
    assert field.deserialize("1.5") == Decimal("1.5")
    assert field.deserialize("100") == Decimal(100)
    assert field.serialize("q", {"q": Decimal("1.5")}) == "1.50"
    assert field.serialize("q", {"q": None}) is None
    for wrong, says in (
        (1.5, "decimal string"),  # a JSON number would be read through a float
        ("1.005", "decimal string"),  # a third decimal is refused, not rounded
        ("abc", "decimal string"),
        (" 1", "decimal string"),
        ("0", "more than 0"),
        ("100.01", "at most 100"),
    ):
        with pytest.raises(ma.ValidationError) as refused:
            field.deserialize(wrong)
        assert says in str(refused.value), (wrong, refused.value)
    assert field.metadata["format"] == "decimal" and field.metadata["type"] == "string"
