"""Customer rules in plain Python: what a valid customer is, how contact data is
normalised, what consent is currently given, and what erasure leaves behind."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from service_kit.problems import Conflict, NotFound, Unprocessable

KINDS = ("person", "business")
STATUSES = ("active", "erased")
CHANNELS = ("email", "sms", "none")
CONSENT_CHANNELS = ("email", "sms")
PURPOSES = ("service", "marketing")
# sms_stop and sms_start: a keyword the customer texted back (notification-management hears it).
CONSENT_SOURCES = ("counter", "web", "phone", "email", "sms_stop", "sms_start", "import")
# Service messages (appointment confirmations, "vehicle ready") rest on the contract
# with the customer, so they are allowed until withdrawn; marketing needs a grant.
DEFAULT_CONSENT = {"service": True, "marketing": False}
COUNTRIES = frozenset(phonenumbers.SUPPORTED_REGIONS)
ERASED_NAME = "Erased customer"
# Days an invoice gives the customer to pay. A person pays when collecting the car.
MAX_PAYMENT_TERMS_DAYS = 365
PERSON_PAYMENT_TERMS_DAYS = 0
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
_VAT_NUMBER = re.compile(r"^[A-Z]{2}[0-9A-Z+*.]{2,13}$")
_PHONE_LIKE = re.compile(r"[+\d][\d\s().-]*")
# One zero before the first digit of an area or mobile code: a national number's start.
_TRUNK_ZERO = re.compile(r"0[1-9]")
# An address typed to its end ("ann@example.com"), not its start ("info@d").
_WHOLE_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]{2,}")


class CustomerNotFound(NotFound):
    def __init__(self, customer_id: object) -> None:
        super().__init__(f"customer {customer_id} does not exist")


class CustomerErased(Conflict):
    def __init__(self, customer_id: object) -> None:
        super().__init__(f"customer {customer_id} has been erased and cannot be changed")


class EmailAlreadyInUse(Conflict):
    def __init__(self, email: str) -> None:
        super().__init__(f"an active customer already uses the email address {email}", field="email")


class InvalidCustomer(Unprocessable):
    """One or more fields break a customer rule; ``errors`` says which."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the customer data breaks one or more rules", errors=errors)


def normalise_email(raw: str) -> str:
    """Syntax-checked, domain lower-cased; the local part keeps its case as entered."""
    result = validate_email(raw, check_deliverability=False)
    return result.normalized


def normalise_phone(raw: str, *, region: str) -> str:
    """E.164 (``+31612345678``); local numbers are read in ``region``."""
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _phone_like(text: str) -> bool:
    return bool(_PHONE_LIKE.fullmatch(text)) and sum(c.isdigit() for c in text) >= 3


def search_fragment(q: str, *, whole_number: bool = False) -> str:
    """What to look for in the search text (phone numbers are stored as E.164).
    Phone-like input becomes its digits, leading zeros as typed ("001622", a VAT
    number's "000099998"), except a national number's single trunk zero: "06 1234"
    is looked for as "61234", so it finds "+31612345678" (and everything holding
    "061234"). Only q read as a ``whole_number`` loses every leading zero, its
    international prefix too ("0031612345678": "31612345678")."""
    stripped = q.strip()
    if not _phone_like(stripped):
        return stripped.lower()
    digits = re.sub(r"\D", "", stripped)
    if whole_number:
        return digits.lstrip("0") or "0"
    return digits[1:] if _TRUNK_ZERO.match(digits) else digits


# How well a customer matches `q`, best first: the search lists the ranks in this order.
EXACT = 0  # q is their whole email address, or their phone number in any spelling
NAME_WORD = 1  # a word of the name starts with q: "jan" -> Jan Bakker, "vries" -> Ann de Vries
EMAIL_START = 2  # the email address starts with q
ELSEWHERE = 3  # q is somewhere in name, email, phone, contact person or VAT number
RANKS = (EXACT, NAME_WORD, EMAIL_START, ELSEWHERE)


# Digits enough to be held by few customers: 1 phone number in 10,000 holds five given
# digits at a given place.
RARE_DIGITS = 5

