"""Keyset pagination: ``?limit=&cursor=`` in, ``{items, next_cursor}`` out.

The cursor is the opaque, URL-safe encoding of the last row's sort key, so a page
costs one index range scan however deep the client goes, and rows inserted while
paging never make it skip or repeat a row.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement, Select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import InstrumentedAttribute, Session

from service_kit.problems import Unprocessable
from service_kit.sql_json import Rendered

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageArgsSchema(ma.Schema):
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, 1 to {MAX_LIMIT}"},
    )
    cursor = ma.fields.String(metadata={"description": "next_cursor of the previous page"})


def page_schema(item_schema: type[ma.Schema]) -> type[ma.Schema]:
    """``{items: [item], next_cursor}`` for one item schema (named after it)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return type(
        name,
        (ma.Schema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "next_cursor": ma.fields.String(
                required=True, allow_none=True, metadata={"description": "null on the last page"}
            ),
        },
    )


@dataclass
class Page:
    items: list[Any]
    next_cursor: str | None


def _dump(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _load(value: Any, column: InstrumentedAttribute[Any]) -> Any:
    python_type = column.type.python_type
    if python_type is uuid.UUID:
        return uuid.UUID(value)
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if not isinstance(value, python_type):
        raise TypeError(f"expected {python_type.__name__}")
    return value


def encode_cursor(values: Sequence[Any]) -> str:
    raw = json.dumps([_dump(v) for v in values], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, columns: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(columns):
            raise ValueError("wrong shape")
        return [_load(v, c) for v, c in zip(values, columns, strict=True)]
    except (ValueError, TypeError, AttributeError, NotImplementedError) as exc:
        raise Unprocessable.on_field("cursor", "not a cursor this list gave out") from exc


def keyset_page(
    session: Session | Connection,
    stmt: Select[Any],
    *,
    key_columns: Sequence[InstrumentedAttribute[Any]],
    limit: int,
    cursor: str | None = None,
    descending: bool = False,
    rendered: ColumnElement[str] | None = None,
) -> Page:
    """One page of ``stmt`` ordered by ``key_columns`` (which must be unique together).
    With ``rendered`` (``sql_json.json_object``), the items are its text for each row,
    not the rows, and a Core ``Connection`` will do (a read then loads no objects)."""
    key = tuple_(*key_columns) if len(key_columns) > 1 else key_columns[0]
    if cursor:
        after = decode_cursor(cursor, key_columns)
        bound = tuple_(*after) if len(after) > 1 else after[0]
        stmt = stmt.where(key < bound if descending else key > bound)
    order = [c.desc() if descending else c.asc() for c in key_columns]
    stmt = stmt.order_by(*order).limit(limit + 1)
    if rendered is not None:
        # The page's items as PostgreSQL rendered them, and each one's key for the cursor.
        found = session.execute(stmt.with_only_columns(rendered, *key_columns, maintain_column_froms=True))
        rows: list[Any] = list(found)
        items: list[Any] = [Rendered(row[0]) for row in rows[:limit]]
        keys = list(rows[limit - 1][1:]) if len(rows) > limit else []
    else:
        if not isinstance(session, Session):
            raise TypeError("keyset_page loads objects through a Session; a Connection needs rendered=")
        rows = list(session.scalars(stmt))
        items = rows[:limit]
        keys = [getattr(rows[limit - 1], c.key) for c in key_columns] if len(rows) > limit else []
    return Page(items=items, next_cursor=encode_cursor(keys) if keys else None)
