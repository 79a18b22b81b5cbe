"""An SMTP server that accepts every message and appends its Message-ID to a file.

``python -m tests.e2e.smtp_sink PORT FILE``: one line per accepted message
(``<Message-ID> <To>``), written and flushed before the server answers 250, so
whatever a client saw accepted is in the file. Runs in its own process, so the
servers under test can be killed without touching it.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from email import message_from_bytes, policy
from typing import IO

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class Recorder:
    def __init__(self, out: IO[str]) -> None:
        self._out = out

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content
        assert isinstance(content, bytes)
        message = message_from_bytes(content, policy=policy.default)
        self._out.write(f"{message['Message-ID']} {message['To']}\n")
        self._out.flush()
        return "250 OK"


def main() -> None:
    port, path = int(sys.argv[1]), sys.argv[2]
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with open(path, "a", encoding="utf-8") as out:
        controller = Controller(Recorder(out), hostname="127.0.0.1", port=port)
        controller.start()
        print("ready", flush=True)
        try:
            asyncio.run(asyncio.Event().wait())
        finally:
            controller.stop()


if __name__ == "__main__":
    main()
