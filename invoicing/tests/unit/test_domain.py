"""Invoicing rules without I/O: rounding, totals on awkward cases, discounts, credits,
balances, statuses, ageing and numbers."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal

import pytest
from invoicing.domain import Balance, CreditableLine, Discount, LineInput

from invoicing import domain, minor_units
from service_kit.problems import Conflict, Unprocessable


def line(quantity: int, price: int, rate: str = "21", **more) -> LineInput:
    return LineInput(
        kind=more.pop("kind", "part"),
        description=more.pop("description", "part"),
        quantity_hundredths=quantity,
        unit_price=price,
        vat_rate=Decimal(rate),
        **more,
    )


# ------------------------------------------------------------------------------ rounding


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (-5, 10, -1), (-15, 10, -2), (-4, 10, 0), (0, 7, 0), (10, 10, 1)],
)
def test_half_up_rounds_halves_away_from_zero(numerator, denominator, expected):
    assert minor_units.half_up(numerator, denominator) == expected


def test_line_amount_is_quantity_times_price_half_up_to_the_cent():
    assert minor_units.line_amount(150, 6000) == 9000  # 1.5 h x 60.00
    assert minor_units.line_amount(125, 7350) == 9188  # 91.875 -> 91.88
    assert minor_units.line_amount(50, 1) == 1  # half a cent rounds up
    assert minor_units.line_amount(49, 1) == 0
    assert minor_units.line_amount(1, 1) == 0
    assert minor_units.line_amount(333, 333) == 1109  # 11.0889 -> 11.09


def test_vat_is_half_up_per_line():
    assert minor_units.vat_on(250, Decimal("21")) == 53  # 52.5 -> 53
    assert minor_units.vat_on(249, Decimal("21")) == 52  # 52.29
    assert minor_units.vat_on(1000, Decimal("9.00")) == 90
    assert minor_units.vat_on(1111, Decimal("5.5")) == 61  # 61.105 -> 61
    assert minor_units.vat_on(5, Decimal("10")) == 1  # 0.5 -> 1
    assert minor_units.vat_on(12345, Decimal("0")) == 0


def test_rates_and_percentages_keep_two_decimals_or_are_refused():
    assert minor_units.hundredths("21.5") == 2150
    assert minor_units.percent("7") == Decimal("7.00")
    for bad in ("1.234", "abc", "NaN", "-1", "100.01"):
        with pytest.raises(ValueError):
            minor_units.percent(bad)


# -------------------------------------------------------------------------------- totals


def test_vat_is_summed_from_lines_not_rounded_on_the_total():
    """Three lines of 2.50 at 21%: 0.525 each rounds to 0.53 per line (1.59 in all),
    where rounding 1.575 on the total would give 1.58."""
    pricing = domain.price([line(100, 250)] * 3)
    assert [priced.vat for priced in pricing.lines] == [53, 53, 53]
    assert pricing.totals.vat == 159
    assert pricing.vat_breakdown == [domain.VatRow(Decimal("21.00"), 750, 159)]


def test_mixed_rates_give_a_breakdown_per_rate_lowest_first():
    pricing = domain.price(
        [line(100, 1000, "21"), line(200, 333, "9"), line(100, 500, "0"), line(150, 100, "21")]
    )
    assert pricing.vat_breakdown == [
        domain.VatRow(Decimal("0.00"), 500, 0),
        domain.VatRow(Decimal("9.00"), 666, 60),
        domain.VatRow(Decimal("21.00"), 1150, 210 + 32),
    ]
    assert pricing.totals.net == 500 + 666 + 1150
    assert pricing.totals.vat == 60 + 242
    assert pricing.totals.gross == pricing.totals.net + pricing.totals.vat


def test_many_lines_add_up_exactly():
    rng = random.Random(42)
    lines = [
        line(rng.randint(1, 5000), rng.randint(0, 250_00), rng.choice(["0", "9", "21", "5.5"]))
        for _ in range(500)
    ]
    pricing = domain.price(lines, discount=Discount(percent=Decimal("12.5")))
    totals = pricing.totals
    assert totals.net == sum(priced.net for priced in pricing.lines)
    assert totals.vat == sum(priced.vat for priced in pricing.lines)
    assert totals.subtotal - totals.line_discounts - totals.invoice_discount == totals.net
    assert sum(row.net for row in pricing.vat_breakdown) == totals.net
    assert sum(row.vat for row in pricing.vat_breakdown) == totals.vat
    assert all(priced.net >= 0 for priced in pricing.lines)
    for priced in pricing.lines:
        assert priced.vat == minor_units.vat_on(priced.net, priced.vat_rate)


def test_line_discount_by_percent_and_by_amount():
    pricing = domain.price(
        [
            line(100, 1005, discount=Discount(percent=Decimal("10"))),  # 100.5 -> 101 off
            line(100, 2000, discount=Discount(amount=750)),
            line(100, 999, discount=Discount(percent=Decimal("100"))),
        ]
    )
    assert [priced.line_discount for priced in pricing.lines] == [101, 750, 999]
    assert [priced.net for priced in pricing.lines] == [904, 1250, 0]
    assert [priced.vat for priced in pricing.lines] == [190, 263, 0]
    assert pricing.totals.line_discounts == 1850


def test_invoice_discount_is_spread_over_the_lines_so_each_rate_carries_its_share():
    pricing = domain.price(
        [line(100, 10000, "21"), line(100, 5000, "9"), line(100, 5000, "21")],
        discount=Discount(amount=1001),
    )
    shares = [priced.invoice_discount for priced in pricing.lines]
    assert sum(shares) == 1001
    assert shares == [501, 250, 250]  # 500.5 / 250.25 / 250.25: the odd cent to the largest remainder
    assert [priced.net for priced in pricing.lines] == [9499, 4750, 4750]
    assert pricing.vat_breakdown == [
        domain.VatRow(Decimal("9.00"), 4750, 428),  # 427.5 -> 428
        domain.VatRow(Decimal("21.00"), 14249, 1995 + 998),  # 1994.79 -> 1995, 997.5 -> 998
    ]


def test_invoice_discount_comes_after_line_discounts():
    pricing = domain.price(
        [line(100, 10000, discount=Discount(amount=2000)), line(100, 10000)],
        discount=Discount(percent=Decimal("10")),
    )
    assert pricing.totals.invoice_discount == 1800  # 10% of 8000 + 10000
    assert [priced.invoice_discount for priced in pricing.lines] == [800, 1000]


def test_discounts_larger_than_what_they_discount_are_refused():
    with pytest.raises(Unprocessable) as caught:
        domain.price([line(100, 1000)], discount=Discount(amount=1001))
    assert "discount" in caught.value.errors
    with pytest.raises(Unprocessable) as caught:
        domain.price([line(100, 1000), line(100, 1000, discount=Discount(amount=1001))])
    assert "line_discounts.1" in caught.value.errors
    with pytest.raises(Unprocessable):
        domain.price([line(100, 1000)], discount=Discount(percent=Decimal("5"), amount=5))
    with pytest.raises(Unprocessable):
        domain.price([line(100, 1000)], discount=Discount())


def test_a_whole_invoice_discount_leaves_zero():
    pricing = domain.price(
        [line(100, 1234, "21"), line(300, 99, "9")], discount=Discount(percent=Decimal("100"))
    )
    assert pricing.totals.net == pricing.totals.vat == 0


@pytest.mark.parametrize(
    ("total", "weights", "expected"),
    [
        (10, [1, 1, 1], [4, 3, 3]),
        (2, [1, 1, 1], [1, 1, 0]),
        (0, [5, 5], [0, 0]),
        (7, [0, 7], [0, 7]),
        (5, [0, 0], [0, 0]),
        (100, [1, 2, 97], [1, 2, 97]),
    ],
)
def test_allocate_splits_exactly_and_never_beyond_a_weight(total, weights, expected):
    assert minor_units.allocate(total, weights) == expected


def test_allocate_holds_on_random_cases():
    rng = random.Random(7)
    for _ in range(500):
        weights = [rng.randint(0, 10_000) for _ in range(rng.randint(1, 30))]
        total = rng.randint(0, sum(weights))
        shares = minor_units.allocate(total, weights)
        assert sum(shares) == (total if sum(weights) else 0)
        assert all(0 <= share <= weight for share, weight in zip(shares, weights, strict=True))


# ------------------------------------------------------------------------------- credits


def creditable(net: int = 10000, vat: int = 2100, quantity: int = 300, **more) -> CreditableLine:
    return CreditableLine(
        id="L1", quantity_hundredths=quantity, net=net, vat=vat, vat_rate=Decimal("21"), **more
    )


def test_a_whole_line_credit_takes_exactly_what_is_left():
    credit = domain.credit_line(creditable(credited_net=2500, credited_vat=525))
    assert (credit.net, credit.vat) == (7500, 1575)


def test_crediting_a_line_in_parts_ends_at_zero_to_the_cent():
    """10001 over 3 units: thirds of 3333.67 round up, so the last third must take what
    is left rather than be refused for a cent."""
    line_ = creditable(net=10001, vat=2100, quantity=300)
    parts = []
    for _ in range(3):
        credit = domain.credit_line(line_, quantity_hundredths=100)
        parts.append(credit)
        line_ = creditable(
            net=10001,
            vat=2100,
            quantity=300,
            credited_net=line_.credited_net + credit.net,
            credited_vat=line_.credited_vat + credit.vat,
            credited_quantity=line_.credited_quantity + 100,
        )
    assert [(c.net, c.vat) for c in parts] == [(3334, 700), (3334, 700), (3333, 700)]
    assert sum(c.net for c in parts) == 10001 and sum(c.vat for c in parts) == 2100


def test_an_amount_then_the_rest():
    first = domain.credit_line(creditable(), amount=2501)  # 525.21 -> 525
    assert (first.net, first.vat, first.quantity_hundredths) == (2501, 525, None)
    rest = domain.credit_line(creditable(credited_net=2501, credited_vat=525))
    assert (rest.net, rest.vat, rest.quantity_hundredths) == (7499, 1575, 300)


def test_credits_beyond_what_is_left_are_refused():
    with pytest.raises(Conflict):
        domain.credit_line(creditable(credited_net=9000, credited_vat=1890), amount=1001)
    with pytest.raises(Unprocessable):
        domain.credit_line(creditable(), quantity_hundredths=301)
    with pytest.raises(Unprocessable):
        domain.credit_line(
            creditable(credited_quantity=200, credited_net=1, credited_vat=0), quantity_hundredths=101
        )
    with pytest.raises(Conflict):  # an amount took most of it: a third of the quantity is more than is left
        domain.credit_line(creditable(credited_net=9000, credited_vat=1890), quantity_hundredths=100)
    with pytest.raises(Unprocessable):
        domain.credit_line(creditable(), quantity_hundredths=100, amount=5)
    with pytest.raises(Unprocessable):
        domain.credit_line(creditable(credited_net=10000, credited_vat=2100))


def test_full_credit_skips_lines_already_credited():
    credits = domain.full_credit(
        [
            CreditableLine("A", 100, 1000, 210, Decimal("21"), 1000, 210, 100),
            CreditableLine("B", 100, 500, 45, Decimal("9"), 100, 9, 0),
        ]
    )
    assert [(c.line_id, c.net, c.vat) for c in credits] == [("B", 400, 36)]


# ------------------------------------------------------------------------ money and status


def test_status_follows_the_money():
    assert domain.settled_status(Balance(gross=1000, credited=0, paid=0), sent=False) == domain.ISSUED
    assert domain.settled_status(Balance(gross=1000, credited=0, paid=0), sent=True) == domain.SENT
    assert domain.settled_status(Balance(gross=1000, credited=0, paid=1), sent=True) == domain.PARTIALLY_PAID
    assert domain.settled_status(Balance(gross=1000, credited=0, paid=1000), sent=True) == domain.PAID
    assert domain.settled_status(Balance(gross=1000, credited=400, paid=600), sent=True) == domain.PAID
    assert domain.settled_status(Balance(gross=1000, credited=1000, paid=0), sent=True) == domain.CREDITED
    assert domain.settled_status(Balance(gross=1000, credited=1000, paid=1000), sent=True) == domain.CREDITED
    assert domain.settled_status(Balance(gross=0, credited=0, paid=0), sent=False) == domain.PAID


def test_balance_never_shows_negative_amounts():
    balance = Balance(gross=1000, credited=300, paid=1000)
    assert (balance.outstanding, balance.refund_due) == (0, 300)


def test_payments_may_not_take_the_balance_below_zero():
    balance = Balance(gross=1000, credited=200, paid=300)
    domain.check_payment(balance, kind=domain.PAYMENT, amount=500, roles={"accountant"}, method="cash")
    with pytest.raises(domain.PaymentExceedsBalance):
        domain.check_payment(balance, kind=domain.PAYMENT, amount=501, roles={"accountant"}, method="cash")
    with pytest.raises(domain.RefundExceedsOverpayment):
        domain.check_payment(balance, kind=domain.REFUND, amount=1, roles={"accountant"}, method="cash")
    overpaid = Balance(gross=1000, credited=200, paid=1000)
    domain.check_payment(overpaid, kind=domain.REFUND, amount=200, roles={"accountant"}, method="cash")
    with pytest.raises(domain.RefundExceedsOverpayment):
        domain.check_payment(overpaid, kind=domain.REFUND, amount=201, roles={"accountant"}, method="cash")
    assert domain.after_payment(overpaid, kind=domain.REFUND, amount=200).paid == 800


def test_the_front_desk_takes_payments_but_refunds_need_the_office():
    overpaid = Balance(gross=1000, credited=200, paid=1000)
    owed = Balance(gross=1000, credited=0, paid=0)
    domain.check_payment(owed, kind=domain.PAYMENT, amount=1000, roles={"advisor"}, method="cash")
    with pytest.raises(domain.RefundNeedsBookkeeper):
        domain.check_payment(overpaid, kind=domain.REFUND, amount=200, roles={"advisor"}, method="cash")
    domain.check_payment(overpaid, kind=domain.REFUND, amount=200, roles={"admin"}, method="cash")


def test_a_providers_payment_is_money_received_even_beyond_the_balance():
    """Online (the portal's pay link): recorded whatever is outstanding, as the
    provider has the money; the counter's rules stay."""
    balance = Balance(gross=1000, credited=0, paid=800)
    domain.check_payment(
        balance, kind=domain.PAYMENT, amount=1000, roles={"portal"}, method="online", online=True
    )
    overpaid = domain.after_payment(balance, kind=domain.PAYMENT, amount=1000)
    assert (overpaid.outstanding, overpaid.refund_due) == (0, 800)
    assert domain.settled_status(overpaid, sent=True) == domain.PAID
    with pytest.raises(domain.PaymentExceedsBalance):
        domain.check_payment(balance, kind=domain.PAYMENT, amount=1000, roles={"admin"}, method="card")
    # The invoice's integers have a bound, online too.
    with pytest.raises(Unprocessable):
        domain.check_payment(
            balance,
            kind=domain.PAYMENT,
            amount=domain.MAX_PAID,
            roles={"portal"},
            method="online",
            online=True,
        )


def test_online_payments_come_only_from_the_provider():
    owed = Balance(gross=1000, credited=0, paid=0)
    with pytest.raises(Unprocessable):  # the counter cannot say online
        domain.check_payment(owed, kind=domain.PAYMENT, amount=100, roles={"admin"}, method="online")
    with pytest.raises(Unprocessable):  # a provider's payment is online
        domain.check_payment(
            owed, kind=domain.PAYMENT, amount=100, roles={"portal"}, method="card", online=True
        )
    # Money given back through the provider is an online refund, recorded by the office.
    overpaid = Balance(gross=1000, credited=0, paid=1500)
    domain.check_payment(overpaid, kind=domain.REFUND, amount=500, roles={"accountant"}, method="online")


def test_overdue_only_when_open_and_past_the_due_date():
    due = date(2026, 3, 16)
    assert not domain.is_overdue(domain.SENT, due_date=due, today=due, outstanding=100)
    assert domain.is_overdue(domain.SENT, due_date=due, today=date(2026, 3, 17), outstanding=100)
    assert domain.is_overdue(domain.PARTIALLY_PAID, due_date=due, today=date(2026, 4, 1), outstanding=1)
    assert not domain.is_overdue(domain.PAID, due_date=due, today=date(2026, 4, 1), outstanding=0)
    assert not domain.is_overdue(domain.CREDITED, due_date=due, today=date(2026, 4, 1), outstanding=0)
    assert (
        domain.shown_status(domain.ISSUED, due_date=due, today=date(2026, 5, 1), outstanding=5) == "overdue"
    )


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(0, "days_0_30"), (30, "days_0_30"), (31, "days_31_60"), (60, "days_31_60"), (61, "days_61_90"),
     (90, "days_61_90"), (91, "days_90_plus"), (400, "days_90_plus")],
)  # fmt: skip
def test_age_buckets_by_invoice_date(days, bucket):
    today = date(2026, 12, 31)
    assert domain.age_bucket(date.fromordinal(today.toordinal() - days), today) == bucket


