"""Issue 18 and 19 without I/O: the portal's links in the default templates (en, nl,
with and without the link), the new types, which consent each type needs, and quiet
hours for marketing SMS."""

import importlib.util
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from notification_management import domain
from notification_management.config import load_config
from notification_management.domain import ConsentRules, Deliver, QuietHours, Skip, TemplateTexts

from service_kit.config import ConfigError

from .test_domain import Customer

VERSIONS = Path(__file__).resolve().parents[2] / "src/notification_management/migrations/versions"


def _templates(name: str) -> dict:
    spec = importlib.util.spec_from_file_location(f"templates_{name}", VERSIONS / name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.TEMPLATES


BEFORE = _templates("0002_default_templates.py")
NOW = _templates("0004_portal_links_and_follow_ups.py")
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJwdXIiOiJ4In0.c2lnbmF0dXJl"  # a made-up token  # pragma: allowlist secret
LINK = f"https://portal.garage.example/x/{TOKEN}"


def render(texts, data, language):
    context = domain.template_context(data, customer_name="Ann de Vries", garage_name="Garage Jansen")
    return domain.render(TemplateTexts(*texts), context, language=language, timezone="Europe/Amsterdam")


def without_links(type_):
    return {k: v for k, v in domain.SAMPLE_DATA[type_].items() if k not in ("link_url", "pay_url")}


# What each message says with its link, per language (docs/customer-portal.md).
LINKED = {
    ("estimate_ready", "link_url"): {
        "en": ("Approve or decline each line online:", "Approve or decline online:"),
        "nl": ("Keur elke regel online goed of af:", "Online goedkeuren of afwijzen:"),
    },
    ("appointment_confirmed", "link_url"): {
        "en": ("Confirm, move or cancel your appointment online:", "Confirm, move or cancel:"),
        "nl": (
            "Uw afspraak online bevestigen, verplaatsen of annuleren:",
            "Bevestigen, verplaatsen of annuleren:",
        ),
    },
    ("appointment_rescheduled", "link_url"): {
        "en": ("Confirm, move or cancel your appointment online:", "Confirm, move or cancel:"),
        "nl": (
            "Bevestig, verplaats of annuleer uw afspraak online:",
            "Bevestigen, verplaatsen of annuleren:",
        ),
    },
    ("appointment_reminder", "link_url"): {
        "en": ("Confirm, move or cancel your appointment online:", "Confirm, move or cancel:"),
        "nl": (
            "Uw afspraak online bevestigen, verplaatsen of annuleren:",
            "Bevestigen, verplaatsen of annuleren:",
        ),
    },
    ("invoice_issued", "pay_url"): {
        "en": ("Pay online:", "Pay online:"),
        "nl": ("Online betalen:", "Online betalen:"),
    },
    ("payment_reminder", "pay_url"): {
        "en": ("you can pay online:", "Pay online:"),
        "nl": ("Dat kan online:", "Online betalen:"),
    },
}


@pytest.mark.parametrize(
    ("type_", "field", "language"),
    [(type_, field, language) for (type_, field) in LINKED for language in ("en", "nl")],
)
def test_a_message_with_the_portals_link_shows_it(type_, field, language):
    in_body, in_sms = LINKED[(type_, field)][language]
    message = render(NOW[(type_, language)], {**without_links(type_), field: LINK}, language)
    assert f"{in_body} {LINK}" in message.body
    assert f"{in_sms} {LINK}" in message.sms_body
    assert LINK not in message.subject


@pytest.mark.parametrize(
    ("type_", "language"), [(type_, language) for (type_, _) in LINKED for language in ("en", "nl")]
)
def test_a_message_without_the_link_reads_as_it_did_before(type_, language):
    data = without_links(type_)
    assert render(NOW[(type_, language)], data, language) == render(BEFORE[(type_, language)], data, language)


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("type_", ["estimate_ready", "appointment_reminder", "invoice_issued"])
def test_an_empty_or_null_link_is_no_link(type_, language):
    field = "pay_url" if type_ == "invoice_issued" else "link_url"
    data = without_links(type_)
    expected = render(NOW[(type_, language)], data, language)
    for value in ("", None):
        assert render(NOW[(type_, language)], {**data, field: value}, language) == expected


# -- the new types -----------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("type_", domain.FEEDBACK_TYPES + domain.FOLLOW_UP_TYPES)
def test_every_new_type_carries_its_link_in_email_and_sms(type_, language):
    message = render(NOW[(type_, language)], {**domain.SAMPLE_DATA[type_], "link_url": LINK}, language)
    assert LINK in message.body and LINK in message.sms_body
    assert "Ann de Vries" in message.body and "Garage Jansen" in message.sms_body
    assert "AB-123-C" in message.body and "AB-123-C" in message.sms_body


@pytest.mark.parametrize(
    ("type_", "language"),
    [(t, lang) for t in ("feedback_request", "booking_invitation") for lang in ("en", "nl")],
)
def test_feedback_and_booking_invitations_are_nothing_without_their_link(type_, language):
    with pytest.raises(domain.TemplateRenderFailed, match="link_url"):
        render(NOW[(type_, language)], without_links(type_), language)


@pytest.mark.parametrize(
    ("language", "contact", "stop"),
    [
        ("en", "Please contact us to make an appointment.", "Reply STOP to opt out."),
        ("nl", "Neem contact met ons op om een afspraak te maken.", "Afmelden: antwoord STOP."),
    ],
)
@pytest.mark.parametrize("type_", ["service_due", "inspection_due", "declined_work"])
def test_a_follow_up_without_a_booking_link_asks_to_get_in_touch_and_says_how_to_stop(
    type_, language, contact, stop
):
    message = render(NOW[(type_, language)], without_links(type_), language)
    assert contact in message.body
    assert "https://" not in message.body + message.sms_body
    assert message.sms_body.endswith(stop)


@pytest.mark.parametrize(
    ("data", "en", "nl"),
    [
        (
            {"due_date": "2026-06-01", "due_km": 120000},
            "by Monday 1 June 2026 or at 120,000 km, whichever comes first.",
            "vóór maandag 1 juni 2026 of bij 120.000 km, wat het eerst komt.",
        ),
        ({"due_date": "2026-06-01"}, "by Monday 1 June 2026.", "vóór maandag 1 juni 2026."),
        ({"due_km": 120000}, "at 120,000 km.", "bij 120.000 km."),
        ({"due_km": None, "due_date": "2026-06-01"}, "by Monday 1 June 2026.", "vóór maandag 1 juni 2026."),
    ],
)
def test_service_due_by_date_distance_or_both(data, en, nl):
    base = {"plate": "AB-123-C", "make": "Volkswagen", "model": "Golf"}
    assert en in render(NOW[("service_due", "en")], {**base, **data}, "en").body
    assert nl in render(NOW[("service_due", "nl")], {**base, **data}, "nl").body


def test_declined_work_lists_the_lines_with_a_price_where_there_is_one():
    body = render(NOW[("declined_work", "en")], domain.SAMPLE_DATA["declined_work"], "en").body
    assert "- Brake pads, rear: €84.70\n- Wiper blades\n" in body


@pytest.mark.parametrize(
    ("data", "phrase"),
    [
        ({"make": "Volkswagen", "model": "Golf", "plate": "AB-123-C"}, "your Volkswagen Golf (AB-123-C)"),
        ({"plate": "AB-123-C", "make": None}, "your vehicle AB-123-C"),
        ({}, "your vehicle is due"),
    ],
)
def test_the_vehicle_is_named_by_what_was_sent(data, phrase):
    assert phrase in render(NOW[("service_due", "en")], {**data, "due_km": 1000}, "en").body


def test_numbers_are_grouped_as_the_language_writes_them():
    english = domain._filters("en", domain.ZoneInfo("UTC"))["number"]
    dutch = domain._filters("nl", domain.ZoneInfo("UTC"))["number"]
    assert (english(120000), dutch(120000), english("x")) == ("120,000", "120.000", "x")


# -- consent per type ----------------------------------------------------------------


def test_which_types_are_marketing_by_default():
    rules = ConsentRules()
    assert rules.purpose("feedback_request") == "service"
    for type_ in ("booking_invitation", "service_due", "inspection_due", "declined_work"):
        assert rules.purpose(type_) == "marketing"
    for type_ in ("estimate_ready", "invoice_issued", "appointment_reminder", "password_reset"):
        assert rules.purpose(type_) == "service"


def test_the_garage_can_count_them_otherwise():
    rules = ConsentRules(feedback_requests_are_service=False, follow_ups_are_service=True)
    assert rules.purpose("feedback_request") == "marketing"
    assert rules.purpose("service_due") == "service"
    assert rules.purpose("invoice_issued") == "service"


def plan(customer, purpose, channel=None):
    return domain.plan_delivery(
        requested_channel=channel, customer=customer, default_language="en", purpose=purpose
    )


def test_marketing_needs_marketing_consent_on_the_channel():
    customer = Customer(
        preferred_channel="sms",
        consents={
            "email": {"service": True, "marketing": True},
            "sms": {"service": True, "marketing": False},
        },
    )
    assert plan(customer, "marketing") == Skip("no_marketing_consent")
    assert plan(customer, "marketing", channel="email") == Deliver("email", "ann@example.com", ("nl", "en"))
    assert plan(customer, "service") == Deliver("sms", "+31612345678", ("nl", "en"))
    assert Skip("no_marketing_consent").detail


def test_marketing_consent_does_not_outweigh_a_withdrawn_service_consent():
    """An SMS STOP withdraws service messages: no marketing reaches them there either."""
    customer = Customer(preferred_channel="sms", consents={"sms": {"service": False, "marketing": True}})
    assert plan(customer, "marketing") == Skip("opted_out")


def test_settings_decide_and_refuse_nonsense():
    config = load_config(env={})
    assert config["FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES"] is True
    assert config["FOLLOW_UPS_ARE_SERVICE_MESSAGES"] is False
    assert (config["QUIET_HOURS_START"], config["QUIET_HOURS_END"]) == ("21:00", "08:00")
    flipped = load_config(
        env={"FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES": "false", "FOLLOW_UPS_ARE_SERVICE_MESSAGES": "true"}
    )
    assert (
        flipped["FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES"],
        flipped["FOLLOW_UPS_ARE_SERVICE_MESSAGES"],
    ) == (
        False,
        True,
    )
    with pytest.raises(ConfigError, match="QUIET_HOURS_START"):
        load_config(env={"QUIET_HOURS_START": "late"})
    with pytest.raises(ConfigError, match="FOLLOW_UPS_ARE_SERVICE_MESSAGES"):
        load_config(env={"FOLLOW_UPS_ARE_SERVICE_MESSAGES": "perhaps"})


# -- quiet hours -------------------------------------------------------------------


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@pytest.mark.parametrize(
    ("now", "until"),
    [
        ("2026-03-17T22:30:00+01:00", "2026-03-18T08:00:00+01:00"),  # evening: next morning
        ("2026-03-18T06:59:00+01:00", "2026-03-18T08:00:00+01:00"),  # early: this morning
        ("2026-03-17T21:00:00+01:00", "2026-03-18T08:00:00+01:00"),  # from the start
        ("2026-03-28T23:00:00+01:00", "2026-03-29T08:00:00+02:00"),  # summer time starts that night
        ("2026-03-17T08:00:00+01:00", None),
        ("2026-03-17T14:00:00+01:00", None),
        ("2026-03-17T20:59:59+01:00", None),
        ("2026-03-17T21:30:00+00:00", None),  # 21:30 UTC is 22:30 in Amsterdam: quiet
    ],
)
def test_quiet_hours_hold_until_the_morning_in_the_garages_time_zone(now, until):
    held = QuietHours().held_until(at(now))
    if now.endswith("+00:00"):
        assert held == at("2026-03-18T08:00:00+01:00")
        return
    assert held == (at(until) if until else None)
    if held is not None:
        assert held.tzinfo is UTC


def test_quiet_hours_within_a_day_and_none():
    lunch = QuietHours(time(12, 0), time(13, 0), "Europe/Amsterdam")
    assert lunch.held_until(at("2026-03-17T12:30:00+01:00")) == at("2026-03-17T13:00:00+01:00")
    assert lunch.held_until(at("2026-03-17T13:00:00+01:00")) is None
    assert QuietHours(time(0, 0), time(0, 0)).held_until(at("2026-03-17T03:00:00+01:00")) is None


def test_only_marketing_by_sms_is_held():
    assert domain.is_held(purpose="marketing", channel="sms")
    assert not domain.is_held(purpose="marketing", channel="email")
    assert not domain.is_held(purpose="service", channel="sms")
