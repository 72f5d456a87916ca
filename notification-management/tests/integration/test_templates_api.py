"""Template endpoints: list, read, replace (compiled first, If-Match), add a language,
preview with sample data."""

import base64
import json

import pytest
from notification_management.domain import TYPES

from service_kit.testing import assert_problem

URL = "/api/v1/notification-templates"
TEXTS = {
    "subject": "Your {{ plate | default('vehicle') }} is ready",
    "body": "Dear {{ customer.name }},\n\nIt is ready.\n\n{{ garage.name }}",
    "sms_body": "{{ garage.name }}: ready.",
}


def test_defaults_exist_for_every_type_in_english_and_dutch(client, advisor):
    items = client.get(f"{URL}?limit=200", headers=advisor).get_json()["items"]
    assert {(t["type"], t["language"]) for t in items} == {(t, lang) for t in TYPES for lang in ("en", "nl")}
    assert [(t["type"], t["language"]) for t in items] == sorted((t["type"], t["language"]) for t in items)


def test_list_filters_and_pages(client, advisor):
    dutch = client.get(f"{URL}?language=nl", headers=advisor).get_json()["items"]
    assert len(dutch) == len(TYPES)
    one_type = client.get(f"{URL}?type=invoice_issued", headers=advisor).get_json()["items"]
    assert [t["language"] for t in one_type] == ["en", "nl"]
    first = client.get(f"{URL}?limit=5", headers=advisor).get_json()
    second = client.get(f"{URL}?limit=5&cursor={first['next_cursor']}", headers=advisor).get_json()
    assert len(first["items"]) == len(second["items"]) == 5
    assert first["items"][-1]["type"] <= second["items"][0]["type"]
    assert_problem(client.get(f"{URL}?cursor=nonsense", headers=advisor), 422)
    forged = base64.urlsafe_b64encode(json.dumps(["vehicle_ready", "e\x00n"]).encode()).decode()
    assert_problem(client.get(f"{URL}?cursor={forged}", headers=advisor), 422)


def test_characters_no_template_can_have_find_nothing(client, advisor):
    assert_problem(client.get(f"{URL}?language=e%00n", headers=advisor), 422)
    assert_problem(client.get(f"{URL}/vehicle_ready/e%00n", headers=advisor), 404)
    assert_problem(client.post(f"{URL}/vehicle_ready/e%00n/preview", json={}, headers=advisor), 404)
    assert_problem(client.put(f"{URL}/vehicle_ready/e%00n", json=TEXTS, headers=advisor), 422)


def test_get_one_with_etag(client, advisor):
    response = client.get(f"{URL}/vehicle_ready/nl", headers=advisor)
    assert response.status_code == 200
    assert response.headers["ETag"] == '"1"'
    body = response.get_json()
    assert body["subject"] == "Uw voertuig is klaar"
    assert body["updated_by"] == "migration 0002"


def test_unknown_type_or_language_is_404(client, advisor):
    assert_problem(client.get(f"{URL}/birthday_card/en", headers=advisor), 404)
    assert_problem(client.get(f"{URL}/vehicle_ready/de", headers=advisor), 404)


def test_replace_with_if_match_bumps_the_version(client, advisor):
    response = client.put(f"{URL}/vehicle_ready/en", json=TEXTS, headers={**advisor, "If-Match": '"1"'})
    assert response.status_code == 200
    assert response.headers["ETag"] == '"2"'
    body = response.get_json()
    assert (body["subject"], body["version"], body["updated_by"]) == (TEXTS["subject"], 2, "dev-user")
    assert client.get(f"{URL}/vehicle_ready/en", headers=advisor).get_json()["body"] == TEXTS["body"]


def test_replace_with_a_stale_if_match_is_412_and_changes_nothing(client, advisor):
    client.put(f"{URL}/vehicle_ready/en", json=TEXTS, headers=advisor)
    stale = client.put(
        f"{URL}/vehicle_ready/en", json={**TEXTS, "subject": "late"}, headers={**advisor, "If-Match": '"1"'}
    )
    assert assert_problem(stale, 412)["current_version"] == 2
    assert client.get(f"{URL}/vehicle_ready/en", headers=advisor).get_json()["subject"] == TEXTS["subject"]


def test_unchanged_texts_keep_the_version(client, advisor):
    client.put(f"{URL}/vehicle_ready/en", json=TEXTS, headers=advisor)
    again = client.put(f"{URL}/vehicle_ready/en", json=TEXTS, headers=advisor)
    assert again.get_json()["version"] == 2


