"""The status event stream over a real socket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from tests.integration.live import Live, live_server
from tests.support import GatedClassifier, wait_for

BATCH = "/api/v1/emails/batch"


async def _emails(live: Live, token: str, subjects: list[str]) -> list[str]:
    async with live.client(token) as client:
        ids = []
        for subject in subjects:
            body = {"subject": subject, "body": "hello", "sender": "s@example.com"}
            ids.append((await client.post("/api/v1/emails", json=body)).json()["id"])
        return ids


async def _read_events(
    response: httpx.Response, events: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Parse the stream into events: {event, data, id, retry, comment}.

    Events land in ``events`` as they arrive, so a test can wait on them.
    """
    events = [] if events is None else events
    current: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if line == "":
            if current:
                events.append(current)
            current = {}
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "":
            current["comment"] = value
        else:
            current[field] = value
    if current:
        events.append(current)
    return events


async def test_the_stream_sends_each_change_and_closes_when_finished(tmp_path: Path) -> None:
    classifier = GatedClassifier()
    async with live_server(tmp_path, classifier, stream_heartbeat_seconds=0.2) as live:
        token = await live.sign_in("streamer@example.com")
        ids = await _emails(live, token, ["hold a", "hold b", "quick c"])
        async with live.client(token) as client:
            job = (await client.post(f"{BATCH}/classify", json={"email_ids": ids})).json()
            async with client.stream("GET", f"{BATCH}/status/{job['job_id']}/stream") as response:
                assert response.status_code == 200
                assert response.headers["content-type"].startswith("text/event-stream")
                seen: list[dict[str, Any]] = []
                reader = asyncio.create_task(_read_events(response, seen))
                # Two emails are held: the stream must keep the idle client alive.
                await wait_for(
                    _async(lambda: [e for e in seen if e.get("comment") == "keep-alive"]),
                    bool,
                    timeout=10,
                )
                classifier.release()
                events = await asyncio.wait_for(reader, 10)
    progress = [e for e in events if e.get("event") == "progress"]
    assert any(e.get("retry") == "2000" for e in events)
    assert any(e.get("comment") == "keep-alive" for e in events), "heartbeat while idle"
    bodies = [json.loads(e["data"]) for e in progress]
    assert bodies[-1]["status"] == "completed"
    assert [b["processed"] for b in bodies] == sorted(b["processed"] for b in bodies)
    assert bodies[-1]["processed"] == 3
    assert len({e["id"] for e in progress}) == len(progress), "one event per change"


async def test_a_client_that_disconnects_leaves_nothing_behind(tmp_path: Path) -> None:
    classifier = GatedClassifier()
    async with live_server(tmp_path, classifier, stream_heartbeat_seconds=0.05) as live:
        token = await live.sign_in("leaver@example.com")
        ids = await _emails(live, token, ["hold me"])
        baseline = len(asyncio.all_tasks())
        async with live.client(token) as client:
            job = (await client.post(f"{BATCH}/classify", json={"email_ids": ids})).json()
            async with client.stream("GET", f"{BATCH}/status/{job['job_id']}/stream") as response:
                lines = response.aiter_lines()
                assert (await anext(lines)).startswith("retry")
                assert _open_streams(live) == 1
        # The client is gone while the job still runs.
        await wait_for(_async(lambda: _open_streams(live)), lambda n: n == 0, timeout=5)
        # Only the held email's task remains beyond the baseline.
        await wait_for(_async(lambda: len(asyncio.all_tasks())), lambda n: n <= baseline + 1)
        classifier.release()


def _open_streams(live: Live) -> int:
    """The ``reasonflow_streams_open`` gauge, as ``/metrics`` shows it."""
    assert live.services.exposition is not None
    text = live.services.exposition.exposition().decode()
    (line,) = [x for x in text.splitlines() if x.startswith("reasonflow_streams_open ")]
    return int(float(line.split()[1]))


def _async(probe: Any) -> Any:
    async def run() -> Any:
        return probe()

    return run
