"""Find a customer or vehicle by any fragment or plate; the customer card; register a
customer and a vehicle."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from staff_console import garage
from staff_console.sign_in import signed_in

blp = Blueprint("customers", __name__)
CUSTOMERS = "customer-management"
VEHICLES = "vehicle-management"
SEARCH_LIMIT = 20
# What the advisor reads out at the counter; the ledger keeps the words the customer agreed to.
MARKETING_WORDING = _l("May we send you service reminders and offers?")


def _results(q: str) -> dict[str, Any]:
    """Customers by any fragment (name, email, phone) and vehicles by plate, each from its
    own service: one not answering leaves the other's results."""
    customers = garage.part(
        lambda: garage.get(CUSTOMERS, "/api/v1/customers", q=q, limit=SEARCH_LIMIT)["items"]
    )
    vehicles = garage.part(
        lambda: garage.get(VEHICLES, "/api/v1/vehicles", plate=q, limit=SEARCH_LIMIT)["items"]
    )
    return {"q": q, "customers": customers, "vehicles": vehicles}


@blp.get("/customers")
@signed_in("advisor", "admin", "accountant")
def find() -> str:
    q = request.args.get("q", "").strip()
    results = _results(q) if q else None
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "results":
        return render_template("customers/results.html", results=results)
    return render_template("customers/find.html", q=q, results=results)


def _customer_form(form: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"kind": form.get("kind") or "person", "name": form.get("name", "").strip()}
    for key in ("email", "phone", "vat_number", "contact_person", "notes"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    if form.get("preferred_channel"):
        body["preferred_channel"] = form["preferred_channel"]
    if form.get("preferred_language"):
        body["preferred_language"] = form["preferred_language"]
    address = {key: form.get(f"address_{key}", "").strip() for key in ("street", "postal_code", "city")}
    if any(address.values()):
        body["address"] = {k: v for k, v in address.items() if v}
    if form.get("marketing_consent"):
        channel = (
            body.get("preferred_channel") if body.get("preferred_channel") in ("email", "sms") else "email"
        )
        body["consents"] = [
            {
                "channel": channel,
                "purpose": "marketing",
                "granted": True,
                "source": "counter",
                "wording": str(MARKETING_WORDING),
            }
        ]
    return body


@blp.route("/customers/new", methods=["GET", "POST"])
@signed_in("advisor", "admin")
def register() -> Any:
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        try:
            customer = garage.call(
                CUSTOMERS,
                "POST",
                "/api/v1/customers",
                json=_customer_form(request.form),
                idempotency_key=request.form.get("idempotency_key"),
            )
            flash(_("Customer registered."), "success")
            return redirect(url_for("customers.card", customer_id=customer["id"]))
        except garage.ServiceRefused as exc:
            errors, error = exc.field_errors, exc
    return render_template(
        "customers/new.html",
        form=request.form,
        errors=errors,
        error=error,
        idempotency_key=request.form.get("idempotency_key") or garage.new_form_key(),
    )


@blp.get("/customers/<uuid:customer_id>")
@signed_in("advisor", "admin", "accountant")
def card(customer_id: Any) -> str:
    customer = garage.get(CUSTOMERS, f"/api/v1/customers/{customer_id}")
    vehicles = garage.part(lambda: garage.every(VEHICLES, "/api/v1/vehicles", owner_id=customer_id, limit=50))
    visits = garage.part(
        lambda: garage.get("workshop-scheduling", "/api/v1/appointments", customer_id=customer_id, limit=20)[
            "items"
        ]
    )
    invoices = garage.part(
        lambda: [
            invoice
            for invoice in garage.get("invoicing", "/api/v1/invoices", customer_id=customer_id, limit=50)[
                "items"
            ]
            if invoice["totals"]["outstanding"] > 0
        ]
    )
    return render_template(
        "customers/card.html", customer=customer, vehicles=vehicles, visits=visits, invoices=invoices
    )


def _vehicle_form(form: Any, owner_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {"owner_id": owner_id}
    for key in ("plate", "make", "model", "vin", "colour", "fuel_type"):
        if form.get(key, "").strip():
            body[key] = form[key].strip()
    if form.get("year", "").strip():
        body["year"] = int(form["year"]) if form["year"].strip().isdigit() else form["year"]
    return body


@blp.route("/customers/<uuid:customer_id>/vehicles/new", methods=["GET", "POST"])
@signed_in("advisor", "admin")
def register_vehicle(customer_id: Any) -> Any:
    errors: dict[str, str] = {}
    error = None
    if request.method == "POST":
        try:
            garage.call(
                VEHICLES,
                "POST",
                "/api/v1/vehicles",
                json=_vehicle_form(request.form, str(customer_id)),
                idempotency_key=request.form.get("idempotency_key"),
            )
            flash(_("Vehicle registered."), "success")
            return redirect(url_for("customers.card", customer_id=customer_id))
        except garage.ServiceRefused as exc:
            errors, error = exc.field_errors, exc
    customer = garage.get(CUSTOMERS, f"/api/v1/customers/{customer_id}")
    return render_template(
        "customers/new_vehicle.html",
        customer=customer,
        form=request.form,
        errors=errors,
        error=error,
        idempotency_key=request.form.get("idempotency_key") or garage.new_form_key(),
    )
