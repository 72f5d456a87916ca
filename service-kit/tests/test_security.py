"""Limits applied before any service code: body size, rate limits, headers, masking."""

import io
import time

import pytest

from service_kit.observability import mask_personal_data

LIMITED = {
    "RATE_LIMIT_ENABLED": "true",
    "RATE_LIMIT_READ": "3 per minute",
    "RATE_LIMIT_WRITE": "2 per minute",
    "RATE_LIMIT_SERVICE": "6 per minute",
}


def test_security_headers_on_every_response(client):
    for response in (client.get("/healthz"), client.get("/api/v1/toys"), client.get("/nowhere")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert client.get("/api/v1/toys").headers["Cache-Control"] == "no-store"


def test_oversized_body_is_a_413_problem(client):
    response = client.post(
        "/api/v1/toys/echo", data=b"x" * (1024 * 1024 + 1), content_type="application/json"
    )
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_rate_limit_answers_429_problem_with_retry_after(client):
    statuses = [client.get("/api/v1/toys").status_code for _ in range(5)]
    assert statuses == [401, 401, 401, 429, 429]
    limited = client.get("/api/v1/toys")
    assert limited.mimetype == "application/problem+json"
    assert int(limited.headers["Retry-After"]) > 0


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_reads_and_writes_are_counted_apart_and_health_never(client):
    assert [client.post("/api/v1/toys/echo").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/api/v1/toys").status_code == 401  # reads still have quota
    assert all(client.get("/healthz").status_code == 200 for _ in range(10))


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_each_client_has_its_own_quota(app, client):
    from service_kit.auth import mint_token

    def as_user(subject):
        return {"Authorization": f"Bearer {mint_token(app.config, roles=['advisor'], subject=subject)}"}

    assert [client.get("/api/v1/toys", headers=as_user("anna")).status_code for _ in range(4)] == [
        200
    ] * 3 + [429]
    assert client.get("/api/v1/toys", headers=as_user("bram")).status_code == 200


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("sent to ann.de.vries@example.com", "sent to a***@example.com"),
        ("sms to +31612345678 failed", "sms to +3********78 failed"),
        ("call 0612345678", "call 06******78"),
        ("invoice 2026-000042 on 2026-11-25", "invoice 2026-000042 on 2026-11-25"),
    ],
)
def test_personal_data_is_masked_in_logs(text, masked):
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"json": {"name": "a\x00b"}}, "name"),
        ({"json": {"lines": [{"note": "ok"}, {"note": "\x00"}]}}, "lines[1].note"),
        ({"json": {"data": {"no\x00te": "a key"}}}, "data.no\x00te"),
        ({"data": '{"name": "\\ud800"}', "content_type": "application/json"}, "name"),
        ({"query_string": {"q": "x\x00"}}, "q"),
        ({"query_string": [("q", "fine"), ("q", "x\x00")]}, "q"),
    ],
)
def test_text_postgresql_cannot_store_is_422_naming_the_field(app, client, kwargs, field):
    from service_kit.auth import mint_token

    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=['advisor'])}"}
    for path, request_headers in (
        ("/api/v1/toys/notes", headers),
        ("/api/v1/toys/notes", {}),  # checked before, and apart from, who asks
        ("/api/v1/toys/echo", {}),  # and on endpoints that ask for no token
    ):
        response = client.post(path, headers=request_headers, **kwargs)
        assert response.status_code == 422
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["errors"][field] == [
            "must not contain NUL characters or unpaired surrogates"
        ]


