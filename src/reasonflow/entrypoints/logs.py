"""Logging set-up: one line per event, text or JSON."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime


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


def configure_logging(fmt: str, level: str) -> None:
    handler = logging.StreamHandler()
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
