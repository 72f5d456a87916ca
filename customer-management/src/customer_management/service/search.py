"""Search: ``q`` as a person at the counter types it, answered from indexes at a
million customers.

Every customer whose name, email, phone, contact person or VAT number contains the
fragment (``domain.search_fragment``) is found, each once, in the best of the ranks of
``domain.RANKS`` it qualifies for; within a rank, in the order of the index that serves it:

- EXACT: q is the email address or the phone number (uq_customers_active_email,
  ix_customers_phone), in registration order;
- NAME_WORD: the name from its first, second, third or fourth word starts with q
  (ix_customers_name_word_1 .. 4), ordered by that part of the name (byte order:
  "de vries" before "vries"), then registration;
- EMAIL_START: the email address starts with q (ix_customers_email_start), by address;
- ELSEWHERE: the rest, in registration order: read in that order (primary key) when
  the fragment is common, found through an index when it is rare (``_elsewhere``).

A rank is read only when the ones before it leave the page short, so a first page
reads about as many rows as it shows, whatever the number of customers. When q can
only be held by a few (``SearchTerms.rare``: a whole email address or phone number,
five digits or more), the trigram index finds them all and one statement ranks them
(``_all_ranked``): the same order, in one round trip instead of four. The cursor is
(rank, key, id) of the page's last customer and the next page continues after it: no
customer is repeated or skipped, and one registered meanwhile appears in its place.

The statements are built once per shape (which filters, which exact forms, which
ranks, where the cursor is) with bound parameters: building SQLAlchemy expressions of
this size costs more than running them. The ranked ones (NAME_WORD, EMAIL_START, and all
ranks of a rare fragment) are prepared on each connection and run with the plan made
without the values: planning them cost as much as running them. That plan is right for
any q because "starts with" is written as an index range with bound limits
(``domain.after_prefix``) and a rare fragment is looked up by a part that every match
holds (``SearchTerms.looked_up``), each row then checked for all of it: by that part's
digit grams in the digits index (ix_customers_search_digits) where it has five digits
in a row, else by its words one by one in the trigram index
(ix_customers_search_text_trgm) where it has two, else whole (``_Conditions``).
The customers come rendered as the API shows them, mostly when they were written
(``rendering``).
"""

from __future__ import annotations

import functools
import math
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    Uuid,
    and_,
    bindparam,
    case,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY, UUID, aggregate_order_by
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import type_coerce

from customer_management import domain
from customer_management.models import (
    NAME_WORDS_INDEXED,
    Customer,
    email_start,
    name_from_word,
    search_digits,
)
from customer_management.rendering import CUSTOMER_JSON
from service_kit.pagination import Page, decode_cursor, encode_cursor
from service_kit.prepared import Prepared
from service_kit.problems import Unprocessable
from service_kit.sql_json import Rendered

# Rows of the registration order read for rank ELSEWHERE before the trigram index takes
# over (``_elsewhere``). Measured at a million customers: reading a row in that order
# costs about 0.6 µs, fetching and checking one the trigram index found about 7 µs; so a
# fragment held by more than about 1 customer in 500 is read for in that order.
FIRST_WINDOW = 1000
LAST_WINDOW = 25_000

