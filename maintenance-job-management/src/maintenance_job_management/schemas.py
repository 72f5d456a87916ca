"""The API's shapes (marshmallow); the OpenAPI contract is generated from them.

Money is integer minor units of the job's ``currency``; quantities and VAT rates are
decimal strings with two places ("1.50", "21.00"); labour lines use quantity for
hours and unit price for the hourly rate."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import validate

from maintenance_job_management import domain
from maintenance_job_management.clients.workshop_scheduling import APPOINTMENT_STATUSES
from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import DecimalString, UtcDateTime

MAX_MONEY = 1_000_000_000  # ten million in a currency with cents: no line costs more
MAX_QUANTITY = Decimal(domain.MAX_QUANTITY_HUNDREDTHS) / 100


def _hours(description: str, **kwargs: Any) -> DecimalString:
    return DecimalString(metadata={"description": description}, **kwargs)


def _quantity(description: str, **kwargs: Any) -> DecimalString:
    """Input: more than 0, at most two decimals (4.5 litres, 1.25 h)."""
    return DecimalString(
        minimum=Decimal(0),
        exclusive_minimum=True,
        maximum=MAX_QUANTITY,
        metadata={"description": description},
        **kwargs,
    )


def _code(description: str, **kwargs: Any) -> ma.fields.String:
    return ma.fields.String(
        validate=[
            validate.Length(min=1, max=40),
            validate.Regexp(domain.CODE_PATTERN, error="lower-case letters, digits and -"),
        ],
        metadata={"description": description, "example": "diagnosis"},
        **kwargs,
    )


def _vat_rate(description: str = "percent", **kwargs: Any) -> DecimalString:
    return DecimalString(
        minimum=Decimal(0),
        maximum=Decimal(100),
        example="21.00",
        metadata={"description": description},
        **kwargs,
    )


def _money(**kwargs: Any) -> ma.fields.Integer:
    return ma.fields.Integer(validate=validate.Range(min=0, max=MAX_MONEY), **kwargs)


def _technician(description: str = "the technician's id (the subject of their token)", **kwargs: Any) -> Any:
    return ma.fields.String(
        validate=validate.Length(min=1, max=100), metadata={"description": description}, **kwargs
    )


# --------------------------------------------------------------------------------- jobs


class JobCreateSchema(ma.Schema):
    appointment_id = ma.fields.UUID(
        required=True, metadata={"description": "unique: creating again returns the existing job"}
    )
    vehicle_id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True)
    planned_start = UtcDateTime(required=True)
    planned_end = UtcDateTime(required=True)
    description = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=2000),
        metadata={"description": "the booked request"},
    )
    vehicle_plate = ma.fields.String(
        validate=validate.Length(min=1, max=20),
        metadata={"description": "the vehicle's plate as booked: what the customer's messages and page show"},
    )
    vehicle_make = ma.fields.String(validate=validate.Length(min=1, max=100))
    vehicle_model = ma.fields.String(validate=validate.Length(min=1, max=100))


class JobUpdateSchema(ma.Schema):
    description = ma.fields.String(validate=validate.Length(min=1, max=2000))
    assigned_technician = _technician(allow_none=True)
    odometer_in = ma.fields.Integer(
        allow_none=True, validate=validate.Range(min=0, max=10_000_000), metadata={"description": "at intake"}
    )
    odometer_unit = ma.fields.String(validate=validate.OneOf(domain.ODOMETER_UNITS))
    technician_notes = ma.fields.String(allow_none=True, validate=validate.Length(max=10_000))


class RescheduleSchema(ma.Schema):
    planned_start = UtcDateTime(required=True)
    planned_end = UtcDateTime(required=True)


class StartSchema(ma.Schema):
    assigned_technician = _technician("who does the work; default: the one already assigned, else the caller")
    odometer_in = ma.fields.Integer(validate=validate.Range(min=0, max=10_000_000))
    odometer_unit = ma.fields.String(validate=validate.OneOf(domain.ODOMETER_UNITS))


class ReasonSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=validate.Length(min=1, max=500))


class CompleteSchema(ma.Schema):
    actual_end = UtcDateTime(metadata={"description": "when the work ended; default now"})
    technician_notes = ma.fields.String(validate=validate.Length(max=10_000))
    odometer_in = ma.fields.Integer(validate=validate.Range(min=0, max=10_000_000))


class TotalsSchema(ma.Schema):
    approved_net = ma.fields.Integer(
        required=True, attribute="approved", metadata={"description": "what the customer approved"}
    )
    billable_net = ma.fields.Integer(
        required=True, attribute="billable", metadata={"description": "what the approved lines come to now"}
    )
    billable_vat = ma.fields.Integer(required=True)
    billable_gross = ma.fields.Integer(required=True)
    pending_net = ma.fields.Integer(
        required=True, attribute="pending", metadata={"description": "awaiting the customer's decision"}
    )
    declined_net = ma.fields.Integer(
        required=True, attribute="declined", metadata={"description": "declined: recommendations"}
    )


class ProgressSchema(ma.Schema):
    done = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True, metadata={"description": "lines that are not declined"})


class TimeSummarySchema(ma.Schema):
    clocked_seconds = ma.fields.Integer(required=True)
    clocked_hours = _hours("clocked_seconds as hours, half-up to two decimals", required=True)
    billed_labour_hours = _hours("hours of the approved labour lines", required=True)
    clocked_in = ma.fields.List(
        ma.fields.String(), required=True, metadata={"description": "technicians whose clock is running"}
    )


class LineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
    description = ma.fields.String(required=True)
    part_number = ma.fields.String(required=True, allow_none=True)
    quantity = _hours("hours for labour", required=True)
    unit_price = ma.fields.Integer(
        required=True, metadata={"description": "minor units; the hourly rate for labour"}
    )
    hours = _hours("labour: the quantity", required=True, allow_none=True)
    hourly_rate = ma.fields.Integer(required=True, allow_none=True)
    vat_rate = _vat_rate(required=True)
    net_amount = ma.fields.Integer(
        required=True, metadata={"description": "quantity x unit price, half-up to the minor unit"}
    )
    vat_amount = ma.fields.Integer(required=True)
    approval = ma.fields.String(required=True, validate=validate.OneOf(domain.APPROVALS))
    approved = ma.fields.Boolean(
        required=True, metadata={"description": "billed when true; declined lines are recommendations"}
    )
    approved_net = ma.fields.Integer(required=True, allow_none=True)
    needs_reapproval = ma.fields.Boolean(
        required=True, metadata={"description": "approved, but its amount changed since"}
    )
    covered_by_booking = ma.fields.Boolean(required=True)
    canned_job_id = ma.fields.UUID(
        required=True, allow_none=True, metadata={"description": "the canned job it was added from"}
    )
    done = ma.fields.Boolean(required=True)
    done_at = ma.fields.DateTime(required=True, allow_none=True)
    created_by = ma.fields.String(required=True, metadata={"description": "who added it: an account id"})
    created_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    created_at = ma.fields.DateTime(required=True)


class JobSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    appointment_id = ma.fields.UUID(required=True)
    # Always answered; not required in the contract, so copies of a job made by readers
    # that predate them stay valid.
    appointment_status = ma.fields.String(
        allow_none=True,
        validate=validate.OneOf(APPOINTMENT_STATUSES),
        metadata={"description": "as workshop-scheduling last reported it; null until it has"},
    )
    arrived_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "when the vehicle was checked in at the workshop"}
    )
    vehicle_id = ma.fields.UUID(required=True)
    # Always answered (null when the booking did not say); not required, as above.
    vehicle_plate = ma.fields.String(allow_none=True)
    vehicle_make = ma.fields.String(allow_none=True)
    vehicle_model = ma.fields.String(allow_none=True)
    customer_id = ma.fields.UUID(required=True)
    planned_start = ma.fields.DateTime(required=True)
    planned_end = ma.fields.DateTime(required=True)
    description = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(domain.STATUSES))
    hold_kind = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(domain.HOLD_KINDS),
        metadata={"description": "approval: waiting for the customer to approve more work"},
    )
    hold_reason = ma.fields.String(required=True, allow_none=True)
    cancel_reason = ma.fields.String(required=True, allow_none=True)
    assigned_technician = ma.fields.String(required=True, allow_none=True)
    actual_start = ma.fields.DateTime(required=True, allow_none=True)
    actual_end = ma.fields.DateTime(required=True, allow_none=True)
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    cancelled_at = ma.fields.DateTime(required=True, allow_none=True)
    odometer_in = ma.fields.Integer(required=True, allow_none=True)
    odometer_unit = ma.fields.String(required=True, validate=validate.OneOf(domain.ODOMETER_UNITS))
    technician_notes = ma.fields.String(required=True, allow_none=True)
    collected_at = ma.fields.DateTime(
        allow_none=True, metadata={"description": "when the customer collected the vehicle (hand-over)"}
    )
    collected_by = ma.fields.String(
        allow_none=True, metadata={"description": "who recorded the hand-over: an account id"}
    )
    collected_by_name = ma.fields.String(allow_none=True, metadata={"description": "their name at the time"})
    currency = ma.fields.String(required=True, metadata={"description": "ISO 4217 of every amount"})
    lines = ma.fields.List(ma.fields.Nested(LineSchema), required=True)
    totals = ma.fields.Nested(TotalsSchema, required=True)
    progress = ma.fields.Nested(ProgressSchema, required=True)
    time = ma.fields.Nested(TimeSummarySchema, required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    version = ma.fields.Integer(required=True)


JobPageSchema = page_schema(JobSchema)


class JobQueryArgsSchema(PageArgsSchema):
    vehicle_id = ma.fields.UUID(metadata={"description": "a vehicle's history"})
    customer_id = ma.fields.UUID(metadata={"description": "a customer's history"})
    appointment_id = ma.fields.UUID()
    status = ma.fields.String(validate=validate.OneOf(domain.STATUSES))


class AppointmentStatusSchema(ma.Schema):
    """workshop-scheduling's report of the appointment's status (sent through its outbox)."""

    appointment_id = ma.fields.UUID(required=True, metadata={"description": "the job's appointment"})
    appointment_status = ma.fields.String(required=True, validate=validate.OneOf(APPOINTMENT_STATUSES))
    appointment_version = ma.fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),  # a PostgreSQL integer, as the version is
        metadata={"description": "the appointment's version: one at or below the last applied is ignored"},
    )
    changed_at = UtcDateTime(required=True, metadata={"description": "when the status changed"})
    checked_in_at = UtcDateTime(
        allow_none=True, metadata={"description": "when the vehicle was checked in, if it was"}
    )


# -------------------------------------------------------------------------------- lines


def _line_fields(*, creating: bool) -> dict[str, ma.fields.Field]:
    fields: dict[str, ma.fields.Field] = {
        "description": ma.fields.String(validate=validate.Length(min=1, max=2000), required=creating),
        "part_number": ma.fields.String(
            validate=validate.Length(min=1, max=64),
            metadata={"description": "parts; leave it out when the part has none (oil from the drum)"},
        ),
        "hours": _quantity('labour: "1.5" = an hour and a half'),
        "hourly_rate": _money(
            metadata={"description": "labour, minor units; default the garage's rate for work_kind"}
        ),
        "quantity": _quantity('parts: "4.5" litres'),
        "unit_price": _money(metadata={"description": "parts, minor units"}),
        "vat_rate": _vat_rate("percent; default the configured rate"),
    }
    if creating:
        fields["kind"] = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
        fields["work_kind"] = _code(
            description="labour: whose labour rate prices the line when hourly_rate is not given "
            "(default: the `default` rate)"
        )
        fields["covered_by_booking"] = ma.fields.Boolean(
            load_default=False,
            metadata={
                "description": "the booked request covers this work, so the booking is its approval; "
                "otherwise the line waits for the customer's decision on an estimate"
            },
        )
    else:
        fields["done"] = ma.fields.Boolean(metadata={"description": "the task is done"})
    return fields


LineCreateSchema = ma.Schema.from_dict(_line_fields(creating=True), name="LineCreateSchema")
LineUpdateSchema = ma.Schema.from_dict(_line_fields(creating=False), name="LineUpdateSchema")


class RecommendationSchema(LineSchema):
    job_id = ma.fields.UUID(required=True)
    vehicle_id = ma.fields.UUID(required=True, attribute="job.vehicle_id")
    customer_id = ma.fields.UUID(required=True, attribute="job.customer_id")
    job_planned_start = ma.fields.DateTime(required=True, attribute="job.planned_start")


RecommendationPageSchema = page_schema(RecommendationSchema)


class RecommendationQueryArgsSchema(PageArgsSchema):
    vehicle_id = ma.fields.UUID()
    customer_id = ma.fields.UUID()

    @ma.validates_schema
    def _one_subject(self, data: dict[str, Any], **_: Any) -> None:
        if not data.get("vehicle_id") and not data.get("customer_id"):
            raise ma.ValidationError("give vehicle_id or customer_id", field_name="vehicle_id")


# ---------------------------------------------------------------------------- estimates


class ShownLineSchema(ma.Schema):
    line_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    part_number = ma.fields.String(required=True, allow_none=True)
    quantity = _hours("hours for labour", required=True)
    unit_price = ma.fields.Integer(required=True)
    vat_rate = _vat_rate(required=True)
    net = ma.fields.Integer(required=True)
    vat = ma.fields.Integer(required=True)
    gross = ma.fields.Integer(required=True)


class EstimateSnapshotSchema(ma.Schema):
    currency = ma.fields.String(required=True)
    message = ma.fields.String(required=True, allow_none=True)
    lines = ma.fields.List(ma.fields.Nested(ShownLineSchema), required=True)
    total_net = ma.fields.Integer(required=True)
    total_vat = ma.fields.Integer(required=True)
    total_gross = ma.fields.Integer(required=True)


class EstimateCreateSchema(ma.Schema):
    channel = ma.fields.String(
        required=True,
        validate=validate.OneOf(domain.ESTIMATE_CHANNELS),
        metadata={"description": "email and sms send the customer an estimate_ready notification"},
    )
    message = ma.fields.String(validate=validate.Length(max=2000))
    line_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=validate.Length(min=1, max=200),
        metadata={
            "description": "the lines to offer; default every line awaiting approval. A declined "
            "line may be offered again"
        },
    )


class EstimateSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    job_id = ma.fields.UUID(required=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(domain.ESTIMATE_STATUSES))
    channel = ma.fields.String(required=True)
    snapshot = ma.fields.Nested(
        EstimateSnapshotSchema, required=True, metadata={"description": "exactly what the customer saw"}
    )
    sent_by = ma.fields.String(required=True, metadata={"description": "who sent it: an account id"})
    sent_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    sent_at = ma.fields.DateTime(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)


EstimatePageSchema = page_schema(EstimateSchema)


class LineDecisionSchema(ma.Schema):
    line_id = ma.fields.UUID(required=True)
    approved = ma.fields.Boolean(required=True)


class EstimateDecisionSchema(ma.Schema):
    decided_by = ma.fields.String(
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "who decided for the customer, as they gave their name"},
    )
    channel = ma.fields.String(required=True, validate=validate.OneOf(domain.DECISION_CHANNELS))
    decided_at = UtcDateTime(metadata={"description": "default now"})
    note = ma.fields.String(validate=validate.Length(max=2000))
    lines = ma.fields.List(
        ma.fields.Nested(LineDecisionSchema),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "a decision for every line of the estimate"},
    )


class ApprovalSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    job_id = ma.fields.UUID(required=True)
    line_id = ma.fields.UUID(required=True)
    estimate_id = ma.fields.UUID(required=True, allow_none=True)
    decision = ma.fields.String(required=True, validate=validate.OneOf((domain.APPROVED, domain.DECLINED)))
    decided_by = ma.fields.String(
        required=True,
        metadata={
            "description": "who decided for the customer, as they gave their name; for the booking "
            "channel the name of who added the line"
        },
    )
    channel = ma.fields.String(required=True, validate=validate.OneOf(domain.APPROVAL_CHANNELS))
    decided_at = ma.fields.DateTime(required=True)
    shown = ma.fields.Nested(ShownLineSchema, required=True, metadata={"description": "the line as shown"})
    note = ma.fields.String(required=True, allow_none=True)
    signature = ma.fields.String(
        allow_none=True, metadata={"description": "channel portal: the name the customer typed"}
    )
    client_address = ma.fields.String(
        allow_none=True, metadata={"description": "channel portal: the customer's address, as the portal saw"}
    )
    recorded_by = ma.fields.String(required=True, metadata={"description": "who recorded it: an account id"})
    recorded_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    recorded_at = ma.fields.DateTime(required=True)


ApprovalPageSchema = page_schema(ApprovalSchema)


# --------------------------------------------------------------------------- time clock


class ClockSchema(ma.Schema):
    technician = _technician("the technician's id; default: the caller; another one needs admin")


class TimeEntrySchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    job_id = ma.fields.UUID(required=True)
    technician = ma.fields.String(required=True, metadata={"description": "the technician's account id"})
    technician_name = ma.fields.String(required=True, metadata={"description": "their name at clock-in"})
    clocked_in_at = ma.fields.DateTime(required=True)
    clocked_out_at = ma.fields.DateTime(required=True, allow_none=True)
    seconds = ma.fields.Integer(required=True, metadata={"description": "so far, when still running"})
    recorded_by = ma.fields.String(
        required=True, metadata={"description": "who clocked them in: an account id"}
    )
    recorded_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})


class TechnicianTimeSchema(ma.Schema):
    technician = ma.fields.String(required=True)
    technician_name = ma.fields.String(required=True, metadata={"description": "as of their latest entry"})
    clocked_seconds = ma.fields.Integer(required=True)
    clocked_hours = _hours("clocked_seconds as hours, half-up to two decimals", required=True)


class TimeSheetSchema(TimeSummarySchema):
    entries = ma.fields.List(ma.fields.Nested(TimeEntrySchema), required=True)
    per_technician = ma.fields.List(ma.fields.Nested(TechnicianTimeSchema), required=True)


# ---------------------------------------------------------------------- labour rates


class LabourRateSchema(ma.Schema):
    code = ma.fields.String(required=True, metadata={"description": "`default`, or a kind of work"})
    name = ma.fields.String(required=True)
    hourly_rate = ma.fields.Integer(required=True, metadata={"description": "minor units"})
    version = ma.fields.Integer(required=True)
    updated_by = ma.fields.String(
        required=True, metadata={"description": "who changed it last: an account id"}
    )
    updated_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    updated_at = ma.fields.DateTime(required=True)


class LabourRateListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(LabourRateSchema), required=True)


class LabourRatePutSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    hourly_rate = _money(required=True, metadata={"description": "minor units"})


# ------------------------------------------------------------------------ canned jobs


def _canned_line_fields() -> dict[str, ma.fields.Field]:
    fields = _line_fields(creating=True)
    for name in ("covered_by_booking", "work_kind"):
        fields.pop(name)
    fields["hourly_rate"] = _money(
        metadata={"description": "labour, minor units; default the canned job's work_kind rate when added"}
    )
    return fields


CannedJobLineCreateSchema = ma.Schema.from_dict(_canned_line_fields(), name="CannedJobLineCreateSchema")


class CannedJobLineSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    position = ma.fields.Integer(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
    description = ma.fields.String(required=True)
    part_number = ma.fields.String(required=True, allow_none=True)
    quantity = _hours("hours for labour", required=True)
    hours = _hours("labour: the quantity", required=True, allow_none=True)
    hourly_rate = ma.fields.Integer(
        required=True, allow_none=True, metadata={"description": "null: the work_kind rate when added"}
    )
    unit_price = ma.fields.Integer(required=True, allow_none=True, metadata={"description": "parts"})
    vat_rate = _vat_rate("null: the configured rate when added", required=True, allow_none=True)


def _canned_job_fields(*, creating: bool) -> dict[str, ma.fields.Field]:
    return {
        "code": _code("a short name staff pick it by, e.g. small-service", required=creating),
        "name": ma.fields.String(required=creating, validate=validate.Length(min=1, max=200)),
        "description": ma.fields.String(allow_none=True, validate=validate.Length(max=2000)),
        "work_kind": _code(
            "the labour rate of its labour lines without their own (default: `default`)", allow_none=True
        ),
        "active": ma.fields.Boolean(metadata={"description": "false: retired, not offered"}),
        "lines": ma.fields.List(
            ma.fields.Nested(CannedJobLineCreateSchema),
            required=creating,
            validate=validate.Length(min=1, max=100),
            metadata={"description": "on a change: the new lines, replacing all"},
        ),
    }


CannedJobCreateSchema = ma.Schema.from_dict(_canned_job_fields(creating=True), name="CannedJobCreateSchema")
CannedJobUpdateSchema = ma.Schema.from_dict(_canned_job_fields(creating=False), name="CannedJobUpdateSchema")


class CannedJobSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    description = ma.fields.String(required=True, allow_none=True)
    work_kind = ma.fields.String(required=True, allow_none=True)
    active = ma.fields.Boolean(required=True)
    lines = ma.fields.List(ma.fields.Nested(CannedJobLineSchema), required=True)
    version = ma.fields.Integer(required=True)
    updated_by = ma.fields.String(
        required=True, metadata={"description": "who changed it last: an account id"}
    )
    updated_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)


CannedJobPageSchema = page_schema(CannedJobSchema)


class CannedJobQueryArgsSchema(PageArgsSchema):
    active = ma.fields.Boolean(metadata={"description": "only active (true) or retired (false) ones"})


class AddCannedJobSchema(ma.Schema):
    canned_job_id = ma.fields.UUID(required=True)
    covered_by_booking = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "the booked request covers this work (as for a single line)"},
    )


class AddedCannedJobSchema(ma.Schema):
    lines = ma.fields.List(
        ma.fields.Nested(LineSchema), required=True, metadata={"description": "the new lines"}
    )
    job = ma.fields.Nested(JobSchema, required=True, metadata={"description": "the job as it is now"})


# ------------------------------------------------------------------- customer portal


class PortalVehicleSchema(ma.Schema):
    plate = ma.fields.String(required=True, allow_none=True)
    make = ma.fields.String(required=True, allow_none=True)
    model = ma.fields.String(required=True, allow_none=True)


class PortalLineSchema(ShownLineSchema):
    decision = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf((domain.APPROVED, domain.DECLINED)),
        metadata={"description": "null while the estimate is pending"},
    )


class PortalEstimateSchema(ma.Schema):
    """An estimate as the customer's page shows it."""

    status = ma.fields.String(required=True, validate=validate.OneOf(domain.PORTAL_ESTIMATE_STATUSES))
    sent_at = ma.fields.DateTime(required=True)
    currency = ma.fields.String(required=True)
    message = ma.fields.String(required=True, allow_none=True, metadata={"description": "the advisor's"})
    technician_notes = ma.fields.String(required=True, allow_none=True)
    vehicle = ma.fields.Nested(PortalVehicleSchema, required=True)
    lines = ma.fields.List(ma.fields.Nested(PortalLineSchema), required=True)
    total_net = ma.fields.Integer(required=True)
    total_vat = ma.fields.Integer(required=True)
    total_gross = ma.fields.Integer(required=True)
    decided_at = ma.fields.DateTime(required=True, allow_none=True)
    signature = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the name the decision was given in"}
    )
    decided_through = ma.fields.String(
        required=True,
        allow_none=True,
        validate=validate.OneOf(domain.APPROVAL_CHANNELS),
        metadata={"description": "portal, or how an advisor took the decision (phone, counter ...)"},
    )


