"""Customer rules, no I/O."""

from datetime import UTC, datetime, timedelta

import pytest
from customer_management import domain
from hypothesis import given
from hypothesis import strategies as st


def valid(**overrides):
    fields = {"kind": "person", "name": "Ann de Vries", "email": "ann@example.com", "phone": None}
    fields.update(overrides)
    return fields


def errors_of(fields):
    with pytest.raises(domain.InvalidCustomer) as caught:
        domain.validate_customer(fields, default_region="NL")
    return caught.value.errors


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        ("06 1234 5678", "NL", "+31612345678"),
        ("+31 6-12345678", "NL", "+31612345678"),
        ("0031612345678", "NL", "+31612345678"),
        ("030 123 4567", "NL", "+31301234567"),
        ("(202) 555-0143", "US", "+12025550143"),
        ("+44 20 7946 0958", "NL", "+442079460958"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, region, e164):
    assert domain.normalise_phone(raw, region=region) == e164


@pytest.mark.parametrize("raw", ["12", "not a phone", "+31 6 1234", "0000000000000"])
def test_invalid_phone_numbers_are_refused(raw):
    with pytest.raises(ValueError):
        domain.normalise_phone(raw, region="NL")


def test_local_phone_is_read_in_the_customers_country():
    result = domain.validate_customer(valid(phone="0171 234 5678", country="DE"), default_region="NL")
    assert result["phone"] == "+491712345678"


def test_email_domain_is_normalised_and_syntax_checked():
    assert domain.validate_customer(valid(email="Ann@EXAMPLE.com"), default_region="NL")["email"] == (
        "Ann@example.com"
    )
    assert "email" in errors_of(valid(email="ann@@example"))
    assert "email" in errors_of(valid(email="ann example.com"))


def test_needs_an_email_or_a_phone():
    assert errors_of(valid(email=None, phone=None)) == {
        "email": ["give an email address or a phone number (or both)"]
    }
    assert domain.validate_customer(valid(email=None, phone="0612345678"), default_region="NL")


def test_name_must_not_be_blank():
    assert "name" in errors_of(valid(name="   "))


def test_vat_number_and_contact_person_belong_to_businesses():
    errors = errors_of(valid(vat_number="NL123456789B01", contact_person="Bob"))
    assert set(errors) == {"vat_number", "contact_person"}
    business = domain.validate_customer(
        valid(kind="business", name="Acme BV", vat_number="nl 1234.56789.B01", contact_person="Bob"),
        default_region="NL",
    )
    assert business["vat_number"] == "NL123456789B01"


def test_vat_number_shape_is_checked():
    assert "vat_number" in errors_of(valid(kind="business", vat_number="123"))


def test_preferred_channel_needs_its_contact_data():
    assert "preferred_channel" in errors_of(valid(preferred_channel="sms"))
    assert "preferred_channel" in errors_of(valid(email=None, phone="0612345678", preferred_channel="email"))


def test_country_and_language_are_checked():
    errors = errors_of(valid(country="XX", preferred_language="Dutch"))
    assert set(errors) == {"address.country", "preferred_language"}


def test_every_broken_rule_is_reported_at_once():
    errors = errors_of({"kind": "person", "name": "", "email": "bad", "phone": "1"})
    assert {"name", "email", "phone"} <= set(errors)


@pytest.mark.parametrize(
    ("q", "fragment"),
    [
        ("06 1234 5678", "612345678"),
        ("+31 6 1234", "3161234"),
        ("De Vries", "de vries"),
        ("ANN@example", "ann@example"),
        ("100", "100"),
        ("06 1234", "61234"),  # a national number's trunk zero
        ("001622", "001622"),  # leading zeros of a number fragment, as typed
        ("000099998", "000099998"),
        ("00 31 6", "00316"),
    ],
)
def test_search_fragment(q, fragment):
    assert domain.search_fragment(q) == fragment


@pytest.mark.parametrize(
    ("q", "email", "phone"),
    [
        ("Ann@Example.com ", "ann@example.com", None),
        ("info@d", None, None),  # the start of an address
        ("ann@example.c", None, None),
        ("06 1234 5678", None, "+31612345678"),
        ("+31 6-12345678", None, "+31612345678"),
        ("0031612345678", None, "+31612345678"),
        ("5678", None, None),  # digits of no whole number: a fragment only
        ("de vries", None, None),
    ],
)
def test_search_terms_read_q_whole_when_it_is_an_address_or_a_number(q, email, phone):
    terms = domain.search_terms(q, region="NL")
    assert (terms.email, terms.phone) == (email, phone)
    assert terms.fragment == domain.search_fragment(q, whole_number=phone is not None)


def test_only_a_whole_number_loses_its_international_prefix():
    assert domain.search_terms("0031612345678", region="NL").fragment == "31612345678"
    assert domain.search_terms("001622", region="NL").fragment == "001622"


def test_consent_defaults_allow_service_messages_only():
    assert domain.current_consents([]) == {
        "email": {"service": True, "marketing": False},
        "sms": {"service": True, "marketing": False},
    }


def test_latest_consent_event_wins_whatever_the_order_given():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        domain.ConsentEvent("sms", "marketing", False, t0 + timedelta(days=2)),
        domain.ConsentEvent("sms", "marketing", True, t0),
        domain.ConsentEvent("email", "service", False, t0 + timedelta(days=1)),
    ]
    state = domain.current_consents(events)
    assert state["sms"]["marketing"] is False
    assert state["email"]["service"] is False
    assert state["sms"]["service"] is True


