"""The API's shapes (marshmallow); the OpenAPI contract is generated from them."""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

import marshmallow as ma
from marshmallow import validate

from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import SINGLE_LINE, UtcDateTime
from workshop_scheduling.clients.notification_management import INVITATION_TYPES
from workshop_scheduling.domain.appointments import JOB_LIFECYCLE, STATUSES, InWorkshopTime
from workshop_scheduling.domain.workshop import SLOT_CHOICES, SLUG, WEEKDAYS

CLOCK_PATTERN = r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$"
WEEK_PATTERN = r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$"
JOB_STATUSES = ("scheduled", "in_progress", "on_hold", "completed", "cancelled", "missing", "unknown")


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(v) for v in value)
    return False


class InputSchema(ma.Schema):
    """Input: text PostgreSQL cannot store (NUL characters) is refused up front."""

    @ma.pre_load
    def _no_nul(self, data: Any, **_: Any) -> Any:
        if hasattr(data, "items") and any(_has_nul(k) or _has_nul(v) for k, v in data.items()):
            raise ma.ValidationError("text must not contain NUL characters")
        return data


class Instant(ma.fields.AwareDateTime):
    """A stored instant, always written in UTC."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return super()._serialize(value.astimezone(UTC) if value else value, attr, obj, **kwargs)


# Dates a garage can mean; outside them time-zone arithmetic would overflow.
FIRST_DATE, LAST_DATE = date(1970, 1, 1), date(2999, 12, 31)
SANE_DATE = validate.Range(min=FIRST_DATE, max=LAST_DATE, error="must be between 1970 and 2999")
SANE_MOMENT = validate.Range(
    min=datetime(1970, 1, 2, tzinfo=UTC),
    max=datetime(2999, 12, 30, tzinfo=UTC),
    error="must be between 1970 and 2999",
)


def _moment(**kwargs: Any) -> ma.fields.AwareDateTime:
    return UtcDateTime(validate=SANE_MOMENT, **kwargs)


def _date(**kwargs: Any) -> ma.fields.Date:
    return ma.fields.Date(validate=SANE_DATE, **kwargs)


def _slug(**kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            validate.Length(min=1, max=40),
            validate.Regexp(SLUG, error="lower-case letters, digits, - and _"),
        ],
        **kwargs,
    )


# ----------------------------------------------------------------------------- settings


class OpeningIntervalSchema(ma.Schema):
    opens = ma.fields.String(
        required=True,
        validate=[validate.Length(equal=5), validate.Regexp(CLOCK_PATTERN)],
        metadata={"example": "08:00"},
    )
    closes = ma.fields.String(
        required=True,
        validate=[validate.Length(equal=5), validate.Regexp(CLOCK_PATTERN)],
        metadata={"example": "17:30", "description": "up to 24:00"},
    )


def _week_fields(required: bool) -> dict[str, ma.fields.Field]:
    return {
        day: ma.fields.List(
            ma.fields.Nested(OpeningIntervalSchema),
            validate=validate.Length(max=6),
            **({"required": True} if required else {"load_default": list}),
        )
        for day in WEEKDAYS
    }


OpeningHoursSchema = ma.Schema.from_dict(_week_fields(required=True), name="OpeningHours")
OpeningHoursInputSchema = ma.Schema.from_dict(_week_fields(required=False), name="OpeningHoursInput")


class ClosedDateSchema(ma.Schema):
    date = _date(required=True)
    reason = ma.fields.String(allow_none=True, validate=validate.Length(max=200))


class StoredClosedDateSchema(ma.Schema):
    date = ma.fields.String(required=True, metadata={"format": "date"})
    reason = ma.fields.String(required=True, allow_none=True)


class SettingsSchema(ma.Schema):
    time_zone = ma.fields.String(required=True, metadata={"description": "IANA name, e.g. Europe/Amsterdam"})
    slot_minutes = ma.fields.Integer(required=True)
    booking_horizon_days = ma.fields.Integer(required=True)
    opening_hours = ma.fields.Nested(
        OpeningHoursSchema, required=True, metadata={"description": "wall-clock times in time_zone"}
    )
    closed_dates = ma.fields.List(ma.fields.Nested(StoredClosedDateSchema), required=True)
    updated_at = Instant(required=True)
    version = ma.fields.Integer(required=True)


class SettingsUpdateSchema(InputSchema):
    time_zone = ma.fields.String(required=True, validate=validate.Length(min=1, max=64))
    slot_minutes = ma.fields.Integer(
        load_default=15,
        validate=validate.OneOf(SLOT_CHOICES),
        metadata={"description": "the grid appointments start and end on"},
    )
    booking_horizon_days = ma.fields.Integer(
        load_default=90,
        validate=validate.Range(min=1, max=730),
        metadata={"description": "how many days ahead bookings are allowed"},
    )
    opening_hours = ma.fields.Nested(
        OpeningHoursInputSchema,
        required=True,
        metadata={"description": "per day, intervals of wall-clock time; a missing day is closed"},
    )
    closed_dates = ma.fields.List(
        ma.fields.Nested(ClosedDateSchema), load_default=list, validate=validate.Length(max=1000)
    )


# ---------------------------------------------------------------------- bays, technicians


class BaySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"example": "lift"})
    active = ma.fields.Boolean(required=True)
    created_at = Instant(required=True)
    updated_at = Instant(required=True)
    version = ma.fields.Integer(required=True)


BayPageSchema = page_schema(BaySchema)


class BayCreateSchema(InputSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    kind = _slug(required=True, metadata={"description": "lift, alignment, diagnostics, ..."})
    active = ma.fields.Boolean(load_default=True)


class BayUpdateSchema(InputSchema):
    name = ma.fields.String(validate=validate.Length(min=1, max=60))
    kind = _slug()
    active = ma.fields.Boolean(
        metadata={"description": "false: no new bookings; refused while it has upcoming ones"}
    )


class BayQueryArgsSchema(PageArgsSchema, InputSchema):
    kind = _slug()
    active = ma.fields.Boolean()


class TechnicianSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    skills = ma.fields.List(ma.fields.String(), required=True)
    account_subject = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "their identity account's id (their token's subject): whose clock is theirs"
        },
    )
    active = ma.fields.Boolean(required=True)
    created_at = Instant(required=True)
    updated_at = Instant(required=True)
    version = ma.fields.Integer(required=True)


TechnicianPageSchema = page_schema(TechnicianSchema)


class TechnicianCreateSchema(InputSchema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=100))
    skills = ma.fields.List(_slug(), load_default=list, validate=validate.Length(max=30))
    active = ma.fields.Boolean(load_default=True)
    account_subject = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(min=1, max=200), SINGLE_LINE],
        metadata={"description": "their identity account's id (their token's subject); admins only"},
    )


class TechnicianUpdateSchema(InputSchema):
    name = ma.fields.String(validate=validate.Length(min=1, max=100))
    skills = ma.fields.List(_slug(), validate=validate.Length(max=30))
    active = ma.fields.Boolean()
    account_subject = ma.fields.String(
        allow_none=True,
        validate=[validate.Length(min=1, max=200), SINGLE_LINE],
        metadata={"description": "their identity account's id (their token's subject); admins only"},
    )


class TechnicianQueryArgsSchema(PageArgsSchema, InputSchema):
    skill = _slug()
    active = ma.fields.Boolean()
    account_subject = ma.fields.String(
        validate=[validate.Length(min=1, max=200), SINGLE_LINE],
        metadata={"description": "the technician of this account"},
    )


# --------------------------------------------------------------------------- appointments


class VehicleSummarySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    plate = ma.fields.String(required=True)
    make = ma.fields.String(required=True)
    model = ma.fields.String(required=True)


def _workshop_time(**kwargs: Any) -> ma.fields.AwareDateTime:
    clock = "on the workshop's clock, with the offset of that moment"
    metadata = kwargs.pop("metadata", {})
    description = f"{metadata['description']}; {clock}" if "description" in metadata else clock
    return ma.fields.AwareDateTime(metadata={**metadata, "description": description}, **kwargs)


class AppointmentSchema(ma.Schema):
    """Dumps an ``InWorkshopTime``: the appointment with its instants in the workshop's zone."""

    id = ma.fields.UUID(required=True)
    vehicle_id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True, metadata={"description": "the vehicle's owner when booked"})
    vehicle = ma.fields.Nested(
        VehicleSummarySchema,
        required=True,
        metadata={"description": "as vehicle-management had it when booked"},
    )
    start = _workshop_time(required=True, attribute="start_at")
    end = _workshop_time(required=True, attribute="end_at")
    bay_id = ma.fields.UUID(required=True)
    technician_id = ma.fields.UUID(required=True, allow_none=True)
    work_description = ma.fields.String(required=True)
    service_codes = ma.fields.List(ma.fields.String(), required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    job_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "in maintenance-job-management"}
    )
    job_status = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(JOB_LIFECYCLE),
        metadata={
            "description": "as maintenance-job-management last reported it (through its outbox, so "
            "moments late); null until it has"
        },
    )
    booked_by = ma.fields.String(required=True, metadata={"description": "who booked it: an account id"})
    booked_by_name = ma.fields.String(
        required=True, metadata={"description": "their name when they booked it"}
    )
    changed_by = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "who last moved or cancelled it: an account id, or customer-portal when the "
            "customer did; null until someone has"
        },
    )
    changed_by_name = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "their name at that moment"}
    )
    customer_confirmed_at = _workshop_time(
        required=True,
        allow_none=True,
        metadata={"description": "when the customer confirmed it through the customer portal"},
    )
    cancel_reason = ma.fields.String(required=True, allow_none=True)
    cancelled_at = _workshop_time(required=True, allow_none=True)
    checked_in_at = _workshop_time(required=True, allow_none=True)
    completed_at = _workshop_time(required=True, allow_none=True)
    no_show_at = _workshop_time(required=True, allow_none=True)
    created_at = _workshop_time(required=True)
    updated_at = _workshop_time(required=True)
    version = ma.fields.Integer(required=True)

    @ma.pre_dump
    def _in_workshop_time(self, shown: InWorkshopTime, **_: Any) -> dict[str, Any]:
        attributes = (field.attribute or name for name, field in self.dump_fields.items())
        return {attribute: shown.value(attribute) for attribute in attributes}


