"""Logging set-up: one line per event, text or JSON.

A record may carry structured fields (``extra={"fields": {...}}``, as the
request log and the job events do): the JSON format puts them at the top level
of its object, the text format appends them as ``key=value``.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TextIO

#: Keys every JSON line has; a field of the same name never replaces them.
BASE_KEYS = frozenset({"time", "level", "logger", "message"})


def record_fields(record: logging.LogRecord) -> Mapping[str, object]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, Mapping) else {}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record_fields(record).items():
            if key not in BASE_KEYS:
                line[key] = value
        return json.dumps(line, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = record_fields(record)
        if not fields:
            return line
        return line + "".join(f" {key}={value}" for key, value in fields.items())


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
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(NoTracebacks())
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "reasonflow", False):
            root.removeHandler(old)
    handler.reasonflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
