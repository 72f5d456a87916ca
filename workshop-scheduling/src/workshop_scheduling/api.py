"""HTTP layer: parse, one service call, serialise. Rules live in service/domain.

Three path prefixes: ``/api/v1/workshop`` (settings, bays, technicians, planning
views), ``/api/v1/availability`` and ``/api/v1/appointments``, one blueprint each, and
one more under ``/api/v1/appointments`` for the internal report of a job's status.
The customer portal's operations (role ``portal`` with a link, docs/customer-portal.md)
are under ``/api/v1/portal/appointment`` and ``/api/v1/portal/booking``; the staff's
invitations to book under ``/api/v1/booking-invitations``.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from flask import current_app, request, url_for
from flask.views import MethodView

from service_kit.auth import Actor, current_actor, current_principal
from service_kit.blueprint import ServiceBlueprint
from service_kit.etag import etag_header, if_match_versions
from service_kit.idempotency import transactional
from service_kit.links import current_link
from service_kit.links import portal_client_address as given_client_address
from service_kit.observability import current_request_id
from service_kit.problems import Forbidden, NotFound
from workshop_scheduling.clients.maintenance_jobs import maintenance_jobs
from workshop_scheduling.clients.vehicle_management import vehicle_management
from workshop_scheduling.models import Appointment as AppointmentRow
from workshop_scheduling.models import db
from workshop_scheduling.schemas import (
    FIRST_DATE,
    LAST_DATE,
    AppointmentCreateSchema,
    AppointmentPageSchema,
    AppointmentQueryArgsSchema,
    AppointmentRescheduleSchema,
    AppointmentSchema,
    AvailabilityQueryArgsSchema,
    AvailabilitySchema,
    BayCreateSchema,
    BayPageSchema,
    BayQueryArgsSchema,
    BaySchema,
    BayUpdateSchema,
    BookingInvitationCreateSchema,
    BookingInvitationSchema,
    CancelSchema,
    JobStatusSchema,
    PlanningQueryArgsSchema,
    PlanningSchema,
    PortalAppointmentSchema,
    PortalAvailabilitySchema,
    PortalBookingDayArgsSchema,
    PortalBookingSchema,
    PortalBookSchema,
    PortalCancelSchema,
    PortalDayArgsSchema,
    PortalMoveSchema,
    PortalPushAcceptedSchema,
    PortalPushSubscriptionSchema,
    SettingsSchema,
    SettingsUpdateSchema,
    TechnicianCreateSchema,
    TechnicianPageSchema,
    TechnicianQueryArgsSchema,
    TechnicianSchema,
    TechnicianUpdateSchema,
)
from workshop_scheduling.service import appointments, planning, portal, visits, workshop
from workshop_scheduling.service.appointments import ChangedBy

READERS = ("admin", "advisor", "technician", "accountant", "service")
MANAGERS = ("admin", "advisor")  # settings, bays, technicians; book, move, cancel, no-show
FLOOR = ("admin", "advisor", "technician")  # check-in and complete happen in the workshop
AVAILABILITY = ("admin", "advisor", "technician", "service")
INVITERS = ("admin", "advisor", "service")  # service: issue 19's follow-ups from other services
SIDE_ENGINE = "workshop_scheduling.side_engine"

workshop_blp = ServiceBlueprint(
    "workshop",
    __name__,
    url_prefix="/api/v1/workshop",
    description="The workshop: settings (time zone, opening hours, closed dates, slot grid, "
    "booking horizon), bays, technicians and the day and week planning views",
)
availability_blp = ServiceBlueprint(
    "availability", __name__, url_prefix="/api/v1/availability", description="Free start times and bays"
)
appointments_blp = ServiceBlueprint(
    "appointments",
    __name__,
    url_prefix="/api/v1/appointments",
    description="Appointments: booking (with its maintenance job), rescheduling, cancelling, "
    "check-in, no-show, completion",
)
# Its own tag, so readers of the contract see it is not for front ends.
job_status_blp = ServiceBlueprint(
    "job-status",
    __name__,
    url_prefix="/api/v1/appointments",
    description="Internal, maintenance-job-management only (role service): the status of an "
    "appointment's job, sent through its outbox each time it changes (not for front ends)",
)

portal_appointment_blp = ServiceBlueprint(
    "portal-appointment",
    __name__,
    url_prefix="/api/v1/portal/appointment",
    description="The customer portal only (role portal, with an appointment link in Portal-Link): "
    "the one appointment the link names - see, confirm, free times, move, cancel, get its "
    "messages on the phone (Web Push)",
)
portal_booking_blp = ServiceBlueprint(
    "portal-booking",
    __name__,
    url_prefix="/api/v1/portal/booking",
    description="The customer portal only (role portal, with a booking link in Portal-Link): the "
    "work one can book for the one vehicle the link names, free times, and booking it",
)
invitations_blp = ServiceBlueprint(
    "booking-invitations",
    __name__,
    url_prefix="/api/v1/booking-invitations",
    description="Invitations to book: the vehicle's owner is sent a message with a booking link "
    "to the customer portal",
)

View = Callable[..., Any]


def _not_found(blp: ServiceBlueprint) -> Callable[[View], View]:
    return blp.alt_response(404, response="NOT_FOUND")


def _delegating(view: View) -> View:
    """Documents the answers of an endpoint that calls another service inline."""
    view = appointments_blp.alt_response(409, response="CONFLICT")(view)
    view = appointments_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
    return appointments_blp.alt_response(503, response="SERVICE_UNAVAILABLE")(view)


def _booking_dependencies() -> appointments.BookingDependencies:
    return appointments.BookingDependencies(
        vehicles=vehicle_management(),
        jobs=maintenance_jobs(),
        side_engine=current_app.extensions[SIDE_ENGINE],
        grace=timedelta(seconds=current_app.config["JOB_CHECK_GRACE_SECONDS"]),
    )


def _cutoff() -> timedelta:
    return timedelta(hours=current_app.config["PORTAL_CHANGE_CUTOFF_HOURS"])


def _customer() -> Actor:
    """Who a portal change is recorded as: the portal, as the customer's channel."""
    return portal.portal_actor(current_principal().subject)