AppointmentPageSchema = page_schema(AppointmentSchema)


class AppointmentCreateSchema(InputSchema):
    vehicle_id = ma.fields.UUID(required=True, metadata={"description": "a vehicle of vehicle-management"})
    start = UtcDateTime(required=True, metadata={"description": "RFC 3339 with offset, on the slot grid"})
    end = UtcDateTime(required=True)
    bay_id = ma.fields.UUID(metadata={"description": "default: the first free active bay (of bay_kind)"})
    bay_kind = _slug(metadata={"description": "the kind of bay to choose from when bay_id is not given"})
    technician_id = ma.fields.UUID(allow_none=True)
    work_description = ma.fields.String(required=True, validate=validate.Length(min=1, max=1000))
    service_codes = ma.fields.List(
        ma.fields.String(
            validate=[validate.Length(min=1, max=20), validate.Regexp(r"^[A-Za-z0-9_.-]{1,20}$")]
        ),
        load_default=list,
        validate=validate.Length(max=20),
    )


class AppointmentRescheduleSchema(InputSchema):
    start = _moment(required=True)
    end = _moment(metadata={"description": "default: the same length as before"})
    bay_id = ma.fields.UUID(
        metadata={"description": "default: the same bay if free, else a free one of its kind"}
    )
    technician_id = ma.fields.UUID(allow_none=True, metadata={"description": "absent: keep; null: none"})


