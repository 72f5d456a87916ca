"""The API's shapes (marshmallow); the OpenAPI contract is generated from them."""

from __future__ import annotations

from datetime import date

import marshmallow as ma
from marshmallow import validate

from service_kit.pagination import PageArgsSchema, page_schema
from service_kit.validation import MULTI_LINE, SINGLE_LINE, UtcDateTime
from vehicle_management.domain import FUEL_TYPES, ODOMETER_SOURCES, ODOMETER_UNITS, STATUSES


def _editable_fields(*, creating: bool) -> dict[str, ma.fields.Field]:
    return {
        "plate": ma.fields.String(
            validate=[validate.Length(min=1, max=20), SINGLE_LINE],
            metadata={
                "description": "as on the plate; any spelling (AB-12-CD, ab 12 cd, AB12CD) is the same plate"
            },
            required=creating,
        ),
        "country": ma.fields.String(
            validate=[validate.Length(equal=2), SINGLE_LINE],
            metadata={"description": "country of registration, ISO 3166-1 alpha-2; default the garage's"},
        ),
        "vin": ma.fields.String(
            allow_none=True,
            validate=[validate.Length(max=30), SINGLE_LINE],
            metadata={"description": "17 characters, no I, O or Q; check digit enforced for North America"},
        ),
        "make": ma.fields.String(validate=[validate.Length(min=1, max=60), SINGLE_LINE], required=creating),
        "model": ma.fields.String(validate=[validate.Length(min=1, max=60), SINGLE_LINE], required=creating),
        "year": ma.fields.Integer(
            allow_none=True, metadata={"description": "model year; read from the VIN when not given"}
        ),
        "fuel_type": ma.fields.String(allow_none=True, validate=validate.OneOf(FUEL_TYPES)),
        "colour": ma.fields.String(allow_none=True, validate=[validate.Length(max=40), SINGLE_LINE]),
        "first_admission_on": ma.fields.Date(
            allow_none=True,
            metadata={
                "description": "first admission to the road, from the registration certificate "
                "(NL: datum eerste toelating); the periodic inspection counts from it"
            },
        ),
        "inspection_expires_on": ma.fields.Date(
            allow_none=True,
            metadata={
                "description": "the periodic inspection's expiry date on record (NL: vervaldatum APK); "
                "when given it is the inspection's due date"
            },
        ),
    }


# mypy cannot see a base class made from a dict of fields: ignore[misc] on the class line.
class VehicleCreateSchema(ma.Schema.from_dict(_editable_fields(creating=True), name="VehicleCreateBase")):  # type: ignore[misc]
    owner_id = ma.fields.UUID(
        required=True, metadata={"description": "an existing, not erased customer of customer-management"}
    )


# mypy cannot see a base class made from a dict of fields: ignore[misc] on the class line.
class VehicleUpdateSchema(ma.Schema.from_dict(_editable_fields(creating=False), name="VehicleUpdateBase")):  # type: ignore[misc]
    status = ma.fields.String(
        validate=validate.OneOf(STATUSES),
        metadata={"description": "`deregistered` frees the plate; `active` takes it back if still free"},
    )


class OdometerSummarySchema(ma.Schema):
    value = ma.fields.Integer(required=True)
    unit = ma.fields.String(required=True, validate=validate.OneOf(ODOMETER_UNITS))
    read_at = ma.fields.AwareDateTime(required=True)


class VehicleSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    owner_id = ma.fields.UUID(required=True)
    plate = ma.fields.String(required=True, metadata={"description": "as entered"})
    plate_normalised = ma.fields.String(
        required=True, metadata={"description": "upper case, no spaces or dashes: what uniqueness compares"}
    )
    plate_display = ma.fields.String(
        required=True,
        metadata={
            "description": "the plate as its country prints it (NL side codes 1-14: "
            "XD-123-Z, 12-ABC-3); for other countries, and a Dutch plate of no side code, plate_normalised"
        },
    )
    country = ma.fields.String(required=True)
    vin = ma.fields.String(required=True, allow_none=True)
    make = ma.fields.String(required=True)
    model = ma.fields.String(required=True)
    year = ma.fields.Integer(required=True, allow_none=True)
    fuel_type = ma.fields.String(required=True, allow_none=True, validate=validate.OneOf(FUEL_TYPES))
    colour = ma.fields.String(required=True, allow_none=True)
    first_admission_on = ma.fields.Date(required=True, allow_none=True)
    inspection_expires_on = ma.fields.Date(required=True, allow_none=True)
    status = ma.fields.String(required=True, validate=validate.OneOf(STATUSES))
    odometer = ma.fields.Nested(
        OdometerSummarySchema,
        required=True,
        allow_none=True,
        metadata={"description": "the latest reading; null before the first"},
    )
    warnings = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "what looks wrong but is accepted, e.g. a non-North-American VIN check digit"
        },
    )
    created_at = ma.fields.AwareDateTime(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    deregistered_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    version = ma.fields.Integer(required=True)


VehiclePageSchema = page_schema(VehicleSchema)


class VehicleQueryArgsSchema(PageArgsSchema):
    owner_id = ma.fields.UUID(metadata={"description": "all vehicles of this customer"})
    plate = ma.fields.String(
        validate=[validate.Length(min=1, max=20), SINGLE_LINE],
        metadata={"description": "any spelling: AB-12-CD = ab 12 cd"},
    )
    country = ma.fields.String(validate=[validate.Length(equal=2), SINGLE_LINE])
    vin = ma.fields.String(validate=[validate.Length(min=1, max=30), SINGLE_LINE])
    status = ma.fields.String(load_default="active", validate=validate.OneOf(STATUSES))


class VehicleTransferSchema(ma.Schema):
    new_owner_id = ma.fields.UUID(
        required=True, metadata={"description": "an existing, not erased customer of customer-management"}
    )
    transferred_at = UtcDateTime(metadata={"description": "when the vehicle changed hands; default now"})


class OwnershipSchema(ma.Schema):
    owner_id = ma.fields.UUID(required=True)
    owned_from = ma.fields.AwareDateTime(required=True)
    owned_until = ma.fields.AwareDateTime(required=True, allow_none=True)
    current = ma.fields.Boolean(required=True)
    recorded_by = ma.fields.String(required=True, metadata={"description": "who recorded it: an account id"})
    recorded_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})


OwnershipPageSchema = page_schema(OwnershipSchema)


class OdometerReadingCreateSchema(ma.Schema):
    value = ma.fields.Integer(required=True, validate=validate.Range(min=0, max=9_999_999))
    unit = ma.fields.String(load_default="km", validate=validate.OneOf(ODOMETER_UNITS))
    read_at = UtcDateTime(metadata={"description": "default now"})
    source = ma.fields.String(load_default="workshop", validate=validate.OneOf(ODOMETER_SOURCES))
    corrected = ma.fields.Boolean(
        load_default=False,
        metadata={
            "description": "the meter was replaced or reset: the reading may be lower than earlier ones"
        },
    )
    note = ma.fields.String(allow_none=True, validate=[validate.Length(max=500), MULTI_LINE])


class OdometerReadingSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    vehicle_id = ma.fields.UUID(required=True)
    value = ma.fields.Integer(required=True)
    unit = ma.fields.String(required=True, validate=validate.OneOf(ODOMETER_UNITS))
    read_at = ma.fields.AwareDateTime(required=True)
    source = ma.fields.String(required=True, validate=validate.OneOf(ODOMETER_SOURCES))
    corrected = ma.fields.Boolean(required=True)
    note = ma.fields.String(required=True, allow_none=True)
    recorded_by = ma.fields.String(required=True, metadata={"description": "who recorded it: an account id"})
    recorded_by_name = ma.fields.String(required=True, metadata={"description": "their name at the time"})
    recorded_at = ma.fields.AwareDateTime(required=True)


OdometerReadingPageSchema = page_schema(OdometerReadingSchema)


# ---------------------------------------------------------------------------- due dates

KINDS = ("service", "inspection")


class UsageSchema(ma.Schema):
    km_per_day = ma.fields.Float(required=True, allow_none=True)
    method = ma.fields.String(
        required=True, validate=validate.OneOf(("readings", "since_admission", "unknown"))
    )
    explanation = ma.fields.String(required=True)


class LastServiceSchema(ma.Schema):
    job_id = ma.fields.UUID(required=True)
    completed_on = ma.fields.Date(required=True)
    km = ma.fields.Integer(required=True, allow_none=True)


class ServiceDueSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(("service",)))
    interval = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the interval's code"}
    )
    name = ma.fields.String(required=True, allow_none=True)
    due_on = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "whichever comes first: by date or by distance"},
    )
    due_by = ma.fields.String(required=True, allow_none=True, validate=validate.OneOf(("date", "distance")))
    due_by_date = ma.fields.Date(required=True, allow_none=True)
    due_km = ma.fields.Integer(required=True, allow_none=True)
    due_by_distance_on = ma.fields.Date(
        required=True, allow_none=True, metadata={"description": "when due_km is reached at the measured use"}
    )
    last_service = ma.fields.Nested(LastServiceSchema, required=True, allow_none=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)


