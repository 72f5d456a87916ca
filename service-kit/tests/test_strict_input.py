"""A JSON body is taken as it is typed or refused: no field coerces (197.32 cents
stored as 197 was a silent loss of money)."""

from __future__ import annotations

import marshmallow as ma
import pytest
from flask.views import MethodView

from service_kit.blueprint import ServiceBlueprint
from service_kit.validation import strict_body

payments = ServiceBlueprint("payments", __name__, url_prefix="/api/v1/payments")


class LineSchema(ma.Schema):
    hours = ma.fields.Integer(required=True)


class PaymentSchema(ma.Schema):
    amount = ma.fields.Integer(required=True)
    refund = ma.fields.Boolean(load_default=False)
    lines = ma.fields.List(ma.fields.Nested(LineSchema), load_default=list)
    tags = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), load_default=dict)


class PageArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=20)
    open = ma.fields.Boolean(load_default=False)


@payments.route("")
class Payments(MethodView):
    @payments.arguments(PageArgs, location="query")
    @payments.response(200)
    def get(self, args):
        return args

    @payments.arguments(PaymentSchema)
    @payments.response(201)
    def post(self, body):
        return body


@pytest.fixture
def client(make_toy_app):
    return make_toy_app(blueprints=(payments,)).test_client()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 197.32}, "amount"),
        ({"amount": 197.0}, "amount"),
        ({"amount": "197"}, "amount"),
        ({"amount": 1, "refund": "yes"}, "refund"),
        ({"amount": 1, "refund": 1}, "refund"),
        ({"amount": 1, "lines": [{"hours": 1.5}]}, "lines"),
        ({"amount": 1, "tags": {"a": 2.5}}, "tags"),
    ],
)
def test_a_value_of_another_type_is_refused_naming_the_field(client, body, field):
    response = client.post("/api/v1/payments", json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]


def test_values_of_the_documented_type_are_taken(client):
    body = {"amount": 19732, "refund": True, "lines": [{"hours": 2}], "tags": {"a": 3}}
    response = client.post("/api/v1/payments", json=body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == body


def test_query_strings_are_text_and_still_read_as_numbers(client):
    response = client.get("/api/v1/payments?limit=5&open=true")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"limit": 5, "open": True}


def test_the_schema_class_is_left_as_it_was():
    strict_body(PaymentSchema)
    assert PaymentSchema().load({"amount": "197"}) == {
        "amount": 197,
        "refund": False,
        "lines": [],
        "tags": {},
    }


def test_a_body_that_is_not_json_is_a_bad_request_from_the_table(client):
    response = client.post("/api/v1/payments", data="{", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["title"] == "Bad Request"
    assert response.get_json()["type"] == "urn:garage:problem:bad-request"


@payments.route("/<uuid:payment_id>")
class PaymentById(MethodView):
    @payments.response(200)
    def get(self, payment_id):
        return {"id": str(payment_id)}


@pytest.mark.parametrize(
    ("data", "content_type"),
    [("amount=5", "application/x-www-form-urlencoded"), ('{"amount": 5}', "text/plain")],
)
def test_a_body_that_is_not_json_by_its_content_type_is_415(client, data, content_type):
    response = client.post("/api/v1/payments", data=data, content_type=content_type)
    assert response.status_code == 415
    assert response.get_json()["type"] == "urn:garage:problem:unsupported-media-type"
    assert content_type.split(";")[0] in response.get_json()["detail"]


def test_a_path_id_that_is_no_uuid_is_a_404_problem_saying_so(client):
    response = client.get("/api/v1/payments/12345")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["detail"] == "'12345' is not an id: ids here are UUIDs"
    payment_id = "0190a5a5-0000-7000-8000-000000000001"
    assert client.get(f"/api/v1/payments/{payment_id}").get_json() == {"id": payment_id}
