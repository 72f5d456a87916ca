"""HTTP layer: parse, one service call, serialise. Rules live in service/domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, url_for
from flask.views import MethodView

from service_kit.auth import current_actor
from service_kit.blueprint import ServiceBlueprint
from service_kit.clock import utcnow
from service_kit.etag import etag_header, if_match_versions
from service_kit.pagination import PageArgsSchema
from vehicle_management.clients.customer_management import customer_management
from vehicle_management.clients.maintenance_job_management import maintenance_job_management
from vehicle_management.models import db
from vehicle_management.schemas import (
    DueListItemPageSchema,
    DueQueryArgsSchema,
    OdometerReadingCreateSchema,
    OdometerReadingPageSchema,
    OdometerReadingSchema,
    OwnershipPageSchema,
    ServiceIntervalListSchema,
    ServiceIntervalPutSchema,
    ServiceIntervalSchema,
    VehicleCreateSchema,
    VehicleDueArgsSchema,
    VehicleDueSchema,
    VehiclePageSchema,
    VehicleQueryArgsSchema,
    VehicleSchema,
    VehicleTransferSchema,
    VehicleUpdateSchema,
)
from vehicle_management.service import due, intervals, odometer, ownership, vehicles

READERS = ("admin", "advisor", "technician", "accountant", "service")
WRITERS = ("admin", "advisor")
ODOMETER_WRITERS = ("admin", "advisor", "technician")
INTERVAL_SETTERS = ("admin",)

blp = ServiceBlueprint(
    "vehicles",
    __name__,
    url_prefix="/api/v1/vehicles",
    description="Vehicles, their owners over time and their odometer readings",
)

View = Callable[..., Any]


def _not_found(view: View) -> View:
    return blp.alt_response(404, response="NOT_FOUND")(view)


def _owner_checked(view: View) -> View:
    """Documents the answers of an endpoint that asks customer-management."""
    view = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
    return blp.alt_response(503, response="SERVICE_UNAVAILABLE")(view)


def _default_country() -> str:
    return current_app.config["DEFAULT_REGISTRATION_COUNTRY"]


def garage_today() -> date:
    """Today in the garage's time zone."""
    return utcnow().astimezone(ZoneInfo(current_app.config["GARAGE_TIMEZONE"])).date()


