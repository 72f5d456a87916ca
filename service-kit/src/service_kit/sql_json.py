"""A response schema rendered by PostgreSQL: the JSON a schema's dump gives, as one text
column of the query that reads the rows.

A list of fifty customers spent most of its CPU turning rows into Python values (UUIDs,
datetimes, JSONB parsed), into ORM objects, and those into dicts for the JSON encoder;
none of that is needed to answer with JSON. ``json_object(schema, model, **sources)``
is a SQL expression giving, for each row, the text ``schema.dump(row)`` would encode to
(compact, keys in the schema's order); the view returns it wrapped in ``Rendered``,
which the one-pass dump (``service_kit.dumping``) and the JSON encoder (orjson's
``Fragment``) pass through unchanged. Use it where a read answers many rows, or is the
service's hottest path; the writes keep the ORM and the schema's dump.

Each field's value is, in this order: ``sources[name]`` (a SQL expression; for a Nested
field, a mapping of its own fields' sources, or a JSONB expression whose keys are its
fields), else the model's column of the field's attribute name. A field that has
neither, or a type without an exact SQL form here, is refused when the expression is
built (at import), naming the field: render that schema in Python. A service that
renders a schema so holds a test comparing, for varied rows, the text with
``schema.dump`` of the same row (``same_as_dump``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

import marshmallow as ma
import orjson
from sqlalchemy import ColumnElement, Text, case, func, literal_column
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.sql import sqltypes

# What the view returns for a row rendered so: the dump and the encoder pass it through.
Rendered = orjson.Fragment

# Field types whose dump is the value itself, which to_json writes alike.
_AS_IS = (ma.fields.String, ma.fields.UUID, ma.fields.Integer, ma.fields.Boolean, ma.fields.Raw)
# datetime.isoformat: microseconds only when there are some, the offset as +HH:MM.
_WHOLE_SECOND = 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM'
_WITH_MICROSECONDS = 'YYYY-MM-DD"T"HH24:MI:SS.USTZH:TZM'

Source = ColumnElement[Any] | Mapping[str, Any]


def json_object(
    schema: ma.Schema,
    model: Any = None,
    *,
    stored: tuple[ColumnElement[str], Sequence[str]] | None = None,
    **sources: Source,
) -> ColumnElement[str]:
    """The JSON text of ``schema``'s dump of each row (NULL never: an object always).

    ``stored``: (a column, the names of the schema's first fields): the column holds
    those fields' members, rendered when the row was written (``json_members``, kept by
    a trigger), and only the rest are rendered on reading."""
    path = type(schema).__name__
    if stored is None:
        rendering = _object(schema, model, sources, path=path)
    else:
        column, names = stored
        _check_leading(schema, names, path=path)
        rest = [
            member
            for name, member in _members(schema, model, sources, path=path, first=False)
            if name not in names
        ]
        rendering = _concat([_text("{"), column, *rest, _text("}")])
    return _opaque(rendering)


def json_members(
    schema: ma.Schema, model: Any = None, *, only: Sequence[str], **sources: Source
) -> ColumnElement[str]:
    """The members of the fields ``only`` (the schema's first ones) as ``json_object``
    writes them between its braces: what a ``stored`` column holds."""
    path = type(schema).__name__
    _check_leading(schema, only, path=path)
    members = [member for name, member in _members(schema, model, sources, path=path) if name in only]
    return _opaque(_concat(members))


def _check_leading(schema: ma.Schema, names: Sequence[str], *, path: str) -> None:
    """A stored part is the schema's first fields: its members come first, the first
    without a leading comma."""
    leading = list(schema.dump_fields)[: len(names)]
    if leading != list(names):
        raise TypeError(f"{path}: the stored fields {list(names)} are not its first ones {leading}")


def _opaque(rendering: ColumnElement[Any]) -> ColumnElement[str]:
    # One opaque piece of SQL text: SQLAlchemy hashes a statement's cache key on every
    # execution, and a tuple of this expression's few hundred parts (Python does not
    # remember a tuple's hash) cost a read about 0.2M instructions; a string's hash is kept.
    sql = rendering.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True})
    return literal_column(str(sql), Text)


def _members(
    schema: ma.Schema,
    model: Any,
    sources: Mapping[str, Source],
    *,
    path: str,
    within: Any = None,
    first: bool = True,
) -> list[tuple[str, ColumnElement[Any]]]:
    """(field name, its member's text) of each field in the schema's order; ``within``:
    the JSONB its fields are read from by key, where a key it does not hold leaves the
    field out, as marshmallow leaves out a missing value. ``first``: the first member is
    the object's first (no leading comma)."""
    parts: list[tuple[str, ColumnElement[Any]]] = []
    for name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else name
        read = field.attribute or name
        where = f"{path}.{name}"
        if within is not None:
            source: Any = within.op("->", return_type=JSONB())(_text(read))
        elif name in sources:
            source = sources[name]
        elif (
            model is not None
            and "." not in read
            and hasattr(getattr(model, read, None), "__clause_element__")
        ):
            source = getattr(model, read)  # the model's column (not a property)
        else:
            raise TypeError(f"{where}: no column and no source given to render it in SQL")
        # Every member but the first starts with a comma; within JSONB, where any member
        # may be left out, each does, and the first one's is dropped by _object.
        comma = "," if parts or within is not None or not first else ""
        member = _concat([_text(comma + orjson.dumps(key).decode() + ":"), _value(field, source, path=where)])
        if within is not None:
            member = case((within.op("?")(_text(read)), member), else_=_text(""))
        parts.append((name, member))
    return parts


def _object(
    schema: ma.Schema, model: Any, sources: Mapping[str, Source], *, path: str, within: Any = None
) -> ColumnElement[Any]:
    """The object's text (``_members`` between braces)."""
    parts = [member for _, member in _members(schema, model, sources, path=path, within=within)]
    if not parts:
        return _text("{}")
    if within is None:
        return _concat([_text("{"), *parts, _text("}")])
    # (substr counts characters from the start of the text: only these short objects pay it.)
    return _concat([_text("{"), func.substr(_concat(parts), literal_column("2")), _text("}")])


def _value(field: ma.fields.Field, source: Any, *, path: str) -> ColumnElement[Any]:
    """The JSON text of one field's value ('null' for NULL)."""
    source_type = getattr(source, "type", None)
    if type(field) is ma.fields.Nested and not field.many:
        nested = field.schema
        if nested.many:
            raise TypeError(f"{path}: a list of objects has no SQL form here")
        if isinstance(source, Mapping):
            return _object(nested, None, source, path=path)
        if isinstance(source_type, JSONB):
            rendered = _object(nested, None, {}, path=path, within=source)
            # SQL NULL (no column value, no key) and JSON null are both None to marshmallow.
            return case(
                (func.coalesce(func.jsonb_typeof(source), _text("null")) == _text("null"), _NULL),
                else_=rendered,
            )
        raise TypeError(f"{path}: a nested object needs a mapping of its fields or a JSONB column")
    if type(field) is ma.fields.DateTime and field.format in (None, "iso", "iso8601"):
        text = case(
            (func.date_trunc(_text("second"), source) == source, func.to_char(source, _text(_WHOLE_SECOND))),
            else_=func.to_char(source, _text(_WITH_MICROSECONDS)),
        )
        return func.coalesce(_QUOTE + text + _QUOTE, _NULL)  # digits and signs: nothing to escape
    if isinstance(source_type, sqltypes.JSON) and type(field) is ma.fields.Raw:
        # PostgreSQL writes a JSON document back with its own spacing, not compact.
        raise TypeError(f"{path}: a JSON document as Raw has no exact SQL form here")
    if type(field) not in _AS_IS or getattr(field, "as_string", False):
        raise TypeError(f"{path}: {type(field).__name__} has no exact SQL form here")
    # to_json works out the value's type on every call; these need no escaping, and
    # their text form is their JSON (about a third cheaper, measured).
    if isinstance(source_type, JSONB):  # a scalar under a key: true, 3, "text"
        return func.coalesce(source.cast(Text), _NULL)
    if isinstance(source_type, sqltypes.Uuid):
        return func.coalesce(_QUOTE + source.cast(Text) + _QUOTE, _NULL)
    if isinstance(source_type, sqltypes.Integer) and type(field) is ma.fields.Integer:
        return func.coalesce(source.cast(Text), _NULL)
    return func.coalesce(func.to_json(source), _NULL)


def _text(value: str) -> ColumnElement[str]:
    """A constant written into the statement (not a bound value: the statement is built
    once, and forty bound keys would be processed on every execution)."""
    return literal_column("'" + value.replace("'", "''") + "'", Text)


_NULL = _text("null")
_DIALECT = postgresql.dialect()
_QUOTE = _text('"')


def _concat(parts: list[Any]) -> ColumnElement[str]:
    """The parts one after the other. Every part here is text and never NULL (each value
    is coalesced to 'null', each optional member to ''), so ``||`` joins them: concat(),
    which takes any type, looks up each argument's output function on every row."""
    joined = parts[0]
    for part in parts[1:]:
        joined = joined.op("||", return_type=Text)(part)
    return cast(ColumnElement[str], joined)


def same_as_dump(rendered: str, dumped: Any) -> bool:
    """The test's check: the rendered text is the dump, value for value and key for key
    in the same order, and compact."""
    return bool(rendered == orjson.dumps(dumped).decode())
