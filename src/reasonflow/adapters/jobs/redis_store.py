"""``JobStore`` on Redis, shared by every process of a cluster (DESIGN §7).

A job is one JSON document changed only by the Lua scripts of
``redis_scripts.py``, so any number of API processes and workers record
outcomes concurrently and each email counts once. Beside it: the user's jobs
(a sorted set by creation time, newest first), the user's unfinished jobs (a
set: ``MAX_ACTIVE_JOBS`` is checked and taken in the same script that creates
the job) and every unfinished job (a set, for recovery). Each change is
published on ``<job key>:changed``, so any process can stream any job.

Retention: a finished job's key gets a TTL of ``retention`` and the job also
carries ``expires_at``; the store hides a job whose ``expires_at`` has passed
on its own clock even before Redis drops the key. Nothing scans all jobs. The
job's outcome log (``<job key>:outcomes``) is hidden and dropped the same way
``OUTCOME_LOG_TAIL`` after the job finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, cast
from uuid import UUID

import msgspec
from redis.asyncio import Redis

from reasonflow.adapters.jobs import redis_scripts as lua
from reasonflow.adapters.jobs.cursor import decode_cursor, encode_cursor
from reasonflow.adapters.jobs.redis_errors import unavailable_when_down
from reasonflow.adapters.jobs.redis_reads import FinishedJobs, Kept
from reasonflow.domain.errors import TooManyActiveJobs
from reasonflow.domain.model import (
    OUTCOME_LOG_TAIL,
    BatchJob,
    CancelReason,
    EmailOutcome,
    EmailStatus,
    Intent,
    JobError,
    JobKind,
    JobStatus,
    Outcome,
    Page,
    Usage,
)
from reasonflow.domain.ports import Clock, JobStore

Script = Callable[..., Awaitable[Any]]
_DECODE = msgspec.json.Decoder(dict[str, Any]).decode


class RedisJobStore(JobStore):
    def __init__(
        self,
        redis: Redis,
        clock: Clock,
        retention: timedelta,
        prefix: str = "reasonflow:",
        subscriber: Redis | None = None,
    ) -> None:
        """``subscriber``: the client whose connections ``wait_change`` subscribes
        on (default: ``redis``). Finished jobs read once are kept in this process
        (``redis_reads``)."""
        self._redis = redis
        self._subscriber = subscriber or redis
        self._finished = FinishedJobs()
        self._clock = clock
        self._retention = retention
        self._log_tail = min(retention, OUTCOME_LOG_TAIL)
        self._prefix = prefix
        self._create = redis.register_script(lua.CREATE)
        self._start = redis.register_script(lua.START)
        self._record = redis.register_script(lua.RECORD)
        self._cancel = redis.register_script(lua.CANCEL)

    # -- keys ---------------------------------------------------------------------

    def _job_key(self, job_id: str) -> str:
        return f"{self._prefix}job:{job_id}"

    def _keys(self, job_id: str) -> list[str]:
        """The keys every script takes (see ``redis_scripts``)."""
        return [self._job_key(job_id), f"{self._prefix}unfinished"]

    # -- the port -----------------------------------------------------------------

    @unavailable_when_down
    async def create(self, job: BatchJob, max_active: int) -> None:
        score = job.created_at.timestamp()
        created = await self._create(
            keys=self._keys(job.id),
            args=[_dump(job), max_active, repr(score), job.id, str(job.user_id), self._prefix],
        )
        if int(created) == 0:
            raise TooManyActiveJobs(max_active)

    @unavailable_when_down
    async def get(self, job_id: str) -> BatchJob | None:
        found = self._finished.get(job_id)
        if found is None:
            found = self._decoded(await self._redis.get(self._job_key(job_id)))
            if found is None:
                return None
            self._finished.keep(job_id, found)
        if self._expired(found.expires_at):
            self._finished.forget(job_id)
            return None
        return found.job

    @unavailable_when_down
    async def start(self, job_id: str, now: datetime) -> BatchJob | None:
        return await self._change(self._start, job_id, [now.isoformat()])

    @unavailable_when_down
    async def record(
        self,
        job_id: str,
        email_id: UUID,
        now: datetime,
        error: str | None = None,
        usage: Usage | None = None,
        *,
        intent: Intent | None = None,
        status: EmailStatus | None = None,
    ) -> BatchJob | None:
        spent = usage or Usage()
        cost = "" if spent.cost_usd is None else repr(spent.cost_usd)
        args = [str(email_id), now.isoformat(), error or "", spent.prompt_tokens]
        args += [spent.completion_tokens, cost, spent.llm_calls, spent.llm_calls_saved]
        args += self._expiry(now)
        args += [intent.value if intent else "", status.value if status else ""]
        return await self._change(self._record, job_id, args)

    @unavailable_when_down
    async def record_cancelled(
        self,
        job_id: str,
        email_ids: list[UUID],
        now: datetime,
        statuses: Mapping[UUID, EmailStatus] | None = None,
        *,
        reason: CancelReason | None = None,
    ) -> BatchJob | None:
        ids = json.dumps([str(i) for i in email_ids])
        known = json.dumps({str(i): s.value for i, s in (statuses or {}).items()})
        args = [ids, now.isoformat(), reason.value if reason else "", *self._expiry(now), known]
        return await self._change(self._cancel, job_id, args)

    @unavailable_when_down
    async def outcomes(self, job_id: str, after: int) -> list[EmailOutcome] | None:
        key = self._job_key(job_id)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(key)
            pipe.lrange(f"{key}:outcomes", max(after, 0), -1)
            raw, entries = await pipe.execute()
        job = self._visible(raw)
        if job is None:
            return None
        if job.completed_at is not None and job.completed_at + self._log_tail <= self._clock.now():
            return []
        return [_outcome(_DECODE(entry)) for entry in entries]

    @unavailable_when_down
    async def list_for_user(self, user_id: UUID, limit: int, cursor: str | None) -> Page[BatchJob]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        index = f"{self._prefix}user:{user_id}:jobs"
        start = 0
        if cursor is not None:
            rank = await self._redis.zrevrank(index, decode_cursor(cursor))
            if rank is None:  # the cursor's job has expired meanwhile: nothing after it
                return Page([], None)
            start = int(cast(int, rank)) + 1
        items: list[BatchJob] = []
        more = False
        # Expired jobs leave their ids behind until met here; skip (and drop) them.
        while len(items) <= limit:
            ids = cast(list[str], await self._redis.zrevrange(index, start, start + limit))
            if not ids:
                break
            start += len(ids)
            raws = await self._redis.mget([self._job_key(i) for i in ids])
            gone = []
            for job_id, raw in zip(ids, raws, strict=True):
                job = self._visible(raw)
                if job is None:
                    gone.append(job_id)
                elif len(items) < limit:
                    items.append(job)
                else:
                    more = True
                    break
            if gone:
                await self._redis.zrem(index, *gone)
            if more:
                break
        return Page(items, encode_cursor(items[-1].id) if more else None)

    @unavailable_when_down
    async def unfinished_ids(self) -> set[str]:
        return cast(set[str], await self._redis.smembers(f"{self._prefix}unfinished"))

    @unavailable_when_down
    async def wait_change(
        self, job_id: str, after_revision: int, patience: float
    ) -> BatchJob | None:
        key = self._job_key(job_id)
        pubsub = self._subscriber.pubsub(ignore_subscribe_messages=True)
        try:
            # Subscribe first, then look: a change between the two is not missed.
            await pubsub.subscribe(f"{key}:changed")
            job = await self.get(job_id)
            if job is None or job.revision > after_revision or job.is_finished:
                return job
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(patience):
                    while await pubsub.get_message(timeout=patience) is None:
                        pass
            return await self.get(job_id)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    # -- helpers ------------------------------------------------------------------

    async def _change(self, script: Script, job_id: str, args: list[Any]) -> BatchJob | None:
        """Run one of the scripts that change a job: one round trip."""
        raw = await script(keys=self._keys(job_id), args=[*args, self._prefix])
        return self._visible(raw)

    def _expiry(self, now: datetime) -> list[str]:
        """``expires_at`` (epoch seconds, this store's clock), the TTL in ms and
        the outcome log's TTL in ms."""
        expires = now.astimezone(UTC) + self._retention
        return [
            repr(expires.timestamp()),
            str(int(self._retention.total_seconds() * 1000)),
            str(int(self._log_tail.total_seconds() * 1000)),
        ]

    def _visible(self, raw: str | bytes | None) -> BatchJob | None:
        found = self._decoded(raw)
        if found is None or self._expired(found.expires_at):
            return None
        return found.job

    def _decoded(self, raw: str | bytes | None) -> Kept | None:
        if raw is None:
            return None
        data = _DECODE(raw)
        expires_at = data.get("expires_at")
        return Kept(_load(data), None if expires_at is None else float(expires_at))

    def _expired(self, expires_at: float | None) -> bool:
        return expires_at is not None and expires_at <= self._clock.now().timestamp()


def _dump(job: BatchJob) -> str:
    return json.dumps(
        {
            "id": job.id,
            "kind": job.kind.value,
            "user_id": str(job.user_id),
            "email_ids": [str(i) for i in job.email_ids],
            "pending": {str(i): True for i in job.pending_ids()},
            "left": len(job.pending_ids()),
            "total": job.total,
            "created_at": job.created_at.isoformat(),
            "updated_at": job.updated_at.isoformat(),
            "force": job.force,
            "max_cost_usd": job.max_cost_usd,
            "status": job.status.value,
            "succeeded": job.succeeded,
            "failed": job.failed,
            "cancelled": job.cancelled,
            "errors": [
                {
                    "email_id": str(e.email_id),
                    "error": e.error,
                    "timestamp": e.timestamp.isoformat(),
                }
                for e in job.errors
            ],
            "prompt_tokens": job.usage.prompt_tokens,
            "completion_tokens": job.usage.completion_tokens,
            "cost_usd": job.usage.cost_usd,
            "llm_calls": job.usage.llm_calls,
            "llm_calls_saved": job.usage.llm_calls_saved,
            "completed_at": None,
            "expires_at": None,
            "cancel_requested": job.cancel_requested,
            "cancel_reason": job.cancel_reason.value if job.cancel_reason else None,
            "revision": job.revision,
        }
    )


def _outcome(data: dict[str, Any]) -> EmailOutcome:
    intent, status = data.get("i"), data.get("s")
    return EmailOutcome(
        seq=int(data["n"]),
        email_id=UUID(data["e"]),
        outcome=Outcome(data["o"]),
        intent=None if intent is None else Intent(intent),
        status=None if status is None else EmailStatus(status),
        error=data.get("x"),
    )


def _load(data: dict[str, Any]) -> BatchJob:
    # Lua's JSON writes an emptied list as {}: both read as "none".
    texts: list[str] = data["email_ids"] or []
    email_ids = tuple(map(UUID, texts))
    waiting = data["pending"] or {}
    completed_at = data.get("completed_at")
    budget = data.get("max_cost_usd")
    reason = data.get("cancel_reason")
    return BatchJob.restore(
        id=data["id"],
        kind=JobKind(data["kind"]),
        user_id=UUID(data["user_id"]),
        email_ids=email_ids,
        pending=[i for t, i in zip(texts, email_ids, strict=True) if t in waiting],
        total=int(data["total"]),
        created_at=datetime.fromisoformat(data["created_at"]),
        updated_at=datetime.fromisoformat(data["updated_at"]),
        force=bool(data["force"]),
        max_cost_usd=None if budget is None else float(budget),
        status=JobStatus(data["status"]),
        succeeded=int(data["succeeded"]),
        failed=int(data["failed"]),
        cancelled=int(data["cancelled"]),
        errors=[
            JobError(UUID(e["email_id"]), e["error"], datetime.fromisoformat(e["at"]))
            for e in cast(list[dict[str, str]], data["errors"] or [])
        ],
        usage=Usage(
            int(data["prompt_tokens"]),
            int(data["completion_tokens"]),
            None if data["cost_usd"] is None else float(data["cost_usd"]),
            int(data.get("llm_calls") or 0),
            int(data.get("llm_calls_saved") or 0),
        ),
        completed_at=None if completed_at is None else datetime.fromisoformat(completed_at),
        cancel_requested=bool(data["cancel_requested"]),
        cancel_reason=None if reason is None else CancelReason(reason),
        revision=int(data["revision"]),
    )