class PortalLineDecisionSchema(ma.Schema):
    line_id = ma.fields.UUID(required=True)
    decision = ma.fields.String(required=True, validate=validate.OneOf((domain.APPROVED, domain.DECLINED)))


class PortalDecisionSchema(ma.Schema):
    decisions = ma.fields.List(
        ma.fields.Nested(PortalLineDecisionSchema),
        required=True,
        validate=validate.Length(min=1, max=200),
        metadata={"description": "every line of the estimate, once"},
    )
    signature = ma.fields.String(
        required=True,
        validate=validate.Length(min=2, max=200),
        metadata={"description": "the customer's typed name"},
    )


class PortalFeedbackSchema(ma.Schema):
    rating = ma.fields.Integer(required=True, validate=validate.Range(min=1, max=5))
    comment = ma.fields.String(allow_none=True, validate=validate.Length(max=2000))


class PortalGivenFeedbackSchema(ma.Schema):
    rating = ma.fields.Integer(required=True)
    comment = ma.fields.String(required=True, allow_none=True)
    given_at = ma.fields.DateTime(required=True)


class PortalWorkSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(domain.LINE_KINDS))
    description = ma.fields.String(required=True)


class PortalVisitSchema(ma.Schema):
    """A visit (a completed job) as the customer's page shows it."""

    vehicle = ma.fields.Nested(PortalVehicleSchema, required=True)
    visit_date = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "the day it was collected (else completed), in the garage's time zone"},
    )
    description = ma.fields.String(required=True, metadata={"description": "the booked request"})
    completed_at = ma.fields.DateTime(required=True, allow_none=True)
    collected_at = ma.fields.DateTime(required=True, allow_none=True)
    work = ma.fields.List(
        ma.fields.Nested(PortalWorkSchema), required=True, metadata={"description": "the approved lines"}
    )
    technician = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the technician's first name"}
    )
    feedback = ma.fields.Nested(PortalGivenFeedbackSchema, required=True, allow_none=True)


