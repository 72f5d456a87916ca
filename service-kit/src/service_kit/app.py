"""Assembling a service: config, logging, errors, auth, database, docs, health."""

from __future__ import annotations

import http
import logging
from collections.abc import Callable, Iterable
from decimal import Decimal
from inspect import iscoroutinefunction
from types import MethodType
from typing import Any, cast

import marshmallow as ma
import orjson
from flask import Flask, Response, json, request
from flask.json.provider import DefaultJSONProvider
from flask_cors import CORS
from flask_smorest import Api, Blueprint
from flask_smorest.utils import prepare_response
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from service_kit import response_headers
from service_kit.auth import init_auth
from service_kit.cli import register_commands
from service_kit.db import CONFLICT_SQLSTATES, conflict_sqlstate, init_database
from service_kit.docs import docs_settings, init_docs
from service_kit.observability import configure_logging, init_observability
from service_kit.problems import (
    PROBLEM_CONTENT_TYPE,
    Conflict,
    DependencyUnavailable,
    PreconditionFailed,
    Problem,
    problem_body,
)
from service_kit.routing import IdConverter, id_parameter_schema
from service_kit.security import init_security
from service_kit.validation import refuse_unstorable_text


def _decimal_as_text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class OrderedJSONProvider(DefaultJSONProvider):
    """Answers encoded with orjson (compiled; json.dumps was a visible part of a read's
    CPU), fields in the order the schema declares them. Bodies are still parsed by the
    standard library: orjson refuses integers beyond 64 bits as malformed JSON, where
    the services answer such a value with a 422 naming the field."""

    sort_keys = False

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        # Integer keys occur: webargs indexes a list's errors by position.
        option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if kwargs.get("indent") else 0)
        try:
            return orjson.dumps(obj, default=_decimal_as_text, option=option).decode()
        except TypeError:
            # Text that is not valid UTF-8 (an unpaired surrogate echoed in a problem):
            # the standard library escapes it.
            return super().dumps(obj, **kwargs)

    def response(self, *args: Any, **kwargs: Any) -> Response:
        """Flask's ``response``, the body handed over as orjson's bytes (Flask's own
        makes text of them and the response encodes that back)."""
        obj = self._prepare_response_obj(args, kwargs)
        indent = (self.compact is None and self._app.debug) or self.compact is False
        option = orjson.OPT_NON_STR_KEYS | (orjson.OPT_INDENT_2 if indent else 0)
        try:
            body = orjson.dumps(obj, default=_decimal_as_text, option=option) + b"\n"
        except TypeError:
            return cast(Response, super().response(*args, **kwargs))
        response_class: Any = self._app.response_class  # Flask's Response: it takes bytes
        return cast(Response, response_class(body, mimetype=self.mimetype))


log = logging.getLogger("service_kit")


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details. A problem may carry extension members beside these
    (``current_version`` on a 412, ``current_status`` on a refused transition ...), so
    the documented schema allows additional properties."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Raw(),
        metadata={"description": "field -> messages, on validation errors"},
    )
    dependency = ma.fields.String(metadata={"description": "the failed dependency, on 503"})


