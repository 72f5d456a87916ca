"""password_reset: a service email to someone who is not a customer (identity's staff),
addressed directly (addressee: email, name, language), rendered in English and Dutch,
sent whatever any consent; customer-management is not asked. Its data (the link) is
never shown back through the API."""

import pytest

from service_kit.testing import assert_problem

LINK = "https://garage.example/oauth/password-reset/new?token=abc123"


def reset_request(language="en", **changes):
    body = {
        "type": "password_reset",
        "addressee": {"email": "anna@garage.example", "name": "Anna de Vries", "language": language},
        "data": {"link": LINK, "expires_minutes": 30},
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("language", "subject", "greeting", "validity"),
    [
        ("en", "Set a new password for Garage Jansen", "Hello Anna de Vries,", "within 30 minutes"),
        ("nl", "Nieuw wachtwoord instellen voor Garage Jansen", "Hallo Anna de Vries,", "binnen 30 minuten"),
    ],
)
def test_it_is_emailed_to_the_addressee_in_their_language(
    client, service_headers, dispatcher, mail, customers, fetch, language, subject, greeting, validity
):
    headers = {**service_headers, "Idempotency-Key": f"password-reset-{language}"}
    accepted = client.post("/api/v1/notifications", json=reset_request(language), headers=headers)
    assert accepted.status_code == 202, accepted.get_json()
    body = accepted.get_json()
    assert body["customer_id"] is None and body["data"] == {}  # the link is not shown back

    stats = dispatcher().run_once()

    assert (stats.sent, stats.skipped, stats.dead) == (1, 0, 0)
    assert customers.received() == []  # no customer to look up
    (message,) = mail.messages
    assert mail.envelopes[0].rcpt_tos == ["anna@garage.example"]
    assert message["Subject"] == subject
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert greeting in text and LINK in text and validity in text
    seen = fetch(body["id"])
    assert (
        seen["status"] == "sent"
        and seen["language"] == language
        and seen["recipient"] == "a***@garage.example"
    )
    assert seen["data"] == {}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"customer_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", "addressee": None}, "addressee"),
        ({"customer_id": "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b"}, "addressee"),
        ({"channel": "sms"}, "channel"),
        ({"type": "vehicle_ready"}, "customer_id"),
    ],
)
def test_it_goes_to_an_addressee_by_email_and_nothing_else_does(client, service_headers, changes, field):
    body = {k: v for k, v in reset_request(**changes).items() if v is not None}
    problem = assert_problem(client.post("/api/v1/notifications", json=body, headers=service_headers), 422)
    assert field in problem["errors"]


@pytest.mark.parametrize("language", ["en", "nl"])
def test_its_templates_preview_in_english_and_dutch(client, advisor, language):
    answer = client.post(
        f"/api/v1/notification-templates/password_reset/{language}/preview", json={}, headers=advisor
    )
    assert answer.status_code == 200, answer.get_json()
    assert "oauth/password-reset" in answer.get_json()["body"]
