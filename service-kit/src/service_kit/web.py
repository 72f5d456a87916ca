"""Assembling a server-rendered web app (the staff console; the customer portal next):
the kit's logging, request ids, metrics, health, database and limits as every service
has them, plus what pages need and APIs do not: a page Content-Security-Policy without
``unsafe-inline``, CSRF tokens on every form (Flask-WTF), the person's language
(Flask-Babel, catalogues compiled from their ``.po`` files when the app starts, so there
is no build step and no binary file in the repository) and HTML error pages that never
show a traceback. Needs the kit's ``web`` extra."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, cast

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from flask import Blueprint, Flask, Response, render_template, request
from flask_babel import Babel
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from service_kit.app import problem_response
from service_kit.cli import register_migrate
from service_kit.db import init_database
from service_kit.observability import configure_logging, init_observability
from service_kit.problems import Problem
from service_kit.security import init_security

log = logging.getLogger("service_kit.web")

LANGUAGES = ("en", "nl")
# How dates, times and money are written per language: English as in Britain (day
# before month, 24-hour clock), which is how a European garage's staff read it.
FORMATS = {"en": "en_GB", "nl": "nl_NL"}


class ServiceRefused(Exception):
    """A service a page called refused (a 4xx): its problem+json body, and the field
    errors to show beside their fields."""

    def __init__(self, service: str, status: int, problem: Mapping[str, Any]) -> None:
        super().__init__(f"{service} answered {status}: {problem.get('detail') or problem.get('title')}")
        self.service = service
        self.status = status
        self.problem = dict(problem)

    @property
    def type(self) -> str:
        """The problem type's last part: ``too-late-to-change``, ``estimate-not-open``."""
        return str(self.problem.get("type") or "").rsplit(":", 1)[-1].rsplit("/", 1)[-1]

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def field_errors(self) -> dict[str, str]:
        """field -> first message, for showing beside the field."""
        errors = self.problem.get("errors") or {}
        shown: dict[str, str] = {}
        if not isinstance(errors, Mapping):
            return shown
        for name, messages in errors.items():
            if isinstance(messages, list) and messages:
                shown[str(name)] = str(messages[0])
            elif isinstance(messages, Mapping):
                shown[str(name)] = "; ".join(f"{k}: {v}" for k, v in messages.items())
            else:
                shown[str(name)] = str(messages)
        return shown


def page_csp(*, form_targets: Iterable[str] = ()) -> str:
    """Scripts and styles only from the app's own files (no inline code, no CDN);
    forms post to the app itself and to ``form_targets`` (origins); never framed."""
    targets = " ".join(["'self'", *form_targets])
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self'; form-action {targets}; frame-ancestors 'none'; base-uri 'none'; "
        "object-src 'none'"
    )


def compile_catalogues(source: Path, target: Path) -> Path:
    """Every ``<source>/<language>/*.po`` merged into ``<target>/<language>/LC_MESSAGES/
    messages.mo``: each part of an app keeps its own ``.po`` file (two people adding
    pages do not edit one file), and Flask-Babel reads one catalogue per language."""
    for language_dir in sorted(p for p in source.iterdir() if p.is_dir()):
        merged = Catalog(locale=language_dir.name)
        for po_file in sorted(language_dir.glob("*.po")):
            with po_file.open("rb") as handle:
                for message in read_po(handle, locale=language_dir.name):
                    if message.id and message.string:
                        merged.add(message.id, message.string, context=message.context)
        out = target / language_dir.name / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        with (out / "messages.mo").open("wb") as handle:
            write_mo(handle, merged)
    return target


def chosen_language(stored: str | None) -> str:
    """The person's language: the one they chose (stored), else their browser's."""
    if stored in LANGUAGES:
        return stored
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def create_web_app(
    import_name: str,
    *,
    config: dict[str, Any],
    db: SQLAlchemy,
    blueprints: Iterable[Blueprint],
    translations: Path,
    locale_selector: Callable[[], str],
    timezone_selector: Callable[[], str | None] | None = None,
    form_targets: Iterable[str] = (),
) -> Flask:
    app = Flask(import_name)
    app.config.update(config)
    if not app.testing:
        configure_logging(app.config["SERVICE_NAME"], app.config["LOG_LEVEL"])
    init_observability(app)
    # Pages write on a GET (the session, a token renewed under a row lock): every request
    # keeps its transaction.
    init_database(app, db, reads_without_transaction=False)
    init_security(app)
    # Pages send no Referer (Referrer-Policy: no-referrer, service_kit.security): Flask-WTF's
    # HTTPS referrer check would refuse every form of an app that knows it is behind HTTPS.
    # The form's token and the SameSite cookie remain.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    CSRFProtect(app)
    # Served under a path behind the ingress (the portal: /portal) and at / on its own port,
    # where the probes and the development links ask: both reach the same app, and under
    # the prefix every URL it makes keeps the prefix (its script root).
    prefix = str(app.config.get("URL_PREFIX") or "").rstrip("/")
    if prefix:
        app.wsgi_app = DispatcherMiddleware(app.wsgi_app, {prefix: app.wsgi_app})  # type: ignore[method-assign]
    compiled = Path(tempfile.mkdtemp(prefix=f"{app.config['SERVICE_NAME']}-catalogues-"))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(compile_catalogues(translations, compiled))
    Babel(
        app,
        locale_selector=lambda: FORMATS.get(locale_selector(), locale_selector()),
        timezone_selector=timezone_selector,
    )
    csp = page_csp(form_targets=form_targets)

    @app.after_request
    def _page_headers(response: Response) -> Response:
        # Registered after init_security's hook, so it runs first: the kit's API policy
        # (setdefault) then leaves the page policy in place.
        response.headers.setdefault("Content-Security-Policy", csp)
        if response.mimetype == "text/html":
            # Pages show personal data: not kept by shared caches or the back button's.
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    _register_error_pages(app, db)
    register_migrate(app)
    return app


def _error_page(status: int, message: str) -> tuple[str, int]:
    return render_template("error.html", status=status, message=message), status


def _register_error_pages(app: Flask, db: SQLAlchemy) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError) -> tuple[str, int]:
        log.info("refused a form without a valid CSRF token: %s", error.description)
        return _error_page(400, "csrf")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> tuple[str, int] | Response:
        if request.path in ("/healthz", "/readyz", "/metrics"):
            return cast(Response, error.get_response())
        return _error_page(error.code or 500, "http")

    @app.errorhandler(Problem)
    def _problem(problem: Problem) -> tuple[str, int] | Response:
        if request.path in ("/healthz", "/readyz", "/metrics"):
            return problem_response(problem.to_dict(), problem.headers)
        return _error_page(problem.status, "problem")

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> tuple[str, int]:
        db.session.rollback()
        log.error("unhandled exception", exc_info=exc)
        return _error_page(500, "unexpected")
