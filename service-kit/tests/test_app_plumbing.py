"""What every service gets from create_service_app: problems, ids, health, docs, CORS."""

import logging
import re

PROBLEM = "application/problem+json"


def test_unexpected_exception_is_a_500_problem_without_traceback(client, caplog):
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/toys/boom")
    assert response.status_code == 500
    assert response.mimetype == PROBLEM
    body = response.get_data(as_text=True)
    assert "secret internals" not in body and "Traceback" not in body
    assert response.get_json()["title"] == "Internal Server Error"
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert "secret internals" in logged


def test_problem_exceptions_carry_status_type_and_extensions(client):
    response = client.get("/api/v1/toys/conflict")
    assert response.status_code == 409
    assert response.get_json() == {
        "type": "urn:garage:problem:conflict",
        "title": "Conflict",
        "status": 409,
        "detail": "the toy is already taken",
        "current_owner": "someone",
    }


def test_the_documented_problem_schema_allows_extension_members(client):
    """Found by the system tests' contract fuzzing: every 412 (``current_version``) and
    every refused transition (``current_status``) broke the contract's Problem schema."""
    import jsonschema

    spec = client.get("/openapi.json").get_json()
    problem = client.get("/api/v1/toys/conflict").get_json()
    assert problem["current_owner"] == "someone"
    schema = {**spec["components"]["schemas"]["Problem"], "components": spec["components"]}
    jsonschema.validate(problem, schema)


def test_unknown_route_is_a_404_problem(client):
    response = client.get("/api/v1/nothing-here")
    assert (response.status_code, response.mimetype) == (404, PROBLEM)


def test_wrong_method_is_a_405_problem_with_allow(client):
    response = client.delete("/api/v1/toys")
    assert (response.status_code, response.mimetype) == (405, PROBLEM)
    assert "GET" in response.headers["Allow"]


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    # Something that could break a log line is not trusted.
    replaced = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces and {braces}"}).headers[
        "X-Request-ID"
    ]
    assert re.fullmatch(r"[0-9a-f]{32}", replaced)


def test_healthz_does_no_io_and_readyz_names_the_database(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    response = client.get("/readyz")
    assert (response.status_code, response.mimetype) == (503, PROBLEM)
    assert response.get_json()["dependency"] == "database"


def test_metrics_count_requests(client):
    client.get("/healthz")
    client.get("/api/v1/toys")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'http_requests_total{endpoint="/api/v1/toys",method="GET",service="toy",status="401"}' in text
    assert "http_request_duration_seconds_bucket" in text


def test_openapi_and_docs_are_served(client):
    spec = client.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/toys"]["get"]
    assert operation["security"] == [{"bearerAuth": []}]
    assert operation["x-roles"] == ["advisor"]
    assert {"401", "403"} <= set(operation["responses"])
    assert "application/problem+json" in spec["components"]["responses"]["UNAUTHORIZED"]["content"]
    assert client.get("/docs").status_code == 200


def test_the_docs_page_loads_nothing_from_another_host(client):
    page = client.get("/docs")
    html = page.get_data(as_text=True)
    assert "cdn" not in html.lower() and "https://" not in html
    for asset in ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js"):
        assert f'"/docs/assets/{asset}"' in html
        served = client.get(f"/docs/assets/{asset}")
        assert served.status_code == 200 and len(served.data) > 10_000, asset
    assert "script-src 'self' 'unsafe-inline'" in page.headers["Content-Security-Policy"]
    assert "default-src 'none'" in client.get("/openapi.json").headers["Content-Security-Policy"]
    assert client.get("/docs/assets/../../app.py").status_code == 404


def test_cors_preflight_allows_the_front_end_headers(client):
    response = client.options(
        "/api/v1/toys",
        headers={
            "Origin": "https://desk.garage.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Authorization, Idempotency-Key, If-Match",
        },
    )
    assert response.headers["Access-Control-Allow-Origin"] in ("*", "https://desk.garage.example")
    allowed = response.headers["Access-Control-Allow-Headers"].lower()
    assert {"authorization", "idempotency-key", "if-match"} <= set(h.strip() for h in allowed.split(","))


def test_cors_headers_go_to_browsers_and_only_to_them(client):
    from_browser = client.get("/api/v1/toys", headers={"Origin": "https://desk.garage.example"})
    assert from_browser.headers["Access-Control-Allow-Origin"] in ("*", "https://desk.garage.example")
    assert "X-Request-ID" in from_browser.headers["Access-Control-Expose-Headers"]
    from_a_service = client.get("/api/v1/toys")  # no Origin: no CORS work, but caches learn it matters
    assert "Access-Control-Allow-Origin" not in from_a_service.headers
    assert "Origin" in from_a_service.headers["Vary"]


def test_log_lines_are_json_with_the_request_id(app, client, capsys):
    import json

    from service_kit.observability import JsonFormatter

    records = []

    class Capture(logging.Handler):
        def emit(self, record):
            records.append(JsonFormatter("toy").format(record))

    handler = Capture()
    logging.getLogger("toy.access").addHandler(handler)
    logging.getLogger("toy.access").setLevel(logging.INFO)
    try:
        client.get("/api/v1/toys", headers={"X-Request-ID": "trace-me"})
    finally:
        logging.getLogger("toy.access").removeHandler(handler)
    line = json.loads(records[-1])
    assert line["request_id"] == "trace-me"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/api/v1/toys", 401)
