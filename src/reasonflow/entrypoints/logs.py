"""Logging set-up: one line per event, text or JSON."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import TextIO


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname,
                "logger": record.name,
                "message": record.getMessage(),
            }
        )


class NoTracebacks(logging.Filter):
    """Keep stack traces out of every log line, whoever logs them."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is now, not to the one seen at set-up
    (test runners and daemons swap it)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


def configure_logging(fmt: str, level: str) -> None:
    handler = StderrHandler()
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.addFilter(NoTracebacks())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "reasonflow", False):
            root.removeHandler(old)
    handler.reasonflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
