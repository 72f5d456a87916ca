"""service_kit.sql_json against a real PostgreSQL: the text it renders is marshmallow's
dump of the same row, it refuses what it cannot render exactly, and pages and the
one-pass dump carry the rendered text through unchanged."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
import orjson
import pytest
from sqlalchemy import JSON, Boolean, DateTime, Integer, String, create_engine, func, select, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from service_kit.db import normalise_url
from service_kit.dumping import fast_dump
from service_kit.pagination import Page, keyset_page, page_schema
from service_kit.sql_json import Rendered, json_object, same_as_dump


class Base(DeclarativeBase):
    pass


class Gadget(Base):
    __tablename__ = "gadgets"
    __table_args__ = {"schema": "sql_json_test"}

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    label: Mapped[str | None] = mapped_column(String(100))
    count: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool | None] = mapped_column(Boolean)
    made_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    settings: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    extra: Mapped[Any] = mapped_column(JSON, nullable=True)
    raw_value: Mapped[int | None] = mapped_column(Integer)
    street: Mapped[str | None] = mapped_column(String(100))
    internal_note: Mapped[str | None] = mapped_column(String(100))

    @property
    def place(self) -> dict[str, Any]:
        return {"street": self.street}


class PlaceSchema(ma.Schema):
    street = ma.fields.String(allow_none=True)


class SettingsSchema(ma.Schema):
    colour = ma.fields.String(allow_none=True)
    size = ma.fields.Integer(allow_none=True)


class GadgetSchema(ma.Schema):
    id = ma.fields.UUID()
    name = ma.fields.String(attribute="label", data_key="title", allow_none=True)
    count = ma.fields.Integer(allow_none=True)
    active = ma.fields.Boolean(allow_none=True)
    made_at = ma.fields.DateTime(allow_none=True)
    settings = ma.fields.Nested(SettingsSchema, allow_none=True)
    extra = ma.fields.Raw(allow_none=True, attribute="raw_value")
    place = ma.fields.Nested(PlaceSchema)
    internal_note = ma.fields.String(load_only=True)


GADGET_JSON = json_object(GadgetSchema(), Gadget, place={"street": Gadget.street})


@pytest.fixture
def session(fresh_database_url: str):
    engine = create_engine(normalise_url(fresh_database_url))
    with engine.begin() as connection:
        connection.execute(text("CREATE SCHEMA IF NOT EXISTS sql_json_test"))
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        yield session
    Base.metadata.drop_all(engine)
    engine.dispose()


def gadgets() -> list[Gadget]:
    return [
        Gadget(
            id=uuid.uuid4(),
            label='He said "hi"\\ \n\t\u0001 Ünïcode \U0001f527',
            count=-7,
            active=True,
            made_at=datetime(2026, 12, 7, 5, 1, 2, 30, tzinfo=UTC),
            settings={"colour": "red", "size": 3, "ignored": [1]},
            extra={"any": ["json", 1.5, None]},
            raw_value=12,
            street="Dorpsstraat 1",
            internal_note="never shown",
        ),
        Gadget(id=uuid.uuid4(), made_at=datetime(2026, 1, 1, tzinfo=UTC), settings={"colour": None}),
        Gadget(id=uuid.uuid4(), settings={}),
        Gadget(id=uuid.uuid4()),
    ]


@pytest.mark.parametrize("time_zone", ["UTC", "Asia/Kolkata", "America/Los_Angeles"])
def test_rendered_is_the_dump_of_the_same_row(session: Session, time_zone: str) -> None:
    session.add_all(gadgets())
    session.flush()
    session.execute(text(f"SET TIME ZONE '{time_zone}'"))
    session.expire_all()
    rendered = dict(session.execute(select(Gadget.id, GADGET_JSON)).all())
    for gadget in session.scalars(select(Gadget)):
        dumped = GadgetSchema().dump(gadget)
        assert same_as_dump(rendered[gadget.id], dumped), (rendered[gadget.id], dumped)
    assert len(rendered) == 4


def test_same_as_dump_tells_a_difference() -> None:
    assert same_as_dump('{"a":1,"b":null}', {"a": 1, "b": None})
    assert not same_as_dump('{"b":null,"a":1}', {"a": 1, "b": None})  # key order
    assert not same_as_dump('{"a" : 1}', {"a": 1})  # not compact
    assert not same_as_dump('{"t":"2026-01-01T00:00:00.000000+00:00"}', {"t": "2026-01-01T00:00:00+00:00"})


def test_a_schema_of_more_fields_than_a_function_takes(session: Session) -> None:
    wide = ma.Schema.from_dict({f"field_{n}": ma.fields.Integer() for n in range(70)}, name="Wide")
    rendered = session.scalar(
        select(json_object(wide(), None, **{f"field_{n}": func.abs(n) for n in range(70)}))
    )
    assert orjson.loads(rendered) == {f"field_{n}": n for n in range(70)}


class MethodSchema(ma.Schema):
    shout = ma.fields.Method("loud")

    def loud(self, obj: Any) -> str:
        return "LOUD"


@pytest.mark.parametrize(
    ("schema", "names"),
    [
        (
            ma.Schema.from_dict({"nowhere": ma.fields.String()}, name="Nowhere")(),
            "Nowhere.nowhere: no column",
        ),
        (ma.Schema.from_dict({"place": ma.fields.String()}, name="Prop")(), "Prop.place: no column"),
        (ma.Schema.from_dict({"count": ma.fields.Float()}, name="Floaty")(), "Floaty.count: Float"),
        (ma.Schema.from_dict({"count": ma.fields.Decimal()}, name="Money")(), "Money.count: Decimal"),
        (
            ma.Schema.from_dict({"count": ma.fields.Integer(as_string=True)}, name="Text")(),
            "Text.count: Integer",
        ),
        (MethodSchema(), "MethodSchema.shout: no column"),
        (
            ma.Schema.from_dict({"settings": ma.fields.Nested(SettingsSchema, many=True)}, name="Many")(),
            "Many.settings: Nested",
        ),
        (
            ma.Schema.from_dict({"label": ma.fields.Nested(PlaceSchema)}, name="Flat")(),
            "Flat.label: a nested",
        ),
        (ma.Schema.from_dict({"extra": ma.fields.Raw()}, name="Doc")(), "Doc.extra: a JSON document"),
    ],
)
def test_what_has_no_exact_sql_form_is_refused_when_built(schema: ma.Schema, names: str) -> None:
    with pytest.raises(TypeError, match=names):
        json_object(schema, Gadget)


def test_pages_and_the_dump_carry_the_rendered_text_through(session: Session) -> None:
    made = gadgets() + [Gadget(id=uuid.uuid4(), count=n) for n in range(4)]
    session.add_all(made)
    session.flush()
    page_of = fast_dump(page_schema(GadgetSchema)())
    seen: list[Any] = []
    cursor = None
    while True:
        page = keyset_page(
            session, select(Gadget), key_columns=[Gadget.id], limit=3, cursor=cursor, rendered=GADGET_JSON
        )
        assert all(type(item) is Rendered for item in page.items)
        body = orjson.dumps(page_of.dump(page))
        seen += orjson.loads(body)["items"]
        cursor = page.next_cursor
        if cursor is None:
            break
    session.expire_all()
    expected = [GadgetSchema().dump(g) for g in session.scalars(select(Gadget).order_by(Gadget.id))]
    assert seen == expected
    assert len(seen) == 8
    one = orjson.dumps(page_of.dump(Page(items=[Rendered('{"id":"x"}')], next_cursor=None)))
    assert one == b'{"items":[{"id":"x"}],"next_cursor":null}'


def test_the_rendering_binds_no_values() -> None:
    # Built once at import, run on every read: nothing to process per execution.
    assert select(GADGET_JSON).compile().params == {}


def test_a_page_on_a_connection_is_rendered_or_refused(session: Session) -> None:
    session.add_all(gadgets())
    session.flush()
    connection = session.connection()
    page = keyset_page(connection, select(Gadget), key_columns=[Gadget.id], limit=10, rendered=GADGET_JSON)
    assert len(page.items) == 4
    with pytest.raises(TypeError, match="rendered="):
        keyset_page(connection, select(Gadget), key_columns=[Gadget.id], limit=10)
