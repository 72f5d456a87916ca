"""The request path's cheap forms (docs/performance.md, "instructions per request")
do what the forms they replaced did."""

from __future__ import annotations

import re
import uuid

import pytest
from werkzeug.datastructures import Headers

from service_kit import response_headers
from service_kit.app import ServiceFlask
from service_kit.observability import mask_personal_data, new_request_id


def test_request_ids_are_uuid4_hex():
    ids = {new_request_id() for _ in range(200)}
    assert len(ids) == 200
    for request_id in ids:
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)
        parsed = uuid.UUID(hex=request_id)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122


def test_headers_added_only_when_missing_and_put_replaces():
    headers = Headers([("Content-Type", "application/json"), ("cache-control", "max-age=5")])
    response_headers.add_missing(headers, [("Cache-Control", "no-store"), ("X-Frame-Options", "DENY")])
    assert headers.getlist("Cache-Control") == ["max-age=5"]
    assert headers["X-Frame-Options"] == "DENY"
    response_headers.put(headers, "X-Frame-Options", "SAMEORIGIN")
    response_headers.put(headers, "X-Request-ID", "abc")
    assert headers.getlist("X-Frame-Options") == ["SAMEORIGIN"] and headers["X-Request-ID"] == "abc"


def test_masking_without_an_at_sign_still_masks_phone_numbers():
    assert mask_personal_data("GET /api/v1/customers/0190abc 200") == "GET /api/v1/customers/0190abc 200"
    assert mask_personal_data("call +31 6 1234 5678") == "call +3***********78"
    assert mask_personal_data("mail anna@example.com") == "mail a***@example.com"


def test_sync_views_and_hooks_are_remembered_async_ones_still_wrapped():
    app = ServiceFlask(__name__)

    def hook():
        return "plain"

    async def coroutine():
        return "async"

    class View:
        def get(self):
            return "method"

    assert app.ensure_sync(hook) is hook and app.ensure_sync(hook) is hook
    first, second = View(), View()
    assert app.ensure_sync(first.get) == first.get and app.ensure_sync(second.get) == second.get
    assert len(app._plain_functions) == 2  # the method by its function, not per instance
    # An async one still goes to Flask's own wrapping (which needs Flask's async extra).
    with pytest.raises(RuntimeError, match="async"):
        app.ensure_sync(coroutine)