def portal_client_address() -> str:
    """The customer's address as the portal passed it, printable characters only (it is
    stored as text)."""
    return "".join(c for c in given_client_address() if c.isprintable())


def _versioned(resource: Any, status: int = 200) -> Any:
    return resource, status, etag_header(resource.version)


def _appointment_answer(appointment: AppointmentRow) -> Any:
    """An appointment answered with its times on the workshop's clock, and its ETag."""
    return appointments.in_workshop_time(db.session(), appointment), etag_header(appointment.version)


# ----------------------------------------------------------------------------- settings


@workshop_blp.route("/settings")
class Settings(MethodView):
    @workshop_blp.auth(*READERS)
    @workshop_blp.response(200, SettingsSchema)
    def get(self) -> Any:
        """The workshop's time zone, opening hours, closed dates, slot grid and booking horizon"""
        return _versioned(workshop.get_settings(session=db.session()))

    @workshop_blp.auth(*MANAGERS)
    @workshop_blp.transactional
    @workshop_blp.if_match
    @workshop_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @workshop_blp.arguments(SettingsUpdateSchema)
    @workshop_blp.response(200, SettingsSchema)
    def put(self, data: dict[str, Any]) -> Any:
        """Replace the settings; appointments already booked stay as they are"""
        return _versioned(
            workshop.update_settings(session=db.session(), data=data, expected_versions=if_match_versions())
        )


# --------------------------------------------------------------------------------- bays