# The list's filters a search can be combined with: all are equalities.
FILTERS: dict[str, ColumnElement[Any]] = {
    "status": Customer.status.expression,
    "kind": Customer.kind.expression,
    "preferred_channel": Customer.preferred_channel.expression,
    "email": func.lower(Customer.email),
    "phone": Customer.phone.expression,
}
_NAME_WORDS = [name_from_word(Customer.name_lower, word) for word in range(1, NAME_WORDS_INDEXED + 1)]
_EMAIL_START = email_start(Customer.email)
_IDS = ARRAY(UUID(as_uuid=True))
_GRAMS = ARRAY(Text)
_NEED = bindparam("need", type_=Integer)
# "Starts with q" as a range (domain.after_prefix): bound at run time, it still is an index range.
_PREFIX_LOW = bindparam("prefix_low", type_=String)
_PREFIX_HIGH = bindparam("prefix_high", type_=String)
_AFTER = tuple_(
    bindparam("after_rank", type_=Integer),
    bindparam("after_key", type_=String),
    bindparam("after_id", type_=Uuid),
)
# A found customer's id as text: only the page's last one is needed (for the cursor), and
# making a UUID object of each was a visible part of a search.
_ID_TEXT = Customer.id.cast(String)
# The customers of rank ELSEWHERE, found by id, as the API shows them.
_RENDERED_BY_IDS = select(Customer.id, CUSTOMER_JSON).where(Customer.id.in_(bindparam("ids", expanding=True)))
# decode_cursor gives each value the type of a column: these have the cursor's (int, str, UUID).
_CURSOR_TYPES = (Customer.version, Customer.name, Customer.id)


@dataclass(frozen=True)
class _Position:
    """Where a customer stands in the results: the cursor is the last one's."""

    rank: int
    key: str
    id: uuid.UUID | str  # as text where a rank's statement read it (_ID_TEXT)


@dataclass(frozen=True)
class _Shape:
    """What a search's statements depend on besides the values bound to them."""

    filters: tuple[str, ...]  # names of FILTERS in use
    exact: tuple[str, ...]  # "email", "phone": the whole forms q can be read as
    digits: bool  # the part looked up has digit grams: the digits index finds it
    words: int  # else the trigram index is asked for this many of its words, or (0) all of it


class _Conditions:
    """The conditions of each rank, on bound parameters (``_parameters``): ``prefix``
    ('jan%'), ``contains`` ('%jan%'), ``email`` and ``phone`` (q read whole),
    ``filter_<name>``."""

    def __init__(self, shape: _Shape) -> None:
        self.where = [FILTERS[name] == bindparam(f"filter_{name}") for name in shape.filters]
        self.contains = Customer.search_text.like(bindparam("contains", type_=String))
        # The same customers, found through an index by a part of the fragment
        # (SearchTerms.looked_up): by its digit grams where it has any, else by its
        # trigrams, word by word where it has words enough; each then checked for all
        # of the fragment.
        if shape.digits:
            looked_up = [search_digits(Customer.search_text).contains(bindparam("grams", type_=_GRAMS))]
        else:
            names = [f"looked_up_{n}" for n in range(shape.words)] if shape.words else ["looked_up"]
            looked_up = [Customer.search_text.like(bindparam(name, type_=String)) for name in names]
        self.contains_looked_up = and_(
            *looked_up, func.strpos(Customer.search_text, bindparam("fragment", type_=String)) > 0
        )
        exact = []
        if "email" in shape.exact:
            exact.append(func.lower(Customer.email) == bindparam("email", type_=String))
        if "phone" in shape.exact:
            exact.append(Customer.phone == bindparam("phone", type_=String))
        self.exact: ColumnElement[bool] | None = or_(*exact) if exact else None
        prefix = bindparam("prefix", type_=String)
        self.name_words: list[ColumnElement[bool]] = [word.like(prefix) for word in _NAME_WORDS]
        self.email_start: ColumnElement[bool] = _EMAIL_START.like(prefix)

    def before(self, rank: int, word: int = 0) -> list[ColumnElement[bool]]:
        """What puts a customer in a better rank than ``rank`` (for NAME_WORD: or in an
        earlier word than ``word``), q not being read whole (``_ranked``, ``_elsewhere``)."""
        if rank == domain.NAME_WORD:
            return self.name_words[:word]
        return [*self.name_words, *([self.email_start] if rank > domain.EMAIL_START else [])]


def _none_of(conditions: list[ColumnElement[bool]]) -> ColumnElement[bool]:
    # A NULL column (no email, a name of fewer words) makes its condition NULL, not false.
    return not_(func.coalesce(or_(*conditions), false())) if conditions else true()


