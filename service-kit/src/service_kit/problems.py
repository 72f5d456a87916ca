"""Errors as RFC 9457 problems, in plain Python so domain code can raise them.

A service's domain errors subclass one of these; the HTTP layer turns any of them
into an ``application/problem+json`` response with the same status.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

PROBLEM_CONTENT_TYPE = "application/problem+json"

# The one table of problem titles: every problem a service answers takes its title
# from here by status, whoever raised it (service code, the kit, flask-smorest's
# argument parsing, Werkzeug's routing). Wording as RFC 9110 names them.
TITLES: dict[int, str] = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    411: "Length Required",
    412: "Precondition Failed",
    413: "Content Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Content",
    428: "Precondition Required",
    429: "Too Many Requests",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def _slug(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


def title_for(status: int) -> str:
    return TITLES.get(status) or HTTPStatus(status).phrase


def problem_type(kind: str) -> str:
    """A problem's ``type``: ``urn:garage:problem:<kind>``, never ``about:blank``."""
    return f"urn:garage:problem:{kind}"


def generic_kind(status: int) -> str:
    """The kind of a problem that says no more than its status (``not-found``)."""
    return title_for(status).lower().replace(" ", "-")


def problem_body(
    status: int, detail: str | None = None, *, kind: str | None = None, **extensions: Any
) -> dict[str, Any]:
    """A problem+json body from the table; ``kind`` names a more specific type."""
    body: dict[str, Any] = {
        "type": problem_type(kind or generic_kind(status)),
        "title": title_for(status),
        "status": status,
    }
    if detail:
        body["detail"] = detail
    body.update(extensions)
    return body


class Problem(Exception):
    """Base of every error a service answers on purpose. A subclass's type is its
    class name (``JobNotChangeable`` -> ``urn:garage:problem:job-not-changeable``);
    the kit's generic classes below are their status's generic kind."""

    status: int = 500
    kind: str = "internal-server-error"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "kind" not in cls.__dict__:
            cls.kind = _slug(cls.__name__)

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title_for(self.status))
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def title(self) -> str:
        return title_for(self.status)

    @property
    def type(self) -> str:
        return problem_type(self.kind)

    def to_dict(self) -> dict[str, Any]:
        body = problem_body(self.status, self.detail, kind=self.kind)
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(Problem):
    status = 400
    kind = generic_kind(400)


class Unauthorized(Problem):
    status = 401
    kind = generic_kind(401)


class Forbidden(Problem):
    status = 403
    kind = generic_kind(403)


class NotFound(Problem):
    status = 404
    kind = generic_kind(404)


class Conflict(Problem):
    status = 409
    kind = generic_kind(409)


class PreconditionFailed(Problem):
    status = 412
    kind = generic_kind(412)


class UnsupportedMediaType(Problem):
    status = 415
    kind = generic_kind(415)


class Unprocessable(Problem):
    """Valid JSON asking for something impossible; ``errors`` maps field -> messages."""

    status = 422
    kind = generic_kind(422)

    @classmethod
    def on_field(cls, field: str, message: str) -> Unprocessable:
        return cls(message, errors={field: [message]})


class TooManyRequests(Problem):
    status = 429
    kind = generic_kind(429)


class DependencyUnavailable(Problem):
    """Another service (or the database) failed or timed out: a 503 naming it."""

    status = 503

    def __init__(self, dependency: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{dependency} is unavailable", dependency=dependency)
        self.dependency = dependency
