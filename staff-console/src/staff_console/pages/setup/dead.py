"""The messages that gave up, each with a retry: the dead outbox messages of
workshop-scheduling, maintenance-job-management and invoicing (and identity's, when it is
the provider), and the dead or skipped notifications of notification-management. Each
service's list is its own part of the page: one not answering leaves the others."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from staff_console import garage
from staff_console.pages.setup import blp, identity_is_provider
from staff_console.pages.setup.messages import type_label
from staff_console.sign_in import signed_in

NOTIFICATIONS = "notification-management"
# Each service with an outbox, and where its admin API lists the messages.
OUTBOXES = {
    "workshop-scheduling": "/api/v1/workshop/outbox-messages",
    "maintenance-job-management": "/api/v1/maintenance-jobs/outbox-messages",
    "invoicing": "/api/v1/invoices/outbox-messages",
    "identity": "/api/v1/accounts/outbox-messages",
}
SHOWN = 50  # the newest this many of each list; the rest after these are retried
# Why notification-management skipped a notification (its contract's skip_reason).
SKIP_REASONS = {
    "customer_erased": _l("the customer was erased"),
    "no_channel": _l("the customer wants no messages"),
    "opted_out": _l("the customer opted out"),
    "no_email_address": _l("no email address"),
    "no_phone_number": _l("no phone number"),
}


def _outboxes() -> dict[str, str]:
    return {
        service: path for service, path in OUTBOXES.items() if service != "identity" or identity_is_provider()
    }


def _newest(service: str, path: str, status: str) -> dict[str, Any]:
    page = garage.get(service, path, status=status, limit=SHOWN)
    return {"items": page["items"], "more": bool(page.get("next_cursor"))}


def _dead_of(service: str, path: str) -> Callable[[], dict[str, Any]]:
    return lambda: _newest(service, path, "dead")


@blp.get("/dead-messages")
@signed_in("admin")
def dead_messages() -> str:
    outboxes = [(service, garage.part(_dead_of(service, path))) for service, path in _outboxes().items()]
    notifications = garage.part(
        lambda: {
            status: _newest(NOTIFICATIONS, "/api/v1/notifications", status) for status in ("dead", "skipped")
        }
    )
    return render_template(
        "setup/dead.html",
        outboxes=outboxes,
        notifications=notifications,
        shown=SHOWN,
        type_label=type_label,
        skip_reasons=SKIP_REASONS,
    )


@blp.post("/dead-messages/<service>/<uuid:message_id>/retry")
@signed_in("admin")
def retry_message(service: str, message_id: Any) -> Response:
    outboxes = _outboxes()
    if service not in outboxes:
        raise NotFound()
    try:
        garage.call(service, "POST", f"{outboxes[service]}/{message_id}/retry")
        flash(_("Sent again: %(service)s delivers it with its next round.", service=service), "success")
    except garage.ServiceRefused as exc:
        flash(_("Not sent again: %(detail)s", detail=exc.detail), "error")
    return redirect(url_for("setup.dead_messages"))


@blp.post("/dead-notifications/<uuid:notification_id>/retry")
@signed_in("admin")
def retry_notification(notification_id: Any) -> Response:
    try:
        garage.call(NOTIFICATIONS, "POST", f"/api/v1/notifications/{notification_id}/retry")
        flash(_("The notification will be sent again."), "success")
    except garage.ServiceRefused as exc:
        flash(_("Not sent again: %(detail)s", detail=exc.detail), "error")
    return redirect(url_for("setup.dead_messages"))
