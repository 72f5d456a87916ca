"""Job rules with no I/O: lifecycle, line arithmetic, approval and the hold rule."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from maintenance_job_management import domain

ALL_PAIRS = [(status, verb) for status in domain.STATUSES for verb in domain.VERBS]
ALLOWED = {
    ("scheduled", "start"): "in_progress",
    ("in_progress", "hold"): "on_hold",
    ("on_hold", "resume"): "in_progress",
    ("in_progress", "complete"): "completed",
    ("scheduled", "cancel"): "cancelled",
    ("on_hold", "cancel"): "cancelled",
}


@dataclass
class Line:
    kind: str = "labour"
    quantity_hundredths: int = 100
    unit_price: int = 1000
    vat_rate: Decimal = Decimal("21")
    approval: str = "approved"
    approved_net: int | None = None
    done: bool = False
    description: str = "work"
    part_number: str | None = None
    id: Any = field(default_factory=uuid.uuid4)

    def __post_init__(self) -> None:
        if self.approval == "approved" and self.approved_net is None:
            self.approved_net = domain.net_of(self)


# --------------------------------------------------------------------------- lifecycle


@pytest.mark.parametrize(("status", "verb"), ALL_PAIRS)
def test_every_transition_is_allowed_or_refused_naming_the_status(status, verb):
    if (status, verb) in ALLOWED:
        assert domain.transition(verb, status) == ALLOWED[(status, verb)]
    else:
        with pytest.raises(domain.TransitionNotAllowed) as refused:
            domain.transition(verb, status)
        assert refused.value.status == 409
        assert status in refused.value.detail
        assert refused.value.extensions["current_status"] == status


def test_final_jobs_are_frozen():
    for status in ("completed", "cancelled"):
        with pytest.raises(domain.JobIsFinal):
            domain.ensure_not_final(status)
    for status in ("scheduled", "in_progress", "on_hold"):
        domain.ensure_not_final(status)


def test_only_scheduled_or_held_jobs_move_in_time():
    domain.ensure_reschedulable("scheduled")
    domain.ensure_reschedulable("on_hold")
    for status in ("in_progress", "completed", "cancelled"):
        with pytest.raises(domain.NotReschedulable):
            domain.ensure_reschedulable(status)


# ------------------------------------------------------------------------------- money


@pytest.mark.parametrize(
    ("hundredths", "price", "net"),
    [
        (100, 1000, 1000),
        (150, 6000, 9000),
        (250, 1999, 4998),  # 4997.5 rounds half up
        (1, 49, 0),  # 0.49 rounds down
        (1, 50, 1),  # 0.50 rounds up
        (333, 333, 1109),  # 1108.89
    ],
)
def test_line_net_is_quantity_times_price_half_up_in_minor_units(hundredths, price, net):
    assert domain.line_net(hundredths, price) == net


@pytest.mark.parametrize(
    ("net", "rate", "vat"),
    [
        (10000, "21", 2100),
        (4998, "21", 1050),
        (1050, "9", 95),
        (50, "21", 11),
        (1000, "0", 0),
        (333, "5.5", 18),
    ],
)
def test_vat_is_half_up_per_line(net, rate, vat):
    assert domain.vat_amount(net, Decimal(rate)) == vat


def test_quantities_have_at_most_two_decimals():
    assert domain.to_hundredths(Decimal("4.5")) == 450
    assert domain.to_hundredths(Decimal("2")) == 200
    with pytest.raises(ValueError):
        domain.to_hundredths(Decimal("0.125"))
    assert domain.from_hundredths(150) == Decimal("1.50")


def test_labour_is_hours_times_rate_and_a_part_quantity_times_price():
    assert domain.line_values(
        "labour", {"hours": Decimal("1.5"), "hourly_rate": 6000, "description": " x "}
    ) == {
        "quantity_hundredths": 150,
        "unit_price": 6000,
        "description": "x",
    }
    part = domain.line_values(
        "part",
        {"part_number": "OF-1", "quantity": Decimal("4.5"), "unit_price": 1200, "vat_rate": Decimal("9")},
    )
    assert part == {
        "part_number": "OF-1",
        "quantity_hundredths": 450,
        "unit_price": 1200,
        "vat_rate": Decimal("9.00"),
    }


@pytest.mark.parametrize(
    ("kind", "fields", "field"),
    [
        ("labour", {"part_number": "X"}, "part_number"),
        ("labour", {"quantity": Decimal(1)}, "quantity"),
        ("part", {"hours": Decimal(1)}, "hours"),
        ("part", {"quantity": Decimal("0.001")}, "quantity"),
        ("part", {"quantity": Decimal(0)}, "quantity"),
        ("labour", {"hourly_rate": -1}, "hourly_rate"),
        ("part", {"vat_rate": Decimal("101")}, "vat_rate"),
        ("part", {"vat_rate": Decimal("21.123")}, "vat_rate"),
        ("labour", {"description": "  "}, "description"),
    ],
)
def test_invalid_lines_name_the_field(kind, fields, field):
    with pytest.raises(domain.InvalidLine) as invalid:
        domain.line_values(kind, fields)
    assert field in invalid.value.errors


def test_a_new_line_needs_its_kinds_fields():
    with pytest.raises(domain.InvalidLine) as invalid:
        domain.ensure_complete_line("part", {"description": "filter", "quantity": Decimal(1)})
    assert set(invalid.value.errors) == {"unit_price"}


@pytest.mark.parametrize("part_number", [None, "", "  "])
def test_a_part_without_a_number_is_a_part(part_number):
    """Not every part has one (oil from the drum, a bulb): blank is stored as none."""
    domain.ensure_complete_line("part", {"description": "bulb", "quantity": Decimal(1), "unit_price": 250})
    values = domain.line_values("part", {"description": "bulb", "part_number": part_number})
    assert values["part_number"] is None


# ---------------------------------------------------------------------------- approval


def test_totals_separate_approved_billable_pending_and_declined():
    lines = [
        Line(quantity_hundredths=100, unit_price=1000),
        Line(quantity_hundredths=200, unit_price=1000, approved_net=1000),  # grew after approval
        Line(approval="pending", unit_price=500),
        Line(approval="declined", unit_price=700),
    ]
    totals = domain.totals(lines)
    assert (totals.approved, totals.billable, totals.pending, totals.declined) == (2000, 3000, 500, 700)
    assert totals.billable_vat == 630
    assert totals.billable_gross == 3630


@pytest.mark.parametrize(
    ("grown_to", "margin", "exceeded"), [(1100, 10, False), (1101, 10, True), (1001, 0, True)]
)
def test_approval_is_exceeded_only_beyond_the_margin(grown_to, margin, exceeded):
    lines = [Line(quantity_hundredths=100, unit_price=grown_to, approved_net=1000)]
    assert domain.approval_exceeded(lines, margin_percent=margin) is exceeded


def test_pending_and_declined_work_does_not_exceed_the_approval():
    lines = [Line(), Line(approval="pending", unit_price=99999), Line(approval="declined", unit_price=99999)]
    assert not domain.approval_exceeded(lines, margin_percent=10)


def test_an_estimate_offers_pending_and_changed_lines_and_declined_ones_on_request():
    settled = Line()
    pending = Line(approval="pending")
    grown = Line(unit_price=2000, approved_net=1000)
    declined = Line(approval="declined")
    lines = [settled, pending, grown, declined]
    assert domain.estimate_candidates(lines) == [pending, grown]
    assert domain.estimate_candidates(lines, include=[declined.id]) == [pending, grown, declined]


def test_the_snapshot_is_what_the_customer_sees_and_detects_later_changes():
    line = Line(approval="pending", quantity_hundredths=150, unit_price=6000, description="brake pads")
    snapshot = domain.estimate_snapshot([line], currency="EUR", message="found worn pads")
    assert snapshot["lines"][0] == {
        "line_id": str(line.id),
        "kind": "labour",
        "description": "brake pads",
        "part_number": None,
        "quantity": "1.50",
        "unit_price": 6000,
        "vat_rate": "21.00",
        "net": 9000,
        "vat": 1890,
        "gross": 10890,
    }
    assert (snapshot["total_net"], snapshot["total_vat"], snapshot["total_gross"]) == (9000, 1890, 10890)
    assert domain.changed_since_shown([line], snapshot) == []
    line.unit_price = 6500
    assert domain.changed_since_shown([line], snapshot) == [line.id]


def test_a_decision_covers_every_line_of_the_estimate_and_nothing_else():
    a, b = Line(approval="pending"), Line(approval="pending")
    snapshot = domain.estimate_snapshot([a, b], currency="EUR", message=None)
    domain.check_decisions(snapshot, {str(a.id): True, str(b.id): False})
    with pytest.raises(domain.InvalidDecision):
        domain.check_decisions(snapshot, {str(a.id): True})
    with pytest.raises(domain.InvalidDecision):
        domain.check_decisions(snapshot, {str(a.id): True, str(b.id): True, str(uuid.uuid4()): True})


# ---------------------------------------------------------------------- progress, clock


def test_progress_counts_lines_that_are_not_declined():
    lines = [Line(done=True), Line(), Line(approval="pending"), Line(approval="declined", done=True)]
    assert domain.progress(lines) == domain.Progress(done=1, total=3)


def test_only_approved_work_on_a_job_in_progress_can_be_marked_done():
    domain.ensure_can_mark_done(Line(), "in_progress")
    with pytest.raises(domain.NotInProgress):
        domain.ensure_can_mark_done(Line(), "scheduled")
    with pytest.raises(domain.LineNotApproved):
        domain.ensure_can_mark_done(Line(approval="pending"), "in_progress")


def test_clocked_time_is_comparable_with_labour_hours():
    assert domain.to_hours_hundredths(5400) == 150
    assert domain.to_hours_hundredths(17) == 0
    assert domain.to_hours_hundredths(18) == 1  # 0.005 h rounds half up
    lines = [
        Line(quantity_hundredths=150),
        Line(kind="part"),
        Line(approval="declined", quantity_hundredths=99),
    ]
    assert domain.billed_labour_hundredths(lines) == 150


def test_a_header_value_is_kept_printable():
    assert domain.printable(" 203.0.113.7\t\x7f ") == "203.0.113.7"
    assert domain.printable("\x1b\x07") is None
    assert domain.printable("") is None


def test_first_name_and_average_rating():
    assert domain.first_name("Anna de Boer") == "Anna"
    assert domain.first_name("  ") is None and domain.first_name(None) is None
    assert str(domain.average_rating(11, 3)) == "3.67"
    assert str(domain.average_rating(9, 2)) == "4.50"
    assert domain.average_rating(0, 0) is None
