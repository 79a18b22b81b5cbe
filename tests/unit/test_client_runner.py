"""The batch runner against the in-memory API: splitting, 429s, resends, streams, polling."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from reasonflow.entrypoints.client.api import ApiClient
from reasonflow.entrypoints.client.errors import ServerUnreachable
from reasonflow.entrypoints.client.runner import POLL_SECONDS, BatchRunner, Tally
from reasonflow.entrypoints.client.selection import split
from tests.unit.test_client_api import TOKEN, URL, FakeServer, reply


class Recorder:
    """A display that keeps every tally it is shown, and the notes."""

    def __init__(self) -> None:
        self.seen: list[tuple[int, int, int]] = []
        self.notes: list[str] = []

    def update(self, tally: Tally) -> None:
        self.seen.append((tally.processed, tally.succeeded, tally.failed))

    def note(self, message: str) -> None:
        self.notes.append(message)


class Clock:
    """``sleep`` that only records how long the client meant to wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def runner(
    server: FakeServer,
    clock: Clock | None = None,
    display: Recorder | None = None,
    in_flight: int = 3,
) -> BatchRunner:
    api = ApiClient(URL, TOKEN, server.transport())
    return BatchRunner(api, display or Recorder(), (clock or Clock()).sleep, in_flight)


async def test_a_large_selection_goes_out_in_batches_within_the_limit_each_once() -> None:
    server = FakeServer([f"Question {n}" for n in range(248)] + ["A [fail]", "B [fail]"])
    display = Recorder()
    outcome = await runner(server, display=display).run("classify", split(server.ids(), 100))

    assert [len(s["ids"]) for s in server.submissions] == [100, 100, 50]
    assert [i for s in server.submissions for i in s["ids"]] == server.ids()
    assert len({s["key"] for s in server.submissions}) == 3, "one Idempotency-Key per batch"
    tally = outcome.tally
    assert (tally.total, tally.processed, tally.succeeded, tally.failed) == (250, 250, 248, 2)
    assert len(tally.errors) == 2 and outcome.refused is None
    assert display.seen[-1] == (250, 248, 2)
    assert any(0 < processed < 250 for processed, _, _ in display.seen), "progress in between"


async def test_never_more_jobs_unfinished_than_the_window() -> None:
    server = FakeServer([f"Q{n}" for n in range(500)], reads_to_finish=3)
    server.streams = False
    await runner(server, in_flight=2).run("process", split(server.ids(), 50))
    assert len(server.submissions) == 10
    assert max(s["active"] for s in server.submissions) <= 1  # the 2nd waits for a free slot


async def test_a_429_is_waited_out_and_the_same_batch_resent_with_the_same_key() -> None:
    server = FakeServer(["One", "Two"])
    busy = {"status_code": 429, "detail": "You already have 10 unfinished batch jobs"}
    server.answers = [reply(429, busy, **{"Retry-After": "30"}), reply(503, {"detail": "x"})]
    clock, display = Clock(), Recorder()
    outcome = await runner(server, clock, display).run("classify", [server.ids()])

    assert [s["key"] for s in server.submissions] == [server.submissions[0]["key"]] * 3
    assert clock.waits[:2] == [30.0, 5.0]  # Retry-After, else 5 s
    assert "server busy" in display.notes[0]
    assert outcome.tally.succeeded == 2 and outcome.refused is None


async def test_a_network_error_resends_with_the_same_key_so_no_job_is_doubled() -> None:
    server = FakeServer(["One"])
    server.answers = [httpx.ReadError("connection reset")]
    outcome = await runner(server).run("classify", [server.ids()])
    keys = [s["key"] for s in server.submissions]
    assert len(keys) == 2 and keys[0] == keys[1]
    assert outcome.tally.succeeded == 1


async def test_a_server_that_stays_down_is_reported_after_a_few_tries() -> None:
    server = FakeServer(["One"])
    server.answers = [httpx.ConnectError("refused")] * 10
    with pytest.raises(ServerUnreachable, match=URL):
        await runner(server).run("classify", [server.ids()])
    assert len(server.submissions) == 4


async def test_a_refusal_stops_later_batches_but_running_jobs_are_followed() -> None:
    server = FakeServer([f"Q{n}" for n in range(150)])
    conflict = {"status_code": 409, "detail": "Some emails cannot be processed now: already sent"}
    server.answers = [None, reply(409, conflict)]
    outcome = await runner(server).run("process", split(server.ids(), 50))

    assert outcome.refused is not None and outcome.refused.status == 409
    assert "already sent" in outcome.refused.detail
    assert len(server.submissions) == 2, "the batch after the refusal is not sent"
    assert (outcome.tally.total, outcome.tally.succeeded) == (150, 50), "the 1st job was followed"


async def test_without_a_stream_the_status_is_polled_every_two_seconds() -> None:
    server = FakeServer(["One", "Two"], reads_to_finish=3)
    server.streams = False
    clock = Clock()
    outcome = await runner(server, clock).run("classify", [server.ids()])
    polls = [r for r in server.requests if r.url.path.startswith("/api/v1/emails/batch/status")]
    assert [p.url.path.endswith("/stream") for p in polls] == [True, False, False, False]
    assert clock.waits == [POLL_SECONDS, POLL_SECONDS]
    assert outcome.tally.succeeded == 2


async def test_the_stream_gives_every_progress_event_and_no_polling() -> None:
    server = FakeServer(["One", "Two", "Three", "Four"], reads_to_finish=2)
    display = Recorder()
    await runner(server, display=display).run("classify", [server.ids()])
    assert display.seen == [(0, 0, 0), (2, 2, 0), (4, 4, 0)]
    assert not [r for r in server.requests if re.search(r"/status/\w+$", r.url.path)]


async def test_retry_follows_the_one_job_it_was_given() -> None:
    server = FakeServer(["A [fail]"])
    first = runner(server)
    accepted = await first.submit("classify", server.ids())
    outcome = await runner(server).watch(accepted, "classify")
    assert (outcome.tally.total, outcome.tally.failed) == (1, 1)
