"""Provider-side checks every service runs on itself, written once: the committed
contract is what the code serves, every operation states its roles, the migrations
build exactly what the models describe, and the API holds its contract under
generated input (schemathesis, in-process).

A service's ``tests/contract/test_contract.py`` subclasses ``ServiceContractTests``
with its own data; pytest collects the inherited tests under the subclass:

    class TestContract(ServiceContractTests):
        package = "customer_management"
        contract = find_contract("customer-management")
        database = db
        operations_at_least = 7

Overriding ``headers`` (the token for an operation) or ``empty`` (what is cleared
between operations) fits a service's needs; its own checks sit beside the class. The
checks are also plain functions (``assert_contract_is_current``, ...).

Test-only: needs schemathesis from the kit's ``[test]`` extra.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

import schemathesis
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from service_kit.contracts import generate_spec, load_contract
from service_kit.db import normalise_url
from service_kit.testing import truncate_schema


def assert_contract_is_current(package: str, contract: str | Path) -> None:
    """The OpenAPI document ``package`` serves is the committed ``contract``."""
    assert generate_spec(package) == load_contract(contract), (
        f"{Path(contract).name} is stale: run `make openapi` and commit it"
    )


def assert_every_operation_declares_roles(contract: str | Path) -> None:
    """Every operation under /api/ names the roles that may call it (``x-roles``)."""
    for path, operations in load_contract(contract)["paths"].items():
        for method, operation in operations.items():
            if path.startswith("/api/") and method != "parameters":
                assert operation.get("x-roles"), f"{method.upper()} {path} states no roles"


def assert_migrations_match_models(url: str | URL, metadata: MetaData) -> None:
    """Alembic finds nothing to change between the migrated database at ``url`` and
    ``metadata``, within ``metadata.schema``."""
    schema = metadata.schema
    # With the service's schema first on its search path Alembic would take it for the
    # default schema and report every table as missing: compare on a plain connection.
    engine = create_engine(normalise_url(str(url)) if isinstance(url, str) else url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "include_schemas": True,
                    "include_name": lambda name, type_, _: type_ != "schema" or name == schema,
                    "version_table_schema": schema,
                },
            )
            differences = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert differences == [], f"the migrations and the models of schema {schema} differ: {differences}"


def exercise_every_operation(
    app: Any,
    headers_for: Callable[[Any], dict[str, str]],
    *,
    operations_at_least: int,
    max_examples: int = 25,
    excluded_checks: Iterable[Any] = (),
    between: Callable[[], None] | None = None,
) -> None:
    """Feed every documented operation generated input: no answer is a 5xx, each is as
    documented. ``between`` runs after each operation (to empty the tables)."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise AssertionError(f"schemathesis cannot read an operation of the contract: {result.err()}")
        operations.append(result.ok())
    assert len(operations) >= operations_at_least, f"only {len(operations)} operations are documented"
    for operation in operations:
        _exercise(operation, headers_for(operation), max_examples, list(excluded_checks))
        if between:
            between()


def _exercise(operation: Any, headers: dict[str, str], max_examples: int, excluded: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=max_examples, deadline=None, suppress_health_check=list(HealthCheck), database=None
    )
    def exercise(case: Any) -> None:
        case.call_and_validate(headers=headers, excluded_checks=excluded)

    exercise()


class ServiceContractTests:
    """The standard contract tests; a subclass named ``Test...`` gives the data."""

    package: ClassVar[str]  # the service's Python package, with create_app
    contract: ClassVar[Path]  # its committed contracts/<service>.yaml
    database: ClassVar[Any]  # its Flask-SQLAlchemy object; the metadata names the schema
    operations_at_least: ClassVar[int]  # fewer documented operations means routes went missing
    max_examples: ClassVar[int] = 25
    # A schema-valid body can still break a rule the schema cannot express (an id that
    # exists, a cursor this API gave out): a documented 4xx answers it, not a 2xx.
    excluded_checks: ClassVar[tuple[Any, ...]] = (positive_data_acceptance,)

    def headers(self, operation: Any, auth_headers: Callable[..., dict[str, str]]) -> dict[str, str]:
        """The token generated calls of ``operation`` carry."""
        return auth_headers("admin")

    def empty(self) -> None:
        """Clear what one operation's calls left (inside an app context)."""
        truncate_schema(self.database.engine, self.database.metadata.schema)

    def test_generated_openapi_equals_the_committed_contract(self) -> None:
        assert_contract_is_current(self.package, self.contract)

    def test_every_operation_declares_its_roles(self) -> None:
        assert_every_operation_declares_roles(self.contract)

    def test_migrations_create_exactly_what_the_models_describe(self, app: Any) -> None:
        with app.app_context():
            url = self.database.engine.url
        assert_migrations_match_models(url, self.database.metadata)

    def test_api_never_fails_and_keeps_its_contract(
        self, app: Any, auth_headers: Callable[..., dict[str, str]]
    ) -> None:
        """Every operation, fed generated input by schemathesis: no 5xx, answers as documented."""

        def empty() -> None:
            with app.app_context():
                self.empty()

        exercise_every_operation(
            app,
            lambda operation: self.headers(operation, auth_headers),
            operations_at_least=self.operations_at_least,
            max_examples=self.max_examples,
            excluded_checks=self.excluded_checks,
            between=empty,
        )
