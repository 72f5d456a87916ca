"""The work the garage sells, as booked and as found during a job, and its job lines:
each booked kind of work is a canned job in maintenance-job-management's catalogue,
priced at the garage's labour rates."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

LABOUR_RATE = 7_850  # cents an hour, VAT excluded
# code -> (name, cents an hour): the default and the dearer diagnosis hour
LABOUR_RATES = {"default": ("Workshop", LABOUR_RATE), "diagnosis": ("Diagnosis", 9_500)}


@dataclass(frozen=True)
class Work:
    description: str
    minutes: int
    bay_kind: str
    codes: tuple[str, ...]
    lines: tuple[tuple[Any, ...], ...]  # ("labour", text, hours) | ("part", text, part number, qty, price)
    work_kind: str | None = None  # the labour rate of its labour lines (None: the default)

    @property
    def code(self) -> str:
        """The canned job's code: "apk-srv-s" for codes APK and SRV-S."""
        return "-".join(self.codes).lower()


WORK = [
    Work(
        "APK inspection and small service",
        90,
        "lift",
        ("APK", "SRV-S"),
        (
            ("labour", "APK inspection", 0.75),
            ("labour", "Small service", 1.0),
            ("part", "Oil filter", "OF-1021", 1, 1_295),
            ("part", "Engine oil 5W-30", "OIL-5W30", 4.5, 1_450),
        ),
    ),
    Work(
        "Major service",
        180,
        "lift",
        ("SRV-L",),
        (
            ("labour", "Major service", 2.5),
            ("part", "Oil filter", "OF-1021", 1, 1_295),
            ("part", "Air filter", "AF-2210", 1, 2_450),
            ("part", "Cabin filter", "CF-3105", 1, 1_995),
            ("part", "Spark plugs", "SP-0417", 4, 1_150),
            ("part", "Engine oil 5W-30", "OIL-5W30", 4.5, 1_450),
        ),
    ),
    Work(
        "Brake pads front",
        60,
        "lift",
        ("BRK-F",),
        (("labour", "Replace front brake pads", 0.8), ("part", "Brake pad set front", "BP-F-880", 1, 6_495)),
    ),
    Work(
        "Winter tyres fitted",
        45,
        "lift",
        ("TYR-W",),
        (
            ("labour", "Swap and balance four wheels", 0.6),
            ("part", "Tyre storage one season", "STO-1", 1, 4_500),
        ),
    ),
    Work(
        "Airco service",
        60,
        "lift",
        ("AC",),
        (
            ("labour", "Airco service and leak test", 0.75),
            ("part", "Refrigerant R1234yf (100 g)", "R1234", 5, 1_200),
        ),
    ),
    Work(
        "Timing belt replacement",
        240,
        "lift",
        ("TB",),
        (
            ("labour", "Replace timing belt and water pump", 3.5),
            ("part", "Timing belt kit with water pump", "TBK-5520", 1, 28_950),
            ("part", "Coolant G13", "COOL-G13", 5, 695),
        ),
    ),
    Work(
        "EV annual check",
        60,
        "lift",
        ("EV",),
        (
            ("labour", "EV check: battery health, cables, brakes", 1.0),
            ("part", "Cabin filter", "CF-3105", 1, 1_995),
        ),
    ),
    Work(
        "Wheel alignment",
        60,
        "alignment",
        ("ALN",),
        (("labour", "Four-wheel alignment", 0.9),),
    ),
    Work(
        "Engine warning light: diagnosis",
        60,
        "diagnostics",
        ("DIAG",),
        (("labour", "Read fault codes and diagnose", 1.0),),
        work_kind="diagnosis",
    ),
]
EXTRA_WORK = [  # found during the work: offered to the customer as an estimate
    (("part", "Wiper blades front", "WB-650", 2, 2_495),),
    (
        ("labour", "Replace rear brake discs and pads", 1.5),
        ("part", "Brake discs and pads rear", "BD-R-410", 1, 17_450),
    ),
    (("part", "Battery 12V 70Ah", "BAT-70", 1, 15_995), ("labour", "Replace and code battery", 0.5)),
    (("part", "Tyre 205/55 R16", "TYR-20555", 2, 9_450), ("labour", "Fit and balance two tyres", 0.5)),
]


def line_body(line: tuple[Any, ...], *, covered: bool | None = None) -> dict[str, Any]:
    """A job line (``covered`` given) or a canned job's line (priced by the labour rate)."""
    if line[0] == "labour":
        body: dict[str, Any] = {"kind": "labour", "description": line[1], "hours": f"{line[2]:.2f}"}
    else:
        _, text, number, quantity, price = line
        body = {
            "kind": "part",
            "description": text,
            "part_number": number,
            "quantity": str(quantity),
            "unit_price": price,
        }
    if covered is not None:
        body["covered_by_booking"] = covered
    return body


def canned_job_body(work: Work) -> dict[str, Any]:
    return {
        "code": work.code,
        "name": work.description,
        "work_kind": work.work_kind,
        "lines": [line_body(line) for line in work.lines],
    }
