"""Notification rules in plain Python: which types exist, whether and how a customer
may be told, which template speaks their language, how texts are rendered (Jinja2,
sandboxed), and what happens after a failed try."""

from __future__ import annotations

import functools
import random
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

from service_kit.documents.formats import MONTHS, WEEKDAYS
from service_kit.problems import Conflict, NotFound, Unprocessable
from service_kit.retry import RetryPolicy

TYPES = (
    "appointment_confirmed",
    "appointment_rescheduled",
    "appointment_cancelled",
    "appointment_reminder",
    "estimate_ready",
    "job_on_hold",
    "vehicle_ready",
    "invoice_issued",
    "payment_reminder",
    "password_reset",
    # issue 18: the customer portal's links
    "feedback_request",
    "booking_invitation",
    # issue 19: bringing customers back
    "service_due",
    "inspection_due",
    "declined_work",
    # issue 19: staff's answer in an SMS conversation (replies.py)
    "sms_reply",
)
# Types only this service makes (staff's answer in a conversation: replies.py), never
# asked for through POST /api/v1/notifications.
INTERNAL_TYPES = ("sms_reply",)
REQUESTABLE_TYPES = tuple(t for t in TYPES if t not in INTERNAL_TYPES)
# Types addressed to someone who is not a customer (a member of staff), by email,
# with an ``addressee`` instead of a ``customer_id``: service messages (direct.py).
DIRECT_TYPES = ("password_reset",)
CHANNELS = ("email", "sms")
# Web Push (issue 19): to the customer's subscribed browsers and phones (push.py).
# Not a customer-management channel: a subscription is the customer's own choice,
# made on their device; email or SMS are the fallback where preferences allow.
PUSH = "push"
REQUEST_CHANNELS = (*CHANNELS, PUSH)
PENDING, SENT, FAILED, DEAD, SKIPPED = "pending", "sent", "failed", "dead", "skipped"
STATUSES = (PENDING, SENT, FAILED, DEAD, SKIPPED)
# Still to deliver: the dispatcher claims these when they are due.
DUE_STATUSES = (PENDING, FAILED)
# Staff may send these again: dead ones after a fix, skipped ones after the customer
# added contact data or consent (both are checked again at delivery).
RETRYABLE_STATUSES = (DEAD, SKIPPED)
OUTCOMES = (SENT, FAILED, DEAD, SKIPPED)
# Which consent a message needs (docs/notifications.md). Most types follow from what
# the customer booked or bought: service messages. A request for feedback on the visit
# just made is one message about that visit: a service message unless the garage says
# otherwise (FEEDBACK_REQUESTS_ARE_SERVICE_MESSAGES). The follow-ups invite a visit
# the customer did not ask for: marketing unless the garage says otherwise
# (FOLLOW_UPS_ARE_SERVICE_MESSAGES).
SERVICE, MARKETING = "service", "marketing"
PURPOSE = SERVICE  # of every type not named below
FEEDBACK_TYPES = ("feedback_request",)
FOLLOW_UP_TYPES = ("booking_invitation", "service_due", "inspection_due", "declined_work")

SKIP_REASONS = {
    "customer_erased": "the customer has been erased",
    "no_channel": "the customer asked not to be contacted",
    "opted_out": "the customer withdrew consent for service messages on this channel",
    "no_marketing_consent": "the customer has not consented to marketing messages on this channel",
    "no_email_address": "the customer has no email address",
    "no_phone_number": "the customer has no phone number",
}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Z]{2})?$")
MAX_ERROR_LENGTH = 2000


# ------------------------------------------------------------------------------ errors


class NotificationNotFound(NotFound):
    def __init__(self, notification_id: object) -> None:
        super().__init__(f"notification {notification_id} does not exist")


class NotRetryable(Conflict):
    def __init__(self, notification_id: object, status: str) -> None:
        super().__init__(
            f"notification {notification_id} is {status}; only a dead or skipped one can be sent again",
            status_now=status,
        )


class IdempotencyKeyReused(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "this Idempotency-Key already made a notification with a different request",
            errors={"Idempotency-Key": ["already used with a different request"]},
        )


class InvalidNotification(Unprocessable):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the notification request breaks one or more rules", errors=errors)


class UnknownType(NotFound):
    def __init__(self, type_: str) -> None:
        super().__init__(f"there is no notification type {type_!r}; types are {', '.join(TYPES)}")


