"""Money: checkout at the counter (the job's invoice, take a payment, print or email the
invoice and the receipt) and the accountant's books (invoices with filters, receivables
by age, the day's cash-up by method, credit notes full or partial).

Everything here is invoicing's (contracts/invoicing.yaml): the console shows what it
answers, sends what the person typed, and streams its PDFs through itself so the browser
never holds a token."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from staff_console import garage
from staff_console.formatting import amount_text, back, decimal_text, minor_units
from staff_console.sign_in import signed_in

blp = Blueprint("accounts", __name__)
INVOICING = "invoicing"
JOBS = "maintenance-job-management"
CUSTOMERS = "customer-management"
PAGE_SIZE = 50

# Who does what, as invoicing's x-roles have it: advisors take payments at the counter,
# accountants do the books; refunds and credit notes are the accountant's (or admin's).
COUNTER = ("advisor", "accountant", "admin")
BOOKS = ("accountant", "admin")
ISSUERS = ("admin",)

STATUSES = {
    "issued": _l("issued"),
    "sent": _l("sent"),
    "partially_paid": _l("partially paid"),
    "paid": _l("paid"),
    "credited": _l("credited"),
    "overdue": _l("overdue"),
}
METHODS = {"card": _l("card"), "cash": _l("cash"), "bank_transfer": _l("bank transfer")}
KINDS = {"payment": _l("payment"), "refund": _l("refund")}


def _not_found_or_raise(exc: garage.ServiceRefused) -> None:
    if exc.status == 404:
        abort(404)
    raise exc


def _invoice(invoice_id: Any) -> dict[str, Any]:
    try:
        invoice: dict[str, Any] = garage.get(INVOICING, f"/api/v1/invoices/{invoice_id}")
    except garage.ServiceRefused as exc:
        _not_found_or_raise(exc)
        raise
    return invoice


def _invoice_of_job(job_id: Any) -> dict[str, Any] | None:
    items = garage.get(INVOICING, "/api/v1/invoices", job_id=job_id, limit=1)["items"]
    return items[0] if items else None


def _render_invoice(
    invoice: dict[str, Any],
    *,
    checkout: bool,
    payment_form: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    error: garage.ServiceRefused | None = None,
) -> str:
    """The invoice as checkout and the invoice page show it: lines, VAT, totals, payments,
    credit notes, and the forms to take a payment, print and email."""
    outstanding = invoice["totals"]["outstanding"]
    refund_due = invoice["totals"]["refund_due"]
    form = payment_form or {}
    can_refund = g.person.has(*BOOKS) and refund_due > 0
    kind = form.get("kind") or ("refund" if can_refund and outstanding == 0 else "payment")
    return render_template(
        "accounts/invoice.html",
        invoice=invoice,
        checkout=checkout,
        statuses=STATUSES,
        methods=METHODS,
        kinds=KINDS,
        can_refund=can_refund,
        can_credit=g.person.has(*BOOKS) and invoice["status"] != "credited",
        payment={
            "kind": kind,
            "amount": form.get("amount") or amount_text(refund_due if kind == "refund" else outstanding),
            "method": form.get("method") or "card",
            "reference": form.get("reference", ""),
            "idempotency_key": form.get("idempotency_key") or garage.new_form_key(),
        },
        send_key=garage.new_form_key(),
        errors=errors or {},
        error=error,
    )


# ---------------------------------------------------------------------- checkout


@blp.get("/checkout/<uuid:job_id>")
@signed_in(*COUNTER)
def checkout(job_id: Any) -> Any:
    invoice = _invoice_of_job(job_id)
    if invoice is not None:
        return _render_invoice(invoice, checkout=True)
    job = garage.part(lambda: garage.get(JOBS, f"/api/v1/maintenance-jobs/{job_id}"))
    return render_template(
        "accounts/no_invoice.html",
        job=job,
        job_id=job_id,
        statuses=STATUSES,
        can_issue=g.person.has(*ISSUERS),
        idempotency_key=garage.new_form_key(),
    )


@blp.post("/checkout/<uuid:job_id>/invoice")
@signed_in(*ISSUERS)
def issue(job_id: Any) -> Response:
    try:
        garage.call(
            INVOICING,
            "POST",
            "/api/v1/invoices",
            json={"job_id": str(job_id)},
            idempotency_key=request.form.get("idempotency_key"),
        )
        flash(_("Invoice issued."), "success")
    except garage.ServiceRefused as exc:
        flash(_("Could not issue the invoice: %(detail)s", detail=exc.detail), "error")
    return redirect(url_for("accounts.checkout", job_id=job_id))


def _back_to(invoice: dict[str, Any]) -> Response:
    if request.form.get("checkout"):
        return redirect(url_for("accounts.checkout", job_id=invoice["job_id"]))
    return redirect(url_for("accounts.invoice", invoice_id=invoice["id"]))


@blp.post("/accounts/invoices/<uuid:invoice_id>/payments")
@signed_in(*COUNTER)
def take_payment(invoice_id: Any) -> Any:
    invoice = _invoice(invoice_id)
    checkout_page = bool(request.form.get("checkout"))
    amount = minor_units(request.form.get("amount"))
    if amount is None:
        return _render_invoice(
            invoice,
            checkout=checkout_page,
            payment_form=request.form,
            errors={"amount": _("Enter an amount such as 125.50.")},
        )
    body: dict[str, Any] = {
        "amount": amount,
        "method": request.form.get("method", ""),
        "kind": request.form.get("kind") or "payment",
    }
    if request.form.get("reference", "").strip():
        body["reference"] = request.form["reference"].strip()
    try:
        garage.call(
            INVOICING,
            "POST",
            f"/api/v1/invoices/{invoice_id}/payments",
            json=body,
            idempotency_key=request.form.get("idempotency_key"),
        )
    except garage.ServiceRefused as exc:
        if exc.status == 404:
            abort(404)
        return _render_invoice(
            invoice,
            checkout=checkout_page,
            payment_form=request.form,
            errors=exc.field_errors,
            error=None if exc.field_errors else exc,
        )
    flash(_("Refund recorded.") if body["kind"] == "refund" else _("Payment recorded."), "success")
    return _back_to(invoice)


@blp.post("/accounts/invoices/<uuid:invoice_id>/send")
@signed_in(*COUNTER)
def send(invoice_id: Any) -> Response:
    """Send the invoice (again): by email when the customer has an address (the form says
    so), else the way invoicing chooses (their preferred channel)."""
    channel = "email" if request.form.get("channel") == "email" else None
    try:
        invoice = garage.call(
            INVOICING,
            "POST",
            f"/api/v1/invoices/{invoice_id}/send",
            json={"channel": channel},
            idempotency_key=request.form.get("idempotency_key"),
        )
    except garage.ServiceRefused as exc:
        if exc.status == 404:
            abort(404)
        flash(_("Could not send the invoice: %(detail)s", detail=exc.detail), "error")
        return back("accounts.invoices")
    if channel == "email":
        flash(_("The invoice is on its way to %(email)s.", email=invoice["customer"]["email"]), "success")
    else:
        flash(_("The invoice is on its way."), "success")
    return _back_to(invoice)


# ---------------------------------------------------------------------- documents


def _pdf(path: str, filename: str) -> Response:
    """invoicing's PDF, streamed through the console (the browser holds no token)."""
    try:
        content, content_type = garage.get_bytes(INVOICING, path)
    except garage.ServiceRefused as exc:
        _not_found_or_raise(exc)
        raise
    response = Response(content, mimetype=content_type)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "no-store"
    # A document, not a page: nothing in it runs, and the browser's viewer shows it.
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