class CancelSchema(InputSchema):
    reason = ma.fields.String(allow_none=True, validate=validate.Length(max=500))


class AppointmentQueryArgsSchema(PageArgsSchema, InputSchema):
    vehicle_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()
    bay_id = ma.fields.UUID()
    technician_id = ma.fields.UUID()
    status = ma.fields.String(validate=validate.OneOf(STATUSES))
    starts_from = _moment(data_key="from", metadata={"description": "start at or after"})
    starts_before = _moment(data_key="to", metadata={"description": "start before"})
    plate = ma.fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={
            "description": "the vehicle's plate, any spelling (XD-123-Z = xd 123 z), looked up in "
            "vehicle-management (503 when it does not answer)"
        },
    )
    open = ma.fields.Boolean(
        metadata={
            "description": "true: only booked and checked_in (the visit that holds a bay); false: the others"
        }
    )


class JobStatusSchema(InputSchema):
    """maintenance-job-management's report of the job's status (sent through its outbox)."""

    job_id = ma.fields.UUID(required=True, metadata={"description": "the appointment's job"})
    job_status = ma.fields.String(required=True, validate=validate.OneOf(JOB_LIFECYCLE))
    job_version = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),  # a PostgreSQL integer, as the version is
        metadata={"description": "the job's version: one at or below the last applied is ignored"},
    )
    changed_at = _moment(required=True, metadata={"description": "when the status changed"})
    reason = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "why a cancelled job was cancelled; told to the customer"},
    )


