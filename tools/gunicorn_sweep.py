"""Measures the customer-management image under gunicorn settings, for docs/deployment.md.

    python tools/gunicorn_sweep.py DATABASE_URL [--seconds 10] [--rounds 3] [--configs 2x4 ...]

CONFIG is WORKERSxTHREADS (default 1x4 2x2 2x4 2x8 4x4). DATABASE_URL names a database
that `make bench` (bench/customers.py) has seeded, reached from the host's network.
For each setting the image runs with the settings docker-compose.yml gives it (read-only
root, metrics summed across workers) and wrk drives GET /api/v1/customers/{id} with
16 connections. Besides requests/s and latency it prints what varies least when other
work shares the machine: the container's CPU time per request (from its cgroup) and
its memory. Rounds alternate the settings, and the medians are printed at the end.
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psycopg2

sys.path.insert(0, str(Path(__file__).resolve().parent))
from images import Engine, engine
from services import BY_NAME, ROOT

SERVICE = BY_NAME["customer-management"]
PORT = 18101


def say(message: str) -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def cpu_seconds(docker: Engine, container: str) -> float:
    # cgroup v1 cpuacct (nanoseconds) or v2 cpu.stat (microseconds), read inside the container.
    out = docker.docker(
        "exec", container, "sh", "-c",
        "cat /sys/fs/cgroup/cpuacct/cpuacct.usage 2>/dev/null || grep usage_usec /sys/fs/cgroup/cpu.stat",
    ).stdout.split()  # fmt: skip
    return int(out[-1]) / (1e9 if len(out) == 1 else 1e6)


def memory_mb(docker: Engine, container: str) -> float:
    usage = docker.docker("stats", "--no-stream", "--format", "{{.MemUsage}}", container).stdout.split("/")[0]
    number, unit = re.match(r"([\d.]+)\s*(\w+)", usage.strip()).groups()
    return float(number) * {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}.get(unit, 1)


def measure(docker: Engine, tag: str, url: str, workers: int, threads: int, seconds: int, ids: str) -> dict:
    container = f"garage-sweep-{workers}x{threads}"
    docker.docker("rm", "--force", container, check=False)
    docker.docker(
        "run", "--detach", "--name", container, "--network", "host", "--read-only",
        "--tmpfs", "/tmp",  # nosec B108 - the container's own /tmp, a tmpfs under its read-only root
        "--cap-drop", "ALL", "--env", f"DATABASE_URL={url}", "--env", "RATE_LIMIT_ENABLED=false",
        "--env", "LOG_LEVEL=WARNING", "--env", f"PORT={PORT}", "--env", f"GUNICORN_WORKERS={workers}",
        "--env", f"GUNICORN_THREADS={threads}", "--env", f"GUNICORN_CMD_ARGS=--bind 127.0.0.1:{PORT}", tag,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{PORT}/readyz", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        token = docker.docker(
            "exec", "--env", "LOG_LEVEL=WARNING", container, *SERVICE.flask("token", "advisor")
        ).stdout.strip()
        environment = {"VALUES_FILE": ids, "PATH_PREFIX": "/api/v1/customers/", "TOKEN": token}
        environment["PATH"] = "/usr/bin"
        wrk = ["wrk", "-t2", "-c16", "--latency", "-s", str(ROOT / "bench" / "random_path.lua")]
        warm_up = [*wrk, "-d2s", f"http://127.0.0.1:{PORT}"]
        subprocess.run(warm_up, env=environment, capture_output=True)
        before = cpu_seconds(docker, container)
        output = subprocess.run(
            [*wrk, f"-d{seconds}s", f"http://127.0.0.1:{PORT}"],
            env=environment,
            capture_output=True,
            text=True,
        ).stdout
        used = cpu_seconds(docker, container) - before
        requests = int(re.search(r"(\d+) requests in", output).group(1))
        return {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
            "p99": re.search(r"\s99%\s+([\d.]+\w+)", output).group(1),
            "cpu_ms": 1000 * used / requests,
            "mem": memory_mb(docker, container),
            "load": Path("/proc/loadavg").read_text().split()[0],
        }
    finally:
        docker.docker("rm", "--force", container, check=False)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=["1x4", "2x2", "2x4", "2x8", "4x4"])
    args = parser.parse_args()
    connection = psycopg2.connect(args.database_url)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM customers.customers ORDER BY random() LIMIT 2000")
        ids = [str(row[0]) for row in cursor.fetchall()]
    connection.close()
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as handle:
        handle.write("\n".join(ids))
    docker = engine()
    tag = f"garage/{SERVICE.name}:0.1.0"
    results: dict[str, list[dict]] = {config: [] for config in args.configs}
    try:
        for round_number in range(1, args.rounds + 1):
            for config in args.configs:
                workers, threads = (int(n) for n in config.split("x"))
                figures = measure(docker, tag, args.database_url, workers, threads, args.seconds, handle.name)
                results[config].append(figures)
                say(f"round {round_number} {config}: {figures}")
    finally:
        docker.stop()
    say("\nmedians: workers x threads, requests/s, CPU ms per request, memory MB")
    for config, runs in results.items():
        rps, cpu, memory = (statistics.median(r[key] for r in runs) for key in ("rps", "cpu_ms", "mem"))
        say(f"  {config:5} {rps:7.0f} {cpu:6.2f} {memory:6.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
