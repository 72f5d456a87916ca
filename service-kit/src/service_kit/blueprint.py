"""A flask-smorest Blueprint that documents what the kit enforces.

``@blp.auth(...)`` checks the token and roles *and* writes them into the OpenAPI
document (security, ``x-roles``, 401/403); ``@blp.idempotent`` and
``@blp.transactional`` make a write one transaction and document
``Idempotency-Key``; ``@blp.link(purpose)`` is the customer portal's way in (the
``portal`` role with a link of that purpose, service_kit.links). Put them above
``@blp.arguments``/``@blp.response`` so they see the finished response.
"""

from __future__ import annotations

from collections.abc import Callable
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any

import marshmallow as ma
from flask_smorest import Blueprint
from flask_smorest.utils import resolve_schema_instance

from service_kit.auth import requires_roles
from service_kit.dumping import fast_dump
from service_kit.idempotency import idempotent, transactional
from service_kit.links import LINK_HEADER, PORTAL_ROLE, requires_link
from service_kit.validation import refuse_a_body_that_is_not_json, strict_body

IDEMPOTENCY_KEY_PARAMETER = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 255},
    "description": "Repeat a create safely: the same key and body return the first "
    "response; the same key with another body is a 422.",
}
IF_MATCH_PARAMETER = {
    "in": "header",
    "name": "If-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": 'The ETag you read, quoted as the ETag header gives it ("3"); a stale one '
    "is answered 412, one that is not a quoted entity-tag 400.",
}

LINK_PARAMETER = {
    "in": "header",
    "name": LINK_HEADER,
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": 2000},
    "description": "The link token from the customer's message; a tampered, unknown or "
    "other-purpose one is a 403 (link-not-valid), an expired or revoked one a 410.",
}

View = Callable[..., Any]


def _documented_only(decorate: Callable[[View], View]) -> Callable[[View], View]:
    """A flask-smorest decorator that only documents (``doc``, ``alt_response``), applied
    without its run-time wrapper: the view keeps the documentation the wrapper would
    carry, and a request no longer passes through a layer per decorator."""

    def decorator(view: View) -> View:
        view._apidoc = decorate(view)._apidoc  # type: ignore[attr-defined]  # flask-smorest's docs live on the function
        return view

    return decorator


class ServiceBlueprint(Blueprint):
    @staticmethod
    def doc(**kwargs: Any) -> Callable[[View], View]:
        return _documented_only(Blueprint.doc(**kwargs))

    def alt_response(self, status_code: Any, **kwargs: Any) -> Callable[[View], View]:
        return _documented_only(super().alt_response(status_code, **kwargs))

    def response(self, status_code: Any, schema: Any = None, **kwargs: Any) -> Callable[[View], View]:
        """flask-smorest's ``response``; the schema dumps in one pass (service_kit.dumping:
        marshmallow's output, less CPU). The contract still comes from the schema."""
        schema = resolve_schema_instance(schema) if schema is not None else None
        if isinstance(schema, ma.Schema):
            schema = fast_dump(schema)
        return super().response(status_code, schema, **kwargs)

    def arguments(self, schema: Any, *, location: str = "json", **kwargs: Any) -> Callable[[View], View]:
        """flask-smorest's ``arguments``; a JSON body is parsed strictly (strict_body):
        in JSON a number is a number and a boolean a boolean. Query strings are text,
        so their fields still read "20" as 20."""
        if location != "json":
            # An instance, made once: given a class, webargs makes (and deep-copies the
            # fields of) a new schema for every request - a tenth of a search's CPU.
            instance = schema() if isinstance(schema, type) else schema
            return super().arguments(instance, location=location, **kwargs)
        parse = super().arguments(strict_body(schema), location=location, **kwargs)

        def decorator(view: View) -> View:
            parsed = parse(view)

            @wraps(parsed)
            def json_only(*args: Any, **view_kwargs: Any) -> Any:
                refuse_a_body_that_is_not_json()
                return parsed(*args, **view_kwargs)

            return self.alt_response(415, response="UNSUPPORTED_MEDIA_TYPE")(json_only)

        return decorator

    def auth(self, *roles: str) -> Callable[[View], View]:
        def decorator(view: View) -> View:
            wrapped = requires_roles(*roles)(view)
            wrapped = self.doc(security=[{"bearerAuth": []}], **{"x-roles": list(roles)})(wrapped)
            wrapped = self.alt_response(401, response="UNAUTHORIZED")(wrapped)
            return self.alt_response(403, response="FORBIDDEN")(wrapped)

        return decorator

    def link(self, purpose: str, *, expired_grace: timedelta = timedelta(0)) -> Callable[[View], View]:
        """Only the ``portal`` role, with a valid link of ``purpose`` (``current_link()``);
        ``expired_grace`` as service_kit.links.requires_link takes it."""

        def decorator(view: View) -> View:
            wrapped = requires_link(purpose, expired_grace=expired_grace)(view)
            wrapped = self.doc(
                security=[{"bearerAuth": []}], **{"x-roles": [PORTAL_ROLE], "x-link-purpose": purpose}
            )(wrapped)
            wrapped = self._add_parameter(wrapped, LINK_PARAMETER)
            wrapped = self.alt_response(401, response="UNAUTHORIZED")(wrapped)
            wrapped = self.alt_response(403, response="FORBIDDEN")(wrapped)
            return self.alt_response(410, response="GONE")(wrapped)

        return decorator

    def idempotent(self, view: View) -> View:
        wrapped = idempotent(view)
        wrapped = self._add_parameter(wrapped, IDEMPOTENCY_KEY_PARAMETER)
        return self.alt_response(409, response="CONFLICT")(wrapped)

    def transactional(self, view: View) -> View:
        return self.alt_response(409, response="CONFLICT")(transactional(view))

    def if_match(self, view: View) -> View:
        wrapped = self._add_parameter(view, IF_MATCH_PARAMETER)
        wrapped = self.alt_response(400, response="BAD_REQUEST")(wrapped)
        return self.alt_response(412, response="PRECONDITION_FAILED")(wrapped)

    def _add_parameter(self, view: View, parameter: dict[str, Any]) -> View:
        # Append rather than smorest's doc(), whose deep update would replace the list.
        apidoc = deepcopy(getattr(view, "_apidoc", {}))
        apidoc.setdefault("manual_doc", {}).setdefault("parameters", []).append(parameter)
        view._apidoc = apidoc  # type: ignore[attr-defined]  # flask-smorest's docs live on the function
        return view
