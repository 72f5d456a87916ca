"""Calling the garage's services over HTTP, many calls at a time, the way `make run` serves them."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests
from services import PORTS, ROOT  # tools/services.py: the one list of services

STATE_FILE = ROOT / ".run" / "run.json"
PARALLEL = 8


class DemoError(RuntimeError):
    pass


class Api:
    """Calls the services over HTTP: a pooled session per thread, a token per call,
    429 and 503 waited out and retried (every retried POST carries its Idempotency-Key)."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.local = threading.local()
        self.counts: Counter[str] = Counter()
        self.lock = threading.Lock()

    def _session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def call(
        self,
        method: str,
        service: str,
        path: str,
        token: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        key: str | None = None,
        accept: Iterable[int] = (),
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        for attempt in range(10):
            try:
                response = self._session().request(
                    method,
                    self.urls[service] + path,
                    json=body,
                    params=params,
                    headers=headers,
                    timeout=30,
                )
            except requests.ConnectionError as exc:
                if attempt == 9:
                    raise DemoError(f"{service} does not answer: {exc}") from exc
                time.sleep(0.5 * (attempt + 1))
                continue
            with self.lock:
                self.counts[method] += 1
            if response.status_code == 429:  # the per-person rate limit: wait as told
                with self.lock:
                    self.counts["429"] += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            if response.status_code == 503 and (method == "GET" or key):
                time.sleep(0.5 * (attempt + 1))
                continue
            break
        if response.status_code < 400 or response.status_code in set(accept):
            return response
        raise DemoError(f"{method} {service}{path}: {response.status_code} {response.text[:600]}")

    def all(self, service: str, path: str, token: str, params: dict[str, Any] | None = None) -> list[dict]:
        """Every item of a list, page by page."""
        items: list[dict] = []
        query = {**(params or {}), "limit": 200}
        while True:
            page = self.call("GET", service, path, token, params=query).json()
            items += page["items"]
            if not page.get("next_cursor"):
                return items
            query["cursor"] = page["next_cursor"]


def service_urls() -> dict[str, str]:
    """Where `make run` serves: .run/run.json, else <SERVICE>_URL, else the default ports."""
    running = json.loads(STATE_FILE.read_text()).get("urls", {}) if STATE_FILE.exists() else {}
    return {
        name: os.environ.get(f"{name.upper().replace('-', '_')}_URL")
        or running.get(name)
        or f"http://127.0.0.1:{port}"
        for name, port in PORTS.items()
    }


def wait_for_services(api: Api) -> None:
    for name, url in api.urls.items():
        try:
            requests.get(f"{url}/readyz", timeout=3).raise_for_status()
        except requests.RequestException as exc:
            raise DemoError(
                f"{name} does not answer at {url} ({exc}): start the garage with `make run` first"
            ) from exc


def parallel(work: Callable[[Any], Any], items: list[Any], workers: int = PARALLEL) -> list[Any]:
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(work, items))