def test_a_chunked_json_body_is_checked_too(client):
    response = client.post(
        "/api/v1/toys/echo",
        input_stream=io.BytesIO(b'{"name": "a\\u0000b"}'),
        # As a server passes a chunked body on: no Content-Length, an input that ends.
        environ_overrides={"CONTENT_LENGTH": "", "wsgi.input_terminated": True},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert "name" in response.get_json()["errors"]


def test_storable_text_and_bodies_that_are_not_json_pass(client):
    assert client.post("/api/v1/toys/echo", json={"name": "Ann \u00e9 \U0001f600"}).status_code == 200
    assert client.post("/api/v1/toys/echo", data="a\x00b", content_type="text/plain").status_code == 200


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_the_rate_limit_comes_before_the_text_check(client):
    statuses = [client.post("/api/v1/toys/echo", json={"name": "\x00"}).status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_services_have_their_own_larger_quota(app, client):
    from service_kit.auth import mint_token

    token = mint_token(app.config, roles=["service", "advisor"], subject="vehicle-management")
    headers = {"Authorization": f"Bearer {token}"}
    assert [client.get("/api/v1/toys", headers=headers).status_code for _ in range(7)] == [200] * 6 + [429]


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_rate_limit_headers_tell_the_client_where_it_stands(app, client):
    from service_kit.auth import mint_token

    headers = {"Authorization": f"Bearer {mint_token(app.config, roles=['advisor'], subject='cas')}"}
    first, second = client.get("/api/v1/toys", headers=headers), client.get("/api/v1/toys", headers=headers)
    assert (first.headers["X-RateLimit-Limit"], first.headers["X-RateLimit-Remaining"]) == ("3", "2")
    assert second.headers["X-RateLimit-Remaining"] == "1"
    assert 0 < int(second.headers["X-RateLimit-Reset"]) - time.time() <= 60  # the minute's end


@pytest.mark.parametrize(
    "app", [{**LIMITED, "RATE_LIMIT_STORAGE_URL": "redis://127.0.0.1:9/0"}], indirect=True
)
def test_a_rate_limit_store_that_fails_is_replaced_by_counting_in_memory(client):
    # Nothing listens on port 9: every request still gets its answer, and the limit holds.
    assert [client.get("/api/v1/toys").status_code for _ in range(4)] == [401, 401, 401, 429]


def _redis_or_skip(url: str = "redis://127.0.0.1:6379/15") -> str:
    import redis

    try:
        redis.Redis.from_url(url, socket_timeout=1).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    return url


def test_counting_in_redis_one_round_trip_and_after_the_script_is_flushed():
    import redis

    from service_kit.security import RateLimiter, _parsed

    url = _redis_or_skip()
    limiter = RateLimiter({"SERVICE_NAME": f"kit-test-{time.time_ns()}", "RATE_LIMIT_STORAGE_URL": url})
    limit = _parsed("3 per minute")
    counts = [limiter.hit("sub:anna/toys/GET", limit)[0] for _ in range(2)]
    redis.Redis.from_url(
        url
    ).script_flush()  # Redis restarted, or scripts flushed: the script is loaded again
    counts += [limiter.hit("sub:anna/toys/GET", limit)[0] for _ in range(2)]
    assert counts == [1, 2, 3, 4]
    assert limiter.hit("sub:bram/toys/GET", limit)[0] == 1
    assert limiter._storage_down_until == 0.0  # never fell back to memory
    # The counter expires with its window.
    key = next(iter(redis.Redis.from_url(url).scan_iter(f"*{limiter.prefix}*anna*")))
    assert 0 < redis.Redis.from_url(url).ttl(key) <= 60


@pytest.mark.parametrize("app", [LIMITED], indirect=True)
def test_a_providers_webhook_gets_the_services_quota_not_one_persons(app, client):
    # An SMS provider posts every customer's STOP from a few addresses: two writes a minute
    # for a person, six for a provider's webhook (and the services).
    from flask import Response

    from service_kit.security import provider_webhook

    def replies() -> Response:
        return Response("", 200)

    app.add_url_rule("/webhooks/replies", "replies", provider_webhook(replies), methods=["POST"])
    statuses = [client.post("/webhooks/replies").status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]
    assert [client.post("/api/v1/toys/echo").status_code for _ in range(3)] == [200, 200, 429]
