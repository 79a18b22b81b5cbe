"""Parsing the status event stream (Server-Sent Events)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from reasonflow.entrypoints.client.sse import Event, parse_events


async def lines(text: str) -> AsyncIterator[str]:
    for line in text.split("\n"):
        yield line


async def events(text: str) -> list[Event]:
    return [event async for event in parse_events(lines(text))]


async def test_progress_events_with_ids_and_the_retry_hint() -> None:
    stream = (
        'retry: 2000\n\nevent: progress\nid: 3\ndata: {"a": 1}\n\nevent: progress\ndata: {}\n\n'
    )
    assert await events(stream) == [
        Event("progress", '{"a": 1}', "3", 2000),
        Event("progress", "{}", "3", 2000),  # the last id and retry carry over
    ]


async def test_comments_and_events_without_data_are_not_dispatched() -> None:
    stream = ": keep-alive\n\nevent: progress\n\n: keep-alive\n\ndata: x\n\n"
    assert await events(stream) == [Event("message", "x")]


async def test_data_lines_join_with_newlines_and_one_leading_space_goes() -> None:
    stream = "event: progress\ndata: first\ndata:  second\ndata\n\n"
    assert await events(stream) == [Event("progress", "first\n second\n")]


async def test_carriage_returns_and_unknown_fields_are_ignored() -> None:
    async def crlf() -> AsyncIterator[str]:
        for line in ["event: progress\r\n", "colour: blue\r\n", "data: {}\r\n", "\r\n"]:
            yield line

    assert [event async for event in parse_events(crlf())] == [Event("progress", "{}")]


async def test_an_event_cut_off_by_the_end_of_the_stream_is_dropped() -> None:
    assert await events("event: progress\ndata: {}\n\nevent: progress\ndata: {partial") == [
        Event("progress", "{}")
    ]


async def test_a_bad_retry_value_is_ignored() -> None:
    assert await events("retry: soon\ndata: x\n\n") == [Event("message", "x", None, None)]
