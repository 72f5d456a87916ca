"""Customer search at scale: customer-management under gunicorn, driven at 1 and at 16
connections, with the query plans of its slowest searches.

    python bench/customers.py [--customers 1000000] [--rounds 3] [--seconds 10]
                              [--connections 1,16] [--workers 2] [--threads 4]
                              [--compare SRC] [--explain 3]

1. Seeds N customers straight into the `customers` schema with generate_series SQL:
   Dutch names from weighted lists (a few common ones, a long tail), businesses with
   a contact person and a VAT number, email addresses made of the name, mobile and
   landline numbers; ids are UUIDv7 of a registration date, one every 5 minutes from
   2016 on. Over 100,000 new rows, the secondary indexes are dropped and built again
   afterwards (one transaction): 1,000,000 take about three minutes. Seeded rows are
   kept between runs; a larger N adds the missing ones.
2. Starts the service under gunicorn, as `make run` serves it (the images' settings),
   and drives it with a Python client (asyncio, keep-alive connections, each request
   sent as soon as the previous answer on its connection arrived) for ``--seconds``
   per run, after a warm-up; every answer's latency is kept, so the percentiles are
   exact:
   - GET /api/v1/customers/{id} for random ids;
   - GET /api/v1/customers?q=<term>, the terms sampled from the seeded customers the
     way the front desk types them (see ``search_terms``).
   Each path and connection count is measured ``--rounds`` times, the order turning
   each round; the figures are the medians of the rounds, with the 1-minute load
   average. ``--compare SRC`` measures another customer-management beside this one
   (its src first on PYTHONPATH, its own database seeded alike), each run right after
   the other's, so that the machine's load falls on both alike.
3. Times each search term in-process (this tree's service function, no HTTP) and
   prints EXPLAIN (ANALYZE, BUFFERS) of every statement of the ``--explain`` slowest.
   For another code's: PYTHONPATH=SRC python bench/customers.py --database D --rounds 0.

PostgreSQL: DATABASE_URL, else an embedded server under .run/bench-customers-pgdata.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import psycopg2
from harness import BIN, Workers, database_url, gunicorn, say, stop

PORT = 18001

# Rows n = start..stop. The arrays are weighted by where a name stands: the first few
# are common (index = length * u^1.5 for a uniform u from a hash of n).
SEED_SQL = """
INSERT INTO customers.customers
  (id, kind, name, vat_number, contact_person, email, phone, postal_code, city, country,
   preferred_channel, preferred_language, consents, status, payment_terms_days,
   created_at, updated_at, version)
SELECT
  overlay(overlay(md5(n::text) PLACING lpad(to_hex((extract(epoch FROM at) * 1000)::bigint), 12, '0')
          FROM 1 FOR 12) PLACING '7' FROM 13 FOR 1)::uuid,
  CASE WHEN business THEN 'business' ELSE 'person' END,
  CASE WHEN business
       THEN upper(left(surname, 1)) || substr(surname, 2) || ' ' || trade
            || CASE WHEN n %% 3 = 0 THEN ' B.V.' ELSE ' BV' END
       ELSE first || ' ' || surname END,
  CASE WHEN business THEN 'NL' || lpad((n::bigint * 7 %% 1000000000)::text, 9, '0') || 'B01' END,
  CASE WHEN business THEN first || ' ' || surname END,
  CASE WHEN n %% 10 = 3 THEN NULL
       WHEN business THEN 'info@' || translate(lower(surname || trade), 'ëïöüşç ', 'eiousc') || n || '.nl'
       ELSE translate(lower(first), 'ëïöüşç ', 'eiousc') || '.'
            || translate(lower(surname), 'ëïöüşç ', 'eiousc') || n || '@' || domain END,
  CASE WHEN n %% 20 = 7 THEN NULL
       WHEN n %% 5 = 1 THEN '+31' || (ARRAY['20', '10', '30', '70', '40'])[1 + (n / 5) %% 5]
                            || lpad((n::bigint * 104729 %% 10000000)::text, 7, '0')
       ELSE '+316' || lpad((n::bigint * 7919 %% 100000000)::text, 8, '0') END,
  (1000 + n %% 9000)::text || ' AB', city, 'NL',
  CASE WHEN n %% 10 = 3 THEN 'sms' ELSE 'email' END, 'nl',
  '{"email": {"service": true, "marketing": false}, "sms": {"service": true, "marketing": false}}',
  'active', CASE WHEN business THEN 30 ELSE 0 END, at, at, 1
