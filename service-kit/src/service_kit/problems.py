"""Errors as RFC 9457 problems, in plain Python so domain code can raise them.

A service's domain errors subclass one of these; the HTTP layer turns any of them
into an ``application/problem+json`` response with the same status.
"""

from __future__ import annotations

import re
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Problem(Exception):
    """Base of every error a service answers on purpose."""

    status: int = 500
    title: str = "Internal Server Error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions
        if title:
            self.title = title

    @property
    def type(self) -> str:
        return f"urn:garage:problem:{_slug(type(self).__name__)}"

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status = 400
    title = "Bad Request"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not Found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition Failed"


class Unprocessable(Problem):
    """Valid JSON asking for something impossible; ``errors`` maps field -> messages."""

    status = 422
    title = "Unprocessable Content"

    @classmethod
    def on_field(cls, field: str, message: str) -> Unprocessable:
        return cls(message, errors={field: [message]})


class DependencyUnavailable(Problem):
    """Another service (or the database) failed or timed out: a 503 naming it."""

    status = 503
    title = "Service Unavailable"

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{dependency} is unavailable", dependency=dependency)
        self.dependency = dependency
