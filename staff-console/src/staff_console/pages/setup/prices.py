"""Prices in maintenance-job-management: labour rates per code and the canned jobs (the
catalogue of work with its labour and part lines). Amounts are typed in euros and sent in
minor units; quantities are decimal strings ("1.50"), as the contract has them."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from staff_console import garage
from staff_console.formatting import amount_text, decimal_text
from staff_console.pages.setup import blp
from staff_console.pages.setup.forms import (
    amount_or_as_typed,
    errors_of,
    etag_of,
    renumbered,
    unplaced,
)
from staff_console.sign_in import signed_in

JOBS = "maintenance-job-management"
RATES = "/api/v1/labour-rates"
CANNED = "/api/v1/canned-jobs"
BLANK_LINES = 3  # empty line rows a canned job's form offers for new lines
MAX_LINES = 100  # the contract's maxItems
# A line row of a canned job's form: hours (labour) or quantity (parts) is its amount,
# the hourly rate (labour) or unit price (parts) its price.
LINE_FIELDS = ("kind", "description", "amount", "price", "part_number", "vat_rate")


# ------------------------------------------------------------------------------ labour rates


def _rate_body(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": form.get("name", "").strip()}
    amount = amount_or_as_typed(form.get("hourly_rate"))
    if amount is not None:
        body["hourly_rate"] = amount
    return body


@blp.route("/labour-rates", methods=["GET", "POST"])
@signed_in("admin")
def labour_rates() -> Any:
    error = None
    errors: dict[str, str] = {}
    failed = None  # the code of the row refused, or "new"
    rates = garage.get(JOBS, RATES)["items"]
    if request.method == "POST":
        adding = request.form.get("action") == "add"
        code = request.form.get("code", "").strip()
        failed = "new" if adding else code
        if adding and not code:
            errors = {"code": _("Give the rate a code: default, or a kind of work such as diagnosis.")}
        elif adding and any(rate["code"] == code for rate in rates):
            # A PUT to a code that has a rate would replace it: adding never does.
            errors = {"code": _("There is a rate with this code already: change it in the list.")}
        else:
            try:
                garage.call(
                    JOBS,
                    "PUT",
                    f"{RATES}/{quote(code, safe='')}",
                    json=_rate_body(request.form),
                    if_match=None if adding else request.form.get("etag"),
                )
                flash(_("Labour rate %(code)s saved.", code=code), "success")
                return redirect(url_for("setup.labour_rates"))
            except garage.ServiceRefused as exc:
                error, errors = exc, errors_of(exc)
    return render_template(
        "setup/labour_rates.html",
        rates=rates,
        etag_of=etag_of,
        euros=amount_text,
        form=request.form,
        failed=failed,
        error=error,
        errors=errors,
        leftover=unplaced(errors, ("code", "name", "hourly_rate")),
    )


# -------------------------------------------------------------------------------- canned jobs


def _line_rows(form: Any | None, canned_job: dict[str, Any] | None) -> list[dict[str, str]]:
    """The line rows the form shows: the form sent (with its refusal) or the canned job's
    lines, and a few empty ones to add lines."""
    if form is not None:
        rows = []
        n = 0
        while f"lines.{n}.kind" in form and n < MAX_LINES + BLANK_LINES:
            rows.append(
                {key: form.get(f"lines.{n}.{key}", "").strip() for key in LINE_FIELDS}
                | {"kind": form[f"lines.{n}.kind"]}
            )
            n += 1
        while rows and _blank(rows[-1]):
            rows.pop()
    else:
        rows = [
            {
                "kind": line["kind"],
                "description": line["description"],
                "amount": (line.get("hours") if line["kind"] == "labour" else None)
                or line.get("quantity")
                or "",
                "price": amount_text(
                    line.get("hourly_rate") if line["kind"] == "labour" else line.get("unit_price")
                ),
                "part_number": line.get("part_number") or "",
                "vat_rate": line.get("vat_rate") or "",
            }
            for line in (canned_job or {}).get("lines", [])
        ]
    blanks = max(0, min(BLANK_LINES, MAX_LINES - len(rows)))
    return rows + [{"kind": "labour" if not rows else "part"} | dict.fromkeys(LINE_FIELDS[1:], "")] * blanks


def _blank(row: dict[str, str]) -> bool:
    return not any(row.get(key) for key in LINE_FIELDS[1:])


def _line(row: dict[str, str]) -> dict[str, Any]:
    """A form row as the contract's line: labour in hours at an hourly rate (the work
    kind's rate when none is typed), a part as a quantity at a unit price."""
    labour = row["kind"] == "labour"
    line: dict[str, Any] = {"kind": row["kind"], "description": row["description"]}
    amount, price = decimal_text(row["amount"]), amount_or_as_typed(row["price"])
    if amount is not None:
        line["hours" if labour else "quantity"] = amount
    if price is not None:
        line["hourly_rate" if labour else "unit_price"] = price
    if row["part_number"]:
        line["part_number"] = row["part_number"]
    if decimal_text(row["vat_rate"]) is not None:
        line["vat_rate"] = decimal_text(row["vat_rate"])
    return line