# ---------------------------------------------------------------------------- availability


class AvailabilityQueryArgsSchema(InputSchema):
    first_day = _date(required=True, data_key="from", metadata={"description": "first local date"})
    last_day = _date(
        required=True, data_key="to", metadata={"description": "last local date, at most 31 days on"}
    )
    duration_minutes = ma.fields.Integer(
        required=True,
        data_key="duration",
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes, a multiple of the slot"},
    )
    bay_kind = _slug()
    technician_id = ma.fields.UUID(metadata={"description": "only times this technician is free too"})


class AvailableSlotSchema(ma.Schema):
    start = ma.fields.AwareDateTime(required=True, metadata={"description": "in the workshop's zone"})
    end = ma.fields.AwareDateTime(required=True)
    bay_ids = ma.fields.List(
        ma.fields.UUID(), required=True, metadata={"description": "free for the whole time"}
    )


class BayBriefSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)


class AvailabilitySchema(ma.Schema):
    time_zone = ma.fields.String(required=True)
    from_ = ma.fields.Date(required=True, data_key="from", attribute="from")
    to = ma.fields.Date(required=True)
    duration_minutes = ma.fields.Integer(required=True)
    bays = ma.fields.List(
        ma.fields.Nested(BayBriefSchema), required=True, metadata={"description": "the bays asked about"}
    )
    slots = ma.fields.List(ma.fields.Nested(AvailableSlotSchema), required=True)


# ------------------------------------------------------------------------------- planning


class TechnicianBriefSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    account_subject = ma.fields.String(required=True, allow_none=True)


class PlannedAppointmentSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    start = ma.fields.AwareDateTime(required=True, metadata={"description": "in the workshop's zone"})
    end = ma.fields.AwareDateTime(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    customer_id = ma.fields.UUID(required=True)
    vehicle = ma.fields.Nested(VehicleSummarySchema, required=True)
    bay = ma.fields.Nested(BayBriefSchema, required=True)
    technician = ma.fields.Nested(TechnicianBriefSchema, required=True, allow_none=True)
    work_description = ma.fields.String(required=True)
    service_codes = ma.fields.List(ma.fields.String(), required=True)
    job_id = ma.fields.UUID(required=True, allow_none=True)
    job_status = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(JOB_STATUSES),
        metadata={"description": "from maintenance-job-management; unknown when it did not answer"},
    )

    @ma.pre_dump
    def _flatten(self, item: dict[str, Any], **_: Any) -> dict[str, Any]:
        appointment = item["appointment"]
        return {
            "id": appointment.id,
            "start": item["start"],
            "end": item["end"],
            "status": appointment.status,
            "customer_id": appointment.customer_id,
            "vehicle": appointment.vehicle,
            "bay": appointment.bay,
            "technician": appointment.technician,
            "work_description": appointment.work_description,
            "service_codes": appointment.service_codes,
            "job_id": appointment.job_id,
            "job_status": item["job_status"],
        }


