"""Instructions counted by valgrind's callgrind around a piece of Python, for figures
that do not move with the machine's load (CPU time does, a little; wall time a lot).

Under ``valgrind --tool=callgrind --collect-atstart=no``, ``Meter.measure(label, fn)``
zeroes callgrind's counters, counts only while ``fn`` runs, and writes the counts to a
dump of their own named by ``label`` (callgrind's client requests, from a tiny C helper
built with gcc against valgrind's callgrind.h, loaded with ctypes). ``dumped_totals``
reads the instructions (Ir) of each dump back. Outside valgrind ``measure`` just runs
``fn``."""

from __future__ import annotations

import ctypes
import re
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_SOURCE = r"""
#include <valgrind/callgrind.h>
int meter_on_valgrind(void) { return RUNNING_ON_VALGRIND; }
void meter_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_TOGGLE_COLLECT; }
void meter_stop(const char *label) { CALLGRIND_TOGGLE_COLLECT; CALLGRIND_DUMP_STATS_AT(label); }
"""


class Meter:
    def __init__(self) -> None:
        build = Path(tempfile.mkdtemp(prefix="callgrind-meter-"))
        (build / "meter.c").write_text(_SOURCE)
        subprocess.run(
            ["gcc", "-O1", "-shared", "-fPIC", "-o", str(build / "meter.so"), str(build / "meter.c")],
            check=True,
        )
        self._lib = ctypes.CDLL(str(build / "meter.so"))
        self._lib.meter_stop.argtypes = [ctypes.c_char_p]
        self.active = bool(self._lib.meter_on_valgrind())

    def measure(self, label: str, fn: Callable[[], Any]) -> Any:
        if not self.active:
            return fn()
        self._lib.meter_start()
        try:
            return fn()
        finally:
            self._lib.meter_stop(label.encode())


_TRIGGER = re.compile(r"^desc: Trigger: Client Request: (.*)$", re.MULTILINE)
_TOTAL = re.compile(r"^(?:summary|totals): (\d+)", re.MULTILINE)


def dumped_totals(directory: Path) -> dict[str, int]:
    """label -> instructions, from the dumps callgrind wrote into ``directory``."""
    totals: dict[str, int] = {}
    for dump in sorted(directory.glob("callgrind.out.*")):
        text = dump.read_text(errors="replace")
        label, total = _TRIGGER.search(text), _TOTAL.search(text)
        if label and total:
            totals[label.group(1).strip()] = int(total.group(1))
    return totals
