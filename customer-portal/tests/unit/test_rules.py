"""The portal's own small rules: its settings, when an appointment may still be changed
online (the service checks again), what can be booked, and keeping tokens out of logs."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from customer_portal.app import _NoTokensInLogs
from customer_portal.config import load_config
from customer_portal.pages.appointment import changeable, starts_of
from customer_portal.pages.booking import OTHER_MINUTES, chosen_work, work_options

from service_kit.config import ConfigError


def test_production_names_every_missing_setting() -> None:
    env = {
        "GARAGE_ENV": "production",
        "JWT_JWKS_URL": "https://id/jwks",
        "DATABASE_URL": "postgresql://x/y",
        "RATE_LIMIT_STORAGE_URL": "redis://r:6379/0",
        "SERVICE_TOKEN_URL": "https://id/oauth/token",
        "WORKSHOP_SCHEDULING_URL": "http://ws",
        "MAINTENANCE_JOB_MANAGEMENT_URL": "http://mjm",
        "INVOICING_URL": "http://inv",
    }
    with pytest.raises(ConfigError) as refused:
        load_config(env=env)
    for name in ("PORTAL_URL", "PORTAL_SECRET_KEY", "SERVICE_CLIENT_SECRET", "GARAGE_PHONE"):
        assert name in str(refused.value)


def test_in_development_the_portal_asks_identity_for_its_token_as_customer_portal() -> None:
    config = load_config(env={})
    assert config["SERVICE_TOKEN_URL"] == "http://127.0.0.1:8007/oauth/token"
    assert config["SERVICE_CLIENT_ID"] == "customer-portal"
    assert config["SERVICE_CLIENT_SECRET"]
    assert config["PROXY_HOPS"] == 0
    assert (
        load_config(env={"GARAGE_ENV": "production", "PROXY_HOPS": "2"}.copy() | _production())["PROXY_HOPS"]
        == 2
    )


def _production() -> dict[str, str]:
    return {
        "JWT_JWKS_URL": "https://id/jwks",
        "DATABASE_URL": "postgresql://x/y",
        "RATE_LIMIT_STORAGE_URL": "redis://r",
        "SERVICE_TOKEN_URL": "https://id/oauth/token",
        "SERVICE_CLIENT_SECRET": "s" * 40,
        "PORTAL_URL": "https://p",
        "PORTAL_SECRET_KEY": "k" * 40,
        "GARAGE_PHONE": "+31 20 1",
        "WORKSHOP_SCHEDULING_URL": "http://ws",
        "MAINTENANCE_JOB_MANAGEMENT_URL": "http://mjm",
        "INVOICING_URL": "http://inv",
    }


def test_an_appointment_is_changeable_online_as_the_service_says_else_until_its_cut_off() -> None:
    later = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    earlier = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert changeable({"changeable": True, "status": "booked", "changeable_until": earlier})
    assert not changeable({"changeable": False, "status": "booked", "changeable_until": later})
    assert changeable({"status": "booked", "changeable_until": later})
    assert not changeable({"status": "booked", "changeable_until": earlier})
    assert not changeable({"status": "cancelled", "changeable_until": later})
    assert not changeable({"status": "booked", "changeable_until": "nonsense"})


def test_free_starts_are_the_answer_s_starts() -> None:
    answer = {"starts": [{"start": "2026-12-08T08:00:00+01:00", "end": "2026-12-08T09:00:00+01:00"}]}
    assert starts_of(answer) == ["2026-12-08T08:00:00+01:00"]
    assert starts_of(None) == [] and starts_of({"starts": "x"}) == [] and starts_of({}) == []


def test_what_can_be_booked_is_the_garage_s_usual_work_or_other_work_described() -> None:
    booking = {
        "other_work_duration_minutes": 45,
        "work": [
            {"code": "S", "name": "Small service", "duration_minutes": 90},
            {"code": "X", "name": ""},
            "junk",
        ],
    }
    assert [o["name"] for o in work_options(booking)] == ["Small service"]
    assert chosen_work(booking, "S", "") == ("Small service", 90)
    assert chosen_work(booking, "other", "Rattle at the back") == ("Rattle at the back", 45)
    assert chosen_work({}, "other", "Rattle") == ("Rattle", OTHER_MINUTES)
    assert chosen_work(booking, "other", "") is None
    assert chosen_work(booking, "X", "") is None
    assert chosen_work(booking, None, "x") is None


def test_a_log_line_never_carries_a_link_s_token() -> None:
    record = logging.LogRecord(
        "werkzeug", logging.INFO, __file__, 1, '"GET /invoice/%s HTTP/1.1" 200', ("abc.def.ghi",), None
    )
    record.args = ('"GET /invoice/abc.def.ghi?lang=nl HTTP/1.1"',)
    record.msg = "%s"
    _NoTokensInLogs().filter(record)
    assert "abc.def.ghi" not in record.getMessage()
    assert "/invoice/<token>" in record.getMessage()


def test_moments_are_shown_in_the_workshop_s_zone_and_the_customer_s_language() -> None:
    from customer_portal import create_app
    from customer_portal.formatting import money, when

    app = create_app({"TESTING": True, "SERVICE_TOKEN": "t"})
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert when("2026-12-07T10:00:00+00:00") == "7 Dec 2026, 11:00"
        assert money(9680, "EUR") == "€96.80"
        assert when("") == "" and when("nonsense") == ""
    with app.test_request_context(headers={"Accept-Language": "nl"}):
        assert when("2026-07-07T10:00:00Z") == "7 jul 2026, 12:00"
        assert money(9680, "EUR") == "€\u00a096,80"


def test_over_https_the_cookie_is_a_host_cookie() -> None:
    assert load_config(env={})["SESSION_COOKIE_NAME"] == "portal"
    secure = load_config(env={"SESSION_COOKIE_SECURE": "true"})
    assert secure["SESSION_COOKIE_NAME"] == "__Host-portal" and secure["SESSION_COOKIE_SECURE"] is True