def problem_response(problem: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    response = Response(json.dumps(problem), status=problem["status"], mimetype=PROBLEM_CONTENT_TYPE)
    response.headers.update(headers or {})
    return response


def _flatten_webargs(messages: Any) -> dict[str, Any]:
    """webargs nests errors by location ({"json": {"email": [...]}}); clients want fields."""
    flat: dict[str, Any] = {}
    if isinstance(messages, dict):
        for location, fields in messages.items():
            if isinstance(fields, dict):
                flat.update(fields)
            else:
                flat[location] = fields
    return flat


class ProblemApi(Api):
    """flask-smorest's Api answering every error as application/problem+json."""

    ERROR_SCHEMA = ProblemSchema
    DEFAULT_ERROR_RESPONSE_NAME = "DEFAULT_ERROR"

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM_CONTENT_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        data = getattr(error, "data", None) or {}
        status = error.code or 500
        body = problem_body(status, data.get("message") or error.description)
        if error.code == 400 and "messages" in data:
            body["detail"] = "the request body is not valid JSON"
        elif "messages" in data or "errors" in data:
            body["detail"] = "the request has invalid fields"
            body["errors"] = _flatten_webargs(data.get("errors") or data.get("messages"))
        headers = dict(data.get("headers") or {})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(error.valid_methods)
        return problem_response(body, headers)


def _register_error_handlers(app: Flask, db: SQLAlchemy) -> None:
    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> Response:
        if problem.status >= 500:
            log.warning("answering %s: %s", problem.status, problem.detail)
        return problem_response(problem.to_dict(), problem.headers)

    @app.errorhandler(StaleDataError)
    def _stale(exc: StaleDataError) -> Response:
        # Another request updated the row between our read and our write.
        db.session.rollback()
        problem_class = PreconditionFailed if request.headers.get("If-Match") else Conflict
        return problem_response(problem_class("the resource was changed by another request").to_dict())

    @app.errorhandler(DBAPIError)
    def _database_error(exc: DBAPIError) -> Response:
        db.session.rollback()
        sqlstate = conflict_sqlstate(exc)
        if sqlstate:
            log.info("database conflict %s: %s", sqlstate, exc.orig)
            return problem_response(
                problem_body(
                    409,
                    "the change conflicts with another one made at the same time; "
                    "read the resource again and retry",
                    kind=CONFLICT_SQLSTATES[sqlstate].replace("_", "-"),
                )
            )
        if isinstance(exc, OperationalError):
            log.error("database unavailable", exc_info=exc)
            return problem_response(DependencyUnavailable("database").to_dict())
        return _unexpected(exc)

    @app.errorhandler(PoolTimeout)
    def _no_connection_left(exc: PoolTimeout) -> Response:
        # Every pooled connection in use for the pool's whole wait: the database is the
        # dependency that cannot take the request now, as when it is down.
        log.error("no database connection free: %s", exc)
        return problem_response(DependencyUnavailable("database").to_dict())

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.error("unhandled exception", exc_info=exc)
        return problem_response(
            problem_body(500, "something went wrong on our side; the request id identifies it in our logs")
        )


def _init_cors(app: Flask) -> None:
    """CORS for the configured origins (flask-cors), worked out only for requests that
    carry an Origin: a browser's. Services, scripts and the console's server send none,
    and would pay for the headers on every request."""
    hooks = app.after_request_funcs.setdefault(None, [])
    before = list(hooks)
    CORS(
        app,
        origins=app.config["CORS_ORIGINS"],
        expose_headers=["ETag", "Location", "X-Request-ID", "Idempotent-Replayed"],
        allow_headers=["Authorization", "Content-Type", "If-Match", "Idempotency-Key", "X-Request-ID"],
        max_age=600,
        # Error responses pass through the after-request hooks too (the kit's handlers).
        intercept_exceptions=False,
    )
    [cors_headers] = [hook for hook in hooks if hook not in before]

    def cors_for_browsers(response: Response) -> Response:
        if "HTTP_ORIGIN" not in request.environ:  # no Origin header
            # What a cache must know: the answer depends on it.
            if "vary" in response_headers.present(response.headers):
                response.vary.add("Origin")
            else:
                response.headers.add("Vary", "Origin")
            return response
        return cast(Response, cors_headers(response))

    hooks[hooks.index(cors_headers)] = cors_for_browsers


class ServiceFlask(Flask):
    """Flask, remembering which hooks and views are plain functions: Flask asks
    ``inspect.iscoroutinefunction`` of every before/after/teardown hook and view on
    every request (six calls deep each, a dozen times a request). A view class's method
    comes bound to a new instance each request: it is remembered by its function."""

    SYNC_CACHE_SIZE = 512

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plain_functions: dict[Any, bool] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        key = func.__func__ if isinstance(func, MethodType) else func
        try:
            plain = self._plain_functions[key]
        except KeyError:
            plain = not iscoroutinefunction(func)
            if len(self._plain_functions) < self.SYNC_CACHE_SIZE:  # hooks and views: a fixed set
                self._plain_functions[key] = plain
        except TypeError:  # not hashable
            plain = not iscoroutinefunction(func)
        return func if plain else super().ensure_sync(func)


def create_service_app(
    import_name: str,
    *,
    title: str,
    version: str,
    config: dict[str, Any],
    db: SQLAlchemy,
    blueprints: Iterable[Blueprint],
    description: str = "",
) -> Flask:
    """A Flask app with everything CONVENTIONS.md asks of every service."""
    app = ServiceFlask(import_name)
    app.url_map.converters["uuid"] = IdConverter
    app.config.update(config)
    app.json = OrderedJSONProvider(app)
    app.config.update(
        API_TITLE=title,
        API_VERSION=version,
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        **docs_settings(),
        API_SPEC_OPTIONS={
            "info": {"description": description},
            "components": {
                "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
            },
        },
    )
    if not app.testing:
        configure_logging(app.config["SERVICE_NAME"], app.config["LOG_LEVEL"])
    init_observability(app)
    init_database(app, db)
    init_auth(app)
    init_security(app)
    # After the rate limit and the body size check (hooks run in order), before any
    # view or role check: text no service could store is refused on every endpoint.
    app.before_request(refuse_unstorable_text)
    if app.config["CORS_ORIGINS"]:
        _init_cors(app)
    init_docs(app)  # before the Api: its docs page template is found first
    api = ProblemApi(app)
    api.register_converter(IdConverter, id_parameter_schema)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    _register_error_handlers(app, db)
    register_commands(app)
    return app