@blp.get("/accounts/invoices/<uuid:invoice_id>/invoice.pdf")
@signed_in(*COUNTER)
def invoice_pdf(invoice_id: Any) -> Response:
    return _pdf(f"/api/v1/invoices/{invoice_id}/pdf", f"invoice-{invoice_id}.pdf")


@blp.get("/accounts/invoices/<uuid:invoice_id>/payments/<uuid:payment_id>/receipt.pdf")
@signed_in(*COUNTER)
def receipt(invoice_id: Any, payment_id: Any) -> Response:
    return _pdf(f"/api/v1/invoices/{invoice_id}/payments/{payment_id}/receipt", f"receipt-{payment_id}.pdf")


@blp.get("/accounts/credit-notes/<uuid:credit_note_id>/credit-note.pdf")
@signed_in(*COUNTER)
def credit_note_pdf(credit_note_id: Any) -> Response:
    return _pdf(f"/api/v1/credit-notes/{credit_note_id}/pdf", f"credit-note-{credit_note_id}.pdf")


# ---------------------------------------------------------------------- the books


def _list_filters(names: tuple[str, ...]) -> dict[str, str]:
    return {name: request.args.get(name, "").strip() for name in names if request.args.get(name, "").strip()}


def _page(path: str, **filters: str) -> tuple[dict[str, Any], dict[str, str], garage.ServiceRefused | None]:
    """One page of a list (from ``cursor``), or nothing and why: the refused filters
    (shown beside them) or the service's refusal."""
    try:
        return (
            garage.get(INVOICING, path, cursor=request.args.get("cursor"), limit=PAGE_SIZE, **filters),
            {},
            None,
        )
    except garage.ServiceRefused as exc:
        return {"items": [], "next_cursor": None}, exc.field_errors, None if exc.field_errors else exc


