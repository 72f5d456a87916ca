"""The texts customers are sent, in notification-management: the templates by type and
language, edited (PUT, with If-Match) and previewed with the type's sample data. A
preview is shown as text: what the template renders is never put into the page as HTML."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from staff_console import garage
from staff_console.pages.setup import blp
from staff_console.pages.setup.forms import errors_of, unplaced
from staff_console.sign_in import signed_in

NOTIFICATIONS = "notification-management"
TEMPLATES = "/api/v1/notification-templates"
TEXTS = ("subject", "body", "sms_body")
# The notification types of the contract, as people call them.
TYPES = {
    "appointment_confirmed": _l("Appointment confirmed"),
    "appointment_rescheduled": _l("Appointment moved"),
    "appointment_cancelled": _l("Appointment cancelled"),
    "appointment_reminder": _l("Appointment reminder"),
    "estimate_ready": _l("Estimate ready"),
    "job_on_hold": _l("Job on hold"),
    "vehicle_ready": _l("Vehicle ready"),
    "invoice_issued": _l("Invoice issued"),
    "payment_reminder": _l("Payment reminder"),
    "password_reset": _l("Password reset (staff)"),
}


def type_label(type_: str) -> str:
    return str(TYPES.get(type_, type_.replace("_", " ")))


@blp.get("/templates")
@signed_in("admin")
def templates() -> str:
    chosen_type = request.args.get("type", "")
    language = request.args.get("language", "").strip()
    items = garage.every(
        NOTIFICATIONS, TEMPLATES, type=chosen_type if chosen_type in TYPES else None, language=language
    )
    return render_template(
        "setup/templates.html",
        items=sorted(
            items, key=lambda t: (list(TYPES).index(t["type"]) if t["type"] in TYPES else 99, t["language"])
        ),
        types=[(key, str(label)) for key, label in TYPES.items()],
        type_label=type_label,
        chosen_type=chosen_type,
        chosen_language=language,  # not "language": the frame's (the page's own language)
    )


@blp.get("/templates/add")
@signed_in("admin")
def add_template() -> Response:
    """A type in another language: its page, empty until saved."""
    type_, language = request.args.get("type", ""), request.args.get("language", "").strip()
    if not language or type_ not in TYPES:
        flash(_("Choose a type and give a language (nl, en, de ...)."), "error")
        return redirect(url_for("setup.templates"))
    return redirect(url_for("setup.template", notification_type=type_, language=language))


def _path(notification_type: str, language: str) -> str:
    return f"{TEMPLATES}/{quote(notification_type, safe='')}/{quote(language, safe='')}"


def _stored(notification_type: str, language: str) -> dict[str, Any] | None:
    """The stored template, or None when the type has no text in this language yet."""
    try:
        return dict(garage.get(NOTIFICATIONS, _path(notification_type, language)))
    except garage.ServiceRefused as exc:
        if exc.status == 404:
            return None
        raise


@blp.route("/templates/<notification_type>/<language>", methods=["GET", "POST"])
@signed_in("admin")
def template(notification_type: str, language: str) -> Any:
    error = None
    errors: dict[str, str] = {}
    preview = None
    texts: dict[str, str] | None = None
    etag = None
    if request.method == "POST":
        texts = {name: request.form.get(name, "") for name in TEXTS}
        etag = request.form.get("etag") or None
        try:
            if request.form.get("action") == "preview":
                draft = {name: value for name, value in texts.items() if value.strip()}
                preview = garage.call(
                    NOTIFICATIONS, "POST", _path(notification_type, language) + "/preview", json=draft
                )
            else:
                garage.call(
                    NOTIFICATIONS, "PUT", _path(notification_type, language), json=texts, if_match=etag
                )
                flash(_("Template saved."), "success")
                return redirect(
                    url_for("setup.template", notification_type=notification_type, language=language)
                )
        except garage.ServiceRefused as exc:
            error, errors = exc, errors_of(exc)
    stored = _stored(notification_type, language)
    if texts is None:
        texts = {name: (stored or {}).get(name, "") for name in TEXTS}
    return render_template(
        "setup/template.html",
        notification_type=notification_type,
        template_language=language,  # not "language": the frame's (the page's own language)
        type_label=type_label(notification_type),
        stored=stored,
        texts=texts,
        etag=etag if request.method == "POST" else (stored or {}).get("_etag"),
        preview=preview,
        error=error,
        errors=errors,
        leftover=unplaced(errors, TEXTS),
    )
