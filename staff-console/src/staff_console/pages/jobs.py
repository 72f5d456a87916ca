"""The job card: a maintenance job with its lines and totals, work added from the
catalogue or line by line, tasks ticked off, notes, the estimate put before the customer
and their decision per line, hold and resume, start, the clock and completion; the work
order and estimate PDFs passed through (the browser never holds a token); the hand-over
of a completed job's vehicle, which asks the customer how the visit went.

Every action posts here and comes back to the page it was sent from (the job card or the
workshop's tablet page), which names itself in the form's ``next`` field."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, g, redirect, render_template, request, session, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from service_kit.web import chosen_language
from staff_console import garage
from staff_console.formatting import decimal_text, minor_units
from staff_console.sign_in import signed_in

blp = Blueprint("jobs", __name__)
JOBS = "maintenance-job-management"
SCHEDULING = "workshop-scheduling"
CUSTOMERS = "customer-management"

# Who may do what, as maintenance-job-management's x-roles have it.
READ = ("advisor", "admin", "technician", "accountant")
WORK = ("advisor", "admin", "technician")  # lines, notes, hold, resume
HANDS = ("admin", "technician")  # start, clock in and out, complete
DESK = ("advisor", "admin")  # estimates and the customer's decision

ESTIMATE_CHANNELS = (
    ("counter", _l("At the counter")),
    ("phone", _l("By phone")),
    ("email", _l("By email")),
    ("sms", _l("By text message")),
)
DECISION_CHANNELS = (*ESTIMATE_CHANNELS, ("web", _l("Online")))


@blp.app_template_filter("quantity")
def quantity(value: Any) -> str:
    """A decimal of the contracts ("1.50", "21.00") as the person's language writes it:
    1,5 and 21 in Dutch."""
    if value is None or value == "":
        return ""
    return str(format_decimal(Decimal(str(value)), format="#,##0.##"))


def job_path(job_id: Any, *rest: str) -> str:
    return "/".join((f"/api/v1/maintenance-jobs/{job_id}", *rest))


def load_job(job_id: Any) -> dict[str, Any]:
    """The job (with its ETag), or the console's 404 page when there is no such job."""
    try:
        job: dict[str, Any] = garage.get(JOBS, job_path(job_id))
    except garage.ServiceRefused as exc:
        abort(404 if exc.status in (400, 404, 422) else exc.status)
    return job


def permissions() -> dict[str, bool]:
    person = g.person
    return {
        "work": person.has(*WORK),
        "hands": person.has(*HANDS),
        "desk": person.has(*DESK),
    }


def clocked_in(job: dict[str, Any]) -> bool:
    """The signed-in person's clock runs on this job."""
    return g.person.subject in (job.get("time") or {}).get("clocked_in", [])


def _next(job_id: Any) -> str:
    """The page the form came from (a path of this app only), else the job card."""
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("jobs.card", job_id=job_id)


def _back(job_id: Any) -> Response:
    return redirect(_next(job_id))


def _customer_name(customer: garage.Part[dict[str, Any]]) -> str:
    return str(customer.value["name"]) if customer.value else ""


def _appointment(job: dict[str, Any]) -> dict[str, Any]:
    """The job's appointment, with its technician's name when one is planned."""
    appointment: dict[str, Any] = garage.get(SCHEDULING, f"/api/v1/appointments/{job['appointment_id']}")
    if appointment.get("technician_id"):
        technician = garage.get(SCHEDULING, f"/api/v1/workshop/technicians/{appointment['technician_id']}")
        appointment["technician_name"] = technician["name"]
    return appointment


