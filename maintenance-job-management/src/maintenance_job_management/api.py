"""HTTP layer: parse, one service call, serialise. Rules live in service/domain.

Lines, estimates and the time clock are parts of a job: their changes give the job a
new ``version``, and a line's ETag is its job's."""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, url_for
from flask.views import MethodView

from maintenance_job_management import pdf
from maintenance_job_management.models import db
from maintenance_job_management.schemas import (
    AddCannedJobSchema,
    AddedCannedJobSchema,
    AppointmentStatusSchema,
    ApprovalPageSchema,
    CannedJobCreateSchema,
    CannedJobPageSchema,
    CannedJobQueryArgsSchema,
    CannedJobSchema,
    CannedJobUpdateSchema,
    ClockSchema,
    CompleteSchema,
    EstimateCreateSchema,
    EstimateDecisionSchema,
    EstimatePageSchema,
    EstimateSchema,
    FeedbackPageSchema,
    FeedbackQueryArgsSchema,
    FeedbackSummaryArgsSchema,
    FeedbackSummarySchema,
    JobCreateSchema,
    JobPageSchema,
    JobQueryArgsSchema,
    JobSchema,
    JobUpdateSchema,
    LabourRateListSchema,
    LabourRatePutSchema,
    LabourRateSchema,
    LineCreateSchema,
    LineSchema,
    LineUpdateSchema,
    PortalDecisionSchema,
    PortalEstimateSchema,
    PortalFeedbackSchema,
    PortalVisitSchema,
    ReasonSchema,
    RecommendationPageSchema,
    RecommendationQueryArgsSchema,
    RescheduleSchema,
    StartSchema,
    TimeEntrySchema,
    TimeSheetSchema,
)
from maintenance_job_management.service import (
    approvals,
    catalogue,
    documents,
    feedback,
    jobs,
    lines,
    portal,
    prices,
    time_clock,
)
from service_kit.auth import Actor, current_actor, current_principal
from service_kit.blueprint import ServiceBlueprint
from service_kit.documents.schemas import DocumentArgsSchema
from service_kit.documents.settings import DocumentSettings
from service_kit.etag import etag_header, if_match_versions
from service_kit.links import current_link, portal_client_address
from service_kit.pagination import PageArgsSchema
from service_kit.problems import Forbidden

READERS = ("admin", "advisor", "technician", "accountant", "service")
# Jobs come from bookings (workshop-scheduling); only an admin may create one by hand.
CREATORS = ("admin", "service")
CANCELLERS = ("admin", "advisor", "service")
SCHEDULING = ("service",)  # planned times move only through workshop-scheduling
WORKSHOP = ("admin", "technician")  # start, complete, the clock
HOLDERS = ("admin", "advisor", "technician")
EDITORS = ("admin", "advisor", "technician")  # job details and lines
ESTIMATORS = ("admin", "advisor")
HANDERS_OVER = ("admin", "advisor")  # the front desk gives the customer the keys
# Customers' ratings with their comments, per technician: the front desk and the owner.
FEEDBACK_READERS = ("admin", "advisor")

blp = ServiceBlueprint(
    "jobs",
    __name__,
    url_prefix="/api/v1/maintenance-jobs",
    description="Maintenance jobs: lifecycle, lines, estimates and approval, time clock",
)
# Its own tag, so readers of the contract see it is not for front ends.
appointment_status_blp = ServiceBlueprint(
    "appointment-status",
    __name__,
    url_prefix="/api/v1/maintenance-jobs",
    description="Internal, workshop-scheduling only (role service): the status of a job's appointment, "
    "sent through its outbox each time it changes (not for front ends)",
)


def _margin() -> int:
    return current_app.config["APPROVAL_MARGIN_PERCENT"]


def _time_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["GARAGE_TIMEZONE"])


def _job_response(job: Any, status: int = 200) -> Any:
    return job, status, etag_header(job.version)


def _job_location(job_id: uuid.UUID) -> str:
    return url_for("jobs.Job", job_id=job_id)


# --------------------------------------------------------------------------------- jobs