class TemplateNotFound(NotFound):
    def __init__(self, type_: str, language: str, detail: str | None = None) -> None:
        super().__init__(detail or f"there is no {type_} template in {language!r}")


class InvalidTemplate(Unprocessable):
    """A template does not compile; ``errors`` names the field and the line."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the template does not compile", errors=errors)


class TemplateRenderFailed(Unprocessable):
    """A template compiled but could not be rendered with the data it was given."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"the {field} could not be rendered: {message}", errors={field: [message]})


# ------------------------------------------------------------------------ the request


def is_language(tag: str) -> bool:
    return LANGUAGE.fullmatch(tag) is not None


def validate_language(language: str) -> None:
    if not is_language(language):
        raise Unprocessable.on_field("language", "must be a language tag such as 'nl' or 'en-GB'")


def check_attachments(attachments: Iterable[Mapping[str, Any]], *, allowed_bases: Iterable[str]) -> None:
    """An attachment is fetched by this service, so its URL must lie under a source we
    are configured to fetch from (e.g. invoicing): anything else could make us fetch
    an address inside our network on a caller's behalf."""
    bases = [base.rstrip("/") + "/" for base in allowed_bases]
    errors: dict[str, list[str]] = {}
    for index, attachment in enumerate(attachments):
        url = attachment["url"]
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            errors[f"attachments.{index}.url"] = ["must be an absolute http(s) URL"]
        elif not any(url.startswith(base) for base in bases):
            allowed = ", ".join(b.rstrip("/") for b in bases) or "none configured"
            errors[f"attachments.{index}.url"] = [f"must be a URL of an attachment source ({allowed})"]
    if errors:
        raise InvalidNotification(errors)


def same_request(stored: Mapping[str, Any], incoming: Mapping[str, Any]) -> bool:
    """Does a repeated request (same Idempotency-Key) ask for the same notification?"""
    fields = ("customer_id", "addressee", "type", "data", "channel", "attachments")
    return all(stored.get(f) == incoming.get(f) for f in fields)


# --------------------------------------------------------------------------- delivery