@blp.route("")
class Vehicles(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(VehicleQueryArgsSchema, location="query")
    @blp.response(200, VehiclePageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List vehicles, oldest first; filter by owner, plate (any spelling), country or VIN"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return vehicles.list_vehicles(
            session=db.session(), filters=vehicles.VehicleFilters(**args), limit=limit, cursor=cursor
        )

    @blp.auth(*WRITERS)
    @blp.idempotent
    @_owner_checked
    @blp.arguments(VehicleCreateSchema)
    @blp.response(201, VehicleSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Register a vehicle for an existing customer (checked with customer-management)"""
        vehicle = vehicles.register_vehicle(
            session=db.session(),
            customers=customer_management(),
            data=data,
            default_country=_default_country(),
            recorded_by=current_actor(),
        )
        return vehicle, {
            "Location": url_for("vehicles.Vehicle", vehicle_id=vehicle.id),
            **etag_header(vehicle.version),
        }


@blp.route("/<uuid:vehicle_id>")
class Vehicle(MethodView):
    @blp.auth(*READERS)
    @_not_found
    @blp.response(200, VehicleSchema)
    def get(self, vehicle_id: uuid.UUID) -> Any:
        """Get a vehicle"""
        vehicle = vehicles.get_vehicle(session=db.session(), vehicle_id=vehicle_id)
        return vehicle, etag_header(vehicle.version)

    @blp.auth(*WRITERS)
    @blp.transactional
    @blp.if_match
    @_not_found
    @blp.arguments(VehicleUpdateSchema)
    @blp.response(200, VehicleSchema)
    def patch(self, changes: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """Change some of a vehicle's fields; `null` clears an optional one. The owner
        changes only through a transfer"""
        vehicle = vehicles.update_vehicle(
            session=db.session(),
            vehicle_id=vehicle_id,
            changes=changes,
            expected_versions=if_match_versions(),
            default_country=_default_country(),
        )
        return vehicle, etag_header(vehicle.version)


@blp.route("/<uuid:vehicle_id>/transfer")
class Transfer(MethodView):
    @blp.auth(*WRITERS)
    @blp.idempotent
    @blp.if_match
    @_not_found
    @_owner_checked
    @blp.arguments(VehicleTransferSchema)
    @blp.response(200, VehicleSchema)
    def post(self, data: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """Transfer the vehicle to another customer; the previous ownership stays in its history"""
        vehicle = ownership.transfer_vehicle(
            session=db.session(),
            customers=customer_management(),
            vehicle_id=vehicle_id,
            new_owner_id=data["new_owner_id"],
            transferred_at=data.get("transferred_at"),
            expected_versions=if_match_versions(),
            recorded_by=current_actor(),
        )
        return vehicle, etag_header(vehicle.version)


@blp.route("/<uuid:vehicle_id>/owners")
class Owners(MethodView):
    @blp.auth(*READERS)
    @_not_found
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, OwnershipPageSchema)
    def get(self, args: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """Who owned the vehicle when, the current owner first"""
        return ownership.ownership_history(
            session=db.session(), vehicle_id=vehicle_id, limit=args["limit"], cursor=args.get("cursor")
        )


@blp.route("/<uuid:vehicle_id>/odometer-readings")
class OdometerReadings(MethodView):
    @blp.auth(*READERS)
    @_not_found
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, OdometerReadingPageSchema)
    def get(self, args: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """Odometer readings, the latest first"""
        return odometer.list_odometer_readings(
            session=db.session(), vehicle_id=vehicle_id, limit=args["limit"], cursor=args.get("cursor")
        )

    @blp.auth(*ODOMETER_WRITERS)
    @blp.idempotent
    @_not_found
    @blp.arguments(OdometerReadingCreateSchema)
    @blp.response(201, OdometerReadingSchema)
    def post(self, data: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """Record an odometer reading: never lower than an earlier one unless flagged `corrected`"""
        reading = odometer.record_odometer_reading(
            session=db.session(), vehicle_id=vehicle_id, data=data, recorded_by=current_actor()
        )
        return reading, {"Location": url_for("vehicles.OdometerReadings", vehicle_id=vehicle_id)}


@blp.route("/due")
class DueVehicles(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(DueQueryArgsSchema, location="query")
    @blp.response(200, DueListItemPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Vehicles with a service or inspection due in a period, the earliest first

        As last worked out (`computed_at`): `flask send-due-reminders` and
        `flask refresh-due-dates` work every active vehicle out again."""
        return due.list_due(
            session=db.session(),
            from_on=args["from_on"],
            to_on=args["to_on"],
            kind=args.get("kind"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )


@blp.route("/<uuid:vehicle_id>/due")
class VehicleDue(MethodView):
    @blp.auth(*READERS)
    @_not_found
    @blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @blp.arguments(VehicleDueArgsSchema, location="query")
    @blp.response(200, VehicleDueSchema)
    def get(self, args: dict[str, Any], vehicle_id: uuid.UUID) -> Any:
        """When the vehicle's next service and periodic inspection are due, and why

        The service: the garage's intervals, the last completed service job (asked of
        maintenance-job-management) and the odometer readings; the inspection: the
        country's rules (the Dutch APK) by age and fuel."""
        return due.vehicle_due(
            session=db.session(),
            jobs=maintenance_job_management(),
            vehicle_id=vehicle_id,
            as_of=args.get("as_of") or garage_today(),
        )


@blp.route("/service-intervals")
class ServiceIntervals(MethodView):
    @blp.auth(*READERS)
    @blp.response(200, ServiceIntervalListSchema)
    def get(self) -> Any:
        """The garage's service intervals (a handful, unpaged)"""
        return {"items": intervals.list_intervals(session=db.session())}


@blp.route("/service-intervals/<string:code>")
class ServiceInterval(MethodView):
    @blp.auth(*READERS)
    @_not_found
    @blp.response(200, ServiceIntervalSchema)
    def get(self, code: str) -> Any:
        """One service interval"""
        interval = intervals.get_interval(session=db.session(), code=code)
        return interval, etag_header(interval.version)

    @blp.auth(*INTERVAL_SETTERS)
    @blp.transactional
    @blp.if_match
    @blp.arguments(ServiceIntervalPutSchema)
    @blp.response(200, ServiceIntervalSchema)
    @blp.alt_response(201, schema=ServiceIntervalSchema, description="The interval was new")
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Set how often the service `code` is due: every `months`, every `km`, or
        whichever comes first; `canned_job_codes` say which completed work counts"""
        interval, created = intervals.put_interval(
            session=db.session(),
            code=code,
            data=data,
            actor=current_actor(),
            expected_versions=if_match_versions(),
        )
        return interval, 201 if created else 200, etag_header(interval.version)
