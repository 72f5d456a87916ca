"""A job's documents as PDF, in English or Dutch: the estimate as the customer was shown
it, and the work order (job card) the workshop works from.

The page, the letterhead, the formats and the core-font encoding are the kit's
(service_kit.documents); this module knows what each document says. The estimate is
drawn from its snapshot (never from the lines as they are now), the work order from
the job as it stands; each is stamped with a time in its data, so the same data
always renders to the same bytes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from maintenance_job_management import domain
from service_kit.documents import formats
from service_kit.documents.labels import Catalogue, Labels
from service_kit.documents.pdf import CENTER, LEFT, RIGHT, Document, tick
from service_kit.documents.settings import DocumentSettings

CREATOR = "maintenance-job-management"

WORDS = Catalogue(
    en={
        "estimate": "ESTIMATE",
        "estimate_title": "Estimate {id}",
        "work_order": "WORK ORDER",
        "work_order_title": "Work order {id}",
        "date": "Date",
        "valid_until": "Valid until",
        "job": "Job",
        "appointment": "Appointment",
        "vehicle": "Vehicle",
        "customer": "Customer",
        "work": "Work",
        "message": "Message",
        "description": "Description",
        "quantity": "Qty",
        "unit_price": "Unit price",
        "net": "Net",
        "vat": "VAT",
        "gross": "Incl. VAT",
        "hours": "(hours)",
        "total_net": "Total excl. VAT",
        "vat_on": "VAT {rate} on {amount}",
        "total_gross": "Total incl. VAT",
        "approval_note": "This is an estimate: the work is carried out only after your approval.",
        "superseded": "This estimate has been replaced by a later one.",
        "planned": "Planned",
        "status": "Status",
        "technician": "Technician",
        "odometer": "Odometer in",
        "arrived": "Arrived",
        "done": "Done",
        "kind": "Kind",
        "part_number": "Part no.",
        "approval": "Customer",
        "labour": "Labour",
        "part": "Part",
        "pending": "awaiting approval",
        "approved": "approved",
        "declined": "declined: do not do",
        "technician_notes": "Technician notes",
        "odometer_out": "Odometer out",
        "signature": "Technician, date and signature",
        "scheduled": "scheduled",
        "in_progress": "in progress",
        "on_hold": "on hold",
        "completed": "completed",
        "cancelled": "cancelled",
    },
    nl={
        "estimate": "OFFERTE",
        "estimate_title": "Offerte {id}",
        "work_order": "WERKORDER",
        "work_order_title": "Werkorder {id}",
        "date": "Datum",
        "valid_until": "Geldig tot",
        "job": "Opdracht",
        "appointment": "Afspraak",
        "vehicle": "Voertuig",
        "customer": "Klant",
        "work": "Werkzaamheden",
        "message": "Toelichting",
        "description": "Omschrijving",
        "quantity": "Aantal",
        "unit_price": "Prijs",
        "net": "Netto",
        "vat": "Btw",
        "gross": "Incl. btw",
        "hours": "(uren)",
        "total_net": "Totaal excl. btw",
        "vat_on": "Btw {rate} over {amount}",
        "total_gross": "Totaal incl. btw",
        "approval_note": "Dit is een offerte: de werkzaamheden worden pas na uw akkoord uitgevoerd.",
        "superseded": "Deze offerte is vervangen door een latere.",
        "planned": "Gepland",
        "status": "Status",
        "technician": "Monteur",
        "odometer": "Km-stand binnen",
        "arrived": "Binnengekomen",
        "done": "Klaar",
        "kind": "Soort",
        "part_number": "Artikelnr.",
        "approval": "Klant",
        "labour": "Arbeid",
        "part": "Onderdeel",
        "pending": "wacht op akkoord",
        "approved": "akkoord",
        "declined": "afgewezen: niet uitvoeren",
        "technician_notes": "Opmerkingen monteur",
        "odometer_out": "Km-stand uit",
        "signature": "Monteur, datum en handtekening",
        "scheduled": "gepland",
        "in_progress": "in behandeling",
        "on_hold": "wacht",
        "completed": "gereed",
        "cancelled": "geannuleerd",
    },
)

BLANK = "____________"
DASH = "\u2013"  # en dash, in Windows-1252 too


class _Page:
    def __init__(self, settings: DocumentSettings, language: str, title: str, reference: Any) -> None:
        self.settings = settings
        self.language = language
        self.words: Labels = WORDS(language)
        self.document = Document(
            letterhead=settings.letterhead,
            language=language,
            title=self.words(title, id=reference),
            font_path=settings.font_path,
            creator=CREATOR,
        )

    def moment(self, value: datetime) -> str:
        return formats.moment(value, self.language, self.settings.zone)

    def day(self, value: datetime) -> str:
        return formats.day(formats.local(value, self.settings.zone), self.language)

    def period(self, start: datetime, end: datetime) -> str:
        """``5 March 2026 08:00-10:00`` (an en dash), or both moments when it spans days."""
        first, last = formats.local(start, self.settings.zone), formats.local(end, self.settings.zone)
        if first.date() == last.date():
            return f"{self.moment(start)}{DASH}{formats.clock(last)}"
        return f"{self.moment(start)} {DASH} {self.moment(end)}"

    def vehicle(self, job: Any) -> None:
        """The plate when the job knows it, else the vehicle's id (vehicle-management
        owns the vehicle)."""
        plate = getattr(job, "vehicle_plate", None)
        self.document.pair(self.words["vehicle"], plate or str(job.vehicle_id))


def _hundredths(entry: Mapping[str, Any]) -> int:
    """A shown line's quantity in hundredths, from the snapshot as it was stored."""
    if entry.get("quantity_hundredths") is not None:
        return int(entry["quantity_hundredths"])
    return int(Decimal(str(entry["quantity"])) * 100)


