"""Bookings racing for one slot: ``clients`` front desks, each with a vehicle of its own,
ask for the same slot at the same moment, round after round (a new slot each round).
bench/garage.py runs it against all six services (paths "booking race, one bay" and
"booking race, any bay"); it is not a benchmark on its own.

- one bay: every request names the same bay, so one wins and the others must get 409;
- any bay: the bay is left to the service, so the first ``bays`` win (one per bay) and
  the rest get 409 ``no-bay-free``.

Each client is a thread with a keep-alive session; a round starts when all of them are
ready (a barrier) and ends when all have their answer. Latency is measured per request
on the client, from send to answer. After the run, the jobs it made are checked against
the appointments: a job not cancelled or completed whose appointment is not booked with
that job is an orphan. No job checker runs, so an orphan stays one.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from harness import Figures

SLOT = timedelta(minutes=30)


@dataclass(frozen=True)
class RaceFigures(Figures):
    won: int = 0
    lost: int = 0  # 409: the slot was taken
    orphans: int = 0  # jobs not cancelled whose appointment is not booked
    others: str = ""  # the other answers, e.g. "503 x4" (0: none within 30 s)

    def __str__(self) -> str:
        others = f" ({self.others})" if self.others else ""
        return (
            f"{super().__str__()}{others}  {self.won} won, {self.lost} lost (409), {self.orphans} orphan jobs"
        )


def race(
    base: str,
    token: str,
    *,
    vehicles: list[str],
    bay: str | None,
    first_start: datetime,
    rounds: int,
    clients: int = 16,
    work: str = "bench race",
) -> tuple[list[float], Counter[int]]:
    """``rounds`` rounds of ``clients`` bookings of one slot; the latencies (ms) and the
    answers' status codes (0: no answer)."""
    barrier = threading.Barrier(clients)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

    def client(index: int) -> None:
        with requests.Session() as session:
            for round_ in range(rounds):
                start = first_start + round_ * SLOT
                body: dict[str, Any] = {
                    "vehicle_id": vehicles[(round_ * clients + index) % len(vehicles)],
                    "start": start.isoformat(),
                    "end": (start + SLOT).isoformat(),
                    "work_description": work,
                }
                if bay:
                    body["bay_id"] = bay
                barrier.wait()
                sent = time.perf_counter()
                try:
                    status = session.post(
                        f"{base}/api/v1/appointments",
                        json=body,
                        headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
                        timeout=30,
                    ).status_code
                except requests.RequestException:
                    status = 0
                with lock:
                    latencies.append((time.perf_counter() - sent) * 1000)
                    statuses[status] += 1

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, statuses


def orphan_jobs(database_url: str, work: str) -> int:
    """Jobs of this run (their description is the run's ``work``) that are neither
    cancelled nor completed and have no booked appointment that names them."""
    import psycopg2

    with psycopg2.connect(database_url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM jobs.maintenance_jobs j "
            "WHERE j.description = %(work)s AND j.status NOT IN ('cancelled', 'completed') "
            "AND NOT EXISTS (SELECT 1 FROM scheduling.appointments a WHERE a.id = j.appointment_id "
            "AND a.job_id = j.id AND a.status IN ('booked', 'checked_in'))",
            {"work": work},
        )
        return int(cursor.fetchone()[0])


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def measure(
    base: str,
    token: str,
    database_url: str,
    *,
    vehicles: list[str],
    bay: str | None,
    first_start: datetime,
    rounds: int,
    clients: int = 16,
) -> RaceFigures:
    """One run: the figures, with the orphan jobs it left."""
    work = f"bench race {uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    latencies, statuses = race(
        base,
        token,
        vehicles=vehicles,
        bay=bay,
        first_start=first_start,
        rounds=rounds,
        clients=clients,
        work=work,
    )
    elapsed = time.perf_counter() - started
    return RaceFigures(
        rps=len(latencies) / elapsed,
        p50=statistics.median(latencies),
        p99=percentile(latencies, 0.99),
        requests=len(latencies),
        non_2xx=sum(n for status, n in statuses.items() if status not in (201, 409, 0)),
        socket_errors=statuses[0],
        won=statuses[201],
        lost=statuses[409],
        orphans=orphan_jobs(database_url, work),
        others=", ".join(
            f"{status} x{n}" for status, n in sorted(statuses.items()) if status not in (201, 409)
        ),
    )
