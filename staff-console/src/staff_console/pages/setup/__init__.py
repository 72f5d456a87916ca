"""The owner's set-up (admin only): the workshop (opening hours and closed days, bays,
technicians), prices (labour rates, canned jobs), notification templates with a preview,
staff accounts and roles (through identity's admin API, when identity is the provider),
and the messages that gave up (dead outbox messages, dead or skipped notifications) with
a retry. One blueprint, ``setup``; a module per part."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template

from staff_console.sign_in import signed_in

blp = Blueprint("setup", __name__, url_prefix="/setup")


def identity_is_provider() -> bool:
    """Staff accounts are kept by identity, and reached through its admin API, only when
    identity is the provider; with the garage's own provider they are managed there."""
    from staff_console.garage import EXTENSION

    return "identity" in current_app.extensions[EXTENSION]


@blp.get("")
@signed_in("admin")
def index() -> str:
    return render_template("setup/index.html", identity=identity_is_provider())


# The parts register their views on the blueprint.
from staff_console.pages.setup import dead, messages, prices, staff, workshop  # noqa: E402, F401
