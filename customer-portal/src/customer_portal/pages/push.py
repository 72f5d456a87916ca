"""Updates on the phone (Web Push, issue 19): the appointment page offers "Get updates on
this phone" when the portal has notification-management's VAPID public key
(``PUSH_VAPID_PUBLIC_KEY``). ``static/push.js`` asks the browser's permission, subscribes
with that key and posts the subscription to ``/appointment/<token>/push`` (the CSRF
token in ``X-CSRFToken``); the portal passes it to workshop-scheduling's
``POST /api/v1/portal/appointment/push-subscription`` with the link, and scheduling
stores it in notification-management for the customer the link was sent to. The portal
never names a customer: it cannot.

``/sw.js`` is the service worker, served from the portal's root so that its scope is
the portal's pages (``/portal/`` behind the ingress): it shows a push's ``title`` and
``body`` and opens its ``url`` (the portal page the message links to) on a click.
Without JavaScript, or without a key, the page is as it was."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, request, send_file
from werkzeug.wrappers import Response

from customer_portal import services

blp = Blueprint("push", __name__)
SERVICE = "workshop-scheduling"
PATH = "/api/v1/portal/appointment/push-subscription"
WORKER = Path(__file__).parent.parent / "static" / "sw.js"
# As workshop-scheduling (and notification-management) accept them.
LIMITS = {"endpoint": 2000, "p256dh": 100, "auth": 40}


def push_key() -> str:
    """The key to subscribe with; empty when the portal offers no updates on the phone."""
    return str(current_app.config.get("PUSH_VAPID_PUBLIC_KEY") or "")


def subscription_of(body: Any) -> dict[str, Any] | None:
    """What a browser's ``PushSubscription.toJSON()`` holds that the services take (the
    endpoint and the two keys), or None when it is not shaped like one."""
    if not isinstance(body, dict) or not isinstance(body.get("keys"), dict):
        return None
    endpoint, keys = body.get("endpoint"), body["keys"]
    values = {"endpoint": endpoint, "p256dh": keys.get("p256dh"), "auth": keys.get("auth")}
    if not all(isinstance(v, str) and 0 < len(v) <= LIMITS[k] for k, v in values.items()):
        return None
    return {"endpoint": endpoint, "keys": {"p256dh": values["p256dh"], "auth": values["auth"]}}


@blp.post("/appointment/<token>/push")
def subscribe(token: str) -> tuple[dict[str, Any], int]:
    if not push_key():
        abort(404)
    subscription = subscription_of(request.get_json(silent=True))
    if subscription is None:
        abort(400)
    services.call(SERVICE, "POST", PATH, token, json=subscription)
    return {"subscribed": True}, 202


@blp.get("/sw.js")
def service_worker() -> Response:
    # Not kept by a cache (the app sends no-store on everything but /static): the browser
    # sees a new worker on the next visit.
    return send_file(WORKER, mimetype="text/javascript", max_age=0)


blp.add_app_template_global(push_key, "push_key")
