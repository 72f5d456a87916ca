"""Invoicing rules in plain Python: money in integer minor units, line and VAT
arithmetic with half-up rounding per line, discounts, document numbers, what a
credit note may take back, what a payment may pay, the status an invoice is in and
how old an unpaid one is. No Flask, no SQLAlchemy: tests call it directly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from invoicing.minor_units import (
    allocate,
    half_up,
    line_amount,
    percent,
    percent_of,
    vat_on,
)
from service_kit.problems import Conflict, Forbidden, NotFound, Unprocessable

# ------------------------------------------------------------------------------ words

ISSUED, SENT, PARTIALLY_PAID, PAID, CREDITED, OVERDUE = (
    "issued",
    "sent",
    "partially_paid",
    "paid",
    "credited",
    "overdue",
)
# What is stored; `overdue` is derived from the due date when an invoice is read.
STORED_STATUSES = (ISSUED, SENT, PARTIALLY_PAID, PAID, CREDITED)
STATUSES = (*STORED_STATUSES, OVERDUE)
# Statuses in which the customer still owes money (and so may become overdue).
OPEN_STATUSES = (ISSUED, SENT, PARTIALLY_PAID)

LABOUR, PART = "labour", "part"
LINE_KINDS = (LABOUR, PART)
CASH, CARD, BANK_TRANSFER, ONLINE = "cash", "card", "bank_transfer", "online"
PAYMENT_METHODS = (CASH, CARD, BANK_TRANSFER, ONLINE)
# Online: paid through a payment provider from the customer portal's pay link; only
# the portal records those (with the provider's payment id), never the counter.
COUNTER_METHODS = (CASH, CARD, BANK_TRANSFER)
PAYMENT_PROVIDERS = ("mollie",)
# Invoices count money in 32-bit integers: no invoice records more than this paid.
MAX_PAID = 2_000_000_000
PAYMENT, REFUND = "payment", "refund"
PAYMENT_KINDS = (PAYMENT, REFUND)
# Money goes back to a customer only by the office's decision: the front desk takes
# payments at the counter, refunds (like credit notes) stay with these roles.
REFUNDERS = frozenset({"admin", "accountant"})

INVOICE_SERIES, CREDIT_NOTE_SERIES = "invoice", "credit_note"
SERIES = (INVOICE_SERIES, CREDIT_NOTE_SERIES)
SERIES_PREFIX = {INVOICE_SERIES: "", CREDIT_NOTE_SERIES: "CN-"}
SEQUENCE_DIGITS = 6

AGE_BUCKETS = ("days_0_30", "days_31_60", "days_61_90", "days_90_plus")


# ----------------------------------------------------------------------------- errors


class InvoiceNotFound(NotFound):
    def __init__(self, invoice_id: object) -> None:
        super().__init__(f"invoice {invoice_id} does not exist")


class CreditNoteNotFound(NotFound):
    def __init__(self, credit_note_id: object) -> None:
        super().__init__(f"credit note {credit_note_id} does not exist")


class PaymentNotFound(NotFound):
    def __init__(self, invoice_id: object, payment_id: object) -> None:
        super().__init__(f"invoice {invoice_id} has no payment {payment_id}")


class JobNotFound(Unprocessable):
    def __init__(self, job_id: object) -> None:
        message = f"maintenance job {job_id} does not exist"
        super().__init__(message, errors={"job_id": [message]})


class CustomerNotFound(Unprocessable):
    def __init__(self, customer_id: object) -> None:
        message = f"the job's customer {customer_id} does not exist in customer-management"
        super().__init__(message, errors={"job_id": [message]})


class JobNotCompleted(Conflict):
    def __init__(self, job_id: object, status: str) -> None:
        super().__init__(
            f"maintenance job {job_id} is {status}; only a completed job is invoiced",
            current_status=status,
        )


class NothingToInvoice(Unprocessable):
    def __init__(self, job_id: object) -> None:
        message = f"maintenance job {job_id} has no approved line to bill"
        super().__init__(message, errors={"job_id": [message]})


class InvalidDiscount(Unprocessable):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message, errors={field_name: [message]})


class PaymentExceedsBalance(Conflict):
    def __init__(self, amount: int, outstanding: int) -> None:
        super().__init__(
            f"a payment of {amount} would take the balance below zero: {outstanding} is outstanding",
            outstanding=outstanding,
        )


class RefundExceedsOverpayment(Conflict):
    def __init__(self, amount: int, refund_due: int) -> None:
        super().__init__(
            f"a refund of {amount} is more than the {refund_due} the customer paid beyond what is owed",
            refund_due=refund_due,
        )


class ProviderPaymentOfAnotherInvoice(Conflict):
    def __init__(self, provider: str, provider_payment_id: str) -> None:
        super().__init__(
            f"{provider} payment {provider_payment_id} is recorded for another invoice",
            errors={"provider_payment_id": ["recorded for another invoice"]},
        )


class RefundNeedsBookkeeper(Forbidden):
    def __init__(self) -> None:
        super().__init__("a refund is recorded by an accountant or an admin; the front desk takes payments")


class InvoiceFullyCredited(Conflict):
    def __init__(self, invoice_id: object) -> None:
        super().__init__(f"invoice {invoice_id} is fully credited already: nothing is left to credit")


class CreditExceedsLine(Conflict):
    def __init__(self, line_id: object, asked: int, remaining: int) -> None:
        super().__init__(
            f"invoice line {line_id}: crediting {asked} is more than the {remaining} not yet credited",
            errors={"lines": [f"line {line_id}: at most {remaining} can still be credited"]},
        )


class InvalidCreditLine(Unprocessable):
    def __init__(self, message: str) -> None:
        super().__init__(message, errors={"lines": [message]})


# ---------------------------------------------------------------------------- numbers


def format_number(series: str, year: int, sequence: int) -> str:
    """``2026-000042`` for invoices, ``CN-2026-000007`` for credit notes."""
    return f"{SERIES_PREFIX[series]}{year}-{sequence:0{SEQUENCE_DIGITS}d}"


# -------------------------------------------------------------------------- discounts


@dataclass(frozen=True)
class Discount:
    """Either a percentage of the amount it applies to or a fixed amount (minor units)."""

    percent: Decimal | None = None
    amount: int | None = None

    def off(self, base: int, *, field_name: str) -> int:
        if (self.percent is None) == (self.amount is None):
            raise InvalidDiscount(field_name, "give either a percent or an amount")
        if self.percent is not None:
            try:
                rate = percent(self.percent)
            except ValueError as exc:
                raise InvalidDiscount(field_name, f"percent {exc}") from exc
            return percent_of(base, rate)
        amount = int(self.amount or 0)
        if amount < 0:
            raise InvalidDiscount(field_name, "amount must not be negative")
        if amount > base:
            raise InvalidDiscount(field_name, f"amount {amount} is more than the {base} it discounts")
        return amount


# ------------------------------------------------------------------------------ lines


@dataclass(frozen=True)
class LineInput:
    """A line to bill: what the job says was done and approved, and its discount."""

    kind: str
    description: str
    quantity_hundredths: int
    unit_price: int
    vat_rate: Decimal
    part_number: str | None = None
    job_line_id: Any = None
    discount: Discount | None = None


@dataclass(frozen=True)
class PricedLine:
    kind: str
    description: str
    quantity_hundredths: int
    unit_price: int
    vat_rate: Decimal
    part_number: str | None
    job_line_id: Any
    amount: int  # quantity x unit price
    line_discount: int
    invoice_discount: int  # this line's share of the invoice-level discount
    net: int  # what VAT is charged on
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat


@dataclass(frozen=True)
class VatRow:
    rate: Decimal
    net: int
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat


@dataclass(frozen=True)
class Totals:
    subtotal: int  # sum of quantity x unit price
    line_discounts: int
    invoice_discount: int
    net: int
    vat: int

    @property
    def gross(self) -> int:
        return self.net + self.vat

    @property
    def discounts(self) -> int:
        return self.line_discounts + self.invoice_discount


@dataclass(frozen=True)
class Pricing:
    lines: list[PricedLine]
    vat_breakdown: list[VatRow]
    totals: Totals


def vat_breakdown(lines: Iterable[Any]) -> list[VatRow]:
    """Net and VAT per rate, lowest rate first; a rate's VAT is the sum of its lines'
    (each rounded on its own line)."""
    rows: dict[Decimal, tuple[int, int]] = {}
    for line in lines:
        rate = Decimal(line.vat_rate).quantize(Decimal("0.01"))
        net, vat = rows.get(rate, (0, 0))
        rows[rate] = (net + line.net, vat + line.vat)
    return [VatRow(rate, net, vat) for rate, (net, vat) in sorted(rows.items())]


def price(lines: Sequence[LineInput], *, discount: Discount | None = None) -> Pricing:
    """Every line's amount, discounts, net and VAT, the VAT breakdown and the totals.

    A line's own discount comes off its amount; the invoice-level discount is then a
    share of what is left, spread over the lines in proportion to it, so each rate's
    taxable amount carries its part of the discount and VAT is charged on what the
    customer really pays."""
    if not lines:
        raise ValueError("an invoice has at least one line")
    after_line_discount: list[tuple[LineInput, int, int]] = []
    for index, line in enumerate(lines):
        if line.quantity_hundredths <= 0 or line.unit_price < 0:
            raise ValueError("a billed line has a positive quantity and a price of at least zero")
        amount = line_amount(line.quantity_hundredths, line.unit_price)
        off = line.discount.off(amount, field_name=f"line_discounts.{index}") if line.discount else 0
        after_line_discount.append((line, amount, off))
    base = sum(amount - off for _, amount, off in after_line_discount)
    invoice_off = discount.off(base, field_name="discount") if discount else 0
    shares = allocate(invoice_off, [amount - off for _, amount, off in after_line_discount])
    priced = []
    for (line, amount, off), share in zip(after_line_discount, shares, strict=True):
        net = amount - off - share
        priced.append(
            PricedLine(
                kind=line.kind,
                description=line.description,
                quantity_hundredths=line.quantity_hundredths,
                unit_price=line.unit_price,
                vat_rate=Decimal(line.vat_rate).quantize(Decimal("0.01")),
                part_number=line.part_number,
                job_line_id=line.job_line_id,
                amount=amount,
                line_discount=off,
                invoice_discount=share,
                net=net,
                vat=vat_on(net, line.vat_rate),
            )
        )
    totals = Totals(
        subtotal=sum(line.amount for line in priced),
        line_discounts=sum(line.line_discount for line in priced),
        invoice_discount=invoice_off,
        net=sum(line.net for line in priced),
        vat=sum(line.vat for line in priced),
    )
    return Pricing(lines=priced, vat_breakdown=vat_breakdown(priced), totals=totals)


# ----------------------------------------------------------------------- credit notes


@dataclass(frozen=True)
class CreditableLine:
    """An invoice line and how much of it earlier credit notes took back (positive)."""

    id: Any
    quantity_hundredths: int
    net: int
    vat: int
    vat_rate: Decimal
    credited_net: int = 0
    credited_vat: int = 0
    credited_quantity: int = 0  # by credits that named a quantity (or took the rest)

    @property
    def remaining_net(self) -> int:
        return self.net - self.credited_net

    @property
    def remaining_vat(self) -> int:
        return self.vat - self.credited_vat

    @property
    def remaining_quantity(self) -> int:
        return self.quantity_hundredths - self.credited_quantity


@dataclass(frozen=True)
class Credit:
    """What one credit note line takes back, as positive amounts (stored negated)."""

    line_id: Any
    quantity_hundredths: int | None
    net: int
    vat: int


def credit_line(
    line: CreditableLine, *, quantity_hundredths: int | None = None, amount: int | None = None
) -> Credit:
    """Take back part of a line: a quantity of it (that share of the line's net), a net
    amount, or — given neither — all that is left. Never more than is left. The credit
    that takes the last of a line's quantity, or the rest of it, takes exactly the net
    and VAT that are left, so a line credited in parts ends at zero to the cent."""
    if quantity_hundredths is not None and amount is not None:
        raise InvalidCreditLine(f"line {line.id}: give a quantity or an amount, not both")
    if quantity_hundredths is not None:
        if not 0 < quantity_hundredths <= line.remaining_quantity:
            raise InvalidCreditLine(
                f"line {line.id}: quantity_hundredths must be 1 to {line.remaining_quantity} (what is left)"
            )
        if quantity_hundredths == line.remaining_quantity:
            net = line.remaining_net
        else:
            net = half_up(line.net * quantity_hundredths, line.quantity_hundredths)
    elif amount is not None:
        if amount <= 0:
            raise InvalidCreditLine(f"line {line.id}: amount must be positive")
        net = amount
    else:
        net = line.remaining_net
        quantity_hundredths = line.remaining_quantity or None
    if net > line.remaining_net:
        raise CreditExceedsLine(line.id, net, line.remaining_net)
    if net == line.remaining_net:
        vat = line.remaining_vat
    else:
        vat = min(vat_on(net, line.vat_rate), line.remaining_vat)
    if net <= 0:
        raise InvalidCreditLine(
            f"line {line.id}: the credit comes to nothing (nothing is left, or too little)"
        )
    return Credit(line_id=line.id, quantity_hundredths=quantity_hundredths, net=net, vat=vat)


def full_credit(lines: Iterable[CreditableLine]) -> list[Credit]:
    """Everything not yet credited, line by line."""
    return [credit_line(line) for line in lines if line.remaining_net > 0]


# ------------------------------------------------------------------- money and status


@dataclass(frozen=True)
class Balance:
    """What an invoice comes to now: its gross less credit notes, less net payments."""

    gross: int
    credited: int  # positive: what credit notes took back (gross)
    paid: int  # payments less refunds

    @property
    def owed(self) -> int:
        return self.gross - self.credited

    @property
    def outstanding(self) -> int:
        return max(self.owed - self.paid, 0)

    @property
    def refund_due(self) -> int:
        """Paid beyond what is owed (a credit note after payment): to give back."""
        return max(self.paid - self.owed, 0)


def settled_status(balance: Balance, *, sent: bool) -> str:
    """The stored status that follows from the money and whether it was sent."""
    if balance.gross > 0 and balance.owed <= 0:
        return CREDITED
    if balance.paid > 0 and balance.outstanding == 0:
        return PAID
    if balance.owed == 0:  # a zero invoice (e.g. warranty work at 100% discount)
        return PAID
    if balance.paid > 0:
        return PARTIALLY_PAID
    return SENT if sent else ISSUED


def payment_terms_days(requested: int | None, *, customer_terms: int | None, default: int) -> int:
    """The days an invoice gives to pay: those asked for when it is made, else the
    customer's own terms, else the garage's default (a customer-management too old to
    know terms answers none)."""
    if requested is not None:
        return requested
    return default if customer_terms is None else customer_terms


def is_overdue(status: str, *, due_date: date, today: date, outstanding: int) -> bool:
    return status in OPEN_STATUSES and outstanding > 0 and today > due_date


def shown_status(status: str, *, due_date: date, today: date, outstanding: int) -> str:
    """What clients see: ``overdue`` replaces an open status past the due date."""
    return OVERDUE if is_overdue(status, due_date=due_date, today=today, outstanding=outstanding) else status


def check_payment(
    balance: Balance, *, kind: str, amount: int, roles: Iterable[str], method: str, online: bool = False
) -> None:
    """Whether this payment (or refund) may be recorded. ``online``: one a payment
    provider took from the customer (the portal's pay link). That money was received
    whatever the balance says, so it is recorded even beyond what is outstanding (a
    counter payment over the balance is refused: the desk simply takes less); the
    excess is a ``refund_due``, given back as any overpayment is, by a refund."""
    if kind == REFUND and not REFUNDERS & set(roles):
        raise RefundNeedsBookkeeper()
    if amount <= 0:
        raise Unprocessable.on_field("amount", "must be positive")
    if online != (kind == PAYMENT and method == ONLINE):
        if online:
            raise Unprocessable.on_field("method", "a provider's payment is recorded as method online")
        raise Unprocessable.on_field(
            "method", "online payments are recorded from the payment provider, through the customer portal"
        )
    if kind == PAYMENT and balance.paid + amount > MAX_PAID:
        raise Unprocessable.on_field("amount", f"an invoice records at most {MAX_PAID} paid")
    if kind == PAYMENT and amount > balance.outstanding and not online:
        raise PaymentExceedsBalance(amount, balance.outstanding)
    if kind == REFUND and amount > balance.refund_due:
        raise RefundExceedsOverpayment(amount, balance.refund_due)


def after_payment(balance: Balance, *, kind: str, amount: int) -> Balance:
    return replace(balance, paid=balance.paid + (amount if kind == PAYMENT else -amount))


def age_bucket(issue_date: date, today: date) -> str:
    """Receivables are aged by invoice date: 0-30, 31-60, 61-90, more than 90 days."""
    age = (today - issue_date).days
    if age <= 30:
        return AGE_BUCKETS[0]
    if age <= 60:
        return AGE_BUCKETS[1]
    if age <= 90:
        return AGE_BUCKETS[2]
    return AGE_BUCKETS[3]


@dataclass
class Ageing:
    """Outstanding amounts of one customer (or all) by age bucket."""

    outstanding: int = 0
    overdue: int = 0
    invoices: int = 0
    buckets: dict[str, int] = field(default_factory=lambda: dict.fromkeys(AGE_BUCKETS, 0))

    def add(self, *, outstanding: int, issue_date: date, due_date: date, today: date) -> None:
        self.outstanding += outstanding
        self.invoices += 1
        self.buckets[age_bucket(issue_date, today)] += outstanding
        if today > due_date:
            self.overdue += outstanding


# ------------------------------------------------------------------------------ cash-up

MAX_CASH_UP_DAYS = 92  # a quarter at most in one answer


def cash_up_period(date_from: date, date_to: date | None) -> tuple[date, date]:
    """The days a cash-up covers, both included; one day when ``date_to`` is left out."""
    date_to = date_to or date_from
    if date_to < date_from:
        raise Unprocessable.on_field("to", "must not be before from")
    if (date_to - date_from).days + 1 > MAX_CASH_UP_DAYS:
        raise Unprocessable.on_field("to", f"a cash-up covers at most {MAX_CASH_UP_DAYS} days")
    return date_from, date_to


@dataclass(frozen=True)
class MethodTotal:
    method: str
    count: int
    received: int
    refunded: int

    @property
    def net(self) -> int:
        return self.received - self.refunded


def cash_up_totals(payments: Iterable[Any]) -> list[MethodTotal]:
    """Per payment method (every method, in the fixed order, zero when unused): how many
    payments and refunds, the money received and given back."""
    totals = {method: MethodTotal(method, 0, 0, 0) for method in PAYMENT_METHODS}
    for payment in payments:
        total = totals[payment.method]
        refund = payment.kind == REFUND
        totals[payment.method] = replace(
            total,
            count=total.count + 1,
            received=total.received + (0 if refund else payment.amount),
            refunded=total.refunded + (payment.amount if refund else 0),
        )
    return list(totals.values())