# What the trigram index is asked for when the fragment is long (SearchTerms.looked_up):
# the index reads, for each trigram, the customers holding it, so trigrams most
# customers hold ("inf", "@gm", ".nl") cost the most and narrow the least.
LOOKED_UP_DIGITS = 7  # 7 given digits in a row: about 1 phone number in 200,000
SHORTEST_EMAIL_PART = 6
# The digits index (ix_customers_search_digits) holds every run of this many digits
# (0-9) in a customer's search text: five given digits are held by about 150 customers
# in a million, where each of their trigrams is held by tens of thousands.
DIGIT_GRAM = RARE_DIGITS
_DIGIT_RUN = re.compile(f"[0-9]{{{DIGIT_GRAM},}}")
# Words the trigram index is asked for one by one (SearchTerms.looked_up_words): runs of
# ASCII letters and digits, which hold a trigram of their own in any database locale.
_TRIGRAM_WORD = re.compile(r"[a-z0-9]{3,}")
MOST_WORDS_LOOKED_UP = 3


def digit_grams(text: str) -> list[str]:
    """Every DIGIT_GRAM digits in a row in ``text``, each once, sorted: what the digits
    index holds of a search text (the SQL function ``customers.digit_grams`` is this).
    A text that contains another holds all of its grams, so a customer holding the
    fragment is always among those holding its grams."""
    return sorted(
        {
            run[i : i + DIGIT_GRAM]
            for run in _DIGIT_RUN.findall(text)
            for i in range(len(run) - DIGIT_GRAM + 1)
        }
    )


@dataclass(frozen=True)
class SearchTerms:
    """What a search looks for (the parts looked up worked out once each: a search's
    statements ask for them more than once). Every customer found contains ``fragment``;
    ``email`` and ``phone`` are q read as a whole address or number, when it can be one;
    ``rare``: so few customers can hold it that all of them may be ranked at once."""

    fragment: str
    email: str | None
    phone: str | None

    @property
    def rare(self) -> bool:
        return bool(self.email or self.phone) or (
            self.fragment.isdigit() and len(self.fragment) >= RARE_DIGITS
        )

    @functools.cached_property
    def looked_up_grams(self) -> list[str]:
        """``looked_up``'s digit grams: when there are any, the digits index is asked for
        them instead of the trigram index for ``looked_up`` (at a million customers 0.05-0.3
        ms against 1.3-2.5, "879142", "kosterbloemen470260", docs/performance.md)."""
        return digit_grams(self.looked_up)

    @functools.cached_property
    def looked_up_words(self) -> list[str]:
        """The words of ``looked_up`` the trigram index is asked for each on its own (the
        longest MOST_WORDS_LOOKED_UP), when it has two or more: ``LIKE '%koen%' AND LIKE
        '%bru%'`` reads only the trigrams inside the words, where ``LIKE '%koen bru%'``
        also reads those of a word's start and end ("  b", " br", "en "), the most common
        ones: at a million customers 2.4 against 9.5 ms in the index for the same 187
        candidates (docs/performance.md). Empty: ``looked_up`` whole. The trigram index
        never held which word follows which, so nothing is lost: every candidate is
        checked for the whole fragment."""
        words = sorted(set(_TRIGRAM_WORD.findall(self.looked_up)), key=lambda word: (-len(word), word))
        return words[:MOST_WORDS_LOOKED_UP] if len(words) >= 2 else []

    @functools.cached_property
    def looked_up(self) -> str:
        """The part of ``fragment`` a rare search asks the trigram index for; each
        customer found is then checked for the whole fragment. Whoever holds the
        fragment holds this part, so none is missed. Of a whole email address, the
        longer of its local part and its domain's name ("info@bakker-bouw.nl":
        "bakker-bouw", "jan.smit@gmail.com": "jan.smit"); of a long number, its last
        LOOKED_UP_DIGITS digits; else all of it. (At a million customers the index took
        10-13 ms for "info@kosterbloemen470260.nl" and 2.6 for "kosterbloemen470260".)"""
        if self.email:
            local, _, domain = self.fragment.rpartition("@")
            part = max(local, domain.rpartition(".")[0], key=len)
            return part if len(part) >= SHORTEST_EMAIL_PART else self.fragment
        if self.fragment.isdigit() and len(self.fragment) > LOOKED_UP_DIGITS:
            return self.fragment[-LOOKED_UP_DIGITS:]
        return self.fragment


def search_terms(q: str, *, region: str) -> SearchTerms:
    stripped = q.strip()
    phone = None
    if _phone_like(stripped):
        # Digits that make no whole number are still looked for as a fragment.
        with contextlib.suppress(ValueError):
            phone = normalise_phone(stripped, region=region)
    email = stripped.lower() if _WHOLE_EMAIL.fullmatch(stripped) else None
    return SearchTerms(
        fragment=search_fragment(stripped, whole_number=phone is not None), email=email, phone=phone
    )


