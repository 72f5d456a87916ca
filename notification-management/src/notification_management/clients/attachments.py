"""Attachments (e.g. an invoice PDF) fetched from the service that holds them, through
the kit's HTTP client: timeouts, retries, breaker, request id and a service token."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service_kit.http_client import DependencyFailed, ServiceClient


class AttachmentUnavailable(Exception):
    """The attachment could not be fetched now; a later try may succeed."""


class AttachmentRefused(Exception):
    """The attachment can never be sent as it is (e.g. larger than allowed)."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


class AttachmentSources:
    """One client per configured source, chosen by the URL's prefix."""

    def __init__(self, clients: Mapping[str, ServiceClient], *, max_bytes: int) -> None:
        self.clients = {base.rstrip("/"): client for base, client in clients.items()}
        self.max_bytes = max_bytes

    @property
    def bases(self) -> list[str]:
        return list(self.clients)

    def fetch(self, spec: Mapping[str, Any]) -> Attachment:
        url = str(spec["url"])
        base = next((b for b in self.clients if url.startswith(b + "/")), None)
        if base is None:
            raise AttachmentRefused(f"{url} is not under a configured attachment source")
        client = self.clients[base]
        try:
            response = client.get(url[len(base) :], headers={"Accept": spec["content_type"] + ", */*;q=0.1"})
        except DependencyFailed as exc:
            raise AttachmentUnavailable(f"fetching {url}: {exc.detail}") from exc
        if response.status_code != 200:
            # 404 included: the document may not be rendered yet; the retries give it time.
            raise AttachmentUnavailable(f"fetching {url}: {client.name} answered {response.status_code}")
        if len(response.content) > self.max_bytes:
            raise AttachmentRefused(
                f"{url} is {len(response.content)} bytes; at most {self.max_bytes} are sent"
            )
        return Attachment(
            filename=spec["filename"], content_type=spec["content_type"], content=response.content
        )
