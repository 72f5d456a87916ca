"""The console's pages, one module per part of the garage's day:

- ``board``: the front desk's day, appointments per bay and hour, check-in;
- ``customers``: find, the customer card, register a customer and a vehicle;
- ``booking``: free slots for a kind of work, book, move, cancel;
- ``jobs``: the job card, the workshop's tablet view;
- ``workshop``: a technician's jobs of the day on the tablet (its buttons post to ``jobs``);
- ``accounts``: invoices, receivables, payments and the cash-up, credit notes;
- ``feedback``: how customers rated their visits, per technician and per month;
- ``setup``: the owner's settings, prices, staff and dead messages.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from staff_console.pages import accounts, board, booking, customers, feedback, jobs, workshop
from staff_console.pages import setup as setup_pages
from staff_console.sign_in import Person

PAGES: list[Blueprint] = [
    board.blp,
    customers.blp,
    booking.blp,
    jobs.blp,
    workshop.blp,
    accounts.blp,
    feedback.blp,
]

# (endpoint, label, roles that see it): the menu shows a person what their roles open.
MENU = [
    ("board.today", _l("Today"), ("advisor", "admin")),
    ("customers.find", _l("Customers"), ("advisor", "admin", "accountant")),
    ("accounts.invoices", _l("Accounts"), ("accountant", "admin")),
    ("workshop.mine", _l("Workshop"), ("technician", "admin")),
    ("feedback.ratings", _l("Feedback"), ("advisor", "admin")),
]
# The owner's set-up (pages/setup/).
PAGES.append(setup_pages.blp)
MENU.append(("setup.index", _l("Set-up"), ("admin",)))


def navigation(person: Person | None) -> list[tuple[str, str]]:
    if person is None:
        return []
    return [(endpoint, str(label)) for endpoint, label, roles in MENU if person.has(*roles)]
