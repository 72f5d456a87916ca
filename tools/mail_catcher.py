"""A development SMTP server that delivers nothing: every message it receives is
written to a folder as an .eml file (open it with any mail program) and logged.

    python tools/mail_catcher.py --port 1025 --dir .run/mail

`make run` starts it for notification-management when SMTP_HOST is not set.
"""

from __future__ import annotations

import argparse
import itertools
import logging
import signal
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

log = logging.getLogger("mail_catcher")


class SaveToFolder:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.numbers = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = message_from_bytes(envelope.original_content, policy=policy.default)
        path = self.folder / f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self.numbers):04d}.eml"
        path.write_bytes(envelope.original_content)
        log.info("mail to %s: %s -> %s", ", ".join(envelope.rcpt_tos), message["Subject"], path)
        return "250 OK: caught, not delivered"


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", type=Path, default=Path(".run/mail"))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(SaveToFolder(args.dir), hostname=args.host, port=args.port)
    controller.start()
    log.info("catching mail on %s:%d into %s", args.host, args.port, args.dir)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    stop.wait()
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
