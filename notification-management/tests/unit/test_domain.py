"""Notification rules without I/O: whom to tell how, languages, rendering, backoff."""

import importlib.util
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from notification_management import domain
from notification_management.domain import Deliver, Skip, TemplateTexts

from service_kit.retry import RetryPolicy

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "src/notification_management/migrations/versions/0002_default_templates.py"
)


@dataclass
class Customer:
    status: str = "active"
    name: str = "Ann de Vries"
    email: str | None = "ann@example.com"
    phone: str | None = "+31612345678"
    preferred_channel: str = "email"
    preferred_language: str = "nl"
    consents: dict = field(
        default_factory=lambda: {
            "email": {"service": True, "marketing": False},
            "sms": {"service": True, "marketing": False},
        }
    )
    kind: str = "person"
    contact_person: str | None = None


def plan(customer, channel=None):
    return domain.plan_delivery(requested_channel=channel, customer=customer, default_language="en")


# -- whom to tell, how ----------------------------------------------------------------


def test_a_business_is_greeted_through_its_contact_person():
    business = Customer(kind="business", name="Jansen Transport B.V.", contact_person=" Piet Jansen ")
    assert domain.greeted_name(business) == "Piet Jansen"


@pytest.mark.parametrize(
    "customer",
    [
        Customer(name="Ann de Vries"),
        Customer(name="Ann de Vries", contact_person="Bob"),  # a person's own name, always
        Customer(kind="business", name="Ann de Vries", contact_person=None),
        Customer(kind="business", name="Ann de Vries", contact_person="  "),
    ],
)
def test_a_person_or_a_business_without_a_contact_person_is_greeted_by_name(customer):
    assert domain.greeted_name(customer) == "Ann de Vries"


def test_the_greeted_name_is_the_templates_customer_name():
    context = domain.template_context({}, customer_name="Piet Jansen", garage_name="G")
    assert context["customer"] == {"name": "Piet Jansen"}


def test_the_preferred_channel_and_language_are_used():
    assert plan(Customer()) == Deliver("email", "ann@example.com", ("nl", "en"))
    assert plan(Customer(preferred_channel="sms")) == Deliver("sms", "+31612345678", ("nl", "en"))


def test_a_requested_channel_wins_over_the_preferred_one():
    assert plan(Customer(preferred_channel="email"), channel="sms").channel == "sms"


@pytest.mark.parametrize(
    ("customer", "channel", "reason"),
    [
        (Customer(status="erased"), None, "customer_erased"),
        (Customer(preferred_channel="none"), None, "no_channel"),
        (Customer(email=None), "email", "no_email_address"),
        (Customer(phone=None), "sms", "no_phone_number"),
        (Customer(consents={"email": {"service": False}, "sms": {"service": True}}), None, "opted_out"),
        (Customer(consents={}), "sms", "opted_out"),
    ],
)
def test_reasons_to_skip(customer, channel, reason):
    decision = plan(customer, channel)
    assert decision == Skip(reason)
    assert decision.detail


def test_erasure_wins_over_everything():
    assert plan(Customer(status="erased", preferred_channel="email"), channel="email") == Skip(
        "customer_erased"
    )


def test_marketing_consent_does_not_count_for_service_messages():
    consents = {"email": {"service": False, "marketing": True}}
    assert plan(Customer(consents=consents)) == Skip("opted_out")


@pytest.mark.parametrize(
    ("preferred", "candidates"),
    [("nl", ("nl", "en")), ("en-GB", ("en-GB", "en")), ("nl-BE", ("nl-BE", "nl", "en")), ("", ("en",))],
)
def test_language_candidates_go_from_specific_to_the_default(preferred, candidates):
    assert domain.language_candidates(preferred, default="en") == candidates


def test_pick_template_falls_back_in_order():
    texts = TemplateTexts("s", "b", "t")
    assert domain.pick_template({"en": texts}, ("nl-BE", "nl", "en")) == ("en", texts)
    assert domain.pick_template({"nl": texts, "en": texts}, ("nl", "en"))[0] == "nl"
    assert domain.pick_template({}, ("nl", "en")) is None


def test_addresses_are_masked():
    assert domain.mask_address("email", "ann.de.vries@example.com") == "a***@example.com"
    assert domain.mask_address("sms", "+31612345678") == "+31*****5678"


# -- retrying -------------------------------------------------------------------------


