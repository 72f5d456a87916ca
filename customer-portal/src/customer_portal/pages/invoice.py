"""``/invoice/<token>``: the invoice, its PDF, and a Pay button while something is due.
Paying (``POST /invoice/<token>/pay``, endpoint ``invoice_pay``) is
customer_portal.payments'; without it the page shows the invoice and how to pay by transfer."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, render_template
from werkzeug.wrappers import Response

from customer_portal import services
from customer_portal.pages.common import read

blp = Blueprint("invoice", __name__)
SERVICE = "invoicing"
PATH = "/api/v1/portal/invoice"


@blp.get("/invoice/<token>")
def show(token: str) -> str:
    invoice = read(SERVICE, PATH, token)
    return render_template(
        "invoice/show.html",
        token=token,
        invoice=invoice,
        can_pay="invoice_pay" in current_app.view_functions and int(invoice.get("balance_due") or 0) > 0,
    )


@blp.get("/invoice/<token>/pdf")
def pdf(token: str) -> Response:
    answer = services.send(SERVICE, "GET", PATH + "/pdf", token, accept="application/pdf")
    number = re.sub(r"[^A-Za-z0-9_-]", "-", answer.headers.get("X-Invoice-Number", "")) or "invoice"
    disposition = answer.headers.get("Content-Disposition") or f'attachment; filename="{number}.pdf"'
    response = Response(answer.content, mimetype="application/pdf")
    response.headers["Content-Disposition"] = disposition
    return response
