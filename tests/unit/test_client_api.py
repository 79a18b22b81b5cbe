"""The API client: errors as one-line messages, uploads, and the in-memory server
the other client tests run against."""

from __future__ import annotations

import json
import math
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from reasonflow.entrypoints.client.api import ApiClient
from reasonflow.entrypoints.client.errors import (
    ApiError,
    NetworkError,
    NotLoggedIn,
    ServerUnreachable,
)

URL = "http://reasonflow.test"
TOKEN = "good-token"
LIMITS = {"classify": 100, "process": 50}
PREFIXES = {"classify": "cls", "process": "prc"}
STAMP = "2026-11-28T10:00:00+00:00"
#: What each email costs on the fake server, in USD.
PRICE = 0.01


def reply(status: int, body: Any, **headers: str) -> httpx.Response:
    return httpx.Response(status, json=body, headers=headers)


class FakeServer:
    """The routes the client uses, in memory (an ``httpx.MockTransport`` handler).

    Emails whose subject contains ``[fail]`` fail. Each email costs ``PRICE``; a
    job with a budget starts emails while its cost is under it and cancels the
    rest, for reason "budget". A job reports ``processing``
    for its first ``reads_to_finish - 1`` reads (stream or status), then its
    final status. ``answers`` scripts the next submissions' answers: a response,
    an exception the transport raises, or None for the normal answer.
    """

    def __init__(self, subjects: list[str] | None = None, reads_to_finish: int = 2) -> None:
        self.emails = [
            {"id": str(uuid.uuid4()), "subject": s, "status": "pending"} for s in subjects or []
        ]
        self.jobs: dict[str, dict[str, Any]] = {}
        self.reads: dict[str, int] = {}
        self.reads_to_finish = reads_to_finish
        self.submissions: list[dict[str, Any]] = []
        self.answers: list[httpx.Response | Exception | None] = []
        self.streams = True
        self.requests: list[httpx.Request] = []
        self.password = "right password"
        self.imports: list[tuple[str, bytes]] = []
        self.estimates: list[dict[str, Any]] = []

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def ids(self) -> list[str]:
        return [e["id"] for e in self.emails]

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path, method = request.url.path, request.method
        if path == "/api/v1/auth/login":
            return self._login(json.loads(request.content))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return reply(401, {"status_code": 401, "detail": "Invalid or expired token"})
        if method == "POST" and (m := re.fullmatch(r"/api/v1/emails/batch/(\w+)", path)):
            return self._submit(m[1], request)
        if m := re.fullmatch(r"/api/v1/emails/batch/(\w+)/estimate", path):
            return self._estimate(m[1], json.loads(request.content))
        if m := re.fullmatch(r"/api/v1/emails/batch/(\w+)/(cancel|retry)", path):
            return self._cancel(m[1]) if m[2] == "cancel" else self._retry(m[1])
        if path == "/api/v1/emails/batch/jobs":
            listed = [self._public(j) for j in reversed(self.jobs)]
            return reply(
                200, {"items": listed[: int(request.url.params["limit"])], "next_cursor": None}
            )
        if m := re.fullmatch(r"/api/v1/emails/batch/status/(\w+)(/stream)?", path):
            if m[1] not in self.jobs:
                return reply(404, {"status_code": 404, "detail": "Batch job not found"})
            return self._stream(m[1]) if m[2] else reply(200, self._read(m[1]))
        if path == "/api/v1/emails/import":
            self.imports.append((request.headers["Content-Type"], request.read()))
            problems = [{"position": 2, "message_id": "<b@x>", "error": "no From address"}]
            return reply(200, {"imported": 1, "duplicates": 0, "problems": problems})
        if path == "/api/v1/emails":
            return self._page(request.url.params)
        if m := re.fullmatch(r"/api/v1/emails/([\w-]+)", path):
            found = [e for e in self.emails if e["id"] == m[1]]
            return reply(200, found[0]) if found else reply(404, {"detail": "Email not found"})
        return reply(404, {"status_code": 404, "detail": "Not Found"})

    def _login(self, body: dict[str, str]) -> httpx.Response:
        if body["password"] != self.password:
            return reply(401, {"status_code": 401, "detail": "Invalid email or password"})
        return reply(200, {"access_token": TOKEN, "expires_in": 1800, "token_type": "bearer"})

    def _page(self, params: httpx.QueryParams) -> httpx.Response:
        limit = int(params["limit"])
        assert 1 <= limit <= 100
        rows = [e for e in self.emails if e["status"] == params.get("status", e["status"])]
        start = int(params.get("cursor", 0))
        after = str(start + limit) if start + limit < len(rows) else None
        return reply(200, {"items": rows[start : start + limit], "next_cursor": after})

    def _submit(self, kind: str, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        key = request.headers["Idempotency-Key"]
        active = sum(not self._finished(j) for j in self.jobs)
        budget = body.get("max_cost_usd")
        self.submissions.append(
            {"kind": kind, "key": key, "ids": body["email_ids"], "active": active}
            | ({"max_cost_usd": budget} if budget is not None else {})
        )
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, Exception):
            raise answer
        if answer is not None:
            return answer
        assert 1 <= len(body["email_ids"]) <= LIMITS[kind]
        replay = [j for j in self.jobs.values() if j["key"] == key]
        job = replay[0] if replay else self.new_job(kind, body["email_ids"], key, budget)
        return reply(
            202,
            {
                "job_id": job["job_id"],
                "status": "queued",
                "total": job["total"],
                "processed": 0,
                "message": "accepted",
            },
        )

    def _estimate(self, kind: str, body: dict[str, Any]) -> httpx.Response:
        self.estimates.append({"kind": kind, **body})
        count = len(body["email_ids"])
        assert 1 <= count <= LIMITS[kind]
        calls = count if kind == "classify" else 2 * count
        return reply(
            200,
            {
                "emails": count,
                "llm_calls": calls,
                "prompt_tokens": 250 * calls,
                "completion_tokens": 300 * calls,
                "cost_usd": round(PRICE * count, 6),
                "seconds": 2.0 * math.ceil(count / 8),
            },
        )

    def new_job(
        self, kind: str, ids: list[str], key: str, budget: float | None = None
    ) -> dict[str, Any]:
        job_id = f"{PREFIXES[kind]}_{uuid.uuid4().hex[:16]}"
        cancelled = 0
        if budget is not None:
            started = min(len(ids), math.ceil(budget / PRICE - 1e-9))
            ids, cancelled = ids[:started], len(ids) - started
        subjects = {e["id"]: e["subject"] for e in self.emails}
        failed = [i for i in ids if "[fail]" in subjects.get(i, "")]
        errors = [
            {
                "email_id": i,
                "error": "Classification failed: API rate limit exceeded",
                "timestamp": STAMP,
            }
            for i in failed
        ]
        self.jobs[job_id] = {
            "job_id": job_id,
            "kind": kind,
            "key": key,
            "total": len(ids) + cancelled,
            "processed": len(ids),
            "succeeded": len(ids) - len(failed),
            "failed": len(failed),
            "cancelled": cancelled,
            "errors": errors or None,
            "created_at": STAMP,
            "updated_at": STAMP,
            "completed_at": STAMP,
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "cost_usd": PRICE * len(ids)},
            "status": "cancelled"
            if cancelled
            else ("completed" if len(failed) < len(ids) else "failed"),
            "cancel_reason": "budget" if cancelled else None,
        }
        self.reads[job_id] = 0
        return self.jobs[job_id]

    def _cancel(self, job_id: str) -> httpx.Response:
        if self._finished(job_id):
            detail = f"The job has already finished ({self.jobs[job_id]['status']})"
            return reply(409, {"status_code": 409, "detail": detail})
        self.reads[job_id] = self.reads_to_finish
        job = self.jobs[job_id]
        job.update(status="cancelled", processed=0, succeeded=0, cancelled=job["total"])
        return reply(202, self._public(job_id))

    def _retry(self, job_id: str) -> httpx.Response:
        failed = [e["email_id"] for e in self.jobs[job_id]["errors"] or []]
        if not failed:
            return reply(409, {"status_code": 409, "detail": "Nothing failed in this job"})
        job = self.new_job(self.jobs[job_id]["kind"], failed, str(uuid.uuid4()))
        return reply(202, {"job_id": job["job_id"], "status": "queued", "total": len(failed)})

    def _public(self, job_id: str) -> dict[str, Any]:
        return {k: v for k, v in self.jobs[job_id].items() if k != "key"}

    def _finished(self, job_id: str) -> bool:
        return self.reads[job_id] >= self.reads_to_finish

    def _read(self, job_id: str) -> dict[str, Any]:
        self.reads[job_id] += 1
        final = self._public(job_id)
        if self._finished(job_id):
            return final
        half = final["total"] // 2
        return final | {
            "status": "processing",
            "processed": half,
            "succeeded": half,
            "failed": 0,
            "errors": None,
            "completed_at": None,
        }

    def _stream(self, job_id: str) -> httpx.Response:
        if not self.streams:
            return reply(404, {"status_code": 404, "detail": "Not Found"})
        events = ["retry: 2000\n\n", ": keep-alive\n\n"]
        while True:
            status = self._read(job_id)
            events.append(f"event: progress\nid: {len(events)}\ndata: {json.dumps(status)}\n\n")
            if status["status"] != "processing":
                break
        headers = {"Content-Type": "text/event-stream"}
        return httpx.Response(200, content="".join(events).encode(), headers=headers)


