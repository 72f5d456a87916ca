"""invoicing and notification-management faked at the HTTP boundary: one receiver on
loopback that takes the outbox's requests and answers as told."""

from __future__ import annotations

from typing import Any

from service_kit.fakes import Receiver


class Downstreams(Receiver):
    """Answers ``statuses`` in turn, then ``default`` (201). ``hits`` are the requests
    it took, as dicts of method, path, headers and the JSON body."""

    def __init__(self) -> None:
        super().__init__(default=201)

    @property
    def hits(self) -> list[dict[str, Any]]:
        return [
            {"method": r.method, "path": r.path, "headers": r.headers, "body": r.json}
            for r in self.received()
        ]
