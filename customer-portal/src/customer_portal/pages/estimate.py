"""``/estimate/<token>``: the estimate's lines with prices and the technician's notes;
the customer approves or declines each line, types their name and confirms. A link
already used shows what was decided, when and in whose name."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, render_template, request
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.pages.common import back_to, read, text

blp = Blueprint("estimate", __name__)
SERVICE = "maintenance-job-management"
DECISIONS = ("approved", "declined")


@blp.get("/estimate/<token>")
def show(token: str) -> str:
    estimate = read(SERVICE, "/api/v1/portal/estimate", token)
    return render_template("estimate.html", token=token, estimate=estimate, chosen={}, errors={})


@blp.post("/estimate/<token>")
def decide(token: str) -> Response | tuple[str, int]:
    estimate = read(SERVICE, "/api/v1/portal/estimate", token)
    if estimate.get("status") != "pending":
        flash(_("This estimate was already decided; this is what was decided."), "info")
        return back_to("estimate.show", token)
    chosen = {
        line["line_id"]: request.form.get(f"line-{line['line_id']}")
        for line in estimate["lines"]
        if line.get("decision") is None
    }
    signature = text(request.form.get("signature"), 200)
    errors: dict[str, str] = {}
    for line_id, decision in chosen.items():
        if decision not in DECISIONS:
            errors[f"line-{line_id}"] = _("Choose approve or decline for this line.")
    if not 2 <= len(signature) <= 200:
        errors["signature"] = _("Type your full name (2 to 200 characters).")
    if not errors:
        try:
            services.call(
                SERVICE,
                "POST",
                "/api/v1/portal/estimate/decision",
                token,
                json={
                    "decisions": [{"line_id": line_id, "decision": d} for line_id, d in chosen.items()],
                    "signature": signature,
                },
            )
        except services.ServiceRefused as exc:
            if exc.status == 409:
                flash(_("This estimate was already decided; this is what was decided."), "info")
                return back_to("estimate.show", token)
            if exc.status != 422:
                raise
            errors = _field_errors(exc) or {"form": exc.detail}
        else:
            flash(_("Thank you. Your decision has been sent to the garage."), "ok")
            return back_to("estimate.show", token)
    page = render_template(
        "estimate.html",
        token=token,
        estimate=estimate,
        chosen=chosen,
        signature=signature,
        errors=errors,
    )
    return page, 422


def _field_errors(exc: services.ServiceRefused) -> dict[str, str]:
    shown = exc.field_errors
    errors: dict[str, str] = {}
    if "signature" in shown:
        errors["signature"] = shown["signature"]
    if "decisions" in shown:
        errors["form"] = shown["decisions"]
    return errors


def approved_total(estimate: dict[str, Any]) -> int:
    return sum(
        int(line.get("gross") or 0) for line in estimate["lines"] if line.get("decision") == "approved"
    )


blp.add_app_template_global(approved_total, "approved_total")
