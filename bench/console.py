"""The staff console's pages with the demo's garage loaded: render time per page (p50/p95,
sequential, as one person clicking) and how many API calls each page makes. Prints
figures; asserts nothing.

    make run            # in another terminal (starts the console too)
    make demo
    python bench/console.py [--rounds 40]

It signs in as the development advisor through identity's sign-in page: the advisor's
password is set afresh for the run through identity's admin API (development only; make
run prints new passwords each run anyway). The pages: the board of the demo's busiest day,
a customer card (a customer with visits and vehicles), a job card (a job in progress) and
the customer search. API calls per page are read from the console's
``downstream_requests_total`` (its /metrics) before and after one load of the page.
"""

from __future__ import annotations

import argparse
import json
import re
import secrets
import statistics
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

from run import identity_tokens  # noqa: E402  tools/run.py: identity's development-token

STATE_FILE = ROOT / ".run" / "run.json"
DOWNSTREAM = re.compile(r'^downstream_requests_total\{dependency="([^"]+)".*\} ([0-9.e+]+)$', re.M)


def urls() -> dict[str, str]:
    if not STATE_FILE.exists():
        sys.exit("no running garage: make run (and make demo) first")
    return dict(json.loads(STATE_FILE.read_text())["urls"])


def sign_in(console: str, identity: str, admin_token: str) -> requests.Session:
    headers = {"Authorization": f"Bearer {admin_token}"}
    accounts = requests.get(f"{identity}/api/v1/accounts", headers=headers, params={"limit": 200}, timeout=10)
    accounts.raise_for_status()
    advisor = next(a for a in accounts.json()["items"] if a["email"] == "advisor@garage.example")
    password = secrets.token_urlsafe(18)
    requests.post(
        f"{identity}/api/v1/accounts/{advisor['id']}/password",
        json={"password": password},
        headers=headers,
        timeout=10,
    ).raise_for_status()
    browser = requests.Session()
    page = browser.get(f"{console}/auth/sign-in", timeout=10)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if not csrf:
        sys.exit(f"no sign-in form at {page.url}")
    done = browser.post(
        page.url,
        data={"csrf_token": csrf.group(1), "email": advisor["email"], "password": password},
        timeout=10,
    )
    if not done.url.startswith(console):
        sys.exit(f"sign-in did not come back to the console: {done.url}")
    return browser


def calls(console: str) -> Counter[str]:
    text = requests.get(f"{console}/metrics", timeout=10).text
    counted: Counter[str] = Counter()
    for dependency, value in DOWNSTREAM.findall(text):
        counted[dependency] += int(float(value))
    return counted


def pages(everything: dict[str, str], admin_token: str) -> dict[str, str]:
    """The pages to time, picked from the demo's data."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    jobs = requests.get(
        f"{everything['maintenance-job-management']}/api/v1/maintenance-jobs",
        params={"status": "in_progress", "limit": 1},
        headers=headers,
        timeout=10,
    ).json()["items"]
    appointments = requests.get(
        f"{everything['workshop-scheduling']}/api/v1/appointments",
        params={"limit": 200},
        headers=headers,
        timeout=10,
    ).json()["items"]
    busiest = Counter(a["start"][:10] for a in appointments).most_common(1)
    day = busiest[0][0] if busiest else date.today().isoformat()
    visited = Counter(a["customer_id"] for a in appointments).most_common(1)
    chosen = {"board": f"/board?day={day}", "search": "/customers?q=jansen"}
    if visited:
        chosen["customer card"] = f"/customers/{visited[0][0]}"
    if jobs:
        chosen["job card"] = f"/jobs/{jobs[0]['id']}"
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    everything = urls()
    console = everything.get("staff-console")
    if not console:
        sys.exit("make run did not start the staff console")
    [admin_token] = identity_tokens(["admin"])
    browser = sign_in(console, everything["identity"], admin_token)
    print(f"{'page':<15} {'API calls':>9} {'p50 ms':>8} {'p95 ms':>8}  path")
    for name, path in pages(everything, admin_token).items():
        browser.get(console + path, timeout=30)  # warm: caches, connections
        before = calls(console)
        browser.get(console + path, timeout=30).raise_for_status()
        made = sum((calls(console) - before).values())
        times = []
        for _ in range(args.rounds):
            started = time.perf_counter()
            browser.get(console + path, timeout=30).raise_for_status()
            times.append((time.perf_counter() - started) * 1000)
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"{name:<15} {made:>9} {statistics.median(times):>8.1f} {p95:>8.1f}  {path}")


if __name__ == "__main__":
    main()
