"""The portal's pages, one module per kind of link."""

from __future__ import annotations

from flask import Blueprint

PAGES: list[Blueprint] = []