def refusing(error: Exception) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        raise error

    return httpx.MockTransport(handle)


async def test_a_server_that_is_down_is_named_in_one_line() -> None:
    async with ApiClient(URL, TOKEN, refusing(httpx.ConnectError("refused"))) as api:
        with pytest.raises(ServerUnreachable) as caught:
            await api.jobs(20, None)
    assert URL in caught.value.message and "\n" not in caught.value.message


async def test_a_lost_answer_is_a_network_error() -> None:
    async with ApiClient(URL, TOKEN, refusing(httpx.ReadTimeout("slow"))) as api:
        with pytest.raises(NetworkError, match="ReadTimeout"):
            await api.status("cls_0123456789abcdef")


async def test_a_rejected_token_asks_to_log_in_again() -> None:
    async with ApiClient(URL, "stale", FakeServer().transport()) as api:
        with pytest.raises(NotLoggedIn, match="run `reasonflow login`"):
            await api.jobs(20, None)


async def test_a_wrong_password_is_the_servers_own_answer() -> None:
    async with ApiClient(URL, None, FakeServer().transport()) as api:
        with pytest.raises(ApiError) as caught:
            await api.login("ada@example.com", "wrong")
    assert (caught.value.status, caught.value.detail) == (401, "Invalid email or password")


async def test_errors_keep_the_detail_extra_and_retry_after() -> None:
    body = {
        "status_code": 404,
        "detail": "Some emails were not found",
        "extra": {"email_ids": ["x"]},
    }

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("classify"):
            return reply(429, {"detail": "Too many batch submissions"}, **{"Retry-After": "12"})
        return reply(404, body)

    async with ApiClient(URL, TOKEN, httpx.MockTransport(handle)) as api:
        with pytest.raises(ApiError) as missing:
            await api.submit("process", ["x"], False, "key")
        with pytest.raises(ApiError) as busy:
            await api.submit("classify", ["x"], False, "key")
    assert missing.value.detail == "Some emails were not found"
    assert missing.value.extra == {"email_ids": ["x"]} and not missing.value.temporary
    assert (busy.value.retry_after, busy.value.temporary) == (12.0, True)