# -------------------------------------------------------------------------- feedback


def _local_day(description: str, **kwargs: Any) -> ma.fields.Date:
    return ma.fields.Date(metadata={"description": description}, **kwargs)


class _PeriodArgsSchema(ma.Schema):
    # "from" is a Python keyword: the field is date_from, the query parameter "from".
    date_from = _local_day("the first day (the garage's time zone), included", data_key="from")
    date_to = _local_day("the last day, included", data_key="to")

    @ma.validates_schema
    def _in_order(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("date_from") and data.get("date_to") and data["date_to"] < data["date_from"]:
            raise ma.ValidationError("must not be before from", field_name="to")


class FeedbackQueryArgsSchema(PageArgsSchema, _PeriodArgsSchema):
    technician_id = _technician("only this technician's visits")


class FeedbackSummaryArgsSchema(_PeriodArgsSchema):
    by = ma.fields.String(
        load_default="technician",
        validate=validate.OneOf(("technician", "month")),
        metadata={"description": "groups: per technician, or per month (the garage's time zone)"},
    )


class FeedbackSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    job_id = ma.fields.UUID(required=True)
    customer_id = ma.fields.UUID(required=True)
    vehicle_id = ma.fields.UUID(required=True)
    technician_id = ma.fields.String(
        required=True, allow_none=True, attribute="technician", metadata={"description": "the job's"}
    )
    technician_name = ma.fields.String(required=True, allow_none=True)
    rating = ma.fields.Integer(required=True, metadata={"description": "1 to 5"})
    comment = ma.fields.String(required=True, allow_none=True)
    given_at = ma.fields.DateTime(required=True)


FeedbackPageSchema = page_schema(FeedbackSchema)


def _average(**kwargs: Any) -> DecimalString:
    return DecimalString(
        allow_none=True,
        example="4.25",
        metadata={"description": "the mean rating, half-up to two decimals; null without ratings"},
        **kwargs,
    )


class FeedbackGroupSchema(ma.Schema):
    technician_id = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "by technician; null: no technician"}
    )
    technician_name = ma.fields.String(required=True, allow_none=True)
    month = ma.fields.String(required=True, allow_none=True, metadata={"description": "by month: YYYY-MM"})
    count = ma.fields.Integer(required=True)
    average_rating = _average(required=True)


class FeedbackSummarySchema(ma.Schema):
    date_from = ma.fields.Date(required=True, allow_none=True, data_key="from")
    date_to = ma.fields.Date(required=True, allow_none=True, data_key="to")
    by = ma.fields.String(required=True)
    time_zone = ma.fields.String(required=True)
    count = ma.fields.Integer(required=True)
    average_rating = _average(required=True)
    groups = ma.fields.List(ma.fields.Nested(FeedbackGroupSchema), required=True)
