"""Input checks every service shares: text and times that PostgreSQL (or a screen)
cannot take."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
from flask import request
from marshmallow import validate

from service_kit.problems import Unprocessable, UnsupportedMediaType

# PostgreSQL stores no NUL character, and UTF-8 (so PostgreSQL) no unpaired surrogate.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_fields(value: object, path: str = "") -> list[str]:
    """Paths of the strings, object keys included, PostgreSQL cannot store."""
    if isinstance(value, str):
        return [path or "body"] if _UNSTORABLE.search(value) else []
    if isinstance(value, dict):
        fields = []
        for key, item in value.items():
            at = f"{path}.{key}" if path else str(key)
            fields += [at] if _UNSTORABLE.search(str(key)) else _unstorable_fields(item, at)
        return fields
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unstorable_fields(v, f"{path}[{i}]")]
    return []


def refuse_unstorable_text() -> None:
    """422 for text no service could store, whatever the endpoint, before it is parsed:
    the query (every value of a repeated parameter) and a JSON body."""
    environ = request.environ
    if not environ.get("QUERY_STRING") and not environ.get("CONTENT_TYPE"):
        return  # no query and no typed body: nothing to check (most reads)
    fields = [name for name, values in request.args.lists() if _unstorable_fields([name, *values])]
    if request.is_json:
        # Also without a Content-Length (a chunked body); a body that is not JSON is
        # left for the endpoint to refuse as such.
        fields += _unstorable_fields(request.get_json(silent=True))
    if fields:
        message = "must not contain NUL characters or unpaired surrogates"
        raise Unprocessable(
            "the request has text that cannot be stored", errors={field: [message] for field in fields}
        )


class NoControlCharacters(validate.Validator):
    """For string fields: no control characters (``allowed`` may let line breaks in)."""

    def __init__(self, allowed: str = "") -> None:
        self.allowed = frozenset(allowed)

    def __call__(self, value: str) -> str:
        if any((ord(c) < 0x20 or ord(c) == 0x7F) and c not in self.allowed for c in value):
            raise ma.ValidationError("must not contain control characters")
        return value


SINGLE_LINE = NoControlCharacters()
MULTI_LINE = NoControlCharacters(allowed="\t\n\r")


class UtcDateTime(ma.fields.AwareDateTime):
    """An RFC 3339 time with an offset, read as the same instant in UTC. RFC 3339 allows
    offsets up to 23:59 where PostgreSQL takes 15:59 at most, and a time whose UTC falls
    outside years 1-9999 cannot be held at all: the first is stored as UTC, the second
    is a 422 here instead of a 500 (or an unreadable row) later."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        parsed = super()._deserialize(value, attr, data, **kwargs)
        try:
            return parsed.astimezone(UTC)
        except (OverflowError, ValueError) as exc:
            raise ma.ValidationError("not a representable time") from exc


class DecimalString(ma.fields.Field):
    """A decimal quantity (hours, a part's quantity, a VAT rate, a percentage) as the
    API carries it: a JSON string with at most ``places`` decimals ("1.5", "21.00"),
    answered with exactly ``places`` ("1.50"). A JSON number is refused rather than read
    through a float, and a third decimal rather than rounded: nothing is ever cut.
    Money is not this: it is an integer count of minor units."""

    default_error_messages = {
        "invalid": 'must be a decimal string with at most {places} decimals, e.g. "{example}"',
        "range": "must be {bounds}",
    }

    def __init__(
        self,
        *,
        places: int = 2,
        minimum: Decimal | None = None,
        maximum: Decimal | None = None,
        exclusive_minimum: bool = False,
        example: str = "1.50",
        **kwargs: Any,
    ) -> None:
        self.places = places
        self.minimum, self.maximum, self.exclusive_minimum = minimum, maximum, exclusive_minimum
        self.example = example
        self._pattern = re.compile(rf"-?[0-9]+(\.[0-9]{{1,{places}}})?")
        metadata = {
            "type": "string",
            "format": "decimal",
            "pattern": f"^{self._pattern.pattern}$",
            "example": example,
            **kwargs.pop("metadata", {}),
        }
        super().__init__(metadata=metadata, **kwargs)

    def _bounds(self) -> str:
        above = "more than" if self.exclusive_minimum else "at least"
        low = None if self.minimum is None else f"{above} {self.minimum}"
        high = None if self.maximum is None else f"at most {self.maximum}"
        return " and ".join(part for part in (low, high) if part)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if not isinstance(value, str) or not self._pattern.fullmatch(value):
            raise self.make_error("invalid", places=self.places, example=self.example)
        number = Decimal(value)
        too_low = self.minimum is not None and (
            number <= self.minimum if self.exclusive_minimum else number < self.minimum
        )
        if too_low or (self.maximum is not None and number > self.maximum):
            raise self.make_error("range", bounds=self._bounds())
        return number

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        return str(Decimal(value).quantize(Decimal(1).scaleb(-self.places)))


def strict_body(schema: type[ma.Schema] | ma.Schema) -> ma.Schema:
    """``schema`` as a JSON body is parsed: nothing is coerced. An integer field takes an
    integer only (197.32 for cents would be cut to 197, "197" is a string), a boolean
    true or false only ("yes", 1). The fields of the returned instance are tightened,
    nested ones too; the class, and so the contract, is unchanged."""
    instance = schema() if isinstance(schema, type) else schema
    _tighten_schema(instance, seen=set())
    return instance


def _tighten_schema(schema: ma.Schema, seen: set[int]) -> None:
    if id(schema) in seen:
        return
    seen.add(id(schema))
    for field in schema.fields.values():
        _tighten_field(field, seen)


def _tighten_field(field: ma.fields.Field, seen: set[int]) -> None:
    if isinstance(field, ma.fields.Integer):
        field.strict = True
    elif isinstance(field, ma.fields.Boolean):
        field._deserialize = _booleans_only(field)  # type: ignore[method-assign]  # this instance only
    elif isinstance(field, ma.fields.Nested):
        nested = field.schema
        if isinstance(nested, ma.Schema):
            _tighten_schema(nested, seen)
    elif isinstance(field, ma.fields.List):
        _tighten_field(field.inner, seen)
    elif isinstance(field, ma.fields.Tuple):
        for inner in field.tuple_fields:
            _tighten_field(inner, seen)
    elif isinstance(field, ma.fields.Dict) and field.value_field is not None:
        _tighten_field(field.value_field, seen)


def _booleans_only(field: ma.fields.Boolean) -> Any:
    # Not truthy={True}: 1 == True in a set, so 1 would still pass.
    parse = field._deserialize

    def deserialize(value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise field.make_error("invalid", input=value)
        return parse(value, attr, data, **kwargs)

    return deserialize


def refuse_a_body_that_is_not_json() -> None:
    """415 for a body sent to a JSON endpoint with another Content-Type (a form, text):
    read as no body, it would be answered with a misleading list of missing fields."""
    has_body = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")
    if has_body and not request.is_json:
        raise UnsupportedMediaType(
            f"the body must be JSON (Content-Type: application/json), not {request.mimetype or 'untyped'}"
        )