@blp.route("")
class Jobs(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(JobQueryArgsSchema, location="query")
    @blp.response(200, JobPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List jobs, newest planned first; `vehicle_id` or `customer_id` give a history"""
        limit, cursor = args.pop("limit"), args.pop("cursor", None)
        return jobs.list_jobs(
            session=db.session(), filters=jobs.JobFilters(**args), limit=limit, cursor=cursor
        )

    @blp.auth(*CREATORS)
    @blp.idempotent
    @blp.arguments(JobCreateSchema)
    @blp.response(201, JobSchema)
    @blp.alt_response(200, schema=JobSchema, description="The appointment already has this job")
    def post(self, data: dict[str, Any]) -> Any:
        """Create the job of an appointment (once per appointment id)"""
        job, created = jobs.create_job(
            session=db.session(), data=data, currency=current_app.config["CURRENCY"]
        )
        return job, 201 if created else 200, {"Location": _job_location(job.id), **etag_header(job.version)}


@blp.route("/<uuid:job_id>")
class Job(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, JobSchema)
    def get(self, job_id: uuid.UUID) -> Any:
        """Get a job with its lines, totals, progress and clocked time"""
        return _job_response(jobs.get_job(session=db.session(), job_id=job_id))

    @blp.auth(*EDITORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.if_match
    @blp.arguments(JobUpdateSchema)
    @blp.response(200, JobSchema)
    def patch(self, changes: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Change description, assigned technician, odometer at intake or technician notes"""
        job = jobs.update_job(
            session=db.session(), job_id=job_id, changes=changes, expected_versions=if_match_versions()
        )
        return _job_response(job)


@blp.route("/<uuid:job_id>/reschedule")
class Reschedule(MethodView):
    @blp.auth(*SCHEDULING)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(RescheduleSchema)
    @blp.response(200, JobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Move the planned times (workshop-scheduling only; a scheduled or on_hold job)"""
        return _job_response(jobs.reschedule_job(session=db.session(), job_id=job_id, **data))


@blp.route("/<uuid:job_id>/start")
class Start(MethodView):
    @blp.auth(*WORKSHOP)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(StartSchema)
    @blp.response(200, JobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """scheduled -> in_progress: record the start, the technician and the odometer"""
        job = jobs.start_job(
            session=db.session(),
            job_id=job_id,
            data=data,
            actor=current_principal().subject,
            margin_percent=_margin(),
        )
        return _job_response(job)


@blp.route("/<uuid:job_id>/hold")
class Hold(MethodView):
    @blp.auth(*HOLDERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(ReasonSchema)
    @blp.response(200, JobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """in_progress -> on_hold (waiting for parts or the customer); tells the customer"""
        return _job_response(jobs.hold_job(session=db.session(), job_id=job_id, reason=data["reason"]))


@blp.route("/<uuid:job_id>/resume")
class Resume(MethodView):
    @blp.auth(*HOLDERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.response(200, JobSchema)
    def post(self, job_id: uuid.UUID) -> Any:
        """on_hold -> in_progress (409 while the work exceeds the approval)"""
        return _job_response(jobs.resume_job(session=db.session(), job_id=job_id, margin_percent=_margin()))


@blp.route("/<uuid:job_id>/complete")
class Complete(MethodView):
    @blp.auth(*WORKSHOP)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(CompleteSchema)
    @blp.response(200, JobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """in_progress -> completed; asks invoicing for the invoice and tells the customer"""
        job = jobs.complete_job(session=db.session(), job_id=job_id, data=data, margin_percent=_margin())
        return _job_response(job)


@blp.route("/<uuid:job_id>/cancel")
class Cancel(MethodView):
    @blp.auth(*CANCELLERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(ReasonSchema)
    @blp.response(200, JobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """scheduled or on_hold -> cancelled (409 once started); again is a no-op"""
        return _job_response(jobs.cancel_job(session=db.session(), job_id=job_id, reason=data["reason"]))


@blp.route("/<uuid:job_id>/hand-over")
class HandOver(MethodView):
    @blp.auth(*HANDERS_OVER)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.response(200, JobSchema)
    def post(self, job_id: uuid.UUID) -> Any:
        """The customer collected the vehicle of a completed job; asks how the visit went

        Records `collected_at` and who recorded it, and sends the customer a
        `feedback_request` with a link to rate the visit (valid 30 days). Again changes
        nothing and sends nothing more; 409 unless the job is completed."""
        job = feedback.hand_over(
            session=db.session(), job_id=job_id, actor=current_actor(), time_zone=_time_zone()
        )
        return _job_response(job)


# -------------------------------------------------------------------------------- lines


@blp.route("/<uuid:job_id>/lines")
class Lines(MethodView):
    @blp.auth(*EDITORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(LineCreateSchema)
    @blp.response(201, LineSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Add a labour or parts line (pending the customer's approval unless booked)"""
        line = lines.add_line(
            session=db.session(),
            job_id=job_id,
            data=data,
            actor=current_actor(),
            default_vat_rate=current_app.config["DEFAULT_VAT_RATE"],
        )
        return line, {
            "Location": url_for("jobs.Line", job_id=job_id, line_id=line.id),
            **etag_header(line.job.version),
        }


@blp.route("/<uuid:job_id>/lines/<uuid:line_id>")
class Line(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, LineSchema)
    def get(self, job_id: uuid.UUID, line_id: uuid.UUID) -> Any:
        """Get one line"""
        line = lines.get_line(session=db.session(), job_id=job_id, line_id=line_id)
        return line, etag_header(line.job.version)

    @blp.auth(*EDITORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.if_match
    @blp.arguments(LineUpdateSchema)
    @blp.response(200, LineSchema)
    def patch(self, changes: dict[str, Any], job_id: uuid.UUID, line_id: uuid.UUID) -> Any:
        """Change a line or mark it done; growing past the approval puts the job on hold"""
        line = lines.update_line(
            session=db.session(),
            job_id=job_id,
            line_id=line_id,
            changes=changes,
            expected_versions=if_match_versions(),
            margin_percent=_margin(),
        )
        return line, etag_header(line.job.version)

    @blp.auth(*EDITORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.if_match
    @blp.response(204)
    def delete(self, job_id: uuid.UUID, line_id: uuid.UUID) -> Any:
        """Remove a line that awaits the customer's decision"""
        job = lines.remove_line(
            session=db.session(), job_id=job_id, line_id=line_id, expected_versions=if_match_versions()
        )
        return None, 204, etag_header(job.version)


@blp.route("/recommendations")
class Recommendations(MethodView):
    @blp.auth(*READERS)
    @blp.arguments(RecommendationQueryArgsSchema, location="query")
    @blp.response(200, RecommendationPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Declined work of a vehicle or customer, newest first: offer it at the next visit"""
        return lines.list_recommendations(
            session=db.session(),
            vehicle_id=args.get("vehicle_id"),
            customer_id=args.get("customer_id"),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )


# ---------------------------------------------------------------------------- estimates


@blp.route("/<uuid:job_id>/estimates")
class Estimates(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, EstimatePageSchema)
    def get(self, args: dict[str, Any], job_id: uuid.UUID) -> Any:
        """A job's estimates, newest first"""
        return approvals.list_estimates(
            session=db.session(), job_id=job_id, limit=args["limit"], cursor=args.get("cursor")
        )

    @blp.auth(*ESTIMATORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(EstimateCreateSchema)
    @blp.response(201, EstimateSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Put the lines awaiting approval before the customer, recording what they see"""
        estimate = approvals.send_estimate(
            session=db.session(), job_id=job_id, data=data, actor=current_actor()
        )
        return estimate, {"Location": url_for("jobs.Estimate", job_id=job_id, estimate_id=estimate.id)}


@blp.route("/<uuid:job_id>/estimates/<uuid:estimate_id>")
class Estimate(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, EstimateSchema)
    def get(self, job_id: uuid.UUID, estimate_id: uuid.UUID) -> Any:
        """Get an estimate exactly as the customer saw it"""
        return approvals.get_estimate(session=db.session(), job_id=job_id, estimate_id=estimate_id)


# ---------------------------------------------------------------------------- documents

PDF_RESPONSE = {"type": "string", "format": "binary"}


def _document(args: dict[str, Any]) -> tuple[DocumentSettings, str]:
    settings = DocumentSettings.from_config(current_app.config)
    return settings, args.get("lang") or settings.language


def _pdf(content: bytes, filename: str) -> Response:
    response = Response(content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@blp.route("/<uuid:job_id>/estimates/<uuid:estimate_id>/pdf")
class EstimatePdf(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.arguments(DocumentArgsSchema, location="query")
    @blp.response(200, PDF_RESPONSE, content_type="application/pdf", description="The estimate as shown")
    def get(self, args: dict[str, Any], job_id: uuid.UUID, estimate_id: uuid.UUID) -> Any:
        """The estimate as a PDF: the lines, totals and message the customer was shown"""
        shown = documents.estimate(session=db.session(), job_id=job_id, estimate_id=estimate_id)
        settings, language = _document(args)
        return _pdf(
            pdf.render_estimate(shown.estimate, shown.job, settings, language), f"estimate-{estimate_id}.pdf"
        )


@blp.route("/<uuid:job_id>/work-order")
class WorkOrder(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.arguments(DocumentArgsSchema, location="query")
    @blp.response(200, PDF_RESPONSE, content_type="application/pdf", description="The job card")
    def get(self, args: dict[str, Any], job_id: uuid.UUID) -> Any:
        """The work order (job card) as a PDF: planned times, vehicle, lines to tick off, notes"""
        job = documents.work_order(session=db.session(), job_id=job_id)
        settings, language = _document(args)
        return _pdf(pdf.render_work_order(job, settings, language), f"work-order-{job_id}.pdf")


@blp.route("/<uuid:job_id>/estimates/<uuid:estimate_id>/decision")
class Decision(MethodView):
    @blp.auth(*ESTIMATORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(EstimateDecisionSchema)
    @blp.response(200, EstimateSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID, estimate_id: uuid.UUID) -> Any:
        """Record the customer's approval or refusal of each line: who, when, how"""
        return approvals.decide_estimate(
            session=db.session(),
            job_id=job_id,
            estimate_id=estimate_id,
            data=data,
            actor=current_actor(),
            margin_percent=_margin(),
        )


@blp.route("/<uuid:job_id>/approvals")
class Approvals(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.arguments(PageArgsSchema, location="query")
    @blp.response(200, ApprovalPageSchema)
    def get(self, args: dict[str, Any], job_id: uuid.UUID) -> Any:
        """The audit trail of the customer's decisions, newest first"""
        return approvals.list_approvals(
            session=db.session(), job_id=job_id, limit=args["limit"], cursor=args.get("cursor")
        )


# --------------------------------------------------------------------------- time clock


def _technician(data: dict[str, Any]) -> Actor | str:
    """Whose clock: the caller's own (their token's subject and name), or, for an admin
    only, another technician's account id. A technician clocks only themselves."""
    principal = current_principal()
    technician = data.get("technician") or principal.subject
    if technician == principal.subject:
        return principal.actor
    if "admin" not in principal.roles:
        raise Forbidden("a technician clocks in and out as themselves; only an admin can clock another")
    return str(technician)


@blp.route("/<uuid:job_id>/clock-in")
class ClockIn(MethodView):
    @blp.auth(*WORKSHOP)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(ClockSchema)
    @blp.response(201, TimeEntrySchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Start a technician's clock on an in-progress job (one running clock each)"""
        entry = time_clock.clock_in(
            session=db.session(), job_id=job_id, technician=_technician(data), actor=current_actor()
        )
        return entry, {"Location": url_for("jobs.TimeEntries", job_id=job_id)}


@blp.route("/<uuid:job_id>/clock-out")
class ClockOut(MethodView):
    @blp.auth(*WORKSHOP)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.transactional
    @blp.arguments(ClockSchema)
    @blp.response(200, TimeEntrySchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Stop a technician's clock on this job"""
        technician = _technician(data)
        subject = technician.subject if isinstance(technician, Actor) else technician
        return time_clock.clock_out(session=db.session(), job_id=job_id, technician=subject)


@blp.route("/<uuid:job_id>/time-entries")
class TimeEntries(MethodView):
    @blp.auth(*READERS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.response(200, TimeSheetSchema)
    def get(self, job_id: uuid.UUID) -> Any:
        """Clocked time per technician beside the labour hours billed"""
        return time_clock.time_sheet(session=db.session(), job_id=job_id)


# -------------------------------------------------------------------- the appointment


@appointment_status_blp.route("/<uuid:job_id>/appointment")
class AppointmentStatus(MethodView):
    @appointment_status_blp.auth(*SCHEDULING)
    @appointment_status_blp.alt_response(404, response="NOT_FOUND")
    @appointment_status_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @appointment_status_blp.transactional
    @appointment_status_blp.arguments(AppointmentStatusSchema)
    @appointment_status_blp.response(200, JobSchema)
    def put(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Report the status of the job's appointment (workshop-scheduling's outbox)

        Applied once per version: a repeat, or an older version after a newer one, changes
        nothing. Check-in sets the job's `arrived_at`."""
        return _job_response(jobs.record_appointment_status(session=db.session(), job_id=job_id, data=data))


# ---------------------------------------------------------------------- prices (set-up)

PRICE_SETTERS = ("admin",)  # the owner sets prices once; everyone reads them

rates_blp = ServiceBlueprint(
    "labour-rates",
    __name__,
    url_prefix="/api/v1/labour-rates",
    description="The garage's hourly labour rates: `default` and one per kind of work",
)
catalogue_blp = ServiceBlueprint(
    "canned-jobs",
    __name__,
    url_prefix="/api/v1/canned-jobs",
    description="Canned jobs: work done often, priced once, added to a job's lines in one call",
)


@rates_blp.route("")
class LabourRates(MethodView):
    @rates_blp.auth(*READERS)
    @rates_blp.response(200, LabourRateListSchema)
    def get(self) -> Any:
        """Every labour rate, by code (a garage has a handful)"""
        return {"items": prices.list_rates(session=db.session())}


@rates_blp.route("/<string:code>")
class LabourRate(MethodView):
    @rates_blp.auth(*READERS)
    @rates_blp.alt_response(404, response="NOT_FOUND")
    @rates_blp.response(200, LabourRateSchema)
    def get(self, code: str) -> Any:
        """One labour rate"""
        rate = prices.get_rate(session=db.session(), code=code)
        return rate, 200, etag_header(rate.version)

    @rates_blp.auth(*PRICE_SETTERS)
    @rates_blp.transactional
    @rates_blp.if_match
    @rates_blp.arguments(LabourRatePutSchema)
    @rates_blp.response(200, LabourRateSchema)
    @rates_blp.alt_response(201, schema=LabourRateSchema, description="The rate was new")
    def put(self, data: dict[str, Any], code: str) -> Any:
        """Set the rate of `code` (`default`, or a kind of work such as `diagnosis`)

        Lines already on jobs keep the rate they were added with."""
        rate, created = prices.put_rate(
            session=db.session(),
            code=code,
            data=data,
            actor=current_actor(),
            expected_versions=if_match_versions(),
        )
        return rate, 201 if created else 200, etag_header(rate.version)


@catalogue_blp.route("")
class CannedJobs(MethodView):
    @catalogue_blp.auth(*READERS)
    @catalogue_blp.arguments(CannedJobQueryArgsSchema, location="query")
    @catalogue_blp.response(200, CannedJobPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """The catalogue of canned jobs"""
        return catalogue.list_canned_jobs(
            session=db.session(), active=args.get("active"), limit=args["limit"], cursor=args.get("cursor")
        )

    @catalogue_blp.auth(*PRICE_SETTERS)
    @catalogue_blp.idempotent
    @catalogue_blp.arguments(CannedJobCreateSchema)
    @catalogue_blp.response(201, CannedJobSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Add a canned job: its labour hours and parts with their prices and VAT"""
        canned = catalogue.create_canned_job(session=db.session(), data=data, actor=current_actor())
        location = url_for("canned-jobs.CannedJob", canned_job_id=canned.id)
        return canned, 201, {"Location": location, **etag_header(canned.version)}


@catalogue_blp.route("/<uuid:canned_job_id>")
class CannedJob(MethodView):
    @catalogue_blp.auth(*READERS)
    @catalogue_blp.alt_response(404, response="NOT_FOUND")
    @catalogue_blp.response(200, CannedJobSchema)
    def get(self, canned_job_id: uuid.UUID) -> Any:
        """One canned job with its lines"""
        canned = catalogue.get_canned_job(session=db.session(), canned_job_id=canned_job_id)
        return canned, 200, etag_header(canned.version)

    @catalogue_blp.auth(*PRICE_SETTERS)
    @catalogue_blp.alt_response(404, response="NOT_FOUND")
    @catalogue_blp.transactional
    @catalogue_blp.if_match
    @catalogue_blp.arguments(CannedJobUpdateSchema)
    @catalogue_blp.response(200, CannedJobSchema)
    def patch(self, changes: dict[str, Any], canned_job_id: uuid.UUID) -> Any:
        """Change a canned job (`lines` replace all; `active: false` retires it)

        Jobs it was added to keep the lines and prices they got."""
        canned = catalogue.update_canned_job(
            session=db.session(),
            canned_job_id=canned_job_id,
            changes=changes,
            actor=current_actor(),
            expected_versions=if_match_versions(),
        )
        return canned, 200, etag_header(canned.version)


@blp.route("/<uuid:job_id>/canned-jobs")
class JobCannedJobs(MethodView):
    @blp.auth(*EDITORS)
    @blp.alt_response(404, response="NOT_FOUND")
    @blp.idempotent
    @blp.arguments(AddCannedJobSchema)
    @blp.response(201, AddedCannedJobSchema)
    def post(self, data: dict[str, Any], job_id: uuid.UUID) -> Any:
        """Add a canned job's lines to the job, at today's prices, in one call

        Send an `Idempotency-Key`: a double click or a retry adds the lines once."""
        job, added = catalogue.add_to_job(
            session=db.session(),
            job_id=job_id,
            canned_job_id=data["canned_job_id"],
            covered_by_booking=data["covered_by_booking"],
            actor=current_actor(),
            default_vat_rate=current_app.config["DEFAULT_VAT_RATE"],
        )
        return {"lines": added, "job": job}, 201, etag_header(job.version)


# ---------------------------------------------------------------------- customer portal

portal_blp = ServiceBlueprint(
    "portal",
    __name__,
    url_prefix="/api/v1/portal",
    description="The customer portal (role portal, with a customer's link in `Portal-Link`): the "
    "one estimate or visit the link names, and nothing else (docs/customer-portal.md)",
)


@portal_blp.route("/estimate")
class PortalEstimate(MethodView):
    @portal_blp.link("estimate")
    @portal_blp.response(200, PortalEstimateSchema)
    def get(self) -> Any:
        """The estimate the link names, as the customer was shown it, and what was decided"""
        return portal.estimate(session=db.session(), link=current_link())


@portal_blp.route("/estimate/decision")
class PortalEstimateDecision(MethodView):
    @portal_blp.link("estimate")
    @portal_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @portal_blp.transactional
    @portal_blp.arguments(PortalDecisionSchema)
    @portal_blp.response(200, PortalEstimateSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """The customer approves or declines each line, signing with their typed name

        Recorded as an advisor's entry is (the approvals audit trail), with channel
        `portal`, the time, the signature, `Portal-Client-Address` and the lines as
        shown. A second decision is a 409 `estimate-already-decided`; a job held for
        the approval goes on when nothing is left to approve."""
        return portal.decide(
            session=db.session(),
            link=current_link(),
            data=data,
            actor=current_actor(),
            client_address=portal_client_address(),
            margin_percent=_margin(),
        )


@portal_blp.route("/visit")
class PortalVisit(MethodView):
    @portal_blp.link("visit")
    @portal_blp.response(200, PortalVisitSchema)
    def get(self) -> Any:
        """The visit the link names: vehicle, dates, work done, technician, feedback if given"""
        return portal.visit(session=db.session(), link=current_link(), time_zone=_time_zone())


@portal_blp.route("/visit/feedback")
class PortalVisitFeedback(MethodView):
    @portal_blp.link("visit")
    @portal_blp.alt_response(422, response="UNPROCESSABLE_ENTITY")
    @portal_blp.transactional
    @portal_blp.arguments(PortalFeedbackSchema)
    @portal_blp.response(201, PortalVisitSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """The customer rates the visit (1-5) with a comment; once (409 `feedback-already-given`)"""
        return portal.give_feedback(
            session=db.session(),
            link=current_link(),
            rating=data["rating"],
            comment=data.get("comment"),
            client_address=portal_client_address(),
            time_zone=_time_zone(),
        )


# ----------------------------------------------------------------------------- feedback

feedback_blp = ServiceBlueprint(
    "feedback",
    __name__,
    url_prefix="/api/v1/feedback",
    description="Customers' ratings of their visits, per technician and per month (docs/feedback.md)",
)


def _period(args: dict[str, Any]) -> feedback.Period:
    return feedback.Period(first=args.get("date_from"), last=args.get("date_to"))


@feedback_blp.route("")
class FeedbackList(MethodView):
    @feedback_blp.auth(*FEEDBACK_READERS)
    @feedback_blp.arguments(FeedbackQueryArgsSchema, location="query")
    @feedback_blp.response(200, FeedbackPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Feedback, newest first; `from`, `to` (the garage's days) and `technician_id` filter"""
        return feedback.list_feedback(
            session=db.session(),
            period=_period(args),
            technician=args.get("technician_id"),
            time_zone=_time_zone(),
            limit=args["limit"],
            cursor=args.get("cursor"),
        )


@feedback_blp.route("/summary")
class FeedbackSummary(MethodView):
    @feedback_blp.auth(*FEEDBACK_READERS)
    @feedback_blp.arguments(FeedbackSummaryArgsSchema, location="query")
    @feedback_blp.response(200, FeedbackSummarySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """How many ratings and their average in a period, per technician or per month"""
        return feedback.summarise(
            session=db.session(), period=_period(args), by=args["by"], time_zone=_time_zone()
        )