_LAST_CODE_POINT = 0x10FFFF
_SURROGATES = range(0xD800, 0xE000)


def after_prefix(prefix: str) -> str | None:
    """The least text greater, in code point order (collation C), than every text that
    starts with ``prefix``: ``starts with prefix`` is ``prefix <= x < after_prefix``,
    a range a B-tree index answers with the values bound later (``LIKE 'x%'`` becomes a
    range only where the pattern is written into the statement). None where there is
    none (only U+10FFFF after the empty text)."""
    kept = prefix.rstrip(chr(_LAST_CODE_POINT))
    if not kept:
        return None
    following = ord(kept[-1]) + 1
    if following in _SURROGATES:  # no text holds these
        following = _SURROGATES.stop
    return kept[:-1] + chr(following)


def default_payment_terms_days(kind: str, *, business_days: int) -> int:
    """The terms of a customer registered without any: a person pays on collection,
    a business on account (``business_days``, the garage's setting)."""
    return business_days if kind == "business" else PERSON_PAYMENT_TERMS_DAYS


def validate_customer(fields: Mapping[str, Any], *, default_region: str) -> dict[str, Any]:
    """Check a customer's complete field set; return it with email and phone normalised."""
    errors: dict[str, list[str]] = {}
    result = dict(fields)

    def fail(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if not (result.get("name") or "").strip():
        fail("name", "must not be blank")
    else:
        result["name"] = result["name"].strip()

    if result.get("email"):
        try:
            result["email"] = normalise_email(result["email"])
        except EmailNotValidError as exc:
            fail("email", str(exc))
    if result.get("phone"):
        region = result.get("country") or default_region
        try:
            result["phone"] = normalise_phone(result["phone"], region=region)
        except ValueError as exc:
            fail("phone", str(exc))
    if not result.get("email") and not result.get("phone"):
        fail("email", "give an email address or a phone number (or both)")

    if result.get("kind") == "person":
        for business_only in ("vat_number", "contact_person"):
            if result.get(business_only):
                fail(business_only, "only a business customer has this")
    if result.get("vat_number"):
        vat = re.sub(r"[\s.-]", "", result["vat_number"]).upper()
        if not _VAT_NUMBER.match(vat):
            fail("vat_number", "must be a country code followed by the number, e.g. NL123456789B01")
        result["vat_number"] = vat

    country = result.get("country")
    if country and country not in COUNTRIES:
        fail("address.country", "must be an ISO 3166-1 alpha-2 code, e.g. NL")
    language = result.get("preferred_language")
    if language and not _LANGUAGE.match(language):
        fail("preferred_language", "must be a language tag such as 'nl' or 'en-GB'")

    terms = result.get("payment_terms_days")
    if terms is not None and not 0 <= terms <= MAX_PAYMENT_TERMS_DAYS:
        fail("payment_terms_days", f"must be between 0 and {MAX_PAYMENT_TERMS_DAYS} days")

    channel = result.get("preferred_channel")
    if channel is None:  # not chosen: the channel the customer can actually be reached on
        channel = result["preferred_channel"] = (
            "email" if result.get("email") else "sms" if result.get("phone") else "none"
        )
    if channel == "email" and not result.get("email"):
        fail("preferred_channel", "email is preferred but no email address is given")
    if channel == "sms" and not result.get("phone"):
        fail("preferred_channel", "sms is preferred but no phone number is given")

    if errors:
        raise InvalidCustomer(errors)
    return result


@dataclass(frozen=True)
class ConsentEvent:
    channel: str
    purpose: str
    granted: bool
    recorded_at: datetime


def current_consents(events: Iterable[ConsentEvent], *, erased: bool = False) -> dict[str, dict[str, bool]]:
    """The state per channel and purpose: the latest event wins, else the default.
    An erased customer may not be contacted at all."""
    state = {channel: dict(DEFAULT_CONSENT) for channel in CONSENT_CHANNELS}
    for event in sorted(events, key=lambda e: e.recorded_at):
        state[event.channel][event.purpose] = event.granted
    if erased:
        state = {channel: {purpose: False for purpose in PURPOSES} for channel in CONSENT_CHANNELS}
    return state


def erased_fields() -> dict[str, Any]:
    """What is left of a customer after GDPR erasure: no personal data at all."""
    return {
        "name": ERASED_NAME,
        "vat_number": None,
        "contact_person": None,
        "email": None,
        "phone": None,
        "street": None,
        "postal_code": None,
        "city": None,
        "country": None,
        "notes": None,
        "preferred_channel": "none",
        "status": "erased",
    }
