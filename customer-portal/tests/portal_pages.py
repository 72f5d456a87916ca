"""Reading the portal's pages in tests: a form's CSRF token, a page's text."""

from __future__ import annotations

import html
import re
from typing import Any


def csrf_of(page: Any) -> str:
    text = page.get_data(as_text=True) if hasattr(page, "get_data") else page.text
    match = re.search(r'name="csrf_token" value="([^"]+)"', text)
    assert match, text[:800]
    return match.group(1)


def hidden_of(page: Any, name: str) -> str:
    text = page.get_data(as_text=True)
    match = re.search(rf'name="{name}" value="([^"]*)"', text)
    assert match, f"no {name} in the page"
    return html.unescape(match.group(1))


def text_of(page: Any) -> str:
    """The page's words without its tags, spaces collapsed."""
    body = re.sub(r"<[^>]+>", " ", page.get_data(as_text=True))
    return re.sub(r"\s+", " ", html.unescape(body))