def escape_like(fragment: str) -> str:
    return fragment.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_customers(
    *,
    connection: Connection,
    filters: Mapping[str, Any],
    terms: domain.SearchTerms,
    limit: int,
    cursor: str | None,
) -> Page:
    """One page of the customers matching ``terms`` and ``filters`` (FILTERS' names:
    values as stored), each as the API shows it (``rendering.CUSTOMER_JSON``)."""
    after = _decode(cursor) if cursor else None
    shape = _shape(filters, terms)
    params = _parameters(filters, terms)
    high = params["prefix_high"]
    if after is not None:
        params.update(after_rank=after.rank, after_key=after.key, after_id=after.id)
    need = limit + 1  # one more than the page tells whether another follows
    # Each customer's rendered JSON and place (rank, key, id): plain tuples, a _Position
    # made of the cursor's only (a frozen dataclass each was a visible part of a search).
    found: list[tuple[str, int, str, uuid.UUID | str]] = []
    if terms.rare:
        # Few customers hold it: all of them, ranked in one statement.
        rows = _all_ranked(shape, after is not None).execute(connection, **params, need=need).all()
        found = [(rendered, rank, key, id_) for id_, rendered, rank, key in rows]
    else:
        # A rank is read only when the ones before it leave the page short (q not being
        # read whole, there is no rank EXACT).
        for rank in (domain.NAME_WORD, domain.EMAIL_START):
            if len(found) < need and (after is None or after.rank <= rank):
                keyset = after is not None and after.rank == rank
                statement = _ranked_statement(shape, rank, keyset, ranged=high is not None)
                rows = _rows(connection, statement, {**params, "need": need - len(found)})
                found += [(rendered, rank, key, id_) for id_, rendered, key in rows]
        if len(found) < need:
            # A decoded cursor's id is a UUID (_decode).
            start = (
                cast(uuid.UUID, after.id) if after is not None and after.rank == domain.ELSEWHERE else None
            )
            ids = _elsewhere(connection, shape, params, start, need - len(found))
            customers: dict[uuid.UUID, str] = {}
            if ids:
                by_id = connection.execute(_RENDERED_BY_IDS, {"ids": ids})
                customers = {id_: rendered for id_, rendered in by_id}
            found += [(customers[id_], domain.ELSEWHERE, "", id_) for id_ in ids if id_ in customers]
    shown = found[:limit]
    return Page(
        items=[Rendered(row[0]) for row in shown],
        next_cursor=_encode(_Position(*shown[-1][1:])) if len(found) > limit else None,
    )


def _shape(filters: Mapping[str, Any], terms: domain.SearchTerms) -> _Shape:
    return _Shape(
        filters=tuple(sorted(filters)),
        exact=tuple(name for name, value in (("email", terms.email), ("phone", terms.phone)) if value),
        digits=bool(terms.looked_up_grams),
        words=len(terms.looked_up_words),
    )


def _parameters(filters: Mapping[str, Any], terms: domain.SearchTerms) -> dict[str, Any]:
    """The values the statements of a search for ``terms`` bind (``_Conditions``)."""
    escaped = escape_like(terms.fragment)
    return {
        **{f"filter_{name}": value for name, value in filters.items()},
        "prefix": f"{escaped}%",
        "prefix_low": terms.fragment,
        "prefix_high": domain.after_prefix(terms.fragment),
        "contains": f"%{escaped}%",
        "fragment": terms.fragment,
        "looked_up": f"%{escape_like(terms.looked_up)}%",
        "grams": terms.looked_up_grams,
        # Letters and digits only (SearchTerms.looked_up_words): nothing to escape.
        **{f"looked_up_{n}": f"%{word}%" for n, word in enumerate(terms.looked_up_words)},
        "email": terms.email,
        "phone": terms.phone,
    }