def _customer_choice(text: str) -> garage.Part[list[dict[str, Any]]]:
    """Customers matching what was typed in the customer filter (customer-management)."""
    return garage.part(lambda: garage.get(CUSTOMERS, "/api/v1/customers", q=text, limit=10)["items"])


@blp.get("/accounts/invoices")
@signed_in(*COUNTER)
def invoices() -> str:
    filters = _list_filters(("status", "issued_from", "issued_to", "customer_id", "customer"))
    if request.args.get("overdue"):
        filters["overdue"] = "true"
    customers: garage.Part[list[dict[str, Any]]] | None = None
    if filters.get("customer") and not filters.get("customer_id"):
        customers = _customer_choice(filters["customer"])
        if customers.value and len(customers.value) == 1:
            filters["customer_id"] = customers.value[0]["id"]
    page: dict[str, Any] = {"items": [], "next_cursor": None}
    errors: dict[str, str] = {}
    error = None
    if not filters.get("customer") or filters.get("customer_id"):
        query = {k: v for k, v in filters.items() if k != "customer"}
        page, errors, error = _page("/api/v1/invoices", **query)
    return render_template(
        "accounts/invoices.html",
        page=page,
        filters=filters,
        customers=customers,
        statuses=STATUSES,
        errors=errors,
        error=error,
    )


@blp.get("/accounts/invoices/<uuid:invoice_id>")
@signed_in(*COUNTER)
def invoice(invoice_id: Any) -> Any:
    return _render_invoice(_invoice(invoice_id), checkout=False)


@blp.get("/accounts/receivables")
@signed_in(*COUNTER)
def receivables() -> str:
    customer_id = request.args.get("customer_id") or None
    ageing = garage.get(
        INVOICING,
        "/api/v1/invoices/receivables",
        cursor=request.args.get("cursor"),
        limit=PAGE_SIZE,
        customer_id=customer_id,
    )
    return render_template("accounts/receivables.html", ageing=ageing, customer_id=customer_id)


def _day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


