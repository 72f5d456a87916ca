"""Money in integer minor units (cents) and exact percentages: rounding half away
from zero, line amounts, VAT, percentages of an amount, exact allocation. Integers
only, never floats, so a credit of a whole line is exactly the line negated."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

MAX_PERCENT_HUNDREDTHS = 10_000  # 100.00 %


def half_up(numerator: int, denominator: int) -> int:
    """``numerator / denominator`` rounded half away from zero (0.5 -> 1, -0.5 -> -1),
    in integers only: a credit of a whole line is exactly the line negated."""
    if denominator <= 0:
        raise ValueError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if remainder * 2 >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def hundredths(value: Decimal | str | int) -> int:
    """``Decimal("21.5")`` -> 2150; more than two decimals is refused, never rounded."""
    try:
        scaled = Decimal(value) * 100
    except (InvalidOperation, TypeError, ValueError) as exc:
        raise ValueError("not a number") from exc
    if not scaled.is_finite() or scaled != scaled.to_integral_value():
        raise ValueError("at most two decimals")
    return int(scaled)


def percent(value: Decimal | str | int) -> Decimal:
    """A percentage with two places, 0 to 100."""
    points = hundredths(value)
    if not 0 <= points <= MAX_PERCENT_HUNDREDTHS:
        raise ValueError("must be between 0 and 100")
    return (Decimal(points) / 100).quantize(Decimal("0.01"))


def line_amount(quantity_hundredths: int, unit_price: int) -> int:
    """Quantity (in hundredths: 1.50 hours is 150) x unit price, half-up to the minor unit."""
    return half_up(quantity_hundredths * unit_price, 100)


def vat_on(net: int, rate: Decimal) -> int:
    """VAT at ``rate`` percent on ``net``, half-up to the minor unit."""
    return half_up(net * hundredths(rate), 10_000)


def percent_of(base: int, rate: Decimal) -> int:
    return half_up(base * hundredths(rate), 10_000)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split ``total`` over ``weights`` in proportion, exactly (largest remainder; ties
    to the earlier weight). With ``0 <= total <= sum(weights)`` no share exceeds its weight."""
    base = sum(weights)
    if total == 0 or base == 0:
        return [0] * len(weights)
    shares = [total * weight // base for weight in weights]
    remainders = [total * weight % base for weight in weights]
    left = total - sum(shares)
    for index in sorted(range(len(weights)), key=lambda i: (-remainders[i], i))[:left]:
        shares[index] += 1
    return shares