def _vat_breakdown(lines: Iterable[Mapping[str, Any]]) -> list[tuple[Decimal, int, int]]:
    """(rate, net, vat) per VAT rate, highest rate first."""
    per_rate: dict[Decimal, list[int]] = defaultdict(lambda: [0, 0])
    for entry in lines:
        sums = per_rate[Decimal(str(entry["vat_rate"]))]
        sums[0] += entry["net"]
        sums[1] += entry["vat"]
    return [(rate, net, vat) for rate, (net, vat) in sorted(per_rate.items(), reverse=True)]


def render_estimate(estimate: Any, job: Any, settings: DocumentSettings, language: str) -> bytes:
    """The estimate exactly as the customer was shown it: its snapshot's lines, totals
    and message; its validity when it has one."""
    snapshot = estimate.snapshot
    currency = snapshot["currency"]
    page = _Page(settings, language, "estimate_title", estimate.id)
    words, document = page.words, page.document

    def money(minor: int) -> str:
        return formats.money(minor, currency, language)

    facts = [(words["date"], page.day(estimate.sent_at))]
    if snapshot.get("valid_until"):
        facts.append(
            (words["valid_until"], formats.day(datetime.fromisoformat(snapshot["valid_until"]), language))
        )
    document.letterhead_block(words["estimate"], facts)
    document.pair(words["job"], str(job.id))
    page.vehicle(job)
    document.pair(words["work"], job.description)
    if snapshot.get("message"):
        document.pair(words["message"], snapshot["message"])
    document.ln(3)
    rows = [
        (
            words["description"],
            words["quantity"],
            words["unit_price"],
            words["net"],
            words["vat"],
            words["gross"],
        )
    ]
    for entry in snapshot["lines"]:
        description = entry["description"]
        if entry.get("part_number"):
            description += f" [{entry['part_number']}]"
        if entry["kind"] == domain.LABOUR:
            description += f" {words['hours']}"
        rows.append(
            (
                description,
                formats.quantity(_hundredths(entry), language),
                money(entry["unit_price"]),
                money(entry["net"]),
                formats.percent(entry["vat_rate"], language),
                money(entry["gross"]),
            )
        )
    document.table(rows, (72, 16, 24, 24, 14, 24), (LEFT, RIGHT, RIGHT, RIGHT, RIGHT, RIGHT))
    totals = [(words["total_net"], money(snapshot["total_net"]))]
    totals += [
        (words("vat_on", rate=formats.percent(rate, language), amount=money(net)), money(vat))
        for rate, net, vat in _vat_breakdown(snapshot["lines"])
    ]
    totals.append((words["total_gross"], money(snapshot["total_gross"])))
    document.totals(totals)
    document.text_line(words["approval_note"])
    if estimate.status == domain.ESTIMATE_SUPERSEDED:
        document.ln(2)
        document.text_line(words["superseded"], bold=True)
    return document.output_bytes(estimate.sent_at)


def render_work_order(job: Any, settings: DocumentSettings, language: str) -> bytes:
    """The job card: when, what vehicle, what to do (every line with a tick box and
    whether the customer approved it), the notes so far and room to write."""
    page = _Page(settings, language, "work_order_title", job.id)
    words, document = page.words, page.document
    facts = [(words["status"], words.get(job.status, job.status))]
    if job.assigned_technician:
        facts.append((words["technician"], job.assigned_technician))
    document.letterhead_block(words["work_order"], facts)
    document.pair(words["job"], str(job.id))
    document.pair(words["planned"], page.period(job.planned_start, job.planned_end))
    page.vehicle(job)
    document.pair(words["customer"], str(job.customer_id))
    document.pair(words["appointment"], str(job.appointment_id))
    arrived = getattr(job, "arrived_at", None)  # once the vehicle is checked in
    if arrived:
        document.pair(words["arrived"], page.moment(arrived))
    unit = job.odometer_unit or "km"
    odometer = BLANK if job.odometer_in is None else formats.whole(job.odometer_in, language)
    document.pair(words["odometer"], f"{odometer} {unit}")
    document.pair(words["work"], job.description)
    document.ln(3)
    rows = [
        (
            words["done"],
            words["kind"],
            words["description"],
            words["part_number"],
            words["quantity"],
            words["approval"],
        )
    ]
    for line in job.lines:
        rows.append(
            (
                tick(line.done),
                words[line.kind],
                line.description,
                line.part_number or "",
                formats.quantity(line.quantity_hundredths, language)
                + (f" {words['hours']}" if line.kind == domain.LABOUR else ""),
                words.get(line.approval, line.approval),
            )
        )
    document.table(rows, (12, 20, 64, 24, 22, 32), (CENTER, LEFT, LEFT, LEFT, RIGHT, LEFT))
    document.heading(words["technician_notes"])
    if job.technician_notes:
        document.text_line(job.technician_notes)
    document.ruled_lines(4)
    document.pair(words["odometer_out"], f"{BLANK} {unit}")
    document.ln(6)
    document.pair(words["signature"], BLANK * 3, width=60)
    stamps = [job.updated_at, *(line.updated_at for line in job.lines)]
    return document.output_bytes(max(stamps))
