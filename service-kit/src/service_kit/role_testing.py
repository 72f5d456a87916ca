"""Who may do what, checked the same way in every service: a table of operations and
the roles allowed each, called with every role and without a token, and the tokens
the service must refuse.

A service's ``tests/integration/test_auth.py`` subclasses ``RoleTableTests`` with its
table; pytest collects the inherited tests under the subclass:

    ALL = set(ROLES) - {"portal"}  # the staff and the services
    class TestRoles(RoleTableTests):
        operations = [
            ("GET", "/api/v1/customers", ALL),
            ("POST", "/api/v1/customers", {"admin", "advisor"}),
            ("GET", f"/api/v1/customers/{uuid.uuid4()}", ALL),
        ]

For each row every allowed role gets neither 401 nor 403 (the call may still fail on
its empty body or unknown id), every other role a 403 problem, and no token a 401
with a Bearer challenge. A customer-portal operation (``@blp.link``, roles
``{"portal"}``) refuses the portal for nothing but its link: without one a 403
``link-not-valid`` (a test client that adds a real link gets it through). The table
must name every documented operation with exactly
the roles its ``x-roles`` states. Malformed, forged, expired, foreign and unsigned
tokens are tried on the first GET row, a broken body on the first POST row. The
tests use the service's ``app`` and ``client`` fixtures and the kit's ``auth_headers``.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

import jwt
import pytest

from service_kit.auth import ROLES
from service_kit.links import PORTAL_ROLE
from service_kit.testing import assert_problem

PROBLEM = "application/problem+json"
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
Operation = tuple[str, str, Iterable[str]]


def assert_unauthenticated(response: Any) -> None:
    """A 401 problem with a Bearer challenge."""
    assert response.status_code == 401, (response.status_code, response.get_json())
    assert response.mimetype == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def assert_roles(
    client: Any, auth_headers: Callable[..., dict[str, str]], method: str, path: str, allowed: Iterable[str]
) -> None:
    """Each role is let through ``method path`` or refused (403), as ``allowed`` says;
    without a token it is 401."""
    allowed = set(allowed)
    for role in ROLES:
        response = client.open(path, method=method, json={}, headers=auth_headers(role))
        if role in allowed and role == PORTAL_ROLE and response.status_code == 403:
            # Let in as the portal; refused only because no link came with the call.
            assert_problem(response, 403, "link-not-valid")
        elif role in allowed:
            assert response.status_code not in (401, 403), (role, response.get_json())
        else:
            assert response.status_code == 403, (role, response.status_code)
            assert response.mimetype == PROBLEM
    assert_unauthenticated(client.open(path, method=method, json={}))


def _template(documented: Iterable[tuple[str, str]], method: str, path: str) -> str:
    """The documented path ``path`` is an instance of; a literal segment beats a parameter."""
    segments = path.split("?", 1)[0].split("/")

    def parameters(template: str) -> int:
        return template.count("{")

    candidates = sorted(
        (
            template
            for verb, template in documented
            if verb == method
            and len(parts := template.split("/")) == len(segments)
            and all(t == s or t.startswith("{") for t, s in zip(parts, segments, strict=True))
        ),
        key=parameters,
    )
    assert candidates, f"{method} {path} is not a documented operation"
    return candidates[0]


def assert_table_matches_contract(spec: dict[str, Any], operations: Iterable[Operation]) -> None:
    """``operations`` names every operation ``spec`` documents, once, with the roles
    its ``x-roles`` states."""
    documented = {(m.upper(), p) for p, ops in spec["paths"].items() for m in ops if m != "parameters"}
    named: set[tuple[str, str]] = set()
    for method, path, allowed in operations:
        template = _template(documented, method, path)
        assert (method, template) not in named, f"{method} {template} is in the table twice"
        named.add((method, template))
        stated = set(spec["paths"][template][method.lower()].get("x-roles", ()))
        assert stated == set(allowed), f"{method} {template}: the contract says {stated}, the table {allowed}"
    assert named == documented, f"the table names no row for {sorted(documented - named)}"


def signed_token(app: Any, **changes: Any) -> str:
    """A token for the role ``advisor`` signed with the app's development key; a claim
    given as None is left out."""
    now = int(time.time())
    claims = {
        "sub": "someone",
        "iss": app.config["JWT_ISSUER"],
        "aud": app.config["JWT_AUDIENCE"],
        "iat": now,
        "exp": now + 300,
        "roles": ["advisor"],
        **changes,
    }
    present = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(present, app.config["JWT_SECRET"], algorithm="HS256")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class RoleTableTests:
    """The standard auth tests; a subclass named ``Test...`` gives ``operations``."""

    operations: ClassVar[list[Operation]]

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        if "operation" in metafunc.fixturenames:
            metafunc.parametrize(
                "operation",
                self.operations,
                # The same ids in every run (made-up uuids vary), as pytest-xdist needs.
                ids=[f"{method} {UUID.sub('{id}', path)}" for method, path, _ in self.operations],
            )

    @property
    def read_path(self) -> str:
        return next(path for method, path, _ in self.operations if method == "GET")

    @property
    def write_path(self) -> str:
        return next(path for method, path, _ in self.operations if method == "POST")

    def test_each_role_is_allowed_or_forbidden(
        self, client: Any, auth_headers: Callable[..., dict[str, str]], operation: Operation
    ) -> None:
        assert_roles(client, auth_headers, *operation)

    def test_the_table_covers_every_documented_operation(self, app: Any) -> None:
        assert_table_matches_contract(app.test_client().get("/openapi.json").get_json(), self.operations)

    def test_health_and_docs_need_no_token(self, client: Any) -> None:
        for path in ("/healthz", "/readyz", "/openapi.json"):
            assert client.get(path).status_code == 200, path

    @pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token"])
    def test_a_malformed_authorization_is_401(self, client: Any, header: str) -> None:
        assert_unauthenticated(client.get(self.read_path, headers={"Authorization": header}))

    def test_a_forged_signature_is_401(self, client: Any, app: Any) -> None:
        claims = jwt.decode(signed_token(app), options={"verify_signature": False})
        forged = jwt.encode(claims, "another-key" * 4, algorithm="HS256")
        assert_unauthenticated(client.get(self.read_path, headers=_bearer(forged)))

    def test_an_expired_token_is_401(self, client: Any, app: Any) -> None:
        expired = signed_token(app, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
        response = client.get(self.read_path, headers=_bearer(expired))
        assert_unauthenticated(response)
        assert "expired" in response.get_json()["detail"]

    @pytest.mark.parametrize(
        "claim",
        [{"aud": "another-system"}, {"iss": "somebody-else"}, {"exp": None}, {"sub": None}, {"iat": None}],
        ids=["audience", "issuer", "no-exp", "no-sub", "no-iat"],
    )
    def test_a_foreign_token_or_one_missing_a_claim_is_401(
        self, client: Any, app: Any, claim: dict[str, Any]
    ) -> None:
        assert_unauthenticated(client.get(self.read_path, headers=_bearer(signed_token(app, **claim))))

    def test_an_unsigned_token_is_401(self, client: Any, app: Any) -> None:
        claims = jwt.decode(signed_token(app), options={"verify_signature": False})
        unsigned = jwt.encode(claims, key="", algorithm="none")
        assert_unauthenticated(client.get(self.read_path, headers=_bearer(unsigned)))

    def test_a_token_without_roles_is_403(self, client: Any, app: Any) -> None:
        response = client.get(self.read_path, headers=_bearer(signed_token(app, roles=[])))
        assert response.status_code == 403
        assert response.mimetype == PROBLEM

    def test_auth_is_checked_before_the_body(self, client: Any) -> None:
        response = client.post(self.write_path, data="{broken", content_type="application/json")
        assert_unauthenticated(response)