@functools.cache
def _all_ranked(shape: _Shape, keyset: bool) -> Prepared:
    """The next ``need`` customers holding the fragment, each's rank and key worked out
    on the row: for a rare fragment, found through the trigram index (prepared: the plan
    is that whatever the fragment, and planning it cost 0.4 ms a search)."""
    conditions = _Conditions(shape)
    exact = [(conditions.exact, domain.EXACT)] if conditions.exact is not None else []
    rank = case(
        *exact,
        (or_(*conditions.name_words), domain.NAME_WORD),
        (conditions.email_start, domain.EMAIL_START),
        else_=domain.ELSEWHERE,
    )
    key = case(
        *((condition, literal("")) for condition, _ in exact),
        *zip(conditions.name_words, _NAME_WORDS, strict=True),
        (conditions.email_start, _EMAIL_START),
        else_=literal(""),
    ).collate("C")
    stmt = select(_ID_TEXT, CUSTOMER_JSON, rank.label("rank"), key.label("key")).where(
        *conditions.where, conditions.contains_looked_up
    )
    if keyset:
        stmt = stmt.where(tuple_(rank, key, Customer.id) > _AFTER)
    return Prepared(stmt.order_by(rank, key, Customer.id).limit(_NEED))


@functools.cache
def _ranked_statement(shape: _Shape, rank: int, keyset: bool, *, ranged: bool) -> Prepared | Select[Any]:
    """``_ranked`` as a search runs it: with its ranges (``ranged``: q has an
    ``after_prefix``), prepared - planning its four index branches cost as much as
    running them (0.4-0.6 ms a search), and the best plan is the same whatever q is,
    each branch a walk of its index from ``prefix_low`` (the service's connections take
    a prepared statement's generic plan at once: ``plan_cache_mode``); else as text
    with its LIKE, planned with the values."""
    statement = _ranked(shape, rank, keyset, ranged)
    return Prepared(statement) if ranged else statement


def _rows(connection: Connection, statement: Prepared | Select[Any], params: dict[str, Any]) -> list[Any]:
    if isinstance(statement, Prepared):
        return list(statement.execute(connection, **params).all())
    return list(connection.execute(statement, params).all())


@functools.cache
def _ranked(shape: _Shape, rank: int, keyset: bool, ranged: bool) -> Select[Any]:
    """The next ``need`` customers of ``rank`` (NAME_WORD or EMAIL_START), with their
    keys: a branch per index, each reading at most ``need`` rows in its order; with
    ``keyset``, after the cursor's (``after_key``, ``after_id``). ``ranged``: "starts
    with" as the key between ``prefix_low`` and ``prefix_high``, the index range a plan
    made without the values needs, instead of as ``LIKE prefix`` (from which a plan made
    with the values reads the range itself)."""
    conditions = _Conditions(shape)
    if rank == domain.NAME_WORD:
        parts = [
            (_NAME_WORDS[word], starts, conditions.before(rank, word))
            for word, starts in enumerate(conditions.name_words)
        ]
    else:
        parts = [(_EMAIL_START, conditions.email_start, conditions.before(rank))]
    branches = []
    for key, match, earlier in parts:
        if ranged:  # the same customers (domain.after_prefix), as the index range itself
            match = and_(key >= _PREFIX_LOW, key < _PREFIX_HIGH)
        branch = select(key.label("key"), Customer.id).where(*conditions.where, match, _none_of(earlier))
        if keyset:
            after = tuple_(bindparam("after_key", type_=String), bindparam("after_id", type_=Uuid))
            branch = branch.where(tuple_(key, Customer.id) > after)
        branches.append(branch.order_by(key, Customer.id).limit(_NEED))
    union = union_all(*branches).subquery()
    ranked = select(union.c.key, union.c.id).order_by(union.c.key, union.c.id).limit(_NEED).subquery()
    return (
        select(_ID_TEXT, CUSTOMER_JSON, ranked.c.key)
        .join(ranked, ranked.c.id == Customer.id)
        .order_by(ranked.c.key, ranked.c.id)
    )


