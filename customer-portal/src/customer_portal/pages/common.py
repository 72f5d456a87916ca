"""What every link page does: ask the service that issued the link, show its answer,
post a form and go back to the page (post/redirect/get)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, g, redirect, url_for
from markupsafe import Markup, escape
from werkzeug.wrappers import Response

from customer_portal import services


def read(service: str, path: str, token: str, **params: Any) -> Any:
    """The page's data, as the service answers it for this link. An answer that names
    the customer's language sets the page's (unless they switched)."""
    answer = services.get(service, path, token, **params)
    if isinstance(answer, dict) and isinstance(answer.get("language"), str):
        g.customer_language = answer["language"][:2].lower()
    return answer


def new_form_key() -> str:
    """An ``Idempotency-Key`` made when a form is shown and sent with it: a double tap or a
    resend acts once."""
    return str(uuid.uuid4())


def back_to(endpoint: str, token: str, **params: Any) -> Response:
    return redirect(url_for(endpoint, token=token, **params), code=303)


def text(form_value: str | None, limit: int) -> str:
    """A form's text as the customer typed it, trimmed, never longer than ``limit``."""
    return (form_value or "").strip()[: limit + 1]


def today() -> date:
    """Today in the workshop's time zone."""
    return datetime.now(ZoneInfo(current_app.config["WORKSHOP_TIME_ZONE"])).date()


def vehicle_text(vehicle: Any) -> Markup:
    """A vehicle as the answers give it: make and model (or a description), and plate;
    the plate kept on one line (a narrow phone broke "(79-" from "PVK-7)")."""
    if not isinstance(vehicle, dict):
        return escape(str(vehicle or ""))
    name = " ".join(str(vehicle[k]) for k in ("make", "model") if vehicle.get(k)) or str(
        vehicle.get("description") or ""
    )
    plate = vehicle.get("plate")
    if not plate:
        return escape(name)
    shown = Markup('<span class="plate">{}</span>').format(plate)
    return Markup("{} ({})").format(name, shown) if name else shown


def work_text(thing: dict[str, Any]) -> str:
    """The work booked, whichever way an answer names it."""
    work = thing.get("work", thing.get("work_description", thing.get("description")))
    if isinstance(work, list):
        return ", ".join(
            str(w.get("description") or w.get("name") or "") if isinstance(w, dict) else str(w) for w in work
        )
    return str(work or "")