def test_failures_back_off_then_die():
    policy = RetryPolicy(max_attempts=3, base_seconds=10, max_seconds=100)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    assert domain.after_failure(failures=1, policy=policy, now=now, rng=lambda: 1.0) == (
        "failed",
        now + timedelta(seconds=10),
    )
    status, at = domain.after_failure(failures=2, policy=policy, now=now, rng=lambda: 0.0)
    assert (status, at) == ("failed", now + timedelta(seconds=10))
    assert domain.after_failure(failures=3, policy=policy, now=now) == ("dead", None)


def test_long_errors_are_clipped():
    assert len(domain.clip_error("x" * 5000)) == domain.MAX_ERROR_LENGTH
    assert domain.clip_error("short") == "short"


# -- the request ----------------------------------------------------------------------


def test_attachments_must_come_from_a_configured_source():
    good = {"url": "http://invoicing:8005/api/v1/invoices/1/pdf"}
    domain.check_attachments([good], allowed_bases=["http://invoicing:8005"])
    for url in (
        "http://invoicing:8005.evil.test/x",
        "http://elsewhere/x",
        "/api/v1/invoices/1/pdf",
        "file:///etc/passwd",
    ):
        with pytest.raises(domain.InvalidNotification) as caught:
            domain.check_attachments([good, {"url": url}], allowed_bases=["http://invoicing:8005/"])
        assert list(caught.value.errors) == ["attachments.1.url"]


def test_same_request_compares_what_the_caller_sent():
    request = {
        "customer_id": 1,
        "type": "vehicle_ready",
        "data": {"a": 1},
        "channel": None,
        "attachments": [],
    }
    assert domain.same_request(request, dict(request))
    assert not domain.same_request(request, {**request, "data": {"a": 2}})


def test_language_tags():
    domain.validate_language("en-GB")
    with pytest.raises(domain.Unprocessable):
        domain.validate_language("English")


# -- templates ------------------------------------------------------------------------


def render(subject="s", body="b", sms="t", language="en", **context):
    return domain.render(
        TemplateTexts(subject, body, sms), context, language=language, timezone="Europe/Amsterdam"
    )


def test_a_missing_value_fails_loudly():
    with pytest.raises(domain.TemplateRenderFailed) as caught:
        render(body="Dear {{ customer.name }}", customer={})
    assert caught.value.errors == {"body": ["'dict object' has no attribute 'name'"]}


def test_the_sandbox_keeps_templates_out_of_python():
    with pytest.raises(domain.TemplateRenderFailed):
        render(body="{{ x.__class__.__mro__[1].__subclasses__() }}", x="")
    with pytest.raises(domain.TemplateRenderFailed):
        render(body="{{ x.__globals__ }}", x=render)


def test_a_subject_is_one_line_and_blank_lines_do_not_pile_up():
    message = render(subject="Line one\nline two", body="a\n\n\n\n{{ '' }}\n\nb   \nc")
    assert message.subject == "Line one line two"
    assert message.body == "a\n\nb\nc"


def test_a_template_rendering_to_nothing_is_an_error():
    with pytest.raises(domain.TemplateRenderFailed) as caught:
        render(sms="{% if false %}x{% endif %}")
    assert "sms_body" in caught.value.errors


def test_check_template_names_field_and_line():
    with pytest.raises(domain.InvalidTemplate) as caught:
        domain.check_template(TemplateTexts("{{ ok }}", "fine\n{% for x in y %}", " "))
    assert caught.value.errors["body"][0].startswith("line 2:")
    assert caught.value.errors["sms_body"] == ["must not be blank"]
    assert "subject" not in caught.value.errors


def test_dates_times_and_money_in_the_workshops_time_zone_and_language():
    context = {"start": "2026-03-17T08:30:00Z", "due": "2026-03-31", "amount": 123456, "currency": "EUR"}
    body = "{{ start | datetime }} / {{ start | time }} / {{ due | date }} / {{ amount | money(currency) }}"
    assert (
        render(body=body, **context).body
        == "Tuesday 17 March 2026 at 09:30 / 09:30 / Tuesday 31 March 2026 / €1,234.56"
    )
    assert (
        render(body=body, language="nl", **context).body
        == "dinsdag 17 maart 2026 om 09:30 / 09:30 / dinsdag 31 maart 2026 / € 1.234,56"
    )
    assert (
        render(body="{{ x | money('USD') }} {{ y | money('CHF') }}", x=-250, y=100).body == "-$2.50 CHF 1.00"
    )


