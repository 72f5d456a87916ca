"""The typed environment readers every service's config.py uses."""

from decimal import Decimal

import pytest

from service_kit.config import ConfigError, env_bool, env_decimal, env_float, env_int, env_list, kit_settings


def test_unset_or_empty_numbers_and_booleans_take_the_default():
    for env in ({}, {"X": ""}, {"X": "  "}):
        assert env_int(env, "X", 7) == 7
        assert env_float(env, "X", 0.5) == 0.5
        assert env_decimal(env, "X", "21") == Decimal("21")
        assert env_bool(env, "X", True) is True


def test_values_are_parsed_to_their_type():
    assert env_int({"X": " 12 "}, "X", 0) == 12
    assert env_float({"X": "2.5"}, "X", 0.0) == 2.5
    assert env_decimal({"X": "20.5"}, "X", "0") == Decimal("20.5")
    assert [env_bool({"X": raw}, "X", False) for raw in ("true", "TRUE", "1", "yes", "on")] == [True] * 5
    assert [env_bool({"X": raw}, "X", True) for raw in ("false", "False", "0", "no", "off")] == [False] * 5


@pytest.mark.parametrize(
    ("read", "raw", "message"),
    [
        (lambda env: env_int(env, "POOL", 1), "lots", "POOL must be a whole number, got 'lots'"),
        (lambda env: env_int(env, "POOL", 1), "2.5", "POOL must be a whole number"),
        (lambda env: env_float(env, "TIMEOUT", 1.0), "soon", "TIMEOUT must be a number"),
        (lambda env: env_float(env, "TIMEOUT", 1.0), "nan", "TIMEOUT must be a number"),
        (lambda env: env_float(env, "TIMEOUT", 1.0), "inf", "TIMEOUT must be a number"),
        (lambda env: env_decimal(env, "RATE", "21"), "21%", "RATE must be a decimal number"),
        (lambda env: env_decimal(env, "RATE", "21", low=0, high=100), "NaN", "RATE must be a decimal number"),
        (lambda env: env_decimal(env, "RATE", "21"), "sNaN", "RATE must be a decimal number"),
        (lambda env: env_bool(env, "ENABLED", True), "maybe", "ENABLED must be true or false, got 'maybe'"),
    ],
)
def test_a_value_that_does_not_parse_names_its_variable(read, raw, message):
    with pytest.raises(ConfigError, match=message):
        read({"POOL": raw, "TIMEOUT": raw, "RATE": raw, "ENABLED": raw})


def test_bounds_are_checked_and_named():
    assert env_int({"X": "0"}, "X", 5, low=0, high=100) == 0
    assert env_int({"X": "100"}, "X", 5, low=0, high=100) == 100
    with pytest.raises(ConfigError, match="X must be between 0 and 100, got '101'"):
        env_int({"X": "101"}, "X", 5, low=0, high=100)
    with pytest.raises(ConfigError, match="X must be at least 1, got '-3'"):
        env_int({"X": "-3"}, "X", 5, low=1)
    with pytest.raises(ConfigError, match=r"X must be at most 2\.5"):
        env_float({"X": "3"}, "X", 1.0, high=2.5)
    with pytest.raises(ConfigError, match="X must be between 0 and 100"):
        env_decimal({"X": "100.5"}, "X", "21", low=0, high=100)


def test_lists_are_comma_separated_and_an_empty_value_is_an_empty_list():
    assert env_list({}, "X", ["*"]) == ["*"]
    assert env_list({"X": " a, b ,,c "}, "X", ["*"]) == ["a", "b", "c"]
    assert env_list({"X": ""}, "X", ["*"]) == []
    assert env_list({}, "X") == []


def test_kit_settings_read_through_them():
    settings = kit_settings(
        service="x",
        schema="x",
        env={"RATE_LIMIT_ENABLED": "off", "CORS_ORIGINS": "https://a.example, https://b.example"},
    )
    assert settings["RATE_LIMIT_ENABLED"] is False
    assert settings["CORS_ORIGINS"] == ["https://a.example", "https://b.example"]
    assert kit_settings(service="x", schema="x", env={"CORS_ORIGINS": ""})["CORS_ORIGINS"] == []
    with pytest.raises(ConfigError, match="RATE_LIMIT_ENABLED"):
        kit_settings(service="x", schema="x", env={"RATE_LIMIT_ENABLED": "nope"})
    with pytest.raises(ConfigError, match="DB_POOL_SIZE must be at least 1"):
        kit_settings(service="x", schema="x", env={"DB_POOL_SIZE": "0"})
