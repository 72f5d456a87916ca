"""The pay link's pages and the provider's webhook:

- ``POST /invoice/<token>/pay`` (``invoice_pay``, a form with its CSRF token): the
  balance due from invoicing, a payment for it at the provider, the customer sent to
  the provider's checkout;
- ``GET /invoice/<token>/paid`` (``invoice_paid``): where the provider sends the
  customer back; the provider is asked, a paid payment recorded at once (or as soon
  as invoicing answers), and the invoice shown paid;
- ``POST /webhooks/mollie`` (``mollie_webhook``): public, no CSRF (Mollie posts a
  form with the payment's ``id``), rate-limited by the kit as every write. It proves
  nothing: the payment is fetched from Mollie with the garage's key, and only that
  answer counts. An id Mollie or the portal does not know is answered 200 with nothing
  done (nothing is revealed); 503 only when Mollie could not be asked (it calls again).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, current_app, g, redirect, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.models import db
from customer_portal.payments import relay, service
from customer_portal.payments.models import NOT_STARTED, Payment
from customer_portal.payments.provider import (
    CANCELED,
    EXPIRED,
    FAILED,
    PAID,
    PaymentProvider,
    PaymentRefused,
    ProviderError,
    UnknownPayment,
)
from service_kit.http_client import DependencyFailed
from service_kit.security import provider_webhook

log = logging.getLogger("customer_portal.payments")

PROVIDER = "customer_portal_payment_provider"
INVOICE_PATH = "/api/v1/portal/invoice"


def provider() -> PaymentProvider | None:
    """The garage's payment provider, or None when it takes no payments online."""
    found: PaymentProvider | None = current_app.extensions.get(PROVIDER)
    return found


def payments_enabled() -> bool:
    return provider() is not None


def _provider_or_404() -> PaymentProvider:
    found = provider()
    if found is None:
        raise NotFound()
    return found


def invoice_page(token: str) -> str:
    return f"{request.script_root}/invoice/{token}"


def _public(path: str) -> str:
    return current_app.config["PORTAL_URL"].rstrip("/") + path


def invoice_pay(token: str) -> Response | tuple[str, int]:
    """Pay the invoice's balance due at the provider."""
    chosen = _provider_or_404()
    invoice = services.get("invoicing", INVOICE_PATH, token)
    g.customer_language = invoice.get("language")
    session = db.session()
    if service.paid_not_recorded(session, token) is not None or int(invoice["balance_due"]) <= 0:
        # Paid already (or being recorded): never a second payment for the same balance.
        return redirect(f"{request.script_root}/invoice/{token}/paid", 303)
    garage = (invoice.get("garage") or {}).get("name") or current_app.config["GARAGE_NAME"]
    try:
        payment = service.start_payment(
            session=session,
            provider=chosen,
            token=token,
            invoice=invoice,
            urls=service.PaymentUrls(
                redirect_url=_public(f"/invoice/{token}/paid"),
                webhook_url=_public("/webhooks/mollie"),
            ),
            description=_("Invoice %(number)s, %(garage)s", number=invoice["number"], garage=garage),
        )
    except PaymentRefused as exc:
        log.warning("the payment provider refused a payment for invoice %s: %s", invoice["number"], exc)
        return render_template(
            "payments/not_started.html", invoice_url=invoice_page(token), refused=True
        ), 422
    except ProviderError as exc:
        log.warning("the payment provider could not be asked for invoice %s: %s", invoice["number"], exc)
        return render_template(
            "payments/not_started.html", invoice_url=invoice_page(token), refused=False
        ), 503
    return redirect(str(payment.checkout_url), 303)


