"""The return page's figures: a paid payment counts once, whichever of the page and the
webhook recorded it in invoicing first."""

from __future__ import annotations

from typing import Any

from customer_portal.payments.models import Payment
from customer_portal.payments.provider import PAID
from customer_portal.payments.views import shown_invoice


def paid_payment(**changes: Any) -> Payment:
    payment = Payment(
        provider="mollie",
        provider_payment_id="tr_7UhSN1zuXS",
        invoice_number="2026-000042",
        currency="EUR",
        amount=7260,
        paid_amount=7260,
        status=PAID,
    )
    for name, value in changes.items():
        setattr(payment, name, value)
    return payment


def invoice(paid: int, balance: int, online: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "number": "2026-000042",
        "currency": "EUR",
        "totals": {"gross": 7260},
        "paid": paid,
        "balance_due": balance,
        "online_payments": online,
    }


def figures(shown: dict[str, Any]) -> tuple[Any, ...]:
    return shown["paid"], shown["balance_due"], shown["settled"], shown["on_its_way"]


def test_a_payment_invoicing_has_not_recorded_yet_is_counted_in():
    shown = shown_invoice(invoice(0, 7260, []), paid_payment())
    assert figures(shown) == (7260, 0, True, True)


def test_a_payment_invoicing_holds_is_not_counted_twice_though_the_row_is_not_marked_yet():
    # The webhook's delivery reached invoicing; the portal's row has no recorded_at yet.
    held = [{"provider": "mollie", "provider_payment_id": "tr_7UhSN1zuXS", "amount": 7260}]
    shown = shown_invoice(invoice(7260, 0, held), paid_payment(recorded_at=None))
    assert figures(shown) == (7260, 0, True, False)


def test_another_payment_held_by_invoicing_does_not_hide_this_one():
    held = [{"provider": "mollie", "provider_payment_id": "tr_earlierPart", "amount": 2000}]
    shown = shown_invoice(invoice(2000, 5260, held), paid_payment(paid_amount=5260))
    assert (shown["paid"], shown["balance_due"], shown["settled"]) == (7260, 0, True)
