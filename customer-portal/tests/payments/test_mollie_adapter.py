"""The Mollie adapter on Mollie's own client, talking to the loopback fake over HTTP: what
the client sends is what Mollie's API takes (the fake refuses anything else), and what
Mollie answers is read right."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from customer_portal.payments import settings
from customer_portal.payments.mollie import MollieProvider, from_mollie_amount, to_mollie_amount
from customer_portal.payments.provider import PaymentRefused, ProviderError, UnknownPayment
from fake_mollie import FakeMollie

from service_kit.config import ConfigError
from service_kit.fakes import closed_url


def adapter(mollie: FakeMollie, **changes: str) -> MollieProvider:
    return MollieProvider(
        api_key=changes.get("api_key", mollie.api_key), api_url=changes.get("api_url", mollie.url)
    )


def create(provider: MollieProvider, amount: int = 12100, key: str = "k-1") -> str:
    return provider.create_payment(
        amount=amount,
        currency="EUR",
        description="Invoice 2026-0042, Garage De Vries",
        redirect_url="https://portal.example/invoice/t/paid",
        webhook_url="https://portal.example/webhooks/mollie",
        metadata={"invoice_number": "2026-0042"},
        idempotency_key=key,
    ).id


def test_a_payment_is_made_as_mollie_documents_it(mollie: FakeMollie) -> None:
    created = adapter(mollie).create_payment(
        amount=12100,
        currency="EUR",
        description="Invoice 2026-0042, Garage De Vries",
        redirect_url="https://portal.example/invoice/t/paid",
        webhook_url="https://portal.example/webhooks/mollie",
        metadata={"invoice_number": "2026-0042", "portal_payment_id": "p-1"},
        idempotency_key="p-1",
    )
    assert created.id.startswith("tr_") and created.status == "open"
    assert created.checkout_url == f"{mollie.url}/checkout/{created.id}"
    (sent,) = mollie.received("/v2/payments")
    assert sent.method == "POST"
    assert sent.headers["Authorization"] == f"Bearer {mollie.api_key}"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.headers["Idempotency-Key"] == "p-1"
    assert (
        sent.headers["User-Agent"].startswith("Mollie/")
        and "GarageCustomerPortal/1" in sent.headers["User-Agent"]
    )
    assert json.loads(sent.body) == {
        "amount": {"currency": "EUR", "value": "121.00"},
        "description": "Invoice 2026-0042, Garage De Vries",
        "redirectUrl": "https://portal.example/invoice/t/paid",
        "webhookUrl": "https://portal.example/webhooks/mollie",
        "metadata": {"invoice_number": "2026-0042", "portal_payment_id": "p-1"},
    }


def test_the_same_idempotency_key_gives_the_same_payment(mollie: FakeMollie) -> None:
    provider = adapter(mollie)
    assert create(provider, key="same") == create(provider, key="same")
    assert len(mollie.payments) == 1


def test_a_payment_is_read_as_mollie_reports_it(mollie: FakeMollie) -> None:
    provider = adapter(mollie)
    payment_id = create(provider)
    open_payment = provider.get_payment(payment_id)
    assert (open_payment.status, open_payment.paid, open_payment.method, open_payment.paid_at) == (
        "open",
        False,
        None,
        None,
    )
    assert open_payment.metadata == {"invoice_number": "2026-0042"}
    mollie.settle(payment_id, method="bancontact")
    paid = provider.get_payment(payment_id)
    assert paid.paid and paid.status == "paid"
    assert (paid.amount, paid.currency, paid.method) == (12100, "EUR", "bancontact")
    assert paid.paid_at is not None and paid.paid_at.tzinfo is not None
    assert abs((paid.paid_at - datetime.now(UTC)).total_seconds()) < 60


def test_an_id_mollie_does_not_know_is_unknown_and_a_malformed_one_is_never_asked(mollie: FakeMollie) -> None:
    provider = adapter(mollie)
    with pytest.raises(UnknownPayment):
        provider.get_payment("tr_Nobody1234")
    assert len(mollie.received()) == 1
    for junk in ("", "tr_", "re_abc", "tr_a/../../v2/customers", "tr_" + "a" * 65, "tr_é"):
        with pytest.raises(UnknownPayment):
            provider.get_payment(junk)
    assert len(mollie.received()) == 1


def test_mollie_down_a_wrong_key_or_no_answer_is_a_provider_error(mollie: FakeMollie) -> None:
    payment_id = create(adapter(mollie))
    mollie.failing = 503
    with pytest.raises(ProviderError) as down:
        adapter(mollie).get_payment(payment_id)
    assert not isinstance(down.value, UnknownPayment)
    with pytest.raises(ProviderError):
        create(adapter(mollie), key="down")
    mollie.failing = None
    other_key = "test_notthegaragesownkey000000000"  # a made-up key  # pragma: allowlist secret
    with pytest.raises(ProviderError) as wrong_key:
        adapter(mollie, api_key=other_key).get_payment(payment_id)
    assert not isinstance(wrong_key.value, (UnknownPayment, PaymentRefused))
    with pytest.raises(ProviderError):
        adapter(mollie, api_url=closed_url()).get_payment(payment_id)


def test_an_amount_mollie_refuses_is_refused(mollie: FakeMollie) -> None:
    with pytest.raises(PaymentRefused):
        create(adapter(mollie), amount=0)
    assert mollie.payments == {}


@pytest.mark.parametrize(
    ("minor", "currency", "value"),
    [(1, "EUR", "0.01"), (12100, "EUR", "121.00"), (199999, "eur", "1999.99"), (500, "JPY", "500")],
)
def test_amounts_go_to_mollie_with_the_currencys_decimals(minor: int, currency: str, value: str) -> None:
    assert to_mollie_amount(minor, currency) == {"currency": currency.upper(), "value": value}
    assert from_mollie_amount({"currency": currency, "value": value}) == (minor, currency.upper())


@pytest.mark.parametrize(
    "amount", [None, {}, {"currency": "EUR", "value": "1.005"}, {"currency": "EUR", "value": "abc"}]
)
def test_an_amount_mollie_could_not_have_sent_is_an_error(amount: dict[str, str] | None) -> None:
    with pytest.raises(ProviderError):
        from_mollie_amount(amount)


def test_settings_take_a_mollie_key_and_refuse_anything_else() -> None:
    defaults = settings({}, production=False)
    assert defaults["MOLLIE_API_KEY"] == "" and defaults["MOLLIE_API_URL"] == "https://api.mollie.com"
    assert defaults["PAYMENT_FORM_TARGETS"] == ["https://www.mollie.com"]
    assert defaults["OUTBOX_MAX_ATTEMPTS"] == 20
    live_key = "live_abcDEF123"  # a made-up key  # pragma: allowlist secret
    live = settings(
        {
            "MOLLIE_API_KEY": live_key,
            "MOLLIE_CHECKOUT_ORIGINS": "https://a.example, https://b.example",
        },
        True,
    )
    assert live["MOLLIE_API_KEY"] == live_key
    assert live["PAYMENT_FORM_TARGETS"] == ["https://a.example", "https://b.example"]
    for bad in (
        {"MOLLIE_API_KEY": "sk_live_123"},  # a made-up key  # pragma: allowlist secret
        {"MOLLIE_API_URL": "ftp://x"},
        {"MOLLIE_API_URL": "nonsense"},
    ):
        with pytest.raises(ConfigError):
            settings(bad, production=False)
    with pytest.raises(ConfigError, match="https"):
        settings(
            {
                "MOLLIE_API_KEY": "live_abc",  # a made-up key  # pragma: allowlist secret
                "MOLLIE_API_URL": "http://mollie.example",
            },
            production=True,
        )