@workshop_blp.route("/bays")
class Bays(MethodView):
    @workshop_blp.auth(*READERS)
    @workshop_blp.arguments(BayQueryArgsSchema, location="query")
    @workshop_blp.response(200, BayPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List bays, oldest first; filter by kind or active"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return workshop.list_bays(session=db.session(), filters=args, limit=limit, cursor=cursor)

    @workshop_blp.auth(*MANAGERS)
    @workshop_blp.idempotent
    @workshop_blp.arguments(BayCreateSchema)
    @workshop_blp.response(201, BaySchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a bay (capacity at any moment is the number of active bays)"""
        bay = workshop.create_bay(session=db.session(), data=data)
        return bay, {"Location": url_for("workshop.Bay", bay_id=bay.id), **etag_header(bay.version)}


@workshop_blp.route("/bays/<uuid:bay_id>")
class Bay(MethodView):
    @workshop_blp.auth(*READERS)
    @_not_found(workshop_blp)
    @workshop_blp.response(200, BaySchema)
    def get(self, bay_id: uuid.UUID) -> Any:
        """Get a bay"""
        return _versioned(workshop.get_bay(session=db.session(), bay_id=bay_id))

    @workshop_blp.auth(*MANAGERS)
    @workshop_blp.transactional
    @workshop_blp.if_match
    @_not_found(workshop_blp)
    @workshop_blp.arguments(BayUpdateSchema)
    @workshop_blp.response(200, BaySchema)
    def patch(self, changes: dict[str, Any], bay_id: uuid.UUID) -> Any:
        """Rename, change the kind, or (de)activate a bay; one with upcoming appointments stays active"""
        bay = workshop.update_bay(
            session=db.session(), bay_id=bay_id, changes=changes, expected_versions=if_match_versions()
        )
        return _versioned(bay)


# -------------------------------------------------------------------------- technicians


def _account_linked_by_an_admin(data: dict[str, Any]) -> None:
    """Whose account a technician is decides whose clock is theirs: an admin's call."""
    if "account_subject" in data and "admin" not in current_principal().roles:
        raise Forbidden("only an admin links a technician to an identity account")


@workshop_blp.route("/technicians")
class Technicians(MethodView):
    @workshop_blp.auth(*READERS)
    @workshop_blp.arguments(TechnicianQueryArgsSchema, location="query")
    @workshop_blp.response(200, TechnicianPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List technicians, oldest first; filter by skill or active"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return workshop.list_technicians(session=db.session(), filters=args, limit=limit, cursor=cursor)

    @workshop_blp.auth(*MANAGERS)
    @workshop_blp.idempotent
    @workshop_blp.arguments(TechnicianCreateSchema)
    @workshop_blp.response(201, TechnicianSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a technician with their skills

        Linking their identity account (`account_subject`) is an admin's (403 for others)."""
        _account_linked_by_an_admin(data)
        technician = workshop.create_technician(session=db.session(), data=data)
        location = url_for("workshop.Technician", technician_id=technician.id)
        return technician, {"Location": location, **etag_header(technician.version)}


@workshop_blp.route("/technicians/<uuid:technician_id>")
class Technician(MethodView):
    @workshop_blp.auth(*READERS)
    @_not_found(workshop_blp)
    @workshop_blp.response(200, TechnicianSchema)
    def get(self, technician_id: uuid.UUID) -> Any:
        """Get a technician"""
        return _versioned(workshop.get_technician(session=db.session(), technician_id=technician_id))

    @workshop_blp.auth(*MANAGERS)
    @workshop_blp.transactional
    @workshop_blp.if_match
    @_not_found(workshop_blp)
    @workshop_blp.arguments(TechnicianUpdateSchema)
    @workshop_blp.response(200, TechnicianSchema)
    def patch(self, changes: dict[str, Any], technician_id: uuid.UUID) -> Any:
        """Rename, change skills, or (de)activate a technician; one with upcoming appointments stays active

        Linking their identity account (`account_subject`) is an admin's (403 for others)."""
        _account_linked_by_an_admin(changes)
        technician = workshop.update_technician(
            session=db.session(),
            technician_id=technician_id,
            changes=changes,
            expected_versions=if_match_versions(),
        )
        return _versioned(technician)


# ----------------------------------------------------------------------------- planning


def _planning(first_day: date, last_day: date, args: dict[str, Any]) -> Any:
    return planning.planning(
        session=db.session(),
        jobs=maintenance_jobs(),
        first_day=first_day,
        last_day=last_day,
        include_cancelled=args["include_cancelled"],
        parallel=current_app.config["PLANNING_JOB_LOOKUPS"],
        request_id=current_request_id(),
    )


@workshop_blp.route("/planning/days/<string:day>")
class PlanningDay(MethodView):
    @workshop_blp.auth(*READERS)
    @_not_found(workshop_blp)
    @workshop_blp.arguments(PlanningQueryArgsSchema, location="query")
    @workshop_blp.response(200, PlanningSchema)
    def get(self, args: dict[str, Any], day: str) -> Any:
        """The appointments of a day (YYYY-MM-DD, workshop time) with vehicle, bay, technician
        and job status; job status `unknown` when maintenance-job-management does not answer"""
        try:
            first = date.fromisoformat(day)
            if not FIRST_DATE <= first <= LAST_DATE:
                raise ValueError(day)
        except ValueError:
            raise NotFound(f"{day!r} is not a date (YYYY-MM-DD) this workshop plans") from None
        return _planning(first, first, args)


@workshop_blp.route("/planning/weeks/<string:week>")
class PlanningWeek(MethodView):
    @workshop_blp.auth(*READERS)
    @_not_found(workshop_blp)
    @workshop_blp.arguments(PlanningQueryArgsSchema, location="query")
    @workshop_blp.response(200, PlanningSchema)
    def get(self, args: dict[str, Any], week: str) -> Any:
        """The appointments of an ISO week (YYYY-Www, Monday to Sunday), day by day"""
        match = re.fullmatch(r"(\d{4})-W(\d{2})", week)
        try:
            if not match:
                raise ValueError(week)
            monday = date.fromisocalendar(int(match[1]), int(match[2]), 1)
            if not FIRST_DATE <= monday <= LAST_DATE - timedelta(days=6):
                raise ValueError(week)
        except ValueError:
            raise NotFound(f"{week!r} is not an ISO week (YYYY-Www)") from None
        return _planning(monday, monday + timedelta(days=6), args)


# ------------------------------------------------------------------------- availability


@availability_blp.route("")
class Availability(MethodView):
    @availability_blp.auth(*AVAILABILITY)
    @availability_blp.arguments(AvailabilityQueryArgsSchema, location="query")
    @availability_blp.response(200, AvailabilitySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Free start times from `from` to `to` (local dates) for `duration` minutes, with the
        bays (of `bay_kind`) free for the whole time at each"""
        return planning.find_availability(session=db.session(), **args)


# ------------------------------------------------------------------------- appointments


@appointments_blp.route("")
class Appointments(MethodView):
    @appointments_blp.auth(*READERS)
    @appointments_blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @appointments_blp.arguments(AppointmentQueryArgsSchema, location="query")
    @appointments_blp.response(200, AppointmentPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List appointments in start order; filter by vehicle, customer, bay, technician,
        status, a start window (`from`, `to`), or a plate with `open=true`: where is my car"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        page = appointments.list_appointments(
            session=db.session(),
            filters=appointments.AppointmentFilters(**args),
            limit=limit,
            cursor=cursor,
            vehicles=vehicle_management(),
        )
        return appointments.page_in_workshop_time(db.session(), page)

    @appointments_blp.auth(*MANAGERS)
    @appointments_blp.idempotent
    @_delegating
    @appointments_blp.arguments(AppointmentCreateSchema)
    @appointments_blp.response(201, AppointmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Book: checks the vehicle with vehicle-management, creates the maintenance job and
        confirms to the customer; if a service fails nothing is booked (503)"""
        appointment = appointments.book_appointment(
            session=db.session(),
            dependencies=_booking_dependencies(),
            data=data,
            booked_by=current_actor(),
            request_key=request.headers.get("Idempotency-Key"),
        )
        answer, etag = _appointment_answer(appointment)
        location = url_for("appointments.Appointment", appointment_id=appointment.id)
        return answer, {"Location": location, **etag}


@appointments_blp.route("/<uuid:appointment_id>")
class Appointment(MethodView):
    @appointments_blp.auth(*READERS)
    @_not_found(appointments_blp)
    @appointments_blp.response(200, AppointmentSchema)
    def get(self, appointment_id: uuid.UUID) -> Any:
        """Get an appointment"""
        appointment = appointments.get_appointment(session=db.session(), appointment_id=appointment_id)
        return _appointment_answer(appointment)


@appointments_blp.route("/<uuid:appointment_id>/reschedule")
class Reschedule(MethodView):
    @appointments_blp.auth(*MANAGERS)
    @appointments_blp.idempotent
    @appointments_blp.if_match
    @_not_found(appointments_blp)
    @_delegating
    @appointments_blp.arguments(AppointmentRescheduleSchema)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, data: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """Move a booked appointment: every rule again, the job's planned times moved, the
        customer told"""
        appointment = appointments.reschedule_appointment(
            session=db.session(),
            dependencies=_booking_dependencies(),
            appointment_id=appointment_id,
            data=data,
            expected_versions=if_match_versions(),
            by=ChangedBy(current_actor()),
        )
        return _appointment_answer(appointment)


@appointments_blp.route("/<uuid:appointment_id>/cancel")
class Cancel(MethodView):
    @appointments_blp.auth(*MANAGERS)
    @appointments_blp.transactional
    @_not_found(appointments_blp)
    @_delegating
    @appointments_blp.arguments(CancelSchema)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, data: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """Cancel (booked or checked in) with its job — 409 once the job has started; the
        customer is told; again is a no-op"""
        appointment = appointments.cancel_appointment(
            session=db.session(),
            dependencies=_booking_dependencies(),
            appointment_id=appointment_id,
            reason=data.get("reason"),
            by=ChangedBy(current_actor()),
        )
        return _appointment_answer(appointment)


@appointments_blp.route("/<uuid:appointment_id>/no-show")
class NoShow(MethodView):
    @appointments_blp.auth(*MANAGERS)
    @appointments_blp.transactional
    @_not_found(appointments_blp)
    @_delegating
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, appointment_id: uuid.UUID) -> Any:
        """booked -> no_show once the start has passed; the job is cancelled, the bay freed"""
        return _appointment_answer(
            appointments.mark_no_show(
                session=db.session(),
                dependencies=_booking_dependencies(),
                appointment_id=appointment_id,
                by=ChangedBy(current_actor()),
            )
        )


@appointments_blp.route("/<uuid:appointment_id>/check-in")
class CheckIn(MethodView):
    @appointments_blp.auth(*FLOOR)
    @appointments_blp.transactional
    @_not_found(appointments_blp)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, appointment_id: uuid.UUID) -> Any:
        """booked -> checked_in: the vehicle has arrived"""
        return _appointment_answer(appointments.check_in(session=db.session(), appointment_id=appointment_id))


@appointments_blp.route("/<uuid:appointment_id>/complete")
class Complete(MethodView):
    @appointments_blp.auth(*FLOOR)
    @appointments_blp.transactional
    @_not_found(appointments_blp)
    @appointments_blp.response(200, AppointmentSchema)
    def post(self, appointment_id: uuid.UUID) -> Any:
        """checked_in -> completed: the vehicle has left the bay, which is free again"""
        return _appointment_answer(appointments.complete(session=db.session(), appointment_id=appointment_id))


@job_status_blp.route("/<uuid:appointment_id>/job")
class JobStatus(MethodView):
    @job_status_blp.auth("service")
    @job_status_blp.transactional
    @_not_found(job_status_blp)
    @job_status_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @job_status_blp.arguments(JobStatusSchema)
    @job_status_blp.response(200, AppointmentSchema)
    def put(self, data: dict[str, Any], appointment_id: uuid.UUID) -> Any:
        """Report the status of the appointment's job (maintenance-job-management's outbox)

        Applied once per version: a repeat, or an older version after a newer one, changes
        nothing. A completed job completes a booked or checked-in appointment (its bay is free
        again); a cancelled one cancels it and tells the customer, as a cancel by staff does."""
        appointment = visits.record_job_status(session=db.session(), appointment_id=appointment_id, data=data)
        return _appointment_answer(appointment)


# ---------------------------------------------------------------------- customer portal
# Role portal with a valid link of the purpose (@blp.link): each acts on the one thing
# current_link() names and takes no id from the path or the body. A GET commits too, so
# the link's use is counted.


def _delegating_for(blp: ServiceBlueprint) -> Callable[[View], View]:
    def decorator(view: View) -> View:
        view = blp.alt_response(409, response="CONFLICT")(view)
        view = blp.alt_response(422, response="UNPROCESSABLE_ENTITY")(view)
        return blp.alt_response(503, response="SERVICE_UNAVAILABLE")(view)

    return decorator


@portal_appointment_blp.route("")
class PortalAppointment(MethodView):
    @portal_appointment_blp.link("appointment")
    @transactional
    @portal_appointment_blp.response(200, PortalAppointmentSchema)
    def get(self) -> Any:
        """The appointment: start, end, status, vehicle, the work booked, whether the customer
        confirmed it, and until when they can move or cancel it here"""
        return portal.show_appointment(session=db.session(), link=current_link(), cutoff=_cutoff())


@portal_appointment_blp.route("/confirm")
class PortalConfirm(MethodView):
    @portal_appointment_blp.link("appointment")
    @portal_appointment_blp.transactional
    @portal_appointment_blp.response(200, PortalAppointmentSchema)
    def post(self) -> Any:
        """The customer will come: customer_confirmed_at recorded (again changes nothing); 409
        too-late-to-change for an appointment no longer booked"""
        return portal.confirm_appointment(
            session=db.session(),
            link=current_link(),
            cutoff=_cutoff(),
            client_address=portal_client_address(),
        )


@portal_appointment_blp.route("/availability")
class PortalAppointmentAvailability(MethodView):
    @portal_appointment_blp.link("appointment")
    @transactional
    @portal_appointment_blp.alt_response(409, response="CONFLICT")
    @portal_appointment_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @portal_appointment_blp.arguments(PortalDayArgsSchema, location="query")
    @portal_appointment_blp.response(200, PortalAvailabilitySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Free starts on `date` (local) for this appointment's length: where it can be moved;
        409 too-late-to-change once it cannot"""
        return portal.appointment_availability(
            session=db.session(), link=current_link(), day=args["day"], cutoff=_cutoff()
        )


@portal_appointment_blp.route("/move")
class PortalMove(MethodView):
    @portal_appointment_blp.link("appointment")
    @portal_appointment_blp.transactional
    @_delegating_for(portal_appointment_blp)
    @portal_appointment_blp.arguments(PortalMoveSchema)
    @portal_appointment_blp.response(200, PortalAppointmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Move to `start` as the front desk moves (every rule, its job moved, the customer told);
        409 too-late-to-change within the cut-off or when no longer booked"""
        return portal.move_appointment(
            session=db.session(),
            dependencies=_booking_dependencies(),
            link=current_link(),
            start=data["start"],
            actor=_customer(),
            cutoff=_cutoff(),
            client_address=portal_client_address(),
        )


@portal_appointment_blp.route("/cancel")
class PortalCancel(MethodView):
    @portal_appointment_blp.link("appointment")
    @portal_appointment_blp.transactional
    @_delegating_for(portal_appointment_blp)
    @portal_appointment_blp.arguments(PortalCancelSchema)
    @portal_appointment_blp.response(200, PortalAppointmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Cancel as the front desk cancels (its job too, the customer told); 409
        too-late-to-change within the cut-off or once checked in; again changes nothing"""
        return portal.cancel_appointment(
            session=db.session(),
            dependencies=_booking_dependencies(),
            link=current_link(),
            reason=(data.get("reason") or "").strip() or None,
            actor=_customer(),
            cutoff=_cutoff(),
            client_address=portal_client_address(),
        )


@portal_appointment_blp.route("/push-subscription")
class PortalPushSubscription(MethodView):
    @portal_appointment_blp.link("appointment")
    @portal_appointment_blp.transactional
    @portal_appointment_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @portal_appointment_blp.arguments(PortalPushSubscriptionSchema)
    @portal_appointment_blp.response(202, PortalPushAcceptedSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Get the customer's messages on this browser or phone (Web Push)

        The browser's PushSubscription (endpoint, keys) is stored in notification-management,
        through the outbox, for the customer the link was sent to and nobody else; sending it
        again changes nothing, renewed keys replace the old ones."""
        return portal.subscribe_to_push(session=db.session(), link=current_link(), subscription=data)


@portal_booking_blp.route("")
class PortalBooking(MethodView):
    @portal_booking_blp.link("booking")
    @transactional
    @portal_booking_blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @portal_booking_blp.response(200, PortalBookingSchema)
    def get(self) -> Any:
        """The vehicle and the work one can book for it (canned jobs with their time, or other
        work); 410 link-revoked when the vehicle is no longer the customer's"""
        return portal.show_booking(
            session=db.session(), link=current_link(), vehicles=vehicle_management(), jobs=maintenance_jobs()
        )

    @portal_booking_blp.link("booking")
    @portal_booking_blp.idempotent
    @_delegating_for(portal_booking_blp)
    @portal_booking_blp.arguments(PortalBookSchema)
    @portal_booking_blp.response(201, PortalAppointmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Book the link's vehicle as the front desk books (the slot, the vehicle, the job, the
        confirmation with an appointment link); 410 link-revoked when the vehicle changed hands"""
        return portal.book(
            session=db.session(),
            dependencies=_booking_dependencies(),
            link=current_link(),
            data=data,
            actor=_customer(),
            cutoff=_cutoff(),
            request_key=request.headers.get("Idempotency-Key"),
            client_address=portal_client_address(),
        )


@portal_booking_blp.route("/availability")
class PortalBookingAvailability(MethodView):
    @portal_booking_blp.link("booking")
    @transactional
    @portal_booking_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @portal_booking_blp.arguments(PortalBookingDayArgsSchema, location="query")
    @portal_booking_blp.response(200, PortalAvailabilitySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Free starts on `date` (local) for work of `duration_minutes`, in any bay"""
        return portal.booking_availability(
            session=db.session(), day=args["day"], duration_minutes=args["duration_minutes"]
        )


# ------------------------------------------------------------------------ invitations


@invitations_blp.route("")
class BookingInvitations(MethodView):
    @invitations_blp.auth(*INVITERS)
    @invitations_blp.idempotent
    @invitations_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @invitations_blp.alt_response(503, response="SERVICE_UNAVAILABLE")
    @invitations_blp.arguments(BookingInvitationCreateSchema)
    @invitations_blp.response(202, BookingInvitationSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Invite the vehicle's owner to book: `type` (booking_invitation, or a follow-up: service_due,
        inspection_due, declined_work) sent with a booking link valid for BOOKING_LINK_DAYS (30);
        with an Idempotency-Key, asking twice sends one message"""
        return portal.invite_to_book(
            session=db.session(),
            vehicles=vehicle_management(),
            vehicle_id=data["vehicle_id"],
            type_=data["type"],
            data=data["data"],
            valid_for=timedelta(days=current_app.config["BOOKING_LINK_DAYS"]),
            caller=current_principal().subject,
            request_key=request.headers.get("Idempotency-Key"),
        )