def test_values_that_are_not_dates_or_amounts_are_shown_as_they_are():
    assert render(body="{{ x | datetime }} {{ y | money }}", x="next week", y="n/a").body == "next week n/a"


# -- the default templates -------------------------------------------------------------


def default_templates():
    templates = {}
    for path in (
        MIGRATION,
        MIGRATION.with_name("0003_password_reset_to_an_addressee.py"),
        MIGRATION.with_name("0004_portal_links_and_follow_ups.py"),
        MIGRATION.with_name("0005_replies_heard.py"),
    ):
        spec = importlib.util.spec_from_file_location(f"default_templates_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        templates.update(module.TEMPLATES)
    return templates


def test_every_type_has_a_default_in_english_and_dutch():
    assert set(default_templates()) == {(t, lang) for t in domain.TYPES for lang in ("en", "nl")}
    assert set(domain.SAMPLE_DATA) == set(domain.TYPES)


@pytest.mark.parametrize(("type_", "language"), sorted(default_templates()))
def test_every_default_compiles_and_renders_its_sample_data(type_, language):
    texts = TemplateTexts(*default_templates()[(type_, language)])
    domain.check_template(texts)
    context = domain.template_context(
        domain.SAMPLE_DATA[type_], customer_name="Ann", garage_name="Garage Jansen"
    )
    message = domain.render(texts, context, language=language, timezone="Europe/Amsterdam")
    assert "Ann" in message.body
    assert "Garage Jansen" in message.sms_body
    # One SMS, besides the portal's link (a token of ~300 characters: docs/customer-portal.md).
    link = domain.SAMPLE_DATA[type_].get("link_url") or domain.SAMPLE_DATA[type_].get("pay_url") or ""
    assert len(message.sms_body.replace(link, "")) <= 160, "one SMS besides the link"
    assert "\n\n\n" not in message.body


MINIMAL_DATA = {
    "appointment_confirmed": {"start": "2026-03-17T08:30:00Z"},
    "appointment_rescheduled": {"start": "2026-03-17T08:30:00Z"},
    "appointment_cancelled": {"start": "2026-03-17T08:30:00Z"},
    "appointment_reminder": {"start": "2026-03-17T08:30:00Z"},
    "estimate_ready": {"currency": "EUR", "total_gross": 100},
    "job_on_hold": {"reason": "waiting for a part"},
    "vehicle_ready": {},
    "invoice_issued": {"number": "2026-000001", "currency": "EUR", "total_gross": 100},
    "payment_reminder": {"number": "2026-000001", "currency": "EUR", "outstanding": 100},
    "password_reset": {
        "link": "https://garage.example/oauth/password-reset/new?token=t",
        "expires_minutes": 30,
    },
    "feedback_request": {"link_url": "https://portal.example/feedback/t"},
    "booking_invitation": {"link_url": "https://portal.example/book/t"},
    "service_due": {},
    "inspection_due": {"due_date": "2026-06-01"},
    "declined_work": {},
    "sms_reply": {"text": "See you tomorrow."},
}


@pytest.mark.parametrize(("type_", "language"), sorted(default_templates()))
def test_every_default_renders_with_only_the_values_it_needs(type_, language):
    texts = TemplateTexts(*default_templates()[(type_, language)])
    context = domain.template_context(MINIMAL_DATA[type_], customer_name="Ann", garage_name="G")
    domain.render(texts, context, language=language, timezone="Europe/Amsterdam")


def test_what_jobs_send_renders():
    """maintenance-job-management's data for job_on_hold and vehicle_ready."""
    templates = default_templates()
    on_hold = {"job_id": "j", "vehicle_id": "v", "reason": "waiting for approval", "awaiting_approval": True}
    ready = {
        "job_id": "j",
        "vehicle_id": "v",
        "description": "APK",
        "completed_at": "2026-03-17T15:00:00+00:00",
    }
    for type_, data in (("job_on_hold", on_hold), ("vehicle_ready", ready)):
        texts = TemplateTexts(*templates[(type_, "en")])
        context = domain.template_context(data, customer_name="Ann", garage_name="G")
        message = domain.render(texts, context, language="en", timezone="Europe/Amsterdam")
        assert message.body
    assert (
        "approval"
        in domain.render(
            TemplateTexts(*templates[("job_on_hold", "en")]),
            domain.template_context(on_hold, customer_name="Ann", garage_name="G"),
            language="en",
            timezone="UTC",
        ).sms_body
    )