class NextServiceSchema(ServiceDueSchema):
    reminder_date = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "the due date a reminder is sent once for (the date by calendar)"},
    )


class InspectionDueSchema(ma.Schema):
    kind = ma.fields.String(required=True, validate=validate.OneOf(("inspection",)))
    status = ma.fields.String(required=True, validate=validate.OneOf(("due", "exempt", "unknown")))
    due_on = ma.fields.Date(required=True, allow_none=True)
    rule = ma.fields.String(required=True, allow_none=True, metadata={"description": "e.g. APK"})
    schedule = ma.fields.String(required=True, allow_none=True)
    estimated = ma.fields.Boolean(
        required=True, metadata={"description": "worked out from the model year: no first admission date"}
    )
    reasons = ma.fields.List(ma.fields.String(), required=True)


class VehicleDueSchema(ma.Schema):
    vehicle_id = ma.fields.UUID(required=True)
    as_of = ma.fields.Date(required=True)
    service = ma.fields.Nested(
        NextServiceSchema, required=True, metadata={"description": "the service due first"}
    )
    intervals = ma.fields.List(
        ma.fields.Nested(ServiceDueSchema),
        required=True,
        metadata={"description": "each service interval's due"},
    )
    inspection = ma.fields.Nested(InspectionDueSchema, required=True)
    use = ma.fields.Nested(UsageSchema, required=True, metadata={"description": "the measured use, and how"})


# The days due dates are worked out for: a century either side of now is plenty.
AS_OF_RANGE = validate.Range(min=date(1950, 1, 1), max=date(2150, 12, 31))


class VehicleDueArgsSchema(ma.Schema):
    as_of = ma.fields.Date(
        validate=AS_OF_RANGE,
        metadata={"description": "the day to work from, 1950 to 2150; default today (the garage's)"},
    )


class DueQueryArgsSchema(PageArgsSchema):
    from_on = ma.fields.Date(required=True, data_key="from", metadata={"description": "first day, included"})
    to_on = ma.fields.Date(required=True, data_key="to", metadata={"description": "last day, included"})
    kind = ma.fields.String(validate=validate.OneOf(KINDS), metadata={"description": "default both"})


class DueListItemSchema(ma.Schema):
    vehicle_id = ma.fields.UUID(required=True)
    owner_id = ma.fields.UUID(required=True)
    plate = ma.fields.String(required=True)
    plate_display = ma.fields.String(required=True)
    make = ma.fields.String(required=True)
    model = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, validate=validate.OneOf(KINDS))
    due_on = ma.fields.Date(required=True)
    due_by = ma.fields.String(required=True, allow_none=True, validate=validate.OneOf(("date", "distance")))
    due_km = ma.fields.Integer(required=True, allow_none=True)
    name = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "the service or the rule"}
    )
    estimated = ma.fields.Boolean(required=True)
    computed_at = ma.fields.AwareDateTime(
        required=True, metadata={"description": "when it was last worked out"}
    )


DueListItemPageSchema = page_schema(DueListItemSchema)


class ServiceIntervalPutSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=[validate.Length(min=1, max=100), SINGLE_LINE])
    months = ma.fields.Integer(allow_none=True, validate=validate.Range(min=1, max=240))
    km = ma.fields.Integer(allow_none=True, validate=validate.Range(min=100, max=1_000_000))
    canned_job_codes = ma.fields.List(
        ma.fields.String(validate=validate.Length(min=1, max=40)),
        validate=validate.Length(max=20),
        metadata={
            "description": "canned jobs whose completion counts as this service "
            "(default: the interval's code)"
        },
    )
    active = ma.fields.Boolean(load_default=True, metadata={"description": "false: no longer reminded of"})


class ServiceIntervalSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    months = ma.fields.Integer(required=True, allow_none=True)
    km = ma.fields.Integer(required=True, allow_none=True)
    canned_job_codes = ma.fields.List(ma.fields.String(), required=True)
    active = ma.fields.Boolean(required=True)
    updated_at = ma.fields.AwareDateTime(required=True)
    updated_by = ma.fields.String(required=True)
    updated_by_name = ma.fields.String(required=True)
    version = ma.fields.Integer(required=True)


class ServiceIntervalListSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ServiceIntervalSchema), required=True)