FROM (
  SELECT n,
         n %% 10 = 0 AS business,
         timestamptz '2016-01-01 00:00:00+00' + make_interval(secs => n * 300.0) AS at,
         firsts[1 + floor(cardinality(firsts) * power((hashint4(n) & 2147483647) %% 1000000 / 1e6, 1.5))::int]
           AS first,
         surnames[1 + floor(cardinality(surnames)
                            * power((hashint4(n + 7) & 2147483647) %% 1000000 / 1e6, 1.5))::int] AS surname,
         trades[1 + (hashint4(n + 13) & 2147483647) %% cardinality(trades)] AS trade,
         domains[1 + floor(cardinality(domains)
                           * power((hashint4(n + 17) & 2147483647) %% 1000000 / 1e6, 2))::int] AS domain,
         cities[1 + floor(cardinality(cities)
                          * power((hashint4(n + 19) & 2147483647) %% 1000000 / 1e6, 2))::int] AS city
  FROM generate_series(%(start)s::int, %(stop)s::int) AS n,
       (SELECT
          ARRAY['Daan','Sem','Lucas','Levi','Finn','Milan','Noah','Luuk','Jesse','Bram','Thijs','Lars',
                'Ruben','Tim','Sven','Jan','Pieter','Kees','Henk','Willem','Johan','Gerrit','Hans','Peter',
                'Mark','Dennis','Jeroen','Sander','Martijn','Bas','Emma','Julia','Mila','Tess','Sophie',
                'Zoë','Anna','Eva','Saar','Nora','Lotte','Sara','Fleur','Lisa','Anne','Inge','Maria','Linda',
                'Sandra','Monique','Esther','Marieke','Ingrid','Petra','Karin','Ilse','Mohamed','Ahmed',
                'Fatima','Yusuf','Ayşe','Mehmet','Priya','Wei','Olga','Piotr','Joost','Koen','Wouter','Rik',
                'Stijn','Niels','Hugo','Max','Tom','Nina','Anaïs','Bart','Ellen','Gijs'] AS firsts,
          ARRAY['de Jong','Jansen','de Vries','van den Berg','van Dijk','Bakker','Janssen','Visser','Smit',
                'Meijer','de Boer','Mulder','de Groot','Bos','Vos','Peters','Hendriks','van Leeuwen',
                'Dekker','Brouwer','de Wit','Dijkstra','Smits','de Graaf','van der Meer','van der Linden',
                'Kok','Jacobs','de Haan','Vermeulen','van den Heuvel','van der Veen','van den Broek',
                'de Bruijn','de Bruin','van der Heijden','Schouten','van Beek','Willems','van Vliet',
                'van de Ven','Hoekstra','Maas','Verhoeven','Koster','van Dam','van der Wal','Prins','Blom',
                'Huisman','Peeters','de Jonge','Kuipers','van Veen','Post','Kuiper','Veenstra','Kramer',
                'van den Brink','Scholten','van Wijk','Postma','Martens','Vink','de Ruiter','Timmermans',
                'Groen','Gerritsen','Jonker','van Loon','Boer','van der Velde','Willemsen','Smeets',
                'de Lange','de Vos','Bosch','van Dongen','Schipper','de Koning','van der Laan','Koning',
                'van der Velden','Driessen','van Doorn','Hermans','Evers','van den Bosch','van der Meulen',
                'Hofman','Bosman','Wolters','Sijbesma','Yilmaz','El Amrani','Kowalski','Nguyen','Öztürk',
                'Bouzid','Şahin'] AS surnames,
          ARRAY['Autoservice','Transport','Bouw','Installatietechniek','Logistiek','Schilders','Bloemen',
                'Taxi','Verhuur','Holding','Koeriers','Hoveniers'] AS trades,
          ARRAY['gmail.com','hotmail.com','outlook.com','ziggo.nl','kpnmail.nl','live.nl','icloud.com',
                'xs4all.nl','planet.nl','home.nl'] AS domains,
          ARRAY['Amsterdam','Rotterdam','Den Haag','Utrecht','Eindhoven','Groningen','Tilburg','Almere',
                'Breda','Nijmegen','Apeldoorn','Haarlem','Arnhem','Enschede','Amersfoort','Zaanstad',
                'Den Bosch','Haarlemmermeer','Zwolle','Zoetermeer','Leiden','Maastricht','Dordrecht',
                'Ede','Alkmaar','Leeuwarden','Delft'] AS cities) AS words
) AS picked
"""
SEED_BATCH = 250_000
REBUILD_INDEXES_FROM = 100_000  # new rows from which dropping and rebuilding the indexes pays


def connect(url: str) -> Any:
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
    return connection


def seed(cursor: Any, customers: int) -> None:
    cursor.execute("SELECT count(*) FROM customers.customers")
    have = cursor.fetchone()[0]
    if have >= customers:
        return
    started = time.perf_counter()
    cursor.execute("BEGIN")
    rebuild = customers - have >= REBUILD_INDEXES_FROM
    indexes = []
    if rebuild:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'customers' "
            "AND tablename = 'customers' AND indexname <> 'pk_customers'"
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX customers."{name}"')
    for start in range(have + 1, customers + 1, SEED_BATCH):
        cursor.execute(SEED_SQL, {"start": start, "stop": min(start + SEED_BATCH - 1, customers)})
    inserted = time.perf_counter() - started
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for _, definition in indexes:
        cursor.execute(definition)
    cursor.execute("COMMIT")
    cursor.execute("VACUUM ANALYZE customers.customers")
    say(
        f"seeded {customers - have} customers in {time.perf_counter() - started:.0f} s "
        f"(rows {inserted:.0f} s{', indexes rebuilt' if rebuild else ''})"
    )


def search_terms(cursor: Any, count: int) -> list[tuple[str, str]]:
    """(kind, term) as typed at the front desk, from customers picked at random (the
    same ones each run): the start of a surname, a whole name, first name and the start
    of the surname (a business: its contact person's), the start of a company's name,
    the whole email address, the start of the address, the phone number as said aloud,
    its last six digits; and short common fragments."""
    # Ordered by a hash of the id (the seed's ids are the same in every database seeded).
    cursor.execute(
        "SELECT name, kind, contact_person, email, phone FROM customers.customers "
        "WHERE status = 'active' ORDER BY md5(id::text) LIMIT %s",
        (count,),
    )
    terms: list[tuple[str, str]] = []
    rng = random.Random(42)
    for name, kind, contact_person, email, phone in cursor.fetchall():
        person = (name if kind == "person" else contact_person).lower()
        first, surname = person.split()[0], person.split()[-1]
        choices = [
            ("surname start", surname[: rng.randint(3, max(3, len(surname)))]),
            ("whole name", person),
            ("first name + surname start", f"{first} {surname[:3]}"),
        ]
        if kind == "business":
            choices.append(("company name start", name[: rng.randint(4, 12)].lower().strip()))
        if email:
            choices += [("email", email), ("email start", email[: rng.randint(4, 10)])]
        if phone and phone.startswith("+31"):
            national = "0" + phone[3:]
            choices += [
                ("phone", f"{national[:2]} {national[2:6]} {national[6:]}"),
                ("phone, last digits", national[-6:]),
            ]
        terms.append(rng.choice(choices))
    for fragment in ("jan", "van", "vries", "bakker", "de j", "emma", "transport", "gmail"):
        terms.append(("common fragment", fragment))
    return terms


# ------------------------------------------------------------------------------ client


@dataclass(frozen=True)
class Run:
    requests: int
    seconds: float
    failed: int
    latencies: list[float]  # seconds, sorted

    def percentile(self, q: float) -> float:
        return self.latencies[min(len(self.latencies) - 1, int(q * len(self.latencies)))] * 1000

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers.get("connection", "").lower() != "close"


async def _drive(port: int, paths: list[str], token: str, connections: int, seconds: float) -> Run:
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    failed = 0
    requests = [
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        for path in paths
    ]

    async def connection() -> None:
        nonlocal failed
        rng = random.Random()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                writer.write(rng.choice(requests))
                status, keep_alive = await _response(reader)
                latencies.append(time.perf_counter() - started)
                failed += status != 200
                if not keep_alive:
                    writer.close()
                    reader, writer = await asyncio.open_connection("127.0.0.1", port)
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(connections)))
    return Run(len(latencies), time.perf_counter() - started, failed, sorted(latencies))


def drive(port: int, paths: list[str], token: str, connections: int, seconds: float) -> Run:
    return asyncio.run(_drive(port, paths, token, connections, seconds))


@dataclass(frozen=True)
class Code:
    """A customer-management to measure: this tree's, or another src on PYTHONPATH."""

    label: str
    env: dict[str, str]
    port: int


def prepare(code: Code, customers: int) -> None:
    """Its migrations, then the seeded customers in its database."""
    subprocess.run(
        [BIN / "flask", "--app", "customer_management", "migrate"],
        env=code.env,
        check=True,
        capture_output=True,
    )
    database = connect(code.env["DATABASE_URL"])
    try:
        seed(database.cursor(), customers)
    finally:
        database.close()


Runs = dict[tuple[str, str, int], list[tuple[Run, float]]]


def measure(
    codes: list[Code],
    paths: dict[str, list[str]],
    token: str,
    shape: Workers,
    connection_counts: list[int],
    args: argparse.Namespace,
) -> Runs:
    """Each path at each connection count, ``args.rounds`` times, the order turning each
    round; with two codes, one right after the other (which first alternates): the runs,
    each with the 1-minute load average when it started."""
    servers = [gunicorn("customer_management:create_app()", code.port, code.env, shape) for code in codes]
    runs: Runs = {}
    try:
        for code in codes:
            for values in paths.values():
                drive(code.port, values, token, max(connection_counts), args.warmup)
        order = [(name, c) for name in paths for c in connection_counts]
        for round_ in range(args.rounds):
            for name, connections in order[round_ % len(order) :] + order[: round_ % len(order)]:
                for code in codes if round_ % 2 == 0 else codes[::-1]:
                    load = os.getloadavg()[0]
                    run = drive(code.port, paths[name], token, connections, args.seconds)
                    runs.setdefault((code.label, name, connections), []).append((run, load))
    finally:
        stop(*servers)
    return runs


def report(runs: Runs) -> None:
    """Medians of the rounds, as a markdown table."""
    header = (
        "code | path | connections | req/s | p50 ms | p95 ms | p99 ms | failed | p95 per round | load average"
    )
    say(f"\n| {header} |\n|---|---|---:|---:|---:|---:|---:|---:|---|---|")
    for (label, name, connections), measured in sorted(runs.items(), key=lambda item: item[0][1:]):
        done = [run for run, _ in measured]
        loads = [load for _, load in measured]
        p50, p95, p99 = (statistics.median(run.percentile(q) for run in done) for q in (0.50, 0.95, 0.99))
        say(
            f"| {label} | {name} | {connections} | {statistics.median(run.rate for run in done):.0f} "
            f"| {p50:.1f} | {p95:.1f} | {p99:.1f} | {sum(run.failed for run in done)} "
            f"| {' / '.join(f'{run.percentile(0.95):.1f}' for run in done)} "
            f"| {min(loads):.1f}-{max(loads):.1f} |"
        )
    say("")


# ------------------------------------------------------------------------------ in-process


def slowest_searches(url: str, terms: list[tuple[str, str]], explain: int, limit: int) -> None:
    """Each term through the service function (median of 3, after one unmeasured), then
    the plans of the slowest ``explain``."""
    import logging

    from customer_management import create_app
    from customer_management.models import db
    from customer_management.service import customers
    from sqlalchemy import event

    app = create_app({"DATABASE_URL": url, "RATE_LIMIT_ENABLED": False})
    logging.getLogger().setLevel(logging.WARNING)
    statements: list[tuple[str, Any]] = []
    prepares: dict[str, str] = {}  # a prepared statement's PREPARE by its name, to explain its EXECUTEs
    timings: list[tuple[float, str, str, int, list[tuple[str, Any]]]] = []
    with app.app_context():

        @event.listens_for(db.engine, "before_cursor_execute")
        def capture(
            conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
        ) -> None:
            if statement.startswith("PREPARE "):
                prepares[statement.split()[1]] = statement
            else:
                statements.append((statement, parameters))

        # This tree's service reads on a connection; an older one (--compare) on a session.
        on_connection = "connection" in inspect.signature(customers.list_customers).parameters
        for kind, term in dict.fromkeys(terms):
            runs = []
            for _ in range(4):
                statements.clear()
                with db.engine.connect() as connection:
                    executor = {"connection": connection} if on_connection else {"session": db.session()}
                    started = time.perf_counter()
                    page = customers.list_customers(
                        **executor,
                        filters=customers.CustomerFilters(q=term),
                        limit=limit,
                        cursor=None,
                        default_region="NL",
                    )
                    runs.append(time.perf_counter() - started)
                found = len(page.items)
                db.session.remove()
            timings.append((statistics.median(runs[1:]) * 1000, kind, term, found, list(statements)))
        timings.sort(reverse=True)
        by_kind: dict[str, list[float]] = {}
        for ms, kind, *_ in timings:
            by_kind.setdefault(kind, []).append(ms)
        every = sorted(ms for ms, *_ in timings)
        say(
            f"  in-process (the service function, no HTTP), {len(every)} terms: median "
            f"{statistics.median(every):.2f} ms, p95 {every[int(0.95 * len(every))]:.2f} ms; by kind of term:"
        )
        for kind, values in sorted(by_kind.items()):
            median, most = statistics.median(values), max(values)
            say(f"    {kind:28} {len(values):4} terms  median {median:6.2f} ms  max {most:7.2f} ms")
        for ms, kind, term, found, executed in timings[:explain]:
            say(f"\n  slow: {term!r} ({kind}): {ms:.1f} ms, {found} found, {len(executed)} statements")
            raw = db.engine.raw_connection()
            try:
                cursor = raw.cursor()
                cursor.execute("DEALLOCATE ALL")
                for prepare in prepares.values():
                    cursor.execute(prepare)
                for statement, parameters in executed:
                    sql = cursor.mogrify(statement, parameters).decode()
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    say("    " + "\n    ".join(row[0] for row in cursor.fetchall()) + "\n")
                raw.rollback()
            finally:
                raw.close()


# ------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3, help="0: seed and time in-process only")
    parser.add_argument("--connections", default="1,16", help="comma-separated connection counts")
    # customer-management's own set-up (tools/services.py), as make run and the images run it.
    parser.add_argument("--worker-class", default="gthread")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--database", default="garage_bench_customers")
    parser.add_argument("--terms", type=int, default=400, help="customers the search terms are taken from")
    parser.add_argument(
        "--limit", type=int, default=50, help="page size of the searches (the API's default: 50)"
    )
    parser.add_argument(
        "--explain", type=int, default=3, help="plans of this many slowest searches (0: no in-process timing)"
    )
    parser.add_argument(
        "--compare",
        metavar="SRC",
        help="another customer-management's src (e.g. a git archive of HEAD's), measured beside this one",
    )
    parser.add_argument("--compare-database", default="garage_bench_customers_compare")
    parser.add_argument(
        "--paths", default="read,search", help="comma-separated: read (GET by id), search (the default: both)"
    )
    args = parser.parse_args()
    if args.compare and os.environ.get("DATABASE_URL"):
        parser.error("--compare seeds a second database on the embedded server: unset DATABASE_URL")
    connection_counts = [int(c) for c in args.connections.split(",")]

    url, server = database_url(args.database, data="bench-customers-pgdata")
    try:
        # The benchmark is the only client: per-client rate limits would measure 429s.
        base = {**os.environ, "LOG_LEVEL": "WARNING", "RATE_LIMIT_ENABLED": "false"}
        codes = [Code("this tree", {**base, "DATABASE_URL": url}, PORT)]
        if args.compare:
            other, _ = database_url(args.compare_database, data="bench-customers-pgdata")
            path = os.pathsep.join(p for p in (args.compare, os.environ.get("PYTHONPATH")) if p)
            codes.append(Code(args.compare, {**base, "DATABASE_URL": other, "PYTHONPATH": path}, PORT + 1))
        for code in codes:
            prepare(code, args.customers)
        database = connect(url)
        cursor = database.cursor()
        cursor.execute(
            "SELECT count(*), pg_size_pretty(pg_table_size('customers.customers')), "
            "pg_size_pretty(pg_indexes_size('customers.customers')), current_setting('server_version'), "
            "current_setting('shared_buffers') FROM customers.customers"
        )
        total, table, indexes, version, shared_buffers = cursor.fetchone()
        cursor.execute("SELECT id FROM customers.customers ORDER BY random() LIMIT 2000")
        ids = [str(row[0]) for row in cursor.fetchall()]
        terms = search_terms(cursor, args.terms)
        database.close()
        token = subprocess.run(
            [BIN / "flask", "--app", "customer_management", "token", "advisor"],
            env=codes[0].env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        paths = {
            name: requests
            for key, name, requests in (
                ("read", "GET customer by id", [f"/api/v1/customers/{i}" for i in ids]),
                (
                    "search",
                    "customer search",
                    [f"/api/v1/customers?q={quote(t)}&limit={args.limit}" for _, t in terms],
                ),
            )
            if key in args.paths.split(",")
        }
        shape = Workers(args.worker_class, args.workers, args.threads)
        say(
            f"customer-management: {total} customers (table {table}, indexes {indexes}; PostgreSQL "
            f"{version}, shared_buffers {shared_buffers}), gunicorn {shape}, {len(terms)} search terms "
            f"(pages of {args.limit}); "
            f"{args.rounds} rounds of {args.seconds:g} s per path and connection count"
        )
        if args.rounds:
            report(measure(codes, paths, token, shape, connection_counts, args))
        if args.explain:
            slowest_searches(url, terms, args.explain, args.limit)
    finally:
        if server is not None:
            server.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