def test_a_template_that_does_not_compile_is_422_naming_field_and_line(client, advisor):
    broken = {**TEXTS, "body": "Dear {{ customer.name }},\n{% if plate %}no end"}
    problem = assert_problem(client.put(f"{URL}/vehicle_ready/en", json=broken, headers=advisor), 422)
    assert list(problem["errors"]) == ["body"]
    assert problem["errors"]["body"][0].startswith("line 2:")
    blank = assert_problem(
        client.put(f"{URL}/vehicle_ready/en", json={**TEXTS, "sms_body": "   "}, headers=advisor), 422
    )
    assert "sms_body" in blank["errors"]


def test_adding_a_language_is_201_with_location(client, advisor):
    response = client.put(f"{URL}/vehicle_ready/de", json=TEXTS, headers=advisor)
    assert response.status_code == 201
    assert response.headers["Location"] == f"{URL}/vehicle_ready/de"
    assert response.get_json()["version"] == 1
    assert client.get(f"{URL}/vehicle_ready/de", headers=advisor).status_code == 200


def test_if_match_on_a_template_that_does_not_exist_is_412(client, advisor):
    assert_problem(
        client.put(f"{URL}/vehicle_ready/de", json=TEXTS, headers={**advisor, "If-Match": '"1"'}), 412
    )


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/birthday_card/en", TEXTS, 404),
        ("/vehicle_ready/Deutsch", TEXTS, 422),
        ("/vehicle_ready/en", {"subject": "only a subject"}, 422),
        ("/vehicle_ready/en", {**TEXTS, "html": "<p>"}, 422),
    ],
)
def test_bad_replacements(client, advisor, path, body, status):
    assert_problem(client.put(f"{URL}{path}", json=body, headers=advisor), status)


def test_preview_renders_the_stored_template_with_sample_data(client, advisor):
    response = client.post(f"{URL}/invoice_issued/nl/preview", json={}, headers=advisor)
    assert response.status_code == 200
    preview = response.get_json()
    assert preview["subject"] == "Factuur 2026-000042 van Garage Jansen"
    assert "Beste Ann de Vries," in preview["body"]
    assert "€ 242,00" in preview["sms_body"]
    assert preview["data"]["number"] == "2026-000042"


def test_preview_takes_data_and_a_draft(client, advisor):
    response = client.post(
        f"{URL}/vehicle_ready/en/preview",
        json={"data": {"plate": "XY-99-Z"}, "subject": "{{ plate }} is ready for {{ customer.name }}"},
        headers=advisor,
    )
    assert response.get_json()["subject"] == "XY-99-Z is ready for Ann de Vries"
    assert "XY-99-Z" in response.get_json()["sms_body"], "the stored SMS text, with the data given"
    assert client.get(f"{URL}/vehicle_ready/en", headers=advisor).get_json()["version"] == 1, "nothing saved"


def test_preview_of_a_draft_that_needs_missing_data_is_422(client, advisor):
    problem = assert_problem(
        client.post(f"{URL}/vehicle_ready/en/preview", json={"body": "{{ mileage }} km"}, headers=advisor),
        422,
    )
    assert "mileage" in problem["errors"]["body"][0]


def test_preview_of_a_draft_that_does_not_compile_is_422(client, advisor):
    problem = assert_problem(
        client.post(f"{URL}/vehicle_ready/en/preview", json={"subject": "{{ oops"}, headers=advisor), 422
    )
    assert "subject" in problem["errors"]


def test_preview_is_sandboxed(client, advisor):
    problem = assert_problem(
        client.post(
            f"{URL}/vehicle_ready/en/preview",
            json={"body": "{{ customer.__class__.__mro__[1].__subclasses__() }}"},
            headers=advisor,
        ),
        422,
    )
    assert "body" in problem["errors"]


def test_preview_of_a_new_language_needs_a_whole_draft(client, advisor):
    assert_problem(
        client.post(f"{URL}/vehicle_ready/de/preview", json={"subject": "x"}, headers=advisor), 404
    )
    response = client.post(f"{URL}/vehicle_ready/de/preview", json=TEXTS, headers=advisor)
    assert response.status_code == 200
    assert_problem(client.post(f"{URL}/birthday_card/en/preview", json={}, headers=advisor), 404)
