"""Path ids: a segment that is not a UUID is a 404 problem that says so, not
Werkzeug's generic "not found on the server" text."""

from __future__ import annotations

import uuid
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import UUIDConverter


class IdConverter(UUIDConverter):
    """``<uuid:...>`` that matches any one segment and names a value that is no id."""

    regex = r"[^/]+"

    def to_python(self, value: str) -> uuid.UUID:
        try:
            return uuid.UUID(value)
        except ValueError:
            raise NotFound(f"{value!r} is not an id: ids here are UUIDs") from None


def id_parameter_schema(converter: Any) -> dict[str, str]:
    return {"type": "string", "format": "uuid"}