def _elsewhere(
    connection: Connection, shape: _Shape, params: dict[str, Any], start: uuid.UUID | None, need: int
) -> list[uuid.UUID]:
    """The ids of the next ``need`` customers of rank ELSEWHERE after ``start``, in order.

    How many customers hold the fragment decides how to find them: the first
    FIRST_WINDOW after ``start`` are read. Enough of them hold it: done. Some: as many
    more as should hold the rest at that density are read, while the rows read stay
    within LAST_WINDOW. None, or more than that: the fragment is rare, and the trigram
    index finds it after the rows read."""
    found: list[uuid.UUID] = []
    last, more_rows = start, True
    read, rows = 0, FIRST_WINDOW
    while len(found) < need and more_rows and read + rows <= LAST_WINDOW:
        window_params = {**params, "start": last, "rows": rows, "need": need - len(found)}
        hits, last, seen = connection.execute(_window(shape, last is not None), window_params).one()
        found += hits or []
        read, more_rows = read + seen, seen == rows
        if not found:
            break  # none in the first rows: rare
        # As many rows as should hold the rest at the density seen so far, and a margin.
        rows = max(FIRST_WINDOW, math.ceil((need - len(found)) * read / len(found) * 1.25))
    if len(found) < need and more_rows:
        rare = _rare(shape, last is not None)
        found += connection.scalars(rare, {**params, "last": last, "need": need - len(found)})
    return found


def _elsewhere_hit(conditions: _Conditions) -> ColumnElement[bool]:
    return and_(conditions.contains, _none_of(conditions.before(domain.ELSEWHERE)))


@functools.cache
def _window(shape: _Shape, after_start: bool) -> Select[Any]:
    """Of the next ``rows`` customers after ``start`` (primary key order): the first
    ``need`` of rank ELSEWHERE, the last one read, and how many were read."""
    conditions = _Conditions(shape)
    window = select(Customer.id, _elsewhere_hit(conditions).label("hit")).where(*conditions.where)
    if after_start:
        window = window.where(Customer.id > bindparam("start", type_=Uuid))
    read = window.order_by(Customer.id).limit(bindparam("rows", type_=Integer)).subquery()
    return select(
        type_coerce(func.array_agg(aggregate_order_by(read.c.id, read.c.id)).filter(read.c.hit), _IDS)[
            1:_NEED
        ],
        type_coerce(func.array_agg(aggregate_order_by(read.c.id, read.c.id.desc())), _IDS)[1],
        func.count(),
    )


@functools.cache
def _rare(shape: _Shape, after_last: bool) -> Select[Any]:
    """The first ``need`` customers of rank ELSEWHERE after ``last``, through the digits
    or the trigram index (``contains_looked_up``): materialised, the candidates are
    planned without the ORDER BY, so never as a walk of the primary key looking for a
    rare fragment."""
    conditions = _Conditions(shape)
    candidates = select(Customer.id).where(
        *conditions.where,
        conditions.contains_looked_up,
        _none_of(conditions.before(domain.ELSEWHERE)),
    )
    if after_last:
        candidates = candidates.where(Customer.id > bindparam("last", type_=Uuid))
    rest = candidates.cte("rest").prefix_with("MATERIALIZED")
    return select(rest.c.id).order_by(rest.c.id).limit(_NEED)


def _encode(position: _Position) -> str:
    return encode_cursor([position.rank, position.key, position.id])


def _decode(cursor: str) -> _Position:
    rank, key, id_ = decode_cursor(cursor, _CURSOR_TYPES)
    if rank not in domain.RANKS:
        raise Unprocessable.on_field("cursor", "not a cursor this list gave out")
    return _Position(rank, key, id_)