async def test_force_is_sent_for_classify_only() -> None:
    server = FakeServer(["One"])
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        await api.submit("classify", server.ids(), True, "k1")
        await api.submit("process", server.ids(), True, "k2")
    bodies = [json.loads(r.content) for r in server.requests]
    assert bodies[0]["force"] is True and "force" not in bodies[1]


async def test_an_upload_is_the_raw_file_with_its_type_and_length(tmp_path: Path) -> None:
    server = FakeServer()
    mbox = tmp_path / "inbox.mbox"
    mbox.write_bytes(b"From a@b Sat Jan  1 00:00:00 2026\nSubject: hi\n\nbody\n" * 1000)
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        report = await api.import_file(mbox, "application/mbox")
    assert report["imported"] == 1
    assert server.imports == [("application/mbox", mbox.read_bytes())]
    assert server.requests[0].headers["Content-Length"] == str(mbox.stat().st_size)


async def test_the_stream_yields_each_progress_body() -> None:
    server = FakeServer(["One", "Two"], reads_to_finish=2)
    async with ApiClient(URL, TOKEN, server.transport()) as api:
        accepted = await api.submit("classify", server.ids(), False, "k")
        seen = [status async for status in api.stream(accepted["job_id"])]
    assert [(s["status"], s["processed"]) for s in seen] == [("processing", 1), ("completed", 2)]
    assert server.requests[-1].headers["Accept"] == "text/event-stream"
