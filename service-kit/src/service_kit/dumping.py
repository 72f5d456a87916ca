"""Response schemas dumped in one pass: the same output as marshmallow's ``dump``,
for less CPU.

marshmallow 4 dumps each field through ``Field.serialize`` -> ``get_value`` ->
``Schema.get_attribute`` -> ``utils.get_value`` -> ``_get_value_for_key`` (which asks
``hasattr(obj, "__getitem__")`` again for every field) -> ``_serialize``: six calls a
field, 29 fields and five schemas for one customer. ``fast_dump(schema)`` works out once
per schema what each field needs and dumps an object with one attribute read and, for
the common field types, an inline conversion a field:

- the value is read as marshmallow reads it (``obj[key]``, falling back to the
  attribute, for objects that have ``__getitem__``; the attribute otherwise), and a
  missing one takes ``dump_default`` or leaves the key out, as marshmallow does;
- String, UUID, Integer, DateTime (ISO format), Nested, List and the fields that
  dump a value unchanged (Boolean, Raw ...) are converted inline, exactly as their
  ``_serialize`` would; any other field's own ``_serialize`` is called;
- a field that overrides ``serialize`` or ``get_value``, reads a dotted attribute or
  none at all (Method, Function, Constant), is dumped by its own ``serialize``;
- a schema with pre_dump or post_dump hooks, or its own ``get_attribute``, keeps
  marshmallow's ``dump``.

``tests/test_dumping.py`` holds every field type the services use to marshmallow's own
output."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import marshmallow as ma
from marshmallow import missing
from marshmallow.decorators import POST_DUMP, PRE_DUMP
from marshmallow.utils import ensure_text_type

Convert = Callable[[Any, str, Any], Any]  # (value, attribute name, object) -> dumped value
_FIELD_SERIALIZE = ma.fields.Field.serialize
_FIELD_GET_VALUE = ma.fields.Field.get_value
_FIELD_IDENTITY = ma.fields.Field._serialize
_READ_ERRORS = (KeyError, IndexError, TypeError, AttributeError)  # marshmallow's _get_value_for_key


def fast_dump(schema: ma.Schema) -> ma.Schema:
    """``schema`` with its ``dump`` replaced by the one-pass dump, worked out at its
    first use (a nested schema named by string resolves then). Returns ``schema``."""
    if _keeps_marshmallow(schema):
        return schema
    compiled: list[Callable[..., Any]] = []

    def dump(obj: Any, *, many: bool | None = None) -> Any:
        if not compiled:
            compiled.append(_compile(schema))
        return compiled[0](obj, schema.many if many is None else bool(many))

    schema.dump = dump  # type: ignore[method-assign]  # this instance only
    return schema


def _keeps_marshmallow(schema: ma.Schema) -> bool:
    return bool(
        schema._hooks[PRE_DUMP]
        or schema._hooks[POST_DUMP]
        or type(schema).get_attribute is not ma.Schema.get_attribute
        or type(schema)._serialize is not ma.Schema._serialize
    )


def _compile(schema: ma.Schema) -> Callable[[Any, bool], Any]:
    """(obj, many) -> what ``schema.dump(obj, many=many)`` returns."""
    if _keeps_marshmallow(schema):
        return lambda obj, many: schema.dump(obj, many=many)
    make = schema.dict_class
    accessor = schema.get_attribute
    # (key in the output, name to read, field, converter or None for field.serialize)
    plan: list[tuple[str, str, ma.fields.Field, Convert | None]] = []
    for attr_name, field in schema.dump_fields.items():
        key = field.data_key if field.data_key is not None else attr_name
        read = attr_name if field.attribute is None else field.attribute
        cls = type(field)
        own_read = (
            not field._CHECK_ATTRIBUTE
            or "." in read
            or cls.serialize is not _FIELD_SERIALIZE
            or cls.get_value is not _FIELD_GET_VALUE
        )
        if own_read:
            plan.append((key, attr_name, field, None))
        else:
            plan.append((key, read, field, _converter(field)))

    def one(obj: Any) -> Any:
        result = make()
        by_key = hasattr(obj, "__getitem__")
        for key, read, field, convert in plan:
            if convert is None:
                value = field.serialize(read, obj, accessor=accessor)
                if value is not missing:
                    result[key] = value
                continue
            if by_key:
                try:
                    value = obj[read]
                except _READ_ERRORS:
                    value = getattr(obj, read, missing)
            else:
                value = getattr(obj, read, missing)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            result[key] = convert(value, read, obj)
        return result

    def dump(obj: Any, many: bool) -> Any:
        if many and obj is not None:
            return [one(each) for each in obj]
        return one(obj)

    return dump


def _converter(field: ma.fields.Field) -> Convert:
    """What ``field._serialize(value, attr, obj)`` does, inline where it is simple."""
    cls = type(field)
    if cls._serialize is _FIELD_IDENTITY:  # Boolean, Raw, Dict without value fields ...
        return _identity
    if cls is ma.fields.String:
        return _string
    if cls is ma.fields.UUID:
        return _uuid
    if cls is ma.fields.Integer and not field.as_string:  # type: ignore[attr-defined]
        serialize = field._serialize
        return lambda value, attr, obj: (
            value if type(value) is int or value is None else serialize(value, attr, obj)
        )
    if cls is ma.fields.DateTime and field.format in (None, "iso", "iso8601"):  # type: ignore[attr-defined]
        serialize = field._serialize
        return lambda value, attr, obj: (
            value.isoformat() if type(value) is dt.datetime else serialize(value, attr, obj)
        )
    if cls is ma.fields.Nested:
        return _nested(field)
    if cls is ma.fields.List:
        each = _converter(field.inner)  # type: ignore[attr-defined]  # List._serialize: inner._serialize each
        return lambda value, attr, obj: None if value is None else [each(item, attr, obj) for item in value]
    return field._serialize


def _identity(value: Any, attr: str, obj: Any) -> Any:
    return value


def _string(value: Any, attr: str, obj: Any) -> Any:
    if value is None or type(value) is str:
        return value
    return ensure_text_type(value)


def _uuid(value: Any, attr: str, obj: Any) -> Any:
    return None if value is None else str(value)


def _nested(field: ma.fields.Field) -> Convert:
    """Nested._serialize: None stays None, else the nested schema's dump (one pass too)."""
    compiled: list[tuple[Callable[[Any, bool], Any], bool]] = []

    def convert(value: Any, attr: str, obj: Any) -> Any:
        if not compiled:  # resolved first, as Nested._serialize does, even for None
            nested = field.schema  # type: ignore[attr-defined]
            compiled.append((_compile(nested), bool(nested.many or field.many)))  # type: ignore[attr-defined]
        if value is None:
            return None
        dump, many = compiled[0]
        return dump(value, many)

    return convert
