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
  marshmallow's ``dump``;
- an object PostgreSQL rendered already (``sql_json.Rendered``) is passed through.

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

from service_kit.sql_json import Rendered

Convert = Callable[[Any, str, Any], Any]  # (value, attribute name, object) -> dumped value
# Per field: (key in the output, name to read, field, converter or None for field.serialize)
Plan = list[tuple[str, str, ma.fields.Field, Convert | None]]
_FIELD_SERIALIZE = ma.fields.Field.serialize
_FIELD_GET_VALUE = ma.fields.Field.get_value
_FIELD_IDENTITY = ma.fields.Field._serialize
_READ_ERRORS = (KeyError, IndexError, TypeError, AttributeError)  # marshmallow's _get_value_for_key
_ISO = (None, "iso", "iso8601")
_ABSENT = object()  # DateTime formats that serialise with datetime.isoformat


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
    plan: Plan = []
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

    def one(obj: Any) -> Any:  # an object with __getitem__ (a dict): read by key first
        result = make()
        for key, read, field, convert in plan:
            if convert is None:
                value = field.serialize(read, obj, accessor=accessor)
                if value is not missing:
                    result[key] = value
                continue
            try:
                value = obj[read]
            except _READ_ERRORS:
                value = getattr(obj, read, missing)
            if value is missing:
                default = field.dump_default
                value = default() if callable(default) else default
                if value is missing:
                    continue
            result[key] = convert(value, read, obj)
        return result

    by_attribute = _generated(plan, make, accessor, from_dict=False)
    from_dict = _generated(plan, make, accessor, from_dict=True)

    def pick(obj: Any) -> Any:
        if type(obj) is dict:
            return from_dict(obj)
        if type(obj) is Rendered:  # the dump's JSON already, made by PostgreSQL (sql_json)
            return obj
        return one(obj) if hasattr(obj, "__getitem__") else by_attribute(obj)

    def dump(obj: Any, many: bool) -> Any:
        if many and obj is not None:
            return [pick(each) for each in obj]
        return pick(obj)

    return dump


def _generated(
    plan: list[tuple[str, str, ma.fields.Field, Convert | None]],
    make: type,
    accessor: Any,
    *,
    from_dict: bool,
) -> Callable[[Any], Any]:
    """``one`` as one function written out field by field (no loop, no tuple unpacking,
    the common conversions inline), for objects read by attribute (model instances,
    dataclasses) or for plain dicts (by key, then attribute, as marshmallow reads one)."""
    names: dict[str, Any] = {"missing": missing, "make": make, "accessor": accessor, "absent": _ABSENT}
    lines = ["def one(obj):", "    result = make()"]
    for n, (key, read, field, convert) in enumerate(plan):
        names[f"field_{n}"], names[f"convert_{n}"] = field, convert
        if convert is None:
            lines += [
                f"    value = field_{n}.serialize({read!r}, obj, accessor=accessor)",
                "    if value is not missing:",
                f"        result[{key!r}] = value",
            ]
            continue
        if from_dict:  # dict's obj[key], and its attribute when the key is not there
            lines += [
                f"    value = obj.get({read!r}, absent)",
                "    if value is absent:",
                f"        value = getattr(obj, {read!r}, missing)",
            ]
        else:
            lines.append(f"    value = getattr(obj, {read!r}, missing)")
        if field.dump_default is not missing:
            lines += [
                "    if value is missing:",
                f"        default = field_{n}.dump_default",
                "        value = default() if callable(default) else default",
            ]
        lines += ["    if value is not missing:", f"        result[{key!r}] = {_inline(field, n, read)}"]
    lines.append("    return result")
    names.update(_INLINE_NAMES)
    # The source is the code above: the schema's own field and key names, each as a
    # repr() literal, never request data.
    exec("\n".join(lines), names)  # nosec B102 - code written above from the schema's names
    one: Callable[[Any], Any] = names["one"]
    return one


_INLINE_NAMES = {"ensure_text_type": ensure_text_type, "datetime": dt.datetime, "str": str, "type": type}


def _inline(field: ma.fields.Field, n: int, read: str) -> str:
    """The expression ``convert_{n}(value, read, obj)`` is, written out where simple."""
    convert = _converter(field)
    if convert is _identity:
        return "value"
    if convert is _string:
        return "value if value is None or type(value) is str else ensure_text_type(value)"
    if convert is _uuid:
        return "None if value is None else str(value)"
    call = f"convert_{n}(value, {read!r}, obj)"
    if type(field) is ma.fields.Integer and not field.as_string:
        return f"value if type(value) is int else {call}"
    if type(field) is ma.fields.DateTime and field.format in _ISO:
        return f"value.isoformat() if type(value) is datetime else {call}"
    return call


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
    if cls is ma.fields.DateTime and field.format in _ISO:  # type: ignore[attr-defined]
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
