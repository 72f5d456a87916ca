"""`make demo`: a realistic garage, loaded through the public APIs of a running `make run`.

    python tools/demo.py [--customers 300]

Everything goes through the services' HTTP APIs with the tokens the garage's staff
carry - never through a database. The staff (advisors at the front desk, technicians, an
accountant, the owner as admin) are accounts at identity, made through its admin API
when missing (<first>.<last>@garage.example), and act with tokens identity issues for
them (its development-token command, as `make token` does), so what each does is
recorded under their account. It makes:

- the workshop: opening hours, holidays, six bays, five technicians;
- a few hundred customers, people and businesses, with Dutch names, addresses and
  phone numbers, consent as given at the counter;
- their vehicles: Dutch plates, valid VINs (ISO 3779 check digit computed, as North
  American VINs must carry it), makes and models as seen in the Netherlands;
- a week of appointments from today (the API refuses bookings in the past), each
  booking checking the vehicle and creating its maintenance job;
- the first appointments worked on: jobs in progress, on hold (waiting for parts, or
  for the customer's approval of an estimate), completed with labour and parts, and
  cancelled ones; then invoices for the completed jobs, paid, part-paid and unpaid.

Running it again changes nothing that is already there: everything is looked up by
its natural key (a customer's email or phone, a plate, a bay's name, an appointment's
bay and start) before it is made, creates carry an Idempotency-Key, and a job is only
moved on from the state it is in. Run on another day, it books that day's week.

Overdue invoices: invoicing dates an invoice the day it is issued and no API can move
that date, so nothing is overdue on the day of the first run. The invoices of
customers who pay on collection (payment terms 0 days) and did not pay are due today
and show as `overdue` from tomorrow on.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from demo_garage.api import Api, parallel, service_urls, wait_for_services
from demo_garage.appointments import Booking, book_week
from demo_garage.customers import load_customers, load_vehicles, make_customers
from demo_garage.jobs import Garage, choose_targets
from demo_garage.staff import ACCOUNTANT, OFFICE, OWNER, enrol
from demo_garage.work_catalogue import LABOUR_RATES
from demo_garage.workshop import TZ, set_up_prices, set_up_workshop


def say(message: str = "") -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=300)
    args = parser.parse_args()
    started = time.monotonic()
    api = Api(service_urls())
    try:
        wait_for_services(api)
        enrol(api, OFFICE)
        say(f"staff: {len(OFFICE)} accounts at identity (advisors, the accountant, the owner)")
        today = datetime.now(TZ).date()
        bays, technicians = set_up_workshop(api, today)
        say(f"workshop: opening hours, holidays, {len(bays)} bays, {len(technicians)} technicians")
        canned_jobs = set_up_prices(api)
        say(f"prices: {len(LABOUR_RATES)} labour rates, {len(canned_jobs)} canned jobs")

        specs = make_customers(args.customers)
        had, made = load_customers(api, specs)
        say(f"customers: {made} registered, {had} were there already")
        vehicles, made = load_vehicles(api, specs)
        say(f"vehicles: {made} registered, {len(vehicles) - made} were there already")

        bookings, booked, kept = book_week(api, today, bays, technicians, vehicles)
        week = f"{today} - {today + timedelta(days=6)}"
        say(f"appointments {week}: {booked} booked now, {kept} were there already")

        customers = {c["id"]: c for c in api.all("customer-management", "/api/v1/customers", OWNER.token)}
        choose_targets(bookings)
        garage = Garage(api, technicians, customers, canned_jobs)
        parallel(garage.work, list(enumerate(bookings)))
        jobs = Counter(
            j["status"]
            for j in api.all("maintenance-job-management", "/api/v1/maintenance-jobs", OWNER.token)
        )
        say("jobs: " + ", ".join(f"{count} {status}" for status, count in sorted(jobs.items())))
        invoices = Counter(i["status"] for i in api.all("invoicing", "/api/v1/invoices", ACCOUNTANT.token))
        say("invoices: " + ", ".join(f"{count} {status}" for status, count in sorted(invoices.items())))
    except RuntimeError as exc:  # a DemoError, or identity's development-token command failed
        say(f"make demo: {exc}")
        return 1
    calls = sum(v for k, v in api.counts.items() if k != "429")
    say(
        f"\n{calls} API calls in {time.monotonic() - started:.0f} s"
        + (f" ({api.counts['429']} waited out a rate limit)" if api.counts["429"] else "")
    )
    show_around(api, today, bookings, garage)
    return 0


def show_around(api: Api, today: date, bookings: list[Booking], garage: Garage) -> None:
    worked = next((b for b in bookings if b.target == "completed"), None)
    week = today.isocalendar()
    say(
        "\nLook around (README, 'Demo'):\n"
        "  TOKEN=$(make -s token ROLE=advisor)\n"
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"'{api.urls['customer-management']}/api/v1/customers?q=jansen'\n"
        f'  curl -s -H "Authorization: Bearer $TOKEN" '
        f"{api.urls['workshop-scheduling']}/api/v1/workshop/planning/weeks/{week.year}-W{week.week:02d}"
    )
    if worked and worked.appointment:
        say(
            f'  curl -s -H "Authorization: Bearer $TOKEN" '
            f"{api.urls['maintenance-job-management']}/api/v1/maintenance-jobs/{worked.appointment['job_id']}"
        )
    if garage.invoices:
        invoice = garage.invoices[0]
        say(
            f'  curl -s -H "Authorization: Bearer $TOKEN" -o invoice.pdf '
            f"{api.urls['invoicing']}/api/v1/invoices/{invoice['id']}/pdf"
        )
    say("Mail the customers got is in .run/mail (the dispatcher sends it within seconds).")


if __name__ == "__main__":
    sys.exit(main())