# The contract's names of a line's fields -> the form's.
LINE_ERROR_FIELDS = {"hours": "amount", "quantity": "amount", "hourly_rate": "price", "unit_price": "price"}


def canned_job_body(form: Any) -> tuple[dict[str, Any], list[int]]:
    """The canned job the form describes, and the form row of each line sent."""
    body: dict[str, Any] = {
        "code": form.get("code", "").strip(),
        "name": form.get("name", "").strip(),
        "description": form.get("description", "").strip() or None,
        "work_kind": form.get("work_kind", "").strip() or None,
    }
    lines, rows = [], []
    for n, row in enumerate(_line_rows(form, None)):
        if not _blank(row):
            lines.append(_line(row))
            rows.append(n)
    body["lines"] = lines
    return body, rows


def _form_errors(exc: garage.ServiceRefused, rows: list[int]) -> dict[str, str]:
    errors = renumbered(errors_of(exc), "lines", rows)
    shown: dict[str, str] = {}
    for key, message in errors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines":
            key = f"lines.{parts[1]}.{LINE_ERROR_FIELDS.get(parts[2], parts[2])}"
        shown.setdefault(key, message)
    return shown


def _shown_fields(lines: list[dict[str, str]]) -> list[str]:
    return (
        ["code", "name", "description", "work_kind", "lines"]
        + [f"lines.{n}.{key}" for n in range(len(lines)) for key in LINE_FIELDS]
        + [f"lines.{n}" for n in range(len(lines))]
    )


def _work_kinds(current: str | None) -> list[tuple[str, str]]:
    """The labour rates a canned job's labour may be priced at (its work kind)."""
    rates = garage.part(lambda: garage.get(JOBS, RATES)["items"])
    options = [("", _("the default rate"))]
    options += [
        (rate["code"], f"{rate['name']} ({rate['code']})")
        for rate in rates.value or []
        if rate["code"] != "default"
    ]
    if current and all(code != current for code, _label in options):
        options.append((current, current))
    return options


@blp.route("/canned-jobs", methods=["GET", "POST"])
@signed_in("admin")
def canned_jobs() -> Any:
    error = None
    failed = None
    if request.method == "POST":
        canned_job_id = request.form.get("canned_job_id", "")
        failed = canned_job_id
        try:
            garage.call(
                JOBS,
                "PATCH",
                f"{CANNED}/{canned_job_id}",
                json={"active": request.form.get("active") == "true"},
                if_match=request.form.get("etag"),
            )
            flash(_("Canned job saved."), "success")
            return redirect(url_for("setup.canned_jobs"))
        except garage.ServiceRefused as exc:
            error = exc
    items = garage.every(JOBS, CANNED)
    return render_template(
        "setup/canned_jobs.html",
        canned_jobs=items,
        etag_of=etag_of,
        failed=failed,
        error=error,
        form=request.form,
    )


@blp.route("/canned-jobs/new", methods=["GET", "POST"])
@signed_in("admin")
def new_canned_job() -> Any:
    error = None
    errors: dict[str, str] = {}
    form: Any = None
    if request.method == "POST":
        form = request.form
        body, rows = canned_job_body(form)
        try:
            garage.call(JOBS, "POST", CANNED, json=body, idempotency_key=form.get("idempotency_key"))
            flash(_("Canned job %(code)s added.", code=body["code"]), "success")
            return redirect(url_for("setup.canned_jobs"))
        except garage.ServiceRefused as exc:
            error, errors = exc, _form_errors(exc, rows)
    lines = _line_rows(form, None)
    return render_template(
        "setup/canned_job.html",
        canned_job=None,
        values=form or {},
        lines=lines,
        work_kinds=_work_kinds((form or {}).get("work_kind")),
        etag=None,
        error=error,
        errors=errors,
        leftover=unplaced(errors, _shown_fields(lines)),
        idempotency_key=(form or {}).get("idempotency_key") or garage.new_form_key(),
    )


@blp.route("/canned-jobs/<uuid:canned_job_id>", methods=["GET", "POST"])
@signed_in("admin")
def canned_job(canned_job_id: Any) -> Any:
    error = None
    errors: dict[str, str] = {}
    form = None
    etag = None
    if request.method == "POST":
        form, etag = request.form, request.form.get("etag")
        body, rows = canned_job_body(form)
        try:
            garage.call(JOBS, "PATCH", f"{CANNED}/{canned_job_id}", json=body, if_match=etag)
            flash(_("Canned job %(code)s saved.", code=body["code"]), "success")
            return redirect(url_for("setup.canned_jobs"))
        except garage.ServiceRefused as exc:
            error, errors = exc, _form_errors(exc, rows)
    current = garage.get(JOBS, f"{CANNED}/{canned_job_id}")
    lines = _line_rows(form, current)
    return render_template(
        "setup/canned_job.html",
        canned_job=current,
        values=form or current,
        lines=lines,
        work_kinds=_work_kinds((form or current).get("work_kind")),
        etag=etag or current.get("_etag"),
        error=error,
        errors=errors,
        leftover=unplaced(errors, _shown_fields(lines)),
        idempotency_key=None,
    )
