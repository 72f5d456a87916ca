"""service_kit.dumping gives exactly what marshmallow's own dump gives."""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import marshmallow as ma
import pytest

from service_kit.dumping import fast_dump
from service_kit.pagination import Page, page_schema
from service_kit.validation import DecimalString, UtcDateTime


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class AddressSchema(ma.Schema):
    street = ma.fields.String(allow_none=True)
    city = ma.fields.String()


class TagSchema(ma.Schema):
    name = ma.fields.String(required=True)
    weight = ma.fields.Integer()


class WithHooksSchema(ma.Schema):
    name = ma.fields.String()

    @ma.post_dump
    def shout(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {**data, "name": str(data.get("name", "")).upper()}


class EverythingSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    nickname = ma.fields.String(allow_none=True)
    count = ma.fields.Integer()
    count_text = ma.fields.Integer(as_string=True)
    ratio = ma.fields.Float()
    price = ma.fields.Decimal(as_string=True)
    hours = DecimalString(places=2)
    active = ma.fields.Boolean()
    raw = ma.fields.Raw()
    meta = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer())
    created_at = ma.fields.DateTime()
    changed_at = ma.fields.DateTime(format="rfc")
    due = ma.fields.Date()
    utc = UtcDateTime()
    colour = ma.fields.Enum(Colour)
    email = ma.fields.Email()
    address = ma.fields.Nested(AddressSchema, allow_none=True)
    tags = ma.fields.List(ma.fields.Nested(TagSchema))
    more_tags = ma.fields.Nested(TagSchema, many=True)
    words = ma.fields.List(ma.fields.String())
    only_city = ma.fields.Nested(AddressSchema, only=("city",), attribute="address", dump_only=True)
    first_tag = ma.fields.Pluck(TagSchema, "name", attribute="first")
    renamed = ma.fields.String(data_key="otherName", attribute="name", dump_only=True)
    quoted = ma.fields.String(data_key='it\'s "quoted"\n', attribute="nickname", dump_only=True)
    city = ma.fields.String(attribute="address.city", dump_only=True)
    with_default = ma.fields.String(dump_default="fallback")
    with_callable_default = ma.fields.Integer(dump_default=lambda: 7)
    method = ma.fields.Method("make_label")
    function = ma.fields.Function(lambda obj: f"fn:{getattr(obj, 'name', None)}")
    constant = ma.fields.Constant("always")
    secret = ma.fields.String(load_only=True)
    hooked = ma.fields.Nested(WithHooksSchema)

    def make_label(self, obj: Any) -> str:
        return f"label:{getattr(obj, 'count', None)}"


@dataclass
class Tag:
    name: str
    weight: int | None = None


@dataclass
class Address:
    street: str | None
    city: str


@dataclass
class Thing:
    id: uuid.UUID
    name: str
    nickname: str | None = None
    count: Any = 3
    count_text: int = 12
    ratio: float = 0.5
    price: Decimal = Decimal("12.30")
    hours: Decimal = Decimal("1.5")
    active: Any = True
    raw: Any = field(default_factory=lambda: {"a": [1, 2]})
    meta: dict[str, int] = field(default_factory=lambda: {"x": 1})
    created_at: Any = datetime(2026, 12, 7, 3, 4, 5, 123456, tzinfo=UTC)
    changed_at: datetime = datetime(2026, 12, 7, 3, 4, 5, tzinfo=UTC)
    due: date = date(2026, 12, 31)
    utc: datetime = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    colour: Colour = Colour.BLUE
    email: str = "a@example.com"
    address: Address | None = field(default_factory=lambda: Address("Dorpsstraat 1", "Utrecht"))
    tags: list[Tag] = field(default_factory=lambda: [Tag("x", 1), Tag("y")])
    more_tags: list[Tag] = field(default_factory=lambda: [Tag("z", 2)])
    words: Any = field(default_factory=lambda: ["a", "b"])
    first: Tag = field(default_factory=lambda: Tag("first"))
    secret: str = "never shown"
    hooked: Any = field(default_factory=lambda: {"name": "quiet"})


class Sparse:
    """An object missing most attributes: missing values and defaults."""

    def __init__(self) -> None:
        self.id = uuid.UUID(int=5)
        self.name = "sparse"


def _both(schema_class: type[ma.Schema], obj: Any, **kwargs: Any) -> tuple[Any, Any]:
    return schema_class(**kwargs).dump(obj), fast_dump(schema_class(**kwargs)).dump(obj)


THINGS = [
    Thing(uuid.uuid4(), "full"),
    Thing(uuid.uuid4(), "nones", nickname=None, address=None, tags=[], words=None, count=None),
    # values of other types than the field's: each must convert as marshmallow converts
    Thing(uuid.uuid4(), "odd", count=True, active=1, words=[b"bytes", 4], created_at=None),
    Thing(uuid.uuid4(), "floats", count=4.0),
]


@pytest.mark.parametrize("thing", THINGS, ids=lambda t: t.name)
def test_an_object_dumps_as_marshmallow_dumps_it(thing: Thing) -> None:
    expected, fast = _both(EverythingSchema, thing)
    assert fast == expected
    assert list(fast) == list(expected)  # the same keys in the same order
    assert "secret" not in fast and fast["hooked"] == {"name": "QUIET"}


def test_missing_attributes_take_defaults_or_are_left_out() -> None:
    expected, fast = _both(EverythingSchema, Sparse())
    assert fast == expected
    assert fast["with_default"] == "fallback" and fast["with_callable_default"] == 7
    assert "nickname" not in fast


def test_a_dict_is_read_by_key_then_attribute_as_marshmallow_reads_it() -> None:
    data = {"id": uuid.UUID(int=1), "name": "dict", "count": 2, "address": {"street": None, "city": "Ede"}}
    expected, fast = _both(EverythingSchema, data)
    assert fast == expected
    expected, fast = _both(TagSchema, {"name": "no weight"})
    assert fast == expected == {"name": "no weight"}


def test_many_only_exclude_and_pages() -> None:
    things = THINGS[:2]
    assert fast_dump(EverythingSchema(many=True)).dump(things) == EverythingSchema(many=True).dump(things)
    assert fast_dump(EverythingSchema()).dump(things, many=True) == EverythingSchema().dump(things, many=True)
    assert (
        _both(EverythingSchema, THINGS[0], only=("id", "tags"))[1]
        == _both(EverythingSchema, THINGS[0], only=("id", "tags"))[0]
    )
    expected, fast = _both(EverythingSchema, THINGS[0], exclude=("address", "method"))
    assert fast == expected
    page = Page(items=[Tag("a", 1), Tag("b")], next_cursor="abc")
    expected, fast = _both(page_schema(TagSchema), page)
    assert (
        fast
        == expected
        == {"items": [{"name": "a", "weight": 1}, {"name": "b", "weight": None}], "next_cursor": "abc"}
    )


def test_a_schema_with_hooks_keeps_marshmallows_dump() -> None:
    schema = WithHooksSchema()
    assert fast_dump(schema).dump({"name": "x"}) == {"name": "X"}
    assert "dump" not in vars(schema)