def render_card(
    job_id: Any,
    *,
    failed: str = "",
    errors: dict[str, str] | None = None,
    error: garage.ServiceRefused | None = None,
    status: int = 200,
) -> tuple[str, int]:
    """The job card; after a refused form, with that form's values and the refusal."""
    job = load_job(job_id)
    can = permissions()
    customer = garage.part(lambda: garage.get(CUSTOMERS, f"/api/v1/customers/{job['customer_id']}"))
    appointment = garage.part(lambda: _appointment(job))
    catalogue = garage.part(
        lambda: [c for c in garage.get(JOBS, "/api/v1/canned-jobs", limit=200)["items"] if c["active"]]
    )
    estimates = garage.part(lambda: garage.get(JOBS, job_path(job_id, "estimates"), limit=20)["items"])
    approvals = garage.part(lambda: garage.get(JOBS, job_path(job_id, "approvals"), limit=50)["items"])
    pending = [line for line in job["lines"] if line["approval"] == "pending"]
    open_estimates = [e for e in estimates.value or [] if e["status"] == "sent"]
    return render_template(
        "jobs/card.html",
        job=job,
        can=can,
        mine_clocked_in=clocked_in(job),
        customer=customer,
        customer_name=_customer_name(customer),
        appointment=appointment,
        catalogue=catalogue,
        estimates=estimates,
        open_estimates=open_estimates,
        approvals=approvals,
        pending=pending,
        estimate_channels=ESTIMATE_CHANNELS,
        decision_channels=DECISION_CHANNELS,
        failed=failed,
        form=request.form if failed else {},
        errors=errors or {},
        error=error,
        keys={
            name: request.form.get("idempotency_key") if failed == name else garage.new_form_key()
            for name in ("canned", "line", "estimate", "decision", "clock")
        },
        here=request.full_path.rstrip("?") if request.method == "GET" else _next(job_id),
    ), status


@blp.get("/jobs/<uuid:job_id>")
@signed_in(*READ)
def card(job_id: Any) -> tuple[str, int]:
    return render_card(job_id)


# --------------------------------------------------------------------------- the work


def _act(
    job_id: Any,
    method: str,
    path: str,
    done: str | Callable[[Any], str],
    *,
    json: Any = None,
    keyed: bool = False,
    if_match: str | None = None,
) -> Response:
    """A button: one call, what came of it as a message, back to the page it was on."""
    try:
        answer = garage.call(
            JOBS,
            method,
            path,
            json=json,
            idempotency_key=request.form.get("idempotency_key") if keyed else None,
            if_match=if_match,
        )
        flash(done(answer) if callable(done) else done, "success")
    except garage.ServiceRefused as exc:
        if exc.status == 412:
            flash(_("Someone else changed this job in the meantime: look again before removing."), "error")
        else:
            flash(_("Could not do that: %(detail)s", detail=exc.detail), "error")
    return _back(job_id)


def _submit(
    job_id: Any,
    failed: str,
    method: str,
    path: str,
    body: dict[str, Any],
    done: str,
    *,
    fields: dict[str, str] | None = None,
    if_match: str | None = None,
) -> Any:
    """A form: one call; refused, the card again with the form as it was sent and the
    refusal beside its fields (``fields`` renames the service's field names to the
    form's), a 412 offering to reload."""
    try:
        garage.call(
            JOBS,
            method,
            path,
            json=body,
            idempotency_key=request.form.get("idempotency_key"),
            if_match=if_match,
        )
    except garage.ServiceRefused as exc:
        errors = {(fields or {}).get(name, name): message for name, message in exc.field_errors.items()}
        return render_card(job_id, failed=failed, errors=errors, error=exc, status=exc.status)
    flash(done, "success")
    return _back(job_id)


@blp.post("/jobs/<uuid:job_id>/canned-jobs")
@signed_in(*WORK)
def add_canned_job(job_id: Any) -> Response:
    """The canned job's lines in one call; the form's idempotency key makes a double tap
    add them once."""
    body = {
        "canned_job_id": request.form.get("canned_job_id", ""),
        "covered_by_booking": bool(request.form.get("covered_by_booking")),
    }
    return _act(
        job_id,
        "POST",
        job_path(job_id, "canned-jobs"),
        lambda added: _("Lines added: %(count)s.", count=len(added["lines"])),
        json=body,
        keyed=True,
    )