class PlanningDaySchema(ma.Schema):
    date = ma.fields.Date(required=True)
    closed = ma.fields.Boolean(required=True)
    closed_reason = ma.fields.String(required=True, allow_none=True)
    opening_hours = ma.fields.List(ma.fields.Nested(OpeningIntervalSchema), required=True)
    appointments = ma.fields.List(ma.fields.Nested(PlannedAppointmentSchema), required=True)


class PlanningSchema(ma.Schema):
    time_zone = ma.fields.String(required=True)
    from_ = ma.fields.Date(required=True, data_key="from", attribute="from")
    to = ma.fields.Date(required=True)
    job_statuses_complete = ma.fields.Boolean(
        required=True,
        metadata={
            "description": "false: maintenance-job-management did not answer; some job_status are unknown"
        },
    )
    days = ma.fields.List(ma.fields.Nested(PlanningDaySchema), required=True)


class PlanningQueryArgsSchema(InputSchema):
    include_cancelled = ma.fields.Boolean(load_default=False)


# --------------------------------------------------------------------- customer portal


class PortalVehicleSchema(ma.Schema):
    plate = ma.fields.String(required=True)
    make = ma.fields.String(required=True)
    model = ma.fields.String(required=True)


class PortalAppointmentSchema(ma.Schema):
    """The appointment as its link shows it to the customer: no ids, no staff details."""

    start = _workshop_time(required=True)
    end = _workshop_time(required=True)
    duration_minutes = ma.fields.Integer(required=True)
    time_zone = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    vehicle = ma.fields.Nested(PortalVehicleSchema, required=True)
    work = ma.fields.String(required=True, metadata={"description": "the work booked"})
    customer_confirmed_at = _workshop_time(required=True, allow_none=True)
    changeable_until = _workshop_time(
        required=True,
        metadata={"description": "start - PORTAL_CHANGE_CUTOFF_HOURS: moving or cancelling here ends then"},
    )
    changeable = ma.fields.Boolean(
        required=True,
        metadata={"description": "booked and before changeable_until: it can be moved or cancelled"},
    )


class PortalDayArgsSchema(InputSchema):
    day = _date(required=True, data_key="date", metadata={"description": "a local date (YYYY-MM-DD)"})


class PortalBookingDayArgsSchema(PortalDayArgsSchema):
    duration_minutes = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes, a multiple of the slot"},
    )


class PortalStartSchema(ma.Schema):
    start = ma.fields.AwareDateTime(required=True, metadata={"description": "in the workshop's zone"})
    end = ma.fields.AwareDateTime(required=True)


class PortalAvailabilitySchema(ma.Schema):
    date = ma.fields.Date(required=True)
    time_zone = ma.fields.String(required=True)
    duration_minutes = ma.fields.Integer(required=True)
    starts = ma.fields.List(ma.fields.Nested(PortalStartSchema), required=True)


class PortalMoveSchema(InputSchema):
    start = _moment(
        required=True, metadata={"description": "RFC 3339 with offset, a free start of availability"}
    )


class PortalCancelSchema(InputSchema):
    reason = ma.fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "the customer's own words, if they give any; told back to them"},
    )


class PortalWorkSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "the canned job's code"})
    name = ma.fields.String(required=True)
    duration_minutes = ma.fields.Integer(required=True, metadata={"description": "the time to book for it"})


class PortalBookingSchema(ma.Schema):
    vehicle = ma.fields.Nested(PortalVehicleSchema, required=True)
    bookable = ma.fields.Boolean(
        required=True, metadata={"description": "false: the vehicle is no longer registered (deregistered)"}
    )
    work = ma.fields.List(
        ma.fields.Nested(PortalWorkSchema),
        required=True,
        metadata={"description": "the garage's canned jobs; book one with its name as the description"},
    )
    work_complete = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: maintenance-job-management did not answer; other work only"},
    )
    other_work_duration_minutes = ma.fields.Integer(
        required=True, metadata={"description": "what to book for other work the customer describes"}
    )
    slot_minutes = ma.fields.Integer(required=True)
    booking_horizon_days = ma.fields.Integer(required=True)
    time_zone = ma.fields.String(required=True)
    link_expires_at = _workshop_time(required=True)


