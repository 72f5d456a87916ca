"""Load benchmark of customer-management under gunicorn, measured with wrk.

    python bench/customers.py [--customers 100000] [--seconds 15] [--connections 16]

Seeds N customers straight into the `customers` schema (SQL, in one statement),
starts the service under gunicorn (gthread), and drives it with wrk:
  1. GET /api/v1/customers/{id} for random ids;
  2. GET /api/v1/customers?q=<fragment> for random name/email/phone fragments.
Prints requests/s and latency percentiles, and the query plan of a search, which
must use the trigram index rather than a sequential scan.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time

import psycopg2
from harness import BENCH, BIN, Figures, Workers, database_url, gunicorn, stop, wrk

PORT = 18001

SEED_SQL = """
INSERT INTO customers.customers
  (id, kind, name, email, phone, city, country, preferred_channel, preferred_language,
   consents, status, created_at, updated_at, version)
SELECT gen_random_uuid(),
       CASE WHEN mod(n, 10) = 0 THEN 'business' ELSE 'person' END,
       (ARRAY['Ann','Bram','Chris','Daan','Eva','Fleur','Gijs','Hanna','Isa','Jan'])[1 + mod(n, 10)]
         || ' ' || (ARRAY['de Vries','Jansen','Bakker','Visser','Smit','Meijer','Mulder','Bos',
                          'Vos','Peters','Hendriks','Dekker'])[1 + mod(n / 10, 12)] || ' ' || n,
       'customer' || n || '@example' || mod(n, 97) || '.com',
       '+316' || lpad((10000000 + n)::text, 8, '0'),
       'Utrecht', 'NL', 'email', 'nl',
       '{"email": {"service": true, "marketing": false}, "sms": {"service": true, "marketing": false}}',
       'active', now(), now(), 1
FROM generate_series(%(start)s, %(stop)s) AS n
"""


def drive(path_prefix: str, values: list[str], token: str, seconds: int, connections: int) -> Figures:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(values))
    return wrk(
        f"http://127.0.0.1:{PORT}",
        seconds=seconds,
        connections=connections,
        script=BENCH / "random_path.lua",
        env={"VALUES_FILE": handle.name, "PATH_PREFIX": path_prefix, "TOKEN": token},
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()

    url, server = database_url("garage_bench")
    # The benchmark is the only client: per-client rate limits would measure 429s.
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "RATE_LIMIT_ENABLED": "false"}
    subprocess.run(
        [BIN / "flask", "--app", "customer_management", "migrate"], env=env, check=True, capture_output=True
    )
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    connection = psycopg2.connect(
        host=parsed.host or parsed.query.get("host"),
        port=parsed.port,
        user=parsed.username,
        password=parsed.password,
        dbname=parsed.database,
    )
    connection.autocommit = True
    cursor = connection.cursor()
    cursor.execute("SELECT count(*) FROM customers.customers")
    have = cursor.fetchone()[0]
    if have < args.customers:
        started = time.perf_counter()
        for start in range(have + 1, args.customers + 1, 100_000):
            cursor.execute(SEED_SQL, {"start": start, "stop": min(start + 99_999, args.customers)})
        cursor.execute("ANALYZE customers.customers")
        print(f"seeded {args.customers - have} customers in {time.perf_counter() - started:.1f}s")
    cursor.execute("SELECT count(*) FROM customers.customers")
    total = cursor.fetchone()[0]
    cursor.execute("SELECT id FROM customers.customers ORDER BY random() LIMIT 2000")
    ids = [str(row[0]) for row in cursor.fetchall()]
    terms = [
        "vries",
        "jansen",
        "bakker",
        "hanna",
        "customer4711",
        "example42.com",
        "612345",
        "fleur smit",
        "0610004",
        "gijs mulder 9",
        "peters",
        "daan",
    ]
    cursor.execute(
        "EXPLAIN SELECT * FROM customers.customers WHERE status = 'active' "
        "AND search_text ILIKE '%customer4711%' ORDER BY id LIMIT 51"
    )
    plan = "\n    ".join(row[0] for row in cursor.fetchall())

    token = subprocess.run(
        [BIN / "flask", "--app", "customer_management", "token", "advisor"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    web = gunicorn(
        "customer_management:create_app()", PORT, env, Workers("gthread", args.workers, args.threads)
    )
    try:
        print(
            f"customer-management: {total} customers, gunicorn gthread {args.workers} workers x "
            f"{args.threads} threads, wrk 2 threads x {args.connections} connections, {args.seconds}s each"
        )
        for name, prefix, values in (
            ("GET /api/v1/customers/{id}", "/api/v1/customers/", ids),
            (
                "GET /api/v1/customers?q=<fragment>",
                "/api/v1/customers?q=",
                [t.replace(" ", "%20") for t in terms],
            ),
        ):
            print(f"  {name:38} {drive(prefix, values, token, args.seconds, args.connections)}")
        print(f"  search plan:\n    {plan}")
    finally:
        stop(web)
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