def test_erased_customer_may_not_be_contacted_at_all():
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    state = domain.current_consents([domain.ConsentEvent("email", "marketing", True, t0)], erased=True)
    assert not any(allowed for purposes in state.values() for allowed in purposes.values())


def test_erasure_leaves_no_personal_data():
    erased = domain.erased_fields()
    for personal in (
        "email",
        "phone",
        "street",
        "postal_code",
        "city",
        "notes",
        "vat_number",
        "contact_person",
    ):
        assert erased[personal] is None
    assert erased["name"] == domain.ERASED_NAME
    assert erased["status"] == "erased"


def test_preferred_channel_defaults_to_a_channel_the_customer_has():
    assert domain.validate_customer(valid(), default_region="NL")["preferred_channel"] == "email"
    phone_only = domain.validate_customer(valid(email=None, phone="0612345678"), default_region="NL")
    assert phone_only["preferred_channel"] == "sms"


def test_payment_terms_default_by_kind():
    assert domain.default_payment_terms_days("person", business_days=30) == 0
    assert domain.default_payment_terms_days("business", business_days=30) == 30
    assert domain.default_payment_terms_days("business", business_days=45) == 45


@pytest.mark.parametrize("days", [0, 14, 365])
def test_payment_terms_within_a_year_are_valid(days):
    assert (
        domain.validate_customer(valid(payment_terms_days=days), default_region="NL")["payment_terms_days"]
        == days
    )


@pytest.mark.parametrize("days", [-1, 366])
def test_payment_terms_outside_a_year_are_refused(days):
    assert "payment_terms_days" in errors_of(valid(payment_terms_days=days))


# Text as PostgreSQL holds it: any code point but NUL and the surrogates.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)


@given(prefix=_TEXT, rest=_TEXT, other=_TEXT)
def test_after_prefix_bounds_exactly_the_texts_that_start_with_it(prefix, rest, other):
    high = domain.after_prefix(prefix)
    for text in (prefix + rest, other, prefix[:-1] + other, prefix + "\U0010ffff" + rest):
        within = prefix <= text and (high is None or text < high)  # Python compares code points
        assert within == text.startswith(prefix), (prefix, text, high)


@pytest.mark.parametrize(
    ("prefix", "high"),
    [
        ("jan", "jao"),
        ("de v", "de w"),
        ("\u015f", "\u0160"),  # ş, Š
        ("a\ud7ff", "a\ue000"),  # past the surrogates, which no text holds
        ("ab\U0010ffff\U0010ffff", "ac"),
        ("\U0010ffff", None),
    ],
)
def test_after_prefix_steps_the_last_code_point_on(prefix, high):
    assert domain.after_prefix(prefix) == high


@pytest.mark.parametrize(
    ("q", "looked_up"),
    [
        ("info@bakker-bouw.nl", "bakker-bouw"),  # not the "info@" and ".nl" most hold
        ("jan.smit@gmail.com", "jan.smit"),
        ("a@b.nl", "a@b.nl"),  # no part long enough: all of it
        ("+31 6 12345678", "2345678"),
        ("590990", "590990"),
        ("de vries", "de vries"),
    ],
)
def test_a_rare_search_asks_the_index_for_a_part_every_match_holds(q, looked_up):
    terms = domain.search_terms(q, region="NL")
    assert terms.looked_up == looked_up
    assert looked_up in terms.fragment


# Digits and what surrounds them in a search text, other digits (Arabic-Indic) included.
_DIGITISH = st.text(st.sampled_from("0123456789 +@.a\u0663"), max_size=24)


@given(text=_DIGITISH, start=st.integers(0, 24), length=st.integers(0, 24))
def test_a_text_holds_the_digit_grams_of_every_part_of_it(text, start, length):
    part = text[start : start + length]
    assert set(domain.digit_grams(part)) <= set(domain.digit_grams(text))


@given(text=_DIGITISH)
def test_digit_grams_are_each_five_ascii_digits_of_the_text_once_sorted(text):
    grams = domain.digit_grams(text)
    assert grams == sorted(set(grams))
    assert all(len(gram) == domain.DIGIT_GRAM and gram.isascii() and gram.isdigit() for gram in grams)
    assert all(gram in text for gram in grams)


@pytest.mark.parametrize(
    ("q", "grams"),
    [
        ("+31 6 12345678", ["23456", "34567", "45678"]),  # of the last seven digits looked up
        ("879142", ["79142", "87914"]),
        ("info@kosterbloemen470260.nl", ["47026", "70260"]),
        ("jan.smit1234@gmail.com", []),  # four digits: the trigram index
        ("de vries", []),
    ],
)
def test_a_rare_search_asks_the_digits_index_for_the_grams_of_its_part(q, grams):
    assert domain.search_terms(q, region="NL").looked_up_grams == grams


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("koen bru", ["koen", "bru"]),
        ("de vries transport bv", ["transport", "vries"]),  # short words have no inner trigram
        ("van den berg-de jong bouw", ["berg", "bouw", "jong"]),  # the longest three
        ("koen b", []),  # one word: all of q, word starts and ends with it
        ("ayşe evers", []),  # only ASCII words: what makes a word depends on the database's locale
        ("bakker", []),
        ("info@bakker-bouw.nl", ["bakker", "bouw"]),  # of the part looked up
    ],
)
def test_the_trigram_index_is_asked_for_each_word_of_the_part_looked_up(q, words):
    terms = domain.search_terms(q, region="NL")
    assert terms.looked_up_words == words
    assert all(word in terms.looked_up for word in words)
