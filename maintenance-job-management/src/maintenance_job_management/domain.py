"""Maintenance job rules in plain Python: the lifecycle, line arithmetic in integer
minor units, what the customer approved and when that approval is exceeded, progress,
and what an estimate shows. Functions take any object with the attributes they read
(the ORM rows in the service, plain dataclasses in the tests)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from service_kit.problems import Conflict, NotFound, Unprocessable

SCHEDULED, IN_PROGRESS, ON_HOLD, COMPLETED, CANCELLED = (
    "scheduled",
    "in_progress",
    "on_hold",
    "completed",
    "cancelled",
)
STATUSES = (SCHEDULED, IN_PROGRESS, ON_HOLD, COMPLETED, CANCELLED)
FINAL_STATUSES = frozenset({COMPLETED, CANCELLED})
# verb -> (statuses it may start from, status it leads to)
TRANSITIONS: dict[str, tuple[frozenset[str], str]] = {
    "start": (frozenset({SCHEDULED}), IN_PROGRESS),
    "hold": (frozenset({IN_PROGRESS}), ON_HOLD),
    "resume": (frozenset({ON_HOLD}), IN_PROGRESS),
    "complete": (frozenset({IN_PROGRESS}), COMPLETED),
    "cancel": (frozenset({SCHEDULED, ON_HOLD}), CANCELLED),
}
VERBS = tuple(TRANSITIONS)
# Planned times move while the work has not really begun or is paused.
RESCHEDULABLE = frozenset({SCHEDULED, ON_HOLD})

HOLD_MANUAL, HOLD_APPROVAL = "manual", "approval"
HOLD_KINDS = (HOLD_MANUAL, HOLD_APPROVAL)

LABOUR, PART = "labour", "part"
LINE_KINDS = (LABOUR, PART)
PENDING, APPROVED, DECLINED = "pending", "approved", "declined"
APPROVALS = (PENDING, APPROVED, DECLINED)
# How a customer's decision reached the garage; "booking" marks lines the booked
# request already covers.
DECISION_CHANNELS = ("counter", "phone", "email", "sms", "web")
BOOKING_CHANNEL = "booking"
# The customer decided themselves, through a link to the customer portal: recorded
# like an advisor's entry, with their typed name as signature and their address.
PORTAL_CHANNEL = "portal"
APPROVAL_CHANNELS = (BOOKING_CHANNEL, *DECISION_CHANNELS, PORTAL_CHANNEL)
# How an estimate is put before the customer; email and sms go out as a notification.
ESTIMATE_CHANNELS = ("counter", "phone", "email", "sms")
NOTIFIED_ESTIMATE_CHANNELS = frozenset({"email", "sms"})
ESTIMATE_SENT, ESTIMATE_DECIDED, ESTIMATE_SUPERSEDED = "sent", "decided", "superseded"
ESTIMATE_STATUSES = (ESTIMATE_SENT, ESTIMATE_DECIDED, ESTIMATE_SUPERSEDED)
ODOMETER_UNITS = ("km", "mi")
# An estimate as the customer's portal page shows it: still to decide, or decided.
PORTAL_PENDING, PORTAL_DECIDED = "pending", "decided"
PORTAL_ESTIMATE_STATUSES = (PORTAL_PENDING, PORTAL_DECIDED)
# How long the links in the customer's messages work (docs/customer-portal.md).
ESTIMATE_LINK_DAYS = 14
VISIT_LINK_DAYS = 30
RATINGS = range(1, 6)
MAX_QUANTITY_HUNDREDTHS = 10_000_000  # 100,000 hours or units: nothing on one line is more


# ------------------------------------------------------------------------------ errors


class JobNotFound(NotFound):
    def __init__(self, job_id: object) -> None:
        super().__init__(f"maintenance job {job_id} does not exist")


class LineNotFound(NotFound):
    def __init__(self, job_id: object, line_id: object) -> None:
        super().__init__(f"job {job_id} has no line {line_id}")


class EstimateNotFound(NotFound):
    def __init__(self, job_id: object, estimate_id: object) -> None:
        super().__init__(f"job {job_id} has no estimate {estimate_id}")


class TransitionNotAllowed(Conflict):
    """An impossible lifecycle step; names the current status."""

    def __init__(self, verb: str, status: str) -> None:
        allowed = sorted(TRANSITIONS[verb][0])
        super().__init__(
            f"cannot {verb} a job that is {status}; {verb} is possible from {' or '.join(allowed)}",
            current_status=status,
        )


class JobIsFinal(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(f"the job is {status}: its lines and details are frozen", current_status=status)


class NotReschedulable(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(
            f"a job that is {status} cannot be rescheduled; only a scheduled or on_hold one can",
            current_status=status,
        )


class AppointmentHasAnotherJob(Conflict):
    def __init__(self, appointment_id: object, job_id: object) -> None:
        super().__init__(
            f"appointment {appointment_id} already has job {job_id} for another vehicle or customer",
            job_id=str(job_id),
        )


class ApprovalExceeded(Conflict):
    def __init__(self, margin_percent: int) -> None:
        super().__init__(
            f"the work exceeds what the customer approved by more than {margin_percent}%: "
            "send an estimate and record the customer's approval first"
        )


class LinesAwaitDecision(Conflict):
    def __init__(self, count: int) -> None:
        super().__init__(
            f"{count} line(s) await the customer's decision: record it (or remove the lines) first"
        )


class LineNotApproved(Conflict):
    def __init__(self, line_id: object, approval: str) -> None:
        super().__init__(f"line {line_id} is {approval}: only approved work can be marked done")


class DeclinedLineKept(Conflict):
    def __init__(self, line_id: object) -> None:
        super().__init__(
            f"line {line_id} was declined by the customer; it stays on record as a recommendation"
        )


class LineHasApproval(Conflict):
    def __init__(self, line_id: object) -> None:
        super().__init__(
            f"line {line_id} carries the customer's approval; correct its amount instead of removing it"
        )


class NotInProgress(Conflict):
    def __init__(self, action: str, status: str) -> None:
        super().__init__(f"cannot {action} while the job is {status}", current_status=status)


class NothingToEstimate(Conflict):
    def __init__(self) -> None:
        super().__init__("no line awaits the customer's approval")


class EstimateNotOpen(Conflict):
    def __init__(self, estimate_id: object, status: str) -> None:
        super().__init__(f"estimate {estimate_id} is {status}; only a sent estimate can be decided")


class EstimateStale(Conflict):
    def __init__(self, line_ids: Sequence[object]) -> None:
        super().__init__(
            "lines changed after the estimate was sent, so the customer did not see them as they "
            "are now: send a new estimate",
            changed_lines=[str(line_id) for line_id in line_ids],
        )


class EstimateAlreadyDecided(Conflict):
    """The customer (or an advisor for them) decided this estimate already."""

    def __init__(self, estimate_id: object) -> None:
        super().__init__(f"estimate {estimate_id} has been decided already", estimate_id=str(estimate_id))


class JobNotCompleted(Conflict):
    def __init__(self, status: str) -> None:
        super().__init__(
            f"the job is {status}: a vehicle is handed over once its job is completed",
            current_status=status,
        )


class FeedbackAlreadyGiven(Conflict):
    def __init__(self, job_id: object) -> None:
        super().__init__(f"feedback on visit {job_id} has been given already")


class InvalidDecision(Unprocessable):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the decision does not match the estimate", errors=errors)


class InvalidLine(Unprocessable):
    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("the line breaks one or more rules", errors=errors)


class BlankText(Unprocessable):
    def __init__(self, field: str) -> None:
        super().__init__(f"{field} must not be blank", errors={field: ["must not be blank"]})


def required_text(field: str, value: str) -> str:
    """``value`` without surrounding white space; blank is refused."""
    cleaned = (value or "").strip()
    if not cleaned:
        raise BlankText(field)
    return cleaned


class InvalidTimes(Unprocessable):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message, errors={field: [message]})


class AlreadyClockedIn(Conflict):
    def __init__(self, technician: str, job_id: object) -> None:
        super().__init__(
            f"technician {technician} is already clocked in on job {job_id}; clock out there first",
            job_id=str(job_id),
        )


class NotClockedIn(Conflict):
    def __init__(self, technician: str, job_id: object) -> None:
        super().__init__(f"technician {technician} is not clocked in on job {job_id}")


# --------------------------------------------------------------------------- lifecycle


def transition(verb: str, status: str) -> str:
    """The status ``verb`` leads to from ``status``, or ``TransitionNotAllowed``."""
    allowed_from, target = TRANSITIONS[verb]
    if status not in allowed_from:
        raise TransitionNotAllowed(verb, status)
    return target


def ensure_not_final(status: str) -> None:
    if status in FINAL_STATUSES:
        raise JobIsFinal(status)


def ensure_reschedulable(status: str) -> None:
    if status not in RESCHEDULABLE:
        raise NotReschedulable(status)


def ensure_planned_order(start: datetime, end: datetime) -> None:
    if start >= end:
        raise InvalidTimes("planned_end", "must be after planned_start")


# ------------------------------------------------------------------------------- money


def _half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half away from zero, in integers."""
    sign = -1 if (numerator < 0) != (denominator < 0) else 1
    n, d = abs(numerator), abs(denominator)
    return sign * ((2 * n + d) // (2 * d))


def to_hundredths(quantity: Decimal) -> int:
    """1.5 -> 150; more than two decimals is refused rather than rounded."""
    try:
        scaled = Decimal(quantity) * 100
    except (InvalidOperation, TypeError) as exc:
        raise ValueError("not a number") from exc
    if scaled != scaled.to_integral_value():
        raise ValueError("at most two decimals")
    return int(scaled)


def from_hundredths(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(Decimal("0.01"))


def line_net(quantity_hundredths: int, unit_price: int) -> int:
    """Net amount in minor units: quantity x unit price, half-up to the minor unit."""
    return _half_up(quantity_hundredths * unit_price, 100)


def vat_amount(net: int, vat_rate: Decimal) -> int:
    """VAT on ``net`` at ``vat_rate`` percent, half-up to the minor unit."""
    rate_hundredths = to_hundredths(Decimal(vat_rate))
    return _half_up(net * rate_hundredths, 10_000)


def validate_vat_rate(rate: Decimal) -> Decimal:
    try:
        to_hundredths(rate)
    except ValueError as exc:
        raise InvalidLine({"vat_rate": [str(exc)]}) from exc
    if not Decimal(0) <= rate <= Decimal(100):
        raise InvalidLine({"vat_rate": ["must be between 0 and 100 (percent)"]})
    return Decimal(rate).quantize(Decimal("0.01"))


def line_values(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form of a line's priced fields: ``quantity_hundredths`` and
    ``unit_price``. Labour comes as ``hours`` (up to two decimals) x ``hourly_rate``, a part as
    ``quantity`` (up to two decimals, e.g. 4.5 litres) x ``unit_price``."""
    errors: dict[str, list[str]] = {}
    result: dict[str, Any] = {}
    if kind == LABOUR:
        for foreign in ("part_number", "quantity", "unit_price"):
            if fields.get(foreign) is not None:
                errors.setdefault(foreign, []).append("a labour line has hours and hourly_rate instead")
        if "hours" in fields:
            try:
                result["quantity_hundredths"] = to_hundredths(fields["hours"])
            except ValueError as exc:
                errors.setdefault("hours", []).append(str(exc))
        if "hourly_rate" in fields:
            result["unit_price"] = fields["hourly_rate"]
    else:
        for foreign in ("hours", "hourly_rate", "work_kind"):
            if fields.get(foreign) is not None:
                errors.setdefault(foreign, []).append("a part line has quantity and unit_price instead")
        if "quantity" in fields:
            try:
                result["quantity_hundredths"] = to_hundredths(fields["quantity"])
            except ValueError as exc:
                errors.setdefault("quantity", []).append(str(exc))
        if "unit_price" in fields:
            result["unit_price"] = fields["unit_price"]
        if "part_number" in fields:
            # Not every part has a number (oil from the drum, a bulb): blank is none.
            result["part_number"] = (fields["part_number"] or "").strip() or None
    quantity = result.get("quantity_hundredths")
    if quantity is not None and not 0 < quantity <= MAX_QUANTITY_HUNDREDTHS:
        errors.setdefault("quantity" if kind == PART else "hours", []).append(
            f"must be more than 0 and at most {MAX_QUANTITY_HUNDREDTHS // 100}"
        )
    if result.get("unit_price") is not None and result["unit_price"] < 0:
        errors.setdefault("unit_price" if kind == PART else "hourly_rate", []).append("must not be negative")
    if "vat_rate" in fields and fields["vat_rate"] is not None:
        try:
            result["vat_rate"] = validate_vat_rate(fields["vat_rate"])
        except InvalidLine as exc:
            errors.update(exc.errors or {})
    if "description" in fields:
        if not (fields["description"] or "").strip():
            errors.setdefault("description", []).append("must not be blank")
        else:
            result["description"] = fields["description"].strip()
    if errors:
        raise InvalidLine(errors)
    return result


def required_line_fields(kind: str) -> tuple[str, ...]:
    if kind == LABOUR:
        return ("description", "hours", "hourly_rate")
    return ("description", "quantity", "unit_price")


def ensure_complete_line(kind: str, fields: Mapping[str, Any]) -> None:
    missing = [name for name in required_line_fields(kind) if fields.get(name) is None]
    if missing:
        raise InvalidLine({name: [f"a {kind} line needs this"] for name in missing})


# ---------------------------------------------------------------------------- approval


class LineLike(Protocol):
    id: Any
    kind: str
    description: str
    part_number: str | None
    quantity_hundredths: int
    unit_price: int
    vat_rate: Decimal
    approval: str
    approved_net: int | None
    done: bool


def net_of(line: LineLike) -> int:
    return line_net(line.quantity_hundredths, line.unit_price)


@dataclass(frozen=True)
class Totals:
    """Net amounts in minor units. ``approved`` is what the customer agreed to;
    ``billable`` is what the approved lines come to now (what invoicing will bill);
    pending lines await a decision, declined ones are recommendations."""

    approved: int
    billable: int
    billable_vat: int
    pending: int
    declined: int

    @property
    def billable_gross(self) -> int:
        return self.billable + self.billable_vat


def totals(lines: Iterable[LineLike]) -> Totals:
    approved = billable = billable_vat = pending = declined = 0
    for line in lines:
        net = net_of(line)
        if line.approval == APPROVED:
            approved += line.approved_net or 0
            billable += net
            billable_vat += vat_amount(net, line.vat_rate)
        elif line.approval == PENDING:
            pending += net
        else:
            declined += net
    return Totals(approved, billable, billable_vat, pending, declined)


def approval_exceeded(lines: Iterable[LineLike], *, margin_percent: int) -> bool:
    """Do the approved lines now come to more than the approved total plus the margin?"""
    t = totals(lines)
    return t.billable * 100 > t.approved * (100 + margin_percent)


def needs_reapproval(line: LineLike) -> bool:
    """An approved line whose amount changed since the customer approved it."""
    return line.approval == APPROVED and line.approved_net != net_of(line)


def estimate_candidates(lines: Iterable[LineLike], *, include: Iterable[Any] = ()) -> list[LineLike]:
    """What an estimate puts before the customer: lines awaiting a decision, approved
    lines whose amount changed since, and declined lines explicitly offered again."""
    offered = set(include)
    return [
        line
        for line in lines
        if line.approval == PENDING
        or needs_reapproval(line)
        or (line.approval == DECLINED and line.id in offered)
    ]


def shown_line(line: LineLike) -> dict[str, Any]:
    """A line exactly as the customer is shown it (the audit keeps this)."""
    net = net_of(line)
    vat = vat_amount(net, line.vat_rate)
    return {
        "line_id": str(line.id),
        "kind": line.kind,
        "description": line.description,
        "part_number": line.part_number,
        "quantity": str(from_hundredths(line.quantity_hundredths)),
        "unit_price": line.unit_price,
        "vat_rate": str(Decimal(line.vat_rate).quantize(Decimal("0.01"))),
        "net": net,
        "vat": vat,
        "gross": net + vat,
    }


def estimate_snapshot(lines: Sequence[LineLike], *, currency: str, message: str | None) -> dict[str, Any]:
    shown = [shown_line(line) for line in lines]
    return {
        "currency": currency,
        "message": message,
        "lines": shown,
        "total_net": sum(s["net"] for s in shown),
        "total_vat": sum(s["vat"] for s in shown),
        "total_gross": sum(s["gross"] for s in shown),
    }


def changed_since_shown(lines: Iterable[LineLike], snapshot: Mapping[str, Any]) -> list[Any]:
    """Ids of lines that no longer look as the estimate showed them."""
    shown = {entry["line_id"]: entry for entry in snapshot["lines"]}
    changed = []
    for line in lines:
        before = shown.get(str(line.id))
        if before is not None and shown_line(line) != before:
            changed.append(line.id)
    return changed


def check_decisions(snapshot: Mapping[str, Any], decisions: Mapping[str, bool]) -> None:
    """Every line of the estimate decided once; nothing else."""
    shown = {entry["line_id"] for entry in snapshot["lines"]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(decisions) - shown)
    missing = sorted(shown - set(decisions))
    if unknown:
        errors["lines"] = [f"not on this estimate: {', '.join(unknown)}"]
    if missing:
        errors.setdefault("lines", []).append(f"no decision for: {', '.join(missing)}")
    if errors:
        raise InvalidDecision(errors)


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


def progress(lines: Iterable[LineLike]) -> Progress:
    """Tasks are the lines that are not declined; done/total of those."""
    live = [line for line in lines if line.approval != DECLINED]
    return Progress(done=sum(1 for line in live if line.done), total=len(live))


def ensure_can_mark_done(line: LineLike, status: str) -> None:
    if status != IN_PROGRESS:
        raise NotInProgress("mark work done", status)
    if line.approval != APPROVED:
        raise LineNotApproved(line.id, line.approval)


# ---------------------------------------------------------------------------- feedback


def printable(text: str) -> str | None:
    """A value from a header (the customer's address as the portal saw it) as it is
    kept: printable characters only; none when nothing is left."""
    return "".join(c for c in text if c.isprintable()).strip() or None


def first_name(name: str | None) -> str | None:
    """What the customer's page calls the technician: the first word of their name."""
    words = (name or "").split()
    return words[0] if words else None


def average_rating(total: int, count: int) -> Decimal | None:
    """The mean of ``count`` ratings adding up to ``total``, half-up to two decimals."""
    if not count:
        return None
    return (Decimal(total) / Decimal(count)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# -------------------------------------------------------------------------- time clock


def seconds_between(start: datetime, end: datetime) -> int:
    return max(0, int((end - start).total_seconds()))


def to_hours_hundredths(seconds: int) -> int:
    """Clocked seconds as hours in hundredths (half-up), comparable with labour lines."""
    return _half_up(seconds, 36)


def billed_labour_hundredths(lines: Iterable[LineLike]) -> int:
    return sum(
        line.quantity_hundredths for line in lines if line.kind == LABOUR and line.approval == APPROVED
    )


# ------------------------------------------------------------------------------ prices

# The labour rate used when a labour line names no kind of work.
DEFAULT_WORK_KIND = "default"
# Codes of labour rates (kinds of work) and canned jobs: short, typed by staff, in URLs.
CODE_PATTERN = r"^[a-z0-9][a-z0-9-]{0,39}$"


class InvalidCode(Unprocessable):
    def __init__(self, field: str) -> None:
        super().__init__(
            f"the {field} must be 1 to 40 lower-case letters, digits and -",
            errors={field: ["lower-case letters, digits and -"]},
        )


def ensure_code(code: str, field: str = "code") -> str:
    if not re.fullmatch(CODE_PATTERN, code):
        raise InvalidCode(field)
    return code


class LabourRateNotFound(NotFound):
    def __init__(self, code: str) -> None:
        super().__init__(f"there is no labour rate {code!r}")


class CannedJobNotFound(NotFound):
    def __init__(self, canned_job_id: object) -> None:
        super().__init__(f"canned job {canned_job_id} does not exist")


class CannedJobRetired(Conflict):
    def __init__(self, code: str) -> None:
        super().__init__(f"canned job {code!r} is retired: make it active again to use it")


def hourly_rate_for(work_kind: str | None, rates: Mapping[str, int]) -> int:
    """The garage's rate for ``work_kind``, else its default rate. A kind of work it
    has no rate for is a mistake (a typo would bill the default), not a fallback."""
    if work_kind is not None and work_kind not in rates:
        raise InvalidLine({"work_kind": [f"no labour rate {work_kind!r}; the rates are {sorted(rates)}"]})
    code = work_kind or DEFAULT_WORK_KIND
    if code not in rates:
        raise InvalidLine(
            {
                "hourly_rate": [
                    "give one: the garage has no default labour rate (PUT /api/v1/labour-rates/default)"
                ]
            }
        )
    return rates[code]


def canned_line_values(kind: str, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A canned job's line as stored: like a job line, but a labour line may leave its
    rate to the labour rate of the day it is added, and VAT to the configured rate."""
    missing = [name for name in required_line_fields(kind) if fields.get(name) is None]
    missing = [name for name in missing if name != "hourly_rate"]
    if missing:
        raise InvalidLine({name: [f"a {kind} line needs this"] for name in missing})
    values = line_values(kind, fields)
    values.setdefault("unit_price", None)
    values.setdefault("vat_rate", None)
    values.setdefault("part_number", None)
    return values


def job_line_fields(line: Any, *, hourly_rate: int) -> dict[str, Any]:
    """What adding a canned line to a job posts as that job's line, priced now."""
    fields: dict[str, Any] = {"kind": line.kind, "description": line.description}
    if line.vat_rate is not None:
        fields["vat_rate"] = line.vat_rate
    quantity = from_hundredths(line.quantity_hundredths)
    if line.kind == LABOUR:
        fields.update(hours=quantity, hourly_rate=hourly_rate if line.unit_price is None else line.unit_price)
    else:
        fields.update(quantity=quantity, unit_price=line.unit_price, part_number=line.part_number)
    return fields
