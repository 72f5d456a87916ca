"""Optimistic concurrency: a resource's integer ``version`` is its strong ETag.

The HTTP layer reads ``If-Match`` into an expected version; service code compares
it with the stored one, and the ORM's ``version_id_col`` makes the UPDATE itself
conditional, so two writers holding the same version cannot both win.
"""

from __future__ import annotations

from flask import request

from service_kit.problems import BadRequest, PreconditionFailed


def etag_for(version: int) -> str:
    return f'"{version}"'


def etag_header(version: int) -> dict[str, str]:
    return {"ETag": etag_for(version)}


def if_match_versions() -> set[int] | None:
    """The versions ``If-Match`` accepts; None when absent or ``*`` (no precondition).

    Without ``If-Match`` a write goes ahead; clients that must not overwrite
    someone else's change send it. Weak tags never match (strong comparison). A tag
    that is no entity-tag at all (``If-Match: 2``) is a 400: it is malformed, not stale.
    """
    header = request.headers.get("If-Match")
    if header is None:
        return None
    versions: set[int] = set()
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*":
            return None
        opaque = tag.removeprefix("W/")
        if len(opaque) < 2 or not (opaque.startswith('"') and opaque.endswith('"')):
            raise BadRequest(
                f"If-Match takes entity-tags in double quotes, as the ETag header gives them "
                f'(e.g. "{tag.strip(chr(34))}"), not {tag}'
            )
        if not tag.startswith("W/") and opaque[1:-1].isdigit():
            versions.add(int(opaque[1:-1]))
    return versions


def ensure_version(current_version: int, accepted: set[int] | None) -> None:
    if accepted is not None and current_version not in accepted:
        raise PreconditionFailed(
            f"the resource has changed since you read it: it is now at version {current_version}",
            current_version=current_version,
        )