class Contact(Protocol):
    """What delivery needs to know of a customer (customer-management owns it); read
    only, so the client's frozen dataclass is one."""

    @property
    def status(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone(self) -> str | None: ...
    @property
    def preferred_channel(self) -> str: ...
    @property
    def preferred_language(self) -> str: ...
    @property
    def consents(self) -> Mapping[str, Mapping[str, bool]]: ...
    @property
    def kind(self) -> str: ...
    @property
    def contact_person(self) -> str | None: ...


def greeted_name(customer: Contact) -> str:
    """Whom a message greets: a business's contact person ("Dear Piet Jansen," not
    "Dear Jansen Transport B.V.,"); a person, or a business without a contact person,
    by the customer's name."""
    contact_person = (customer.contact_person or "").strip()
    if customer.kind == "business" and contact_person:
        return contact_person
    return customer.name


@dataclass(frozen=True)
class Deliver:
    channel: str
    address: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Skip:
    reason: str

    @property
    def detail(self) -> str:
        return SKIP_REASONS[self.reason]


@dataclass(frozen=True)
class ConsentRules:
    """The garage's choices of which types count as service messages."""

    feedback_requests_are_service: bool = True
    follow_ups_are_service: bool = False

    def purpose(self, type_: str) -> str:
        """The consent a message of ``type_`` needs on its channel: service or marketing."""
        if type_ in FEEDBACK_TYPES:
            return SERVICE if self.feedback_requests_are_service else MARKETING
        if type_ in FOLLOW_UP_TYPES:
            return SERVICE if self.follow_ups_are_service else MARKETING
        return PURPOSE


def plan_delivery(
    *, requested_channel: str | None, customer: Contact, default_language: str, purpose: str = SERVICE
) -> Deliver | Skip:
    """How to reach the customer now, or why not to. The channel is the one the request
    asked for, else the customer's preferred one; it is never swapped for another. A
    marketing message needs the marketing consent on the channel and the service one
    too: a customer who withdrew service messages (an SMS STOP) hears nothing there."""
    if customer.status == "erased":
        return Skip("customer_erased")
    channel = requested_channel or customer.preferred_channel
    if channel not in CHANNELS:
        return Skip("no_channel")
    consents = customer.consents.get(channel) or {}
    if not consents.get(SERVICE, False):
        return Skip("opted_out")
    if purpose == MARKETING and not consents.get(MARKETING, False):
        return Skip("no_marketing_consent")
    address = customer.email if channel == "email" else customer.phone
    if not address:
        return Skip("no_email_address" if channel == "email" else "no_phone_number")
    return Deliver(
        channel=channel,
        address=address,
        languages=language_candidates(customer.preferred_language, default=default_language),
    )


def language_candidates(preferred: str | None, *, default: str) -> tuple[str, ...]:
    """``en-GB`` -> ("en-GB", "en", default): the most specific template first."""
    candidates: list[str] = []
    if preferred:
        candidates.append(preferred)
        primary = preferred.split("-")[0].lower()
        candidates.append(primary)
    candidates.append(default)
    return tuple(dict.fromkeys(candidates))


@dataclass(frozen=True)
class QuietHours:
    """No marketing SMS between ``start`` and ``end`` (local times in the garage's time
    zone; ``start`` after ``end`` spans midnight): such a message is held until ``end``.
    Equal times: no quiet hours."""

    start: time = time(21, 0)
    end: time = time(8, 0)
    timezone: str = "Europe/Amsterdam"

    @classmethod
    def parse(cls, start: str, end: str, timezone: str) -> QuietHours:
        return cls(time.fromisoformat(start), time.fromisoformat(end), timezone)

    def _quiet(self, moment: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end

    def held_until(self, now: datetime) -> datetime | None:
        """When a message that may not go out now may go out; None: it may now."""
        local = now.astimezone(ZoneInfo(self.timezone))
        if not self._quiet(local.time()):
            return None
        day = local.date() if local.time() < self.end else local.date() + timedelta(days=1)
        # Wall-clock end of the quiet hours that day, as an aware moment (DST-safe).
        return datetime.combine(day, self.end, tzinfo=ZoneInfo(self.timezone)).astimezone(UTC)


def is_held(*, purpose: str, channel: str) -> bool:
    """Quiet hours apply to marketing by SMS (a text wakes people; an email does not)."""
    return purpose == MARKETING and channel == "sms"


def mask_address(channel: str, address: str) -> str:
    """Enough of an address to see where a message went, without keeping a copy of it."""
    if channel == "email":
        local, _, domain = address.partition("@")
        return f"{local[:1]}***@{domain}"
    return f"{address[:3]}{'*' * max(len(address) - 7, 0)}{address[-4:]}"


def after_failure(
    *, failures: int, policy: RetryPolicy, now: datetime, rng: Callable[[], float] = random.random
) -> tuple[str, datetime | None]:
    """The status after ``failures`` failed tries in a row: ``failed`` with when to try
    again, or ``dead`` when the policy gives up."""
    if policy.gives_up(failures):
        return DEAD, None
    return FAILED, now + timedelta(seconds=policy.delay(failures, rng=rng))


def clip_error(message: str) -> str:
    return message if len(message) <= MAX_ERROR_LENGTH else message[: MAX_ERROR_LENGTH - 1] + "…"


# -------------------------------------------------------------------------- templates


@dataclass(frozen=True)
class TemplateTexts:
    subject: str
    body: str
    sms_body: str


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    body: str
    sms_body: str


TEMPLATE_FIELDS = ("subject", "body", "sms_body")
_BLANK_LINES = re.compile(r"\n{3,}")
_TRAILING_SPACE = re.compile(r"[ \t]+$", re.MULTILINE)

_AT = {"en": "at", "nl": "om"}
_CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}


def _parse_moment(value: Any, zone: ZoneInfo) -> datetime | date | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        return value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
        if len(value) == 10:  # a plain date: no time of day to convert
            return moment.date()
    else:
        return None
    return moment.astimezone(zone) if moment.tzinfo else moment.replace(tzinfo=zone)


def _filters(language: str, zone: ZoneInfo) -> dict[str, Callable[..., str]]:
    words = language.split("-")[0] if language.split("-")[0] in MONTHS else "en"

    def format_date(value: Any) -> str:
        moment = _parse_moment(value, zone)
        if moment is None:
            return str(value)
        day = moment.date() if isinstance(moment, datetime) else moment
        return f"{WEEKDAYS[words][day.weekday()]} {day.day} {MONTHS[words][day.month - 1]} {day.year}"

    def format_time(value: Any) -> str:
        moment = _parse_moment(value, zone)
        return moment.strftime("%H:%M") if isinstance(moment, datetime) else str(value)

    def format_datetime(value: Any) -> str:
        moment = _parse_moment(value, zone)
        if not isinstance(moment, datetime):
            return format_date(value)
        return f"{format_date(moment)} {_AT[words]} {format_time(moment)}"

    def money(minor: Any, currency: str = "EUR") -> str:
        try:
            amount = int(minor)
        except (TypeError, ValueError):
            return str(minor)
        sign = "-" if amount < 0 else ""
        units, cents = divmod(abs(amount), 100)
        separator = "," if words == "nl" else "."
        grouping = "." if words == "nl" else ","
        whole = f"{units:,}".replace(",", grouping)
        symbol = _CURRENCY_SYMBOLS.get(currency, f"{currency} ")
        return (
            f"{sign}{symbol}{' ' if words == 'nl' and len(symbol) == 1 else ''}{whole}{separator}{cents:02d}"
        )

    def number(value: Any) -> str:
        """A whole number grouped as the language writes it: 15,000 (en), 15.000 (nl)."""
        try:
            amount = int(value)
        except (TypeError, ValueError):
            return str(value)
        return f"{amount:,}".replace(",", "." if words == "nl" else ",")

    return {
        "date": format_date,
        "time": format_time,
        "datetime": format_datetime,
        "money": money,
        "number": number,
    }


@functools.lru_cache(maxsize=64)
def _environment(language: str, timezone: str) -> SandboxedEnvironment:
    try:
        zone = ZoneInfo(timezone)
    except ZoneInfoNotFoundError as exc:
        raise ValueError(f"unknown time zone {timezone!r}") from exc
    # Sandboxed: a template is text staff edit through the API, and must not reach
    # into Python. StrictUndefined: a missing value fails loudly instead of leaving
    # a hole in a message a customer reads.
    environment = SandboxedEnvironment(
        undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
    )
    environment.filters.update(_filters(language, zone))
    return environment


@functools.lru_cache(maxsize=1024)
def _compile(language: str, timezone: str, source: str) -> Any:
    return _environment(language, timezone).from_string(source)


def check_template(texts: TemplateTexts) -> None:
    """Raise ``InvalidTemplate`` unless every field compiles."""
    errors: dict[str, list[str]] = {}
    for field in TEMPLATE_FIELDS:
        source = getattr(texts, field)
        if not source.strip():
            errors[field] = ["must not be blank"]
            continue
        try:
            _environment("en", "UTC").parse(source)
        except TemplateSyntaxError as exc:
            errors[field] = [f"line {exc.lineno}: {exc.message}"]
    if errors:
        raise InvalidTemplate(errors)


def render(
    texts: TemplateTexts, context: Mapping[str, Any], *, language: str, timezone: str
) -> RenderedMessage:
    """Render every field; ``TemplateRenderFailed`` names the first that fails."""
    rendered: dict[str, str] = {}
    for field in TEMPLATE_FIELDS:
        try:
            text = _compile(language, timezone, getattr(texts, field)).render(**context)
        except TemplateSyntaxError as exc:
            raise TemplateRenderFailed(field, f"line {exc.lineno}: {exc.message}") from exc
        except UndefinedError as exc:
            raise TemplateRenderFailed(field, exc.message or "a value is missing") from exc
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise TemplateRenderFailed(field, str(exc)) from exc
        # Optional lines that rendered to nothing leave no gaps: one blank line at most.
        rendered[field] = _BLANK_LINES.sub("\n\n", _TRAILING_SPACE.sub("", text)).strip()
    # A subject is one header line: newlines would break (or inject) headers.
    rendered["subject"] = " ".join(rendered["subject"].split())
    if not rendered["subject"] or not rendered["body"] or not rendered["sms_body"]:
        empty = next(f for f in TEMPLATE_FIELDS if not rendered[f])
        raise TemplateRenderFailed(empty, "rendered to nothing")
    return RenderedMessage(**rendered)


def template_context(data: Mapping[str, Any], *, customer_name: str, garage_name: str) -> dict[str, Any]:
    """What a template sees: the request's data, and the ``customer`` and ``garage``;
    ``customer.name`` is the name the message greets (``greeted_name``)."""
    return {**data, "customer": {"name": customer_name}, "garage": {"name": garage_name}}


def pick_template(
    templates: Mapping[str, TemplateTexts], languages: Iterable[str]
) -> tuple[str, TemplateTexts] | None:
    for language in languages:
        if language in templates:
            return language, templates[language]
    return None


# What a caller is expected to send in ``data`` per type: the preview renders with
# this, merged with whatever the editor passes.
SAMPLE_CUSTOMER_NAME = "Ann de Vries"
SAMPLE_DATA: dict[str, dict[str, Any]] = {
    "appointment_confirmed": {
        "appointment_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "start": "2026-03-17T09:30:00+01:00",
        "end": "2026-03-17T11:00:00+01:00",
        "vehicle": "Volkswagen Golf",
        "plate": "AB-123-C",
        "work": "Annual service",
        "link_url": "https://portal.garage.example/appointment/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "appointment_rescheduled": {
        "appointment_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "previous_start": "2026-03-17T09:30:00+01:00",
        "start": "2026-03-19T14:00:00+01:00",
        "end": "2026-03-19T15:30:00+01:00",
        "vehicle": "Volkswagen Golf",
        "plate": "AB-123-C",
        "link_url": "https://portal.garage.example/appointment/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "appointment_cancelled": {
        "appointment_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "start": "2026-03-17T09:30:00+01:00",
        "vehicle": "Volkswagen Golf",
        "plate": "AB-123-C",
        "reason": "the part did not arrive in time",
    },
    "appointment_reminder": {
        "appointment_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
        "start": "2026-03-17T09:30:00+01:00",
        "vehicle": "Volkswagen Golf",
        "plate": "AB-123-C",
        "link_url": "https://portal.garage.example/appointment/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "estimate_ready": {
        "job_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        "estimate_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d",
        "currency": "EUR",
        "message": "The rear brake pads are worn.",
        "lines": [
            {"description": "Brake pads, rear", "gross": 8470},
            {"description": "Fitting brake pads", "gross": 6050},
        ],
        "total_net": 12000,
        "total_vat": 2520,
        "total_gross": 14520,
        "link_url": "https://portal.garage.example/estimate/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "job_on_hold": {
        "job_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "reason": "waiting for a part",
        "awaiting_approval": False,
    },
    "vehicle_ready": {
        "job_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "description": "Annual service",
        "completed_at": "2026-03-17T16:05:00+01:00",
    },
    "invoice_issued": {
        "invoice_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f",
        "number": "2026-000042",
        "currency": "EUR",
        "total_gross": 24200,
        "due_date": "2026-03-31",
        "pay_url": "https://portal.garage.example/invoice/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "payment_reminder": {
        "invoice_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5f",
        "number": "2026-000042",
        "currency": "EUR",
        "outstanding": 24200,
        "due_date": "2026-03-31",
        "pay_url": "https://portal.garage.example/invoice/eyJhbGciOiJIUzI1NiJ9.sample.signature",
    },
    "password_reset": {
        "link": "https://garage.example/oauth/password-reset/new?token=sample",
        "expires_minutes": 30,
    },
    "sms_reply": {"text": "Your car is ready; we are open until 18:00."},
    "feedback_request": {
        "job_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        "link_url": "https://portal.garage.example/feedback/eyJhbGciOiJIUzI1NiJ9.sample.signature",
        "visit_date": "2026-03-17",
        "plate": "AB-123-C",
        "make": "Volkswagen",
        "model": "Golf",
    },
    "booking_invitation": {
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "link_url": "https://portal.garage.example/book/eyJhbGciOiJIUzI1NiJ9.sample.signature",
        "plate": "AB-123-C",
        "make": "Volkswagen",
        "model": "Golf",
    },
    "service_due": {
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "link_url": "https://portal.garage.example/book/eyJhbGciOiJIUzI1NiJ9.sample.signature",
        "plate": "AB-123-C",
        "make": "Volkswagen",
        "model": "Golf",
        "due_date": "2026-06-01",
        "due_km": 120000,
    },
    "inspection_due": {
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "link_url": "https://portal.garage.example/book/eyJhbGciOiJIUzI1NiJ9.sample.signature",
        "plate": "AB-123-C",
        "make": "Volkswagen",
        "model": "Golf",
        "due_date": "2026-06-01",
    },
    "declined_work": {
        "vehicle_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5e",
        "job_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
        "link_url": "https://portal.garage.example/book/eyJhbGciOiJIUzI1NiJ9.sample.signature",
        "plate": "AB-123-C",
        "make": "Volkswagen",
        "model": "Golf",
        "visit_date": "2026-03-17",
        "currency": "EUR",
        "lines": [
            {"description": "Brake pads, rear", "gross": 8470},
            {"description": "Wiper blades"},
        ],
    },
}