def invoice_paid(token: str) -> str | Response:
    """The customer is back from the provider: ask it, record a paid payment at once,
    show the invoice paid."""
    chosen = _provider_or_404()
    services.check_shape(token)
    session = db.session()
    payments = service.settle_link(session=session, provider=chosen, token=token)
    session.commit()
    if any(payment.status == PAID and payment.recorded_at is None for payment in payments):
        relay.deliver_now(current_app._get_current_object())  # type: ignore[attr-defined]  # the app, not its proxy
        session.expire_all()
    latest = next((payment for payment in payments if payment.status != NOT_STARTED), None)
    if latest is None:
        return redirect(invoice_page(token), 303)
    invoice: dict[str, Any] | None
    try:
        invoice = services.get("invoicing", INVOICE_PATH, token)
        g.customer_language = invoice.get("language")
    except DependencyFailed:
        invoice = None  # shown from the portal's own row meanwhile
    paid = next((payment for payment in payments if payment.status == PAID), None)
    return render_template(
        "payments/paid.html",
        token=token,
        invoice_url=invoice_page(token),
        payment=paid or latest,
        paid=paid is not None,
        failed=paid is None and latest.status in (CANCELED, EXPIRED, FAILED),
        shown=shown_invoice(invoice, paid or latest),
    )


def shown_invoice(invoice: dict[str, Any] | None, payment: Payment) -> dict[str, Any]:
    """The invoice's figures as shown on the return page: invoicing's, with a paid
    payment it has not recorded yet counted in (the invoice shows paid at once); the
    portal's own row alone when invoicing is not answering. Whether invoicing has it is
    invoicing's word (its ``online_payments``), not the row's ``recorded_at``: the record
    may have arrived while the row was not yet marked."""
    recorded = {
        (each["provider"], each["provider_payment_id"]) for each in (invoice or {}).get("online_payments", [])
    }
    known = (payment.provider, payment.provider_payment_id) in recorded
    waiting = payment.paid_amount if payment.status == PAID and not known else 0
    if invoice is None:
        return {
            "number": payment.invoice_number,
            "currency": payment.currency,
            "total": None,
            "paid": payment.paid_amount if payment.status == PAID else None,
            "balance_due": None,
            "settled": payment.status == PAID,
            "on_its_way": payment.status == PAID,
        }
    balance = max(0, int(invoice["balance_due"]) - (waiting or 0))
    return {
        "number": invoice["number"],
        "currency": invoice["currency"],
        "total": invoice["totals"]["gross"],
        "paid": int(invoice["paid"]) + (waiting or 0),
        "balance_due": balance,
        "settled": balance == 0,
        "on_its_way": bool(waiting),  # paid, not yet in invoicing's books
    }


def mollie_webhook() -> Response:
    """Mollie says something happened to a payment: ask Mollie what."""
    chosen = _provider_or_404()
    payment_id = request.form.get("id", "").strip()
    session = db.session()
    try:
        payment = service.settle(session=session, provider=chosen, provider_payment_id=payment_id)
    except UnknownPayment:
        log.info("webhook for a payment Mollie does not know: nothing done")
        return Response("", 200, mimetype="text/plain")
    except ProviderError as exc:
        session.rollback()
        log.warning("webhook: Mollie could not be asked (%s); it will call again", exc)
        return Response("", 503, mimetype="text/plain")
    session.commit()
    response = Response("", 200, mimetype="text/plain")
    if payment is not None and payment.status == PAID and payment.recorded_at is None:
        # Mollie waits for no delivery: the record goes out after the answer (and the
        # relay process delivers it if this does not).
        app = current_app._get_current_object()  # type: ignore[attr-defined]  # the app, not its proxy
        response.call_on_close(lambda: relay.deliver_now(app))
    return response


def register(app: Flask) -> None:
    app.add_url_rule("/invoice/<token>/pay", "invoice_pay", invoice_pay, methods=["POST"])
    app.add_url_rule("/invoice/<token>/paid", "invoice_paid", invoice_paid, methods=["GET"])
    app.add_url_rule("/webhooks/mollie", "mollie_webhook", provider_webhook(mollie_webhook), methods=["POST"])
    # Mollie posts a plain form: no CSRF token, and none is needed (it changes nothing
    # Mollie's own API does not confirm).
    app.extensions["csrf"].exempt(mollie_webhook)
    # For the invoice page: a payment reported paid that invoicing has not recorded yet.
    app.add_template_global(
        lambda token: service.paid_not_recorded(db.session(), token), "payment_on_its_way"
    )
