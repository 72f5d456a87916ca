"""Staff accounts and their roles, through identity's admin API (only when identity is the
garage's provider; with its own provider, OIDC_ISSUER, accounts are managed there): the
list with locks and disabled accounts, create with an initial password, change the name
and roles, disable and enable, lift a lock, set a new password."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from staff_console import garage
from staff_console.pages.setup import blp, identity_is_provider
from staff_console.pages.setup.forms import errors_of, folded, unplaced
from staff_console.sign_in import signed_in

IDENTITY = "identity"
ACCOUNTS = "/api/v1/accounts"
# The roles of identity's contract, as people call them.
ROLES = (
    ("admin", _l("Administrator (set-up)")),
    ("advisor", _l("Service advisor (front desk)")),
    ("technician", _l("Technician (workshop)")),
    ("accountant", _l("Accountant (accounts)")),
)
# What each button on an account's page asks identity for.
ACTIONS = {"disable": "/disable", "enable": "/enable", "unlock": "/unlock"}


def _roles() -> list[tuple[str, str]]:
    return [(role, str(label)) for role, label in ROLES]


def _managed_elsewhere() -> str:
    return render_template("setup/staff_elsewhere.html", provider=current_app.config.get("OIDC_ISSUER", ""))


@blp.get("/staff")
@signed_in("admin")
def staff() -> str:
    if not identity_is_provider():
        return _managed_elsewhere()
    accounts = garage.every(IDENTITY, ACCOUNTS)
    return render_template("setup/staff.html", accounts=accounts, role_names=dict(_roles()))


@blp.route("/staff/new", methods=["GET", "POST"])
@signed_in("admin")
def new_account() -> Any:
    if not identity_is_provider():
        return _managed_elsewhere()
    error = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        body: dict[str, Any] = {
            "name": request.form.get("name", "").strip(),
            "email": request.form.get("email", "").strip(),
            "roles": request.form.getlist("roles"),
        }
        if request.form.get("password"):
            body["password"] = request.form["password"]
        try:
            account = garage.call(
                IDENTITY, "POST", ACCOUNTS, json=body, idempotency_key=request.form.get("idempotency_key")
            )
            flash(_("Account for %(name)s made.", name=account["name"]), "success")
            return redirect(url_for("setup.account", account_id=account["id"]))
        except garage.ServiceRefused as exc:
            error, errors = exc, errors_of(exc)
            errors = folded(errors, "roles")
    return render_template(
        "setup/new_account.html",
        form=request.form,
        chosen_roles=request.form.getlist("roles"),
        roles=_roles(),
        error=error,
        errors=errors,
        leftover=unplaced(errors, ("name", "email", "roles", "password")),
        idempotency_key=request.form.get("idempotency_key") or garage.new_form_key(),
    )


@blp.route("/staff/<uuid:account_id>", methods=["GET", "POST"])
@signed_in("admin")
def account(account_id: Any) -> Any:
    if not identity_is_provider():
        return _managed_elsewhere()
    path = f"{ACCOUNTS}/{account_id}"
    error = None
    errors: dict[str, str] = {}
    failed = None  # which of the page's forms the refusal is about
    if request.method == "POST":
        action = request.form.get("action", "")
        failed = action
        etag = request.form.get("etag")
        try:
            if action == "save":
                body = {"name": request.form.get("name", "").strip(), "roles": request.form.getlist("roles")}
                garage.call(IDENTITY, "PATCH", path, json=body, if_match=etag)
                flash(_("Name and roles saved."), "success")
            elif action == "password":
                garage.call(
                    IDENTITY,
                    "POST",
                    path + "/password",
                    json={"password": request.form.get("password", "")},
                    if_match=etag,
                )
                flash(_("New password set: the account's sessions have ended."), "success")
            elif action in ACTIONS:
                garage.call(IDENTITY, "POST", path + ACTIONS[action], if_match=etag)
                flash(
                    {
                        "disable": _("Account disabled: it can no longer sign in."),
                        "enable": _("Account enabled."),
                        "unlock": _("Lock lifted."),
                    }[action],
                    "success",
                )
            return redirect(url_for("setup.account", account_id=account_id))
        except garage.ServiceRefused as exc:
            error, errors = exc, errors_of(exc)
            errors = folded(errors, "roles")
    current = garage.get(IDENTITY, path)
    return render_template(
        "setup/account.html",
        account=current,
        etag=request.form.get("etag") if failed else current.get("_etag"),
        form=request.form,
        chosen_roles=request.form.getlist("roles") if failed == "save" else current["roles"],
        roles=_roles(),
        failed=failed,
        error=error,
        errors=errors,
        leftover=unplaced(errors, ("name", "roles", "password")),
    )
