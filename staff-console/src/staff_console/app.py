"""``create_app``: the staff console (nothing connects at import)."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import click
from flask import Flask, g, render_template, request, send_from_directory, session
from werkzeug.exceptions import NotFound
from werkzeug.wrappers import Response

from service_kit.http_client import DependencyFailed
from service_kit.web import chosen_language, create_web_app
from staff_console import formatting, garage, sessions
from staff_console.config import load_config
from staff_console.models import db
from staff_console.pages import PAGES, navigation
from staff_console.sessions import DatabaseSessionInterface
from staff_console.sign_in import blp as sign_in_blp
from staff_console.sign_in import current_person, init_sign_in

TRANSLATIONS = Path(__file__).parent / "translations"
# The browser scripts the pages load, by the name they are served under, and where
# each lies in its npm package.
VENDOR_FILES = {"htmx.min.js": "htmx.org/dist/htmx.min.js"}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""


def create_app(config: dict[str, Any] | None = None) -> Flask:
    settings = load_config(config)
    app = create_web_app(
        __name__,
        config=settings,
        db=db,
        blueprints=[sign_in_blp, *PAGES],
        translations=TRANSLATIONS,
        locale_selector=lambda: chosen_language(session.get("language")),
        timezone_selector=lambda: app.config["WORKSHOP_TIME_ZONE"],
        # Sign-in and sign-out hand the browser to the provider.
        form_targets=[_origin(settings["OIDC_PROVIDER_ISSUER"])],
    )
    app.session_interface = DatabaseSessionInterface()
    init_sign_in(app)
    garage.init_services(app)
    formatting.register(app)

    @app.context_processor
    def _page_context() -> dict[str, Any]:
        person = current_person()
        return {
            "person": person,
            "navigation": navigation(person),
            "language": chosen_language(session.get("language")),
        }

    @app.get("/vendor/<name>")
    def vendor(name: str) -> Response:
        if name not in VENDOR_FILES:
            raise NotFound()
        folder, _, file = VENDOR_FILES[name].rpartition("/")
        return send_from_directory(Path(app.config["ASSETS_DIR"]) / folder, file, max_age=3600)

    @app.post("/language")
    def language() -> Response:
        chosen = request.form.get("language")
        if chosen in ("en", "nl"):
            session["language"] = chosen
        return formatting.back()

    @app.errorhandler(garage.ServiceRefused)
    def _refused(exc: garage.ServiceRefused) -> tuple[str, int]:
        # A page's main data the service would not give (an id that is not there, a
        # role it refuses): the frame with the service's reason, never a 500.
        if exc.status == 403:
            return render_template("forbidden.html"), 403
        if exc.status == 404:
            return render_template("error.html", status=404, message="http"), 404
        return render_template("refused.html", error=exc), exc.status if 400 <= exc.status < 500 else 502

    @app.errorhandler(DependencyFailed)
    def _service_down(exc: DependencyFailed) -> tuple[str, int]:
        # A page whose main data is missing still shows the console around the message.
        return render_template("unavailable.html", dependency=exc.dependency), 503

    @app.before_request
    def _no_person() -> None:
        g.setdefault("person", None)

    @app.cli.command("forget-expired-sessions")
    def forget_expired_sessions() -> None:
        """Delete the sessions past their end (a daily schedule): their tokens go with them."""
        click.echo(f"forgot {sessions.forget_expired()} expired sessions")

    return app
