"""``/docs``: Swagger UI served from the installed ``flask-swagger-ui`` package's files,
never from a CDN, so the page works on a machine without internet (a garage's
back office, a cluster with no egress)."""

from __future__ import annotations

from pathlib import Path

import flask_swagger_ui
from flask import Blueprint, Flask, Response, send_from_directory

SWAGGER_UI_FILES = Path(flask_swagger_ui.__file__).parent / "dist"
ASSETS_URL = "/docs/assets/"
# The page's own inline start-up script and Swagger UI's inline styles; everything
# else from this service.
DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"
)


def docs_settings() -> dict[str, str]:
    return {"OPENAPI_SWAGGER_UI_PATH": "/docs", "OPENAPI_SWAGGER_UI_URL": ASSETS_URL}


def init_docs(app: Flask) -> None:
    """Before flask-smorest's Api: this blueprint's ``swagger_ui.html`` (a lang, a main
    landmark, colours with enough contrast) is found before flask-smorest's own."""
    app.register_blueprint(Blueprint("docs_page", __name__, template_folder="templates"))

    @app.get(f"{ASSETS_URL}<path:filename>")
    def swagger_ui_asset(filename: str) -> Response:
        return send_from_directory(SWAGGER_UI_FILES, filename, max_age=86400)