class PortalBookSchema(InputSchema):
    start = _moment(
        required=True, metadata={"description": "RFC 3339 with offset, a free start of availability"}
    )
    description = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=1000), validate.Regexp(r"\S", error="must not be blank")],
        metadata={"description": "the work, as the customer describes it (or a canned job's name)"},
    )
    duration_minutes = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=24 * 60),
        metadata={"description": "minutes, a multiple of the slot"},
    )


# Web Push: what the browser's PushSubscription.toJSON() gives, bounded as
# notification-management's push-subscriptions operation accepts it.
BASE64URL = r"^[A-Za-z0-9_-]+={0,2}$"


def _push_endpoint(value: str) -> None:
    """An https URL with a host and nothing hidden in it (no credentials, no spaces):
    notification-management checks it against the push services it posts to."""
    bad = ma.ValidationError("must be the push service's https URL")
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        raise bad from None
    if not host or parts.scheme != "https" or "@" in parts.netloc or re.search(r"\s", value):
        raise bad


class PortalPushKeysSchema(InputSchema):
    p256dh = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=100), validate.Regexp(BASE64URL, error="must be base64url")],
        metadata={"description": "the subscription's P-256 public key, base64url"},
    )
    auth = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=40), validate.Regexp(BASE64URL, error="must be base64url")],
        metadata={"description": "its authentication secret, base64url"},
    )


class PortalPushSubscriptionSchema(InputSchema):
    endpoint = ma.fields.String(
        required=True,
        validate=[validate.Length(min=1, max=2000), _push_endpoint],
        metadata={"description": "the push service's https URL for the device"},
    )
    keys = ma.fields.Nested(PortalPushKeysSchema, required=True)
    expirationTime = ma.fields.Float(  # the browser's own name
        allow_none=True,
        load_default=None,
        metadata={"description": "as the browser gives it; not used"},
    )


class PortalPushAcceptedSchema(ma.Schema):
    push_service = ma.fields.String(
        required=True, metadata={"description": "the endpoint's origin (the rest is a secret)"}
    )


# ---------------------------------------------------------------------- invitations

INVITATION_DATA_MAX_KEYS = 30
# Room for a visit's declined lines (maintenance-job-management's declined_work follow-up).
INVITATION_DATA_MAX_CHARACTERS = 20000


def _template_data(data: dict[str, Any]) -> None:
    if len(data) > INVITATION_DATA_MAX_KEYS:
        raise ma.ValidationError(f"at most {INVITATION_DATA_MAX_KEYS} values")
    if any(not 1 <= len(key) <= 64 for key in data):
        raise ma.ValidationError("names are 1 to 64 characters")
    try:
        # NaN and Infinity parse in Python but are not JSON: PostgreSQL would refuse them.
        text = json.dumps(data, allow_nan=False)
    except ValueError:
        raise ma.ValidationError("numbers must be finite (no NaN or Infinity)") from None
    if len(text) > INVITATION_DATA_MAX_CHARACTERS:
        raise ma.ValidationError(f"at most {INVITATION_DATA_MAX_CHARACTERS} characters as JSON")


class BookingInvitationCreateSchema(InputSchema):
    vehicle_id = ma.fields.UUID(required=True, metadata={"description": "a vehicle of vehicle-management"})
    type = ma.fields.String(
        load_default="booking_invitation",
        validate=validate.OneOf(INVITATION_TYPES),
        metadata={
            "description": "the message: booking_invitation (the garage's own), or a follow-up (issue 19): "
            "service_due, inspection_due, declined_work"
        },
    )
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        load_default=dict,
        validate=_template_data,
        metadata={
            "description": "values for the template (e.g. due_date, the work declined); vehicle, plate, "
            "vehicle_id, link_url and link_expires_at are added"
        },
    )


class BookingInvitationSchema(ma.Schema):
    vehicle_id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True, metadata={"description": "the vehicle's owner, who is told"})
    type = ma.fields.String(required=True, validate=validate.OneOf(INVITATION_TYPES))
    expires_at = _workshop_time(
        required=True, metadata={"description": "when the booking link stops working"}
    )