@blp.get("/accounts/cash-up")
@signed_in(*COUNTER)
def cash_up() -> str:
    # No day chosen: today at the garage (in the workshop's time zone).
    chosen = (
        _day(request.args.get("day"))
        or datetime.now(ZoneInfo(current_app.config["WORKSHOP_TIME_ZONE"])).date()
    )
    payments = garage.get(
        INVOICING, "/api/v1/payments", **{"from": chosen.isoformat(), "to": chosen.isoformat()}
    )
    shown = date.fromisoformat(payments["from"])
    return render_template(
        "accounts/cash_up.html",
        payments=payments,
        day=shown,
        previous_day=shown - timedelta(days=1),
        next_day=shown + timedelta(days=1),
        methods=METHODS,
        kinds=KINDS,
    )


@blp.get("/accounts/credit-notes")
@signed_in(*COUNTER)
def credit_notes() -> str:
    filters = _list_filters(("issued_from", "issued_to", "invoice_id", "customer_id"))
    page, errors, error = _page("/api/v1/credit-notes", **filters)
    return render_template(
        "accounts/credit_notes.html", page=page, filters=filters, errors=errors, error=error
    )


def _credit_lines(form: Any, invoice: dict[str, Any]) -> list[dict[str, Any]]:
    """The lines ticked for a partial credit note, each with the quantity typed (none:
    the whole line)."""
    lines = []
    for line in invoice["lines"]:
        if not form.get(f"line-{line['id']}"):
            continue
        chosen: dict[str, Any] = {"invoice_line_id": line["id"]}
        quantity = decimal_text(form.get(f"quantity-{line['id']}"))
        if quantity:
            chosen["quantity"] = quantity
        lines.append(chosen)
    return lines


def _line_errors(exc: garage.ServiceRefused, sent: list[dict[str, Any]]) -> dict[str, str]:
    """invoicing's refusals of single lines ({"lines": {"0": {"quantity": [...]}}}, by
    their place in what was sent), by invoice line id, to show beside each line."""
    by_place = (exc.problem.get("errors") or {}).get("lines")
    if not isinstance(by_place, dict):
        return {}
    shown = {}
    for place, problems in by_place.items():
        if str(place).isdigit() and int(place) < len(sent):
            messages = problems.values() if isinstance(problems, dict) else [problems]
            shown[sent[int(place)]["invoice_line_id"]] = "; ".join(
                str(m[0] if isinstance(m, list) and m else m) for m in messages
            )
    return shown


@blp.route("/accounts/invoices/<uuid:invoice_id>/credit-notes/new", methods=["GET", "POST"])
@signed_in(*BOOKS)
def new_credit_note(invoice_id: Any) -> Any:
    invoice = _invoice(invoice_id)
    errors: dict[str, str] = {}
    line_errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        body: dict[str, Any] = {
            "invoice_id": str(invoice_id),
            "reason": request.form.get("reason", "").strip(),
        }
        if request.form.get("scope") == "lines":
            body["lines"] = _credit_lines(request.form, invoice)
            if not body["lines"]:
                errors["lines"] = _("Tick the lines to credit.")
        if not errors:
            try:
                note = garage.call(
                    INVOICING,
                    "POST",
                    "/api/v1/credit-notes",
                    json=body,
                    idempotency_key=request.form.get("idempotency_key"),
                )
                flash(_("Credit note %(number)s issued.", number=note["number"]), "success")
                return redirect(url_for("accounts.invoice", invoice_id=invoice_id))
            except garage.ServiceRefused as exc:
                if exc.status == 404:
                    abort(404)
                errors, error = exc.field_errors, exc
                line_errors = _line_errors(exc, body.get("lines", []))
                if line_errors:
                    errors.pop("lines", None)
    return render_template(
        "accounts/credit_note_new.html",
        invoice=invoice,
        form=request.form,
        scope=request.form.get("scope", "full"),
        errors=errors,
        line_errors=line_errors,
        error=None if errors or line_errors else error,
        idempotency_key=request.form.get("idempotency_key") or garage.new_form_key(),
    )
