"""Server-Sent Events, parsed as the WHATWG spec says (the parts a client uses)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    event: str
    data: str
    id: str | None = None
    retry_ms: int | None = None


async def parse_events(lines: AsyncIterable[str]) -> AsyncIterator[Event]:
    """Events from the stream's lines. Comments (``: keep-alive``) are skipped;
    a blank line ends an event; an event with no ``data`` is not dispatched."""
    kind = ""
    data: list[str] = []
    last_id: str | None = None
    retry: int | None = None
    async for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield Event(kind or "message", "\n".join(data), last_id, retry)
            kind, data = "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "event":
            kind = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            last_id = value
        elif field == "retry" and value.isdigit():
            retry = int(value)
    # A stream cut mid-event drops it, as browsers do.
