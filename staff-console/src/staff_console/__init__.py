"""staff-console: the web app garage staff work in, on the six services' APIs."""

from staff_console.app import create_app

__all__ = ["create_app"]
