"""A hot read's statement prepared once per database connection.

PostgreSQL parses and plans every statement psycopg2 sends. For a statement that
renders its answer (``sql_json``) that cost more than running it: a customer by id
took 440-476 µs a query sent as text against 173 µs prepared (and 206 µs for a plain
``SELECT *``), measured on the same connection. ``Prepared(statement)`` compiles the
statement once, sends ``PREPARE`` the first time a connection runs it (a prepared
statement lives as long as the connection, whatever its transactions do), and then
only ``EXECUTE`` with the values.

Only for statements whose best plan does not depend on the values, such as a lookup by
key or an index range with bound limits: the service's connections run a prepared
statement with its generic plan, made once without the values (``plan_cache_mode``,
``service_kit.db``). A LIKE pattern bound as a value gives such a plan no index range:
the customer search prepared so went from 3.0 to 9.5 ms, measured; prepared with its
"starts with" as ranges it went to 1.7 ms (docs/performance.md).

What it gives up: rows come back as the driver reads them, without SQLAlchemy's type
processing (text, numbers, booleans; a UUID as text; an array of UUIDs as one string),
so use it for statements whose columns are rendered text, text and numbers. Values are
passed through their types' own conversion (a UUID as text) as SQLAlchemy would. A
connection pooler that discards session state between transactions (PgBouncer in
transaction mode) would lose the prepared statements: the garage connects to
PostgreSQL directly.
"""

from __future__ import annotations

import hashlib
import re
import threading
import weakref
from typing import Any

from sqlalchemy import CursorResult, Select
from sqlalchemy.engine import Connection, Dialect

# psycopg2's placeholders in compiled SQL, and the escaped percent sign.
_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%%")
# By statement name (the SQL's hash, so two Prepared of the same SQL share it): the DBAPI
# connections that hold it. Each connection is used by one thread at a time.
_PREPARED_ON: dict[str, weakref.WeakSet[Any]] = {}
_LOCK = threading.Lock()


class Prepared:
    """``statement`` run as a prepared statement; ``execute(connection, **values)``."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._compiled: tuple[str, str, list[tuple[str, Any, Any]]] | None = None
        self._prepared_on: weakref.WeakSet[Any] = weakref.WeakSet()

    def sql(self, dialect: Dialect) -> tuple[str, str, list[tuple[str, Any, Any]]]:
        """(PREPARE text, EXECUTE text, [(value name, its conversion, the value the
        statement binds itself or None)]), once."""
        if self._compiled is None:
            compiled = self.statement.compile(dialect=dialect)
            order: list[str] = []

            def numbered(match: re.Match[str]) -> str:
                name = match.group(1)
                if name is None:
                    return "%%"  # still escaped: the driver reads the PREPARE for placeholders too
                if name not in order:
                    order.append(name)
                return f"${order.index(name) + 1}"

            body = _PLACEHOLDER.sub(numbered, str(compiled))
            name = "garage_" + hashlib.sha256(body.encode()).hexdigest()[:24]
            values = [
                (n, compiled.binds[n].type.bind_processor(dialect), compiled.params.get(n)) for n in order
            ]
            arguments = ", ".join(f"%({n})s" for n in order)
            execute = f"EXECUTE {name}({arguments})" if order else f"EXECUTE {name}"
            with _LOCK:
                self._prepared_on = _PREPARED_ON.setdefault(name, weakref.WeakSet())
            self._compiled = (f"PREPARE {name} AS {body}", execute, values)
        return self._compiled

    def execute(self, connection: Connection, **values: Any) -> CursorResult[*tuple[Any, ...]]:
        prepare, execute, _ = self.sql(connection.dialect)
        dbapi_connection = connection.connection.dbapi_connection
        if dbapi_connection not in self._prepared_on:
            connection.exec_driver_sql(prepare)
            with _LOCK:
                self._prepared_on.add(dbapi_connection)
        return connection.exec_driver_sql(execute, self.parameters(connection.dialect, values))

    def parameters(self, dialect: Dialect, values: dict[str, Any]) -> dict[str, Any]:
        """The EXECUTE's parameters for ``values``, each converted as SQLAlchemy would."""
        parameters = {}
        for name, convert, own in self.sql(dialect)[2]:
            value = values.get(name, own)
            parameters[name] = convert(value) if convert is not None else value
        return parameters