def test_ageing_adds_up():
    ageing = domain.Ageing()
    today = date(2026, 6, 30)
    ageing.add(outstanding=100, issue_date=date(2026, 6, 20), due_date=date(2026, 7, 4), today=today)
    ageing.add(outstanding=50, issue_date=date(2026, 1, 2), due_date=date(2026, 1, 16), today=today)
    assert ageing.outstanding == 150 and ageing.overdue == 50 and ageing.invoices == 2
    assert ageing.buckets == {"days_0_30": 100, "days_31_60": 0, "days_61_90": 0, "days_90_plus": 50}


def test_numbers_per_series():
    assert domain.format_number(domain.INVOICE_SERIES, 2026, 42) == "2026-000042"
    assert domain.format_number(domain.CREDIT_NOTE_SERIES, 2026, 7) == "CN-2026-000007"
    assert domain.format_number(domain.INVOICE_SERIES, 2027, 1_000_000) == "2027-1000000"


def test_payment_terms_asked_for_win_then_the_customers_then_the_default():
    assert domain.payment_terms_days(7, customer_terms=45, default=14) == 7
    assert domain.payment_terms_days(0, customer_terms=45, default=14) == 0
    assert domain.payment_terms_days(None, customer_terms=45, default=14) == 45
    assert domain.payment_terms_days(None, customer_terms=0, default=14) == 0
    # A customer-management from before payment terms answers none (the contract now
    # requires them, so the fakes cannot send such an answer): the garage's default.
    assert domain.payment_terms_days(None, customer_terms=None, default=14) == 14