def _line_body(form: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """The line as the contract takes it, and what the console itself could not read."""
    kind = form.get("kind") or "labour"
    body: dict[str, Any] = {
        "kind": kind,
        "description": form.get("line_description", "").strip(),
        "covered_by_booking": bool(form.get("covered_by_booking")),
    }
    problems: dict[str, str] = {}
    amount = decimal_text(form.get("amount", ""))
    if amount:
        body["hours" if kind == "labour" else "quantity"] = amount
    if kind == "part":
        if form.get("part_number", "").strip():
            body["part_number"] = form["part_number"].strip()
        if form.get("unit_price", "").strip():
            price = minor_units(form["unit_price"])
            if price is None:
                problems["unit_price"] = _("Enter an amount such as 12.50.")
            else:
                body["unit_price"] = price
    return body, problems


# The service names the fields of the line; the form names some differently (one page,
# one id per field).
LINE_FIELDS = {"description": "line_description", "hours": "amount", "quantity": "amount"}


@blp.post("/jobs/<uuid:job_id>/lines")
@signed_in(*WORK)
def add_line(job_id: Any) -> Any:
    body, problems = _line_body(request.form)
    if problems:
        return render_card(job_id, failed="line", errors=problems, status=422)
    return _submit(
        job_id, "line", "POST", job_path(job_id, "lines"), body, _("Line added."), fields=LINE_FIELDS
    )


@blp.post("/jobs/<uuid:job_id>/lines/<uuid:line_id>/done")
@signed_in(*WORK)
def mark_done(job_id: Any, line_id: Any) -> Response:
    """Tick a task off (or undo it). No If-Match: "done" is a state, not an edit of what
    the page showed, so someone else's change meanwhile loses nothing."""
    done = request.form.get("done") == "true"
    message = _("Marked done.") if done else _("Marked not done.")
    return _act(job_id, "PATCH", job_path(job_id, "lines", str(line_id)), message, json={"done": done})


@blp.post("/jobs/<uuid:job_id>/lines/<uuid:line_id>/remove")
@signed_in(*WORK)
def remove_line(job_id: Any, line_id: Any) -> Response:
    path = job_path(job_id, "lines", str(line_id))
    return _act(job_id, "DELETE", path, _("Line removed."), if_match=request.form.get("etag"))


@blp.post("/jobs/<uuid:job_id>/notes")
@signed_in(*WORK)
def edit_notes(job_id: Any) -> Any:
    """Description and the technician's notes, against the version the page showed."""
    body: dict[str, Any] = {"technician_notes": request.form.get("technician_notes", "").strip() or None}
    if "description" in request.form:
        body["description"] = request.form["description"].strip()
    etag = request.form.get("etag")
    return _submit(job_id, "notes", "PATCH", job_path(job_id), body, _("Saved."), if_match=etag)


# ------------------------------------------------------------------- the customer's say


@blp.post("/jobs/<uuid:job_id>/estimates")
@signed_in(*DESK)
def send_estimate(job_id: Any) -> Any:
    """Every line awaiting approval put before the customer."""
    body: dict[str, Any] = {"channel": request.form.get("channel") or "counter"}
    if request.form.get("message", "").strip():
        body["message"] = request.form["message"].strip()
    return _submit(job_id, "estimate", "POST", job_path(job_id, "estimates"), body, _("Estimate sent."))


@blp.post("/jobs/<uuid:job_id>/estimates/<uuid:estimate_id>/decision")
@signed_in(*DESK)
def record_decision(job_id: Any, estimate_id: Any) -> Any:
    """The customer's yes or no for each line of the estimate: who, how."""
    lines = [
        {"line_id": key.removeprefix("line-"), "approved": value == "approve"}
        for key, value in request.form.items()
        if key.startswith("line-")
    ]
    body: dict[str, Any] = {
        "channel": request.form.get("decision_channel") or "phone",
        "decided_by": request.form.get("decided_by", "").strip(),
        "lines": lines,
    }
    if request.form.get("note", "").strip():
        body["note"] = request.form["note"].strip()
    return _submit(
        job_id,
        "decision",
        "POST",
        job_path(job_id, "estimates", str(estimate_id), "decision"),
        body,
        _("The customer's decision is recorded."),
        fields={"channel": "decision_channel"},
    )


# ----------------------------------------------------------------------- the job's life


@blp.post("/jobs/<uuid:job_id>/start")
@signed_in(*HANDS)
def start(job_id: Any) -> Response:
    body: dict[str, Any] = {}
    odometer = request.form.get("odometer_in", "").strip()
    if odometer:
        if not odometer.isdigit():
            flash(_("The odometer reading is a whole number."), "error")
            return _back(job_id)
        body["odometer_in"] = int(odometer)
    return _act(job_id, "POST", job_path(job_id, "start"), _("Started."), json=body)


@blp.post("/jobs/<uuid:job_id>/hold")
@signed_in(*WORK)
def hold(job_id: Any) -> Response:
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash(_("Say why the job waits: the customer is told."), "error")
        return _back(job_id)
    return _act(job_id, "POST", job_path(job_id, "hold"), _("On hold."), json={"reason": reason})


@blp.post("/jobs/<uuid:job_id>/resume")
@signed_in(*WORK)
def resume(job_id: Any) -> Response:
    return _act(job_id, "POST", job_path(job_id, "resume"), _("Resumed."))


@blp.post("/jobs/<uuid:job_id>/complete")
@signed_in(*HANDS)
def complete(job_id: Any) -> Response:
    body: dict[str, Any] = {}
    if request.form.get("technician_notes", "").strip():
        body["technician_notes"] = request.form["technician_notes"].strip()
    done = _("Completed: the customer is told their vehicle is ready.")
    return _act(job_id, "POST", job_path(job_id, "complete"), done, json=body)


@blp.post("/jobs/<uuid:job_id>/hand-over")
@signed_in(*DESK)
def hand_over(job_id: Any) -> Response:
    """The customer collected the vehicle of a completed job: the service records it and
    asks them how the visit went (docs/feedback.md). Pressed twice, nothing more happens."""
    done = _("Handed over: the customer is asked how the visit went.")
    return _act(job_id, "POST", job_path(job_id, "hand-over"), done)


@blp.post("/jobs/<uuid:job_id>/clock-in")
@signed_in(*HANDS)
def clock_in(job_id: Any) -> Response:
    """The signed-in person's own clock (the service takes them from their token)."""
    return _act(job_id, "POST", job_path(job_id, "clock-in"), _("Clocked in."), json={}, keyed=True)


@blp.post("/jobs/<uuid:job_id>/clock-out")
@signed_in(*HANDS)
def clock_out(job_id: Any) -> Response:
    return _act(job_id, "POST", job_path(job_id, "clock-out"), _("Clocked out."), json={})


# ---------------------------------------------------------------------------- documents


def _document(path: str, filename: str) -> Response:
    """A PDF from the service, passed through with the person's token kept here."""
    try:
        content, content_type = garage.get_bytes(JOBS, path, lang=chosen_language(session.get("language")))
    except garage.ServiceRefused as exc:
        abort(404 if exc.status in (400, 404, 422) else exc.status)
    response = Response(content, mimetype=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


@blp.get("/jobs/<uuid:job_id>/work-order.pdf")
@signed_in(*READ)
def work_order(job_id: Any) -> Response:
    return _document(job_path(job_id, "work-order"), f"work-order-{job_id}.pdf")


@blp.get("/jobs/<uuid:job_id>/estimates/<uuid:estimate_id>.pdf")
@signed_in(*READ)
def estimate_pdf(job_id: Any, estimate_id: Any) -> Response:
    return _document(job_path(job_id, "estimates", str(estimate_id), "pdf"), f"estimate-{estimate_id}.pdf")
