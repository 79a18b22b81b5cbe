"""The status event stream over a real socket."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Classification, Email, Intent
from reasonflow.domain.ports import IntentClassifier
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


class SlowClassifier(IntentClassifier):
    """The provider with latency: each call takes ``delay`` seconds; "fail" fails."""

    def __init__(self, delay: float) -> None:
        self.delay = delay

    async def classify(self, email: Email) -> Classification:
        await asyncio.sleep(self.delay)
        if "fail" in email.subject:
            raise ProviderError("API rate limit exceeded")
        return Classification(Intent.COMPLAINT, 0.9, "slow test classifier")


async def test_a_reconnect_with_last_event_id_repeats_no_email_and_misses_none(
    tmp_path: Path,
) -> None:
    subjects = [f"question {n}" for n in range(12)] + ["please fail"]
    async with live_server(tmp_path, SlowClassifier(0.1), job_max_concurrency=1) as live:
        token = await live.sign_in("resumer@example.com")
        ids = await _emails(live, token, subjects)
        async with live.client(token) as client:
            job = (await client.post(f"{BATCH}/classify", json={"email_ids": ids})).json()
            url = f"{BATCH}/status/{job['job_id']}/stream"
            first: list[dict[str, Any]] = []
            async with client.stream("GET", url) as response:
                reader = asyncio.create_task(_read_events(response, first))
                await wait_for(
                    _async(lambda: [e for e in first if e.get("event") == "email"]),
                    lambda emails: len(emails) >= 3,
                )
                reader.cancel()  # the connection drops mid-job
            last_id = first[-1]["id"]
            emails_before = [e for e in first if e.get("event") == "email"]
            assert len(emails_before) < len(ids), "dropped before the job ended"
            async with client.stream("GET", url, headers={"Last-Event-ID": last_id}) as response:
                assert response.status_code == 200
                second = await asyncio.wait_for(_read_events(response), 10)

    emails_after = [e for e in second if e.get("event") == "email"]
    received = [json.loads(e["data"]) for e in emails_before + emails_after]
    assert sorted(r["email_id"] for r in received) == sorted(ids), "each email exactly once"
    seqs = [int(e["id"]) for e in emails_before + emails_after]
    assert seqs == list(range(1, len(ids) + 1))
    by_id = {r["email_id"]: r for r in received}
    failed = by_id[ids[-1]]
    assert (failed["outcome"], failed["error"], failed["intent"]) == (
        "failed",
        "Classification failed: API rate limit exceeded",
        None,
    )
    assert by_id[ids[0]] == {
        "email_id": ids[0],
        "outcome": "succeeded",
        "intent": "complaint",
        "status": "pending",
        "error": None,
    }
    final = json.loads([e for e in second if e.get("event") == "progress"][-1]["data"])
    assert (final["status"], final["processed"]) == ("completed", len(ids))


async def test_a_stream_opened_after_the_job_ended_replays_its_emails_then_closes(
    tmp_path: Path,
) -> None:
    async with live_server(tmp_path, SlowClassifier(0.0)) as live:
        token = await live.sign_in("late@example.com")
        ids = await _emails(live, token, ["one", "two", "three"])
        async with live.client(token) as client:
            job = (await client.post(f"{BATCH}/classify", json={"email_ids": ids})).json()
            url = f"{BATCH}/status/{job['job_id']}/stream"
            await wait_for(
                lambda: client.get(f"{BATCH}/status/{job['job_id']}"),
                lambda r: r.json()["status"] == "completed",
            )
            async with client.stream("GET", url) as response:
                everything = await asyncio.wait_for(_read_events(response), 10)
            async with client.stream("GET", url, headers={"Last-Event-ID": "2"}) as response:
                tail = await asyncio.wait_for(_read_events(response), 10)
            refused = await client.get(url, headers={"Last-Event-ID": "not-a-number"})

    assert [e.get("event") for e in everything if "event" in e] == [
        "email",
        "email",
        "email",
        "progress",
    ]
    assert [e["id"] for e in everything if "event" in e][-1].startswith("3-")
    resumed = [(e.get("event"), e.get("id")) for e in tail if "event" in e]
    assert resumed[:1] == [("email", "3")] and [k for k, _ in resumed].count("email") == 1
    assert refused.status_code == 400


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