def test_cash_up_totals_count_refunds_apart_for_every_method():
    from types import SimpleNamespace as Paid

    totals = domain.cash_up_totals(
        [
            Paid(method="cash", kind=domain.PAYMENT, amount=5000),
            Paid(method="cash", kind=domain.REFUND, amount=1200),
            Paid(method="card", kind=domain.PAYMENT, amount=800),
        ]
    )
    assert [(t.method, t.count, t.received, t.refunded, t.net) for t in totals] == [
        ("cash", 2, 5000, 1200, 3800),
        ("card", 1, 800, 0, 800),
        ("bank_transfer", 0, 0, 0, 0),
        ("online", 0, 0, 0, 0),
    ]


def test_a_cash_up_is_a_day_by_default_and_at_most_92_days():
    assert domain.cash_up_period(date(2026, 3, 5), None) == (date(2026, 3, 5), date(2026, 3, 5))
    assert domain.cash_up_period(date(2026, 1, 1), date(2026, 4, 2))[1] == date(2026, 4, 2)
    with pytest.raises(Unprocessable):
        domain.cash_up_period(date(2026, 1, 1), date(2026, 4, 3))
    with pytest.raises(Unprocessable):
        domain.cash_up_period(date(2026, 3, 5), date(2026, 3, 4))
