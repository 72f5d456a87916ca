"""``create_app``: the customer portal (nothing connects at import)."""

from __future__ import annotations

import importlib
import logging
import math
import re
import time
from pathlib import Path
from typing import Any

from flask import Flask, g, has_request_context, render_template, request, session
from limits import parse
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from customer_portal import formatting, services
from customer_portal.config import SERVICE, load_config
from customer_portal.models import db
from customer_portal.pages import PAGES
from service_kit.http_client import DependencyFailed
from service_kit.security import RateLimiter
from service_kit.web import LANGUAGES, chosen_language, create_web_app

TRANSLATIONS = Path(__file__).parent / "translations"
# A link's token in a page's address, wherever a log line might carry one.
TOKEN_IN_PATH = re.compile(r"/(estimate|appointment|book|invoice|feedback)/[^/\s?\"']+")


def language() -> str:
    """The customer's language: the one they switched to, else the one the garage knows
    them by (the service's answer), else their browser's."""
    chosen = session.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    known = g.get("customer_language") if has_request_context() else None
    if known in LANGUAGES:
        return str(known)
    return chosen_language(None)


class _NoTokensInLogs(logging.Filter):
    """The access log writes the route (``/estimate/<token>``), never the token: a link in
    a log is a key to the customer's estimate for whoever reads the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        rule = request.url_rule.rule if has_request_context() and request.url_rule else None
        path = getattr(record, "path", None)
        if isinstance(path, str):
            record.path = rule or TOKEN_IN_PATH.sub(r"/\1/<token>", path)
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(
                TOKEN_IN_PATH.sub(r"/\1/<token>", arg) if isinstance(arg, str) else arg for arg in args
            )
        elif isinstance(record.msg, str):
            record.msg = TOKEN_IN_PATH.sub(r"/\1/<token>", record.msg)
        return True


def _keep_tokens_out_of_logs() -> None:
    # The kit's access log, and werkzeug's request lines (the development server).
    for name in (f"{SERVICE}.access", "werkzeug"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoTokensInLogs) for f in logger.filters):
            logger.addFilter(_NoTokensInLogs())


def _payments() -> Any:
    """customer_portal.payments when it is there: its ``init_app(app)`` adds the pay route
    (endpoint ``invoice_pay``), the provider's webhook and the relay."""
    try:
        return importlib.import_module("customer_portal.payments")
    except ModuleNotFoundError as exc:
        if exc.name != "customer_portal.payments":
            raise
        return None


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    app = create_web_app(
        __name__,
        config=settings,
        db=db,
        blueprints=PAGES,
        translations=TRANSLATIONS,
        locale_selector=language,
        timezone_selector=lambda: app.config["WORKSHOP_TIME_ZONE"],
        form_targets=settings.get("PAYMENT_FORM_TARGETS", ()),
    )
    hops = app.config["PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    services.init_services(app)
    formatting.register(app)
    _keep_tokens_out_of_logs()
    _limit_link_use(app)
    payments = _payments()
    if payments is not None and hasattr(payments, "init_app"):
        payments.init_app(app)

    @app.before_request
    def _switch_language() -> None:
        chosen = request.args.get("lang")
        if chosen in LANGUAGES:
            session["language"] = chosen

    @app.after_request
    def _link_page_headers(response: Response) -> Response:
        # A page's address carries the customer's link: never sent on to another site,
        # never kept by a cache (the kit's web app sets no-store on pages already).
        response.headers["Referrer-Policy"] = "no-referrer"
        if request.endpoint != "static":  # the stylesheet may be kept
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        return {
            "language": language(),
            "garage_name": app.config["GARAGE_NAME"],
            "garage_phone": app.config["GARAGE_PHONE"],
            "languages": {"en": "English", "nl": "Nederlands"},
        }

    @app.errorhandler(services.LinkRefused)
    def _link_refused(exc: services.LinkRefused) -> tuple[str, int]:
        return render_template("link.html", kind=exc.kind), 410 if exc.kind != "not-valid" else 403

    @app.errorhandler(services.ServiceRefused)
    def _refused(exc: services.ServiceRefused) -> tuple[str, int]:
        return render_template("refused.html", error=exc), exc.status

    @app.errorhandler(DependencyFailed)
    def _service_down(exc: DependencyFailed) -> tuple[str, int]:
        return render_template("unavailable.html", dependency=exc.dependency), 503

    @app.get("/")
    def home() -> str:
        return render_template("home.html")

    return app


def _limit_link_use(app: Flask) -> None:
    """At most LINK_RATE_LIMIT requests to link pages per client address, all links and
    pages together (guessing or replaying links is slow), shared across workers through
    the kit's limiter storage (Redis in production)."""
    limiter = RateLimiter({**app.config, "SERVICE_NAME": f"{SERVICE}-links"})
    limit = parse(app.config["LINK_RATE_LIMIT"])

    @app.before_request
    def _count_link_use() -> Response | None:
        if not app.config["RATE_LIMIT_ENABLED"] or "token" not in (request.view_args or {}):
            return None
        count, resets_at = limiter.hit(f"ip:{request.remote_addr}", limit)
        if count <= limit.amount:
            return None
        response = Response(render_template("error.html", status=429, message="links"), 429)
        response.headers["Retry-After"] = str(max(1, math.ceil(resets_at - time.time())))
        return response
