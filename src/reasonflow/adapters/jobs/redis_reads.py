"""Jobs an API process has read from Redis, kept until Redis announces a change.

Every script that changes a job publishes on ``<prefix>job:<id>:changed``
(``redis_scripts.save``). An API process subscribes to all of them with one
pattern, and keeps the jobs it has read (``RedisJobStore.get``) until their
notice arrives: a status poll of a job that has not changed since the last
one costs no Redis round trip. A poll of a job that changes between polls
(a running one) still reads Redis.

Coherence:
* A read is kept only if no notice for its job arrived while it was in
  flight (each notice is numbered; a read remembers the number it started
  at), so a reply that crossed a change is never kept.
* Only while subscribed: until the subscription is confirmed, and from the
  moment the connection is lost until it is back, nothing is served from
  here or kept, and everything kept is dropped. Pub/sub loses nothing on a
  live connection, so this is the only way a notice can be missed.
* A change made through this process forgets its job at once (read your
  own writes), and expiry is checked on every hit by the store.
* Left behind by a change elsewhere: at most the time this process takes to
  see its notice (the event loop's lag, milliseconds). Should notices stop
  without the connection failing (a network that drops packets silently),
  the subscription is pinged every ``ping_seconds`` and counted lost when
  nothing has been heard for three of them, and no job is kept longer than
  ``max_age_seconds`` in any case.

Bounded: ``size`` jobs (least recently used go first); a finished job is
~1 KiB, a running 100-email one ~20 KiB.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass

from redis.asyncio import Redis

from reasonflow.domain.model import BatchJob

log = logging.getLogger(__name__)

#: Changes remembered per job id (to refuse a read that crossed one).
_CHANGES_KEPT = 100_000


@dataclass(frozen=True, slots=True)
class Kept:
    job: BatchJob
    #: Epoch seconds after which the job is gone (None while it runs).
    expires_at: float | None
    #: When it was read (``time.monotonic``).
    read_at: float = 0.0


class JobReadCache:
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        size: int = 2048,
        *,
        max_age_seconds: float = 10.0,
        ping_seconds: float = 2.0,
        reconnect_seconds: float = 1.0,
    ) -> None:
        self._redis = redis
        self._max_age = max_age_seconds
        self._ping = ping_seconds
        self._pattern = f"{prefix}job:*:changed"
        self._job_key = f"{prefix}job:"
        self._size = size
        self._reconnect = reconnect_seconds
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        #: Number of the last notice seen (or local change, or lost connection).
        self._tick = 0
        #: Job id -> number of its last notice; older ones fall back on ``_floor``.
        self._changed: OrderedDict[str, int] = OrderedDict()
        self._floor = 0
        self._live = False
        self._task: asyncio.Task[None] | None = None

    @property
    def live(self) -> bool:
        return self._live

    async def start(self) -> None:
        self._task = asyncio.create_task(self._listen(), name="job-read-cache")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._lost()

    # -- the store's side -------------------------------------------------------------

    def lookup(self, job_id: str) -> Kept | None:
        if not self._live:
            return None
        kept = self._kept.get(job_id)
        if kept is None:
            return None
        if time.monotonic() - kept.read_at > self._max_age:
            del self._kept[job_id]
            return None
        self._kept.move_to_end(job_id)
        return kept

    def ticket(self) -> int:
        """Taken before a read; ``keep`` refuses the read if its job changed since."""
        return self._tick

    def keep(self, job_id: str, kept: Kept, ticket: int) -> None:
        if not self._live or max(self._floor, self._changed.get(job_id, 0)) > ticket:
            return
        self._kept[job_id] = Kept(kept.job, kept.expires_at, time.monotonic())
        self._kept.move_to_end(job_id)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def forget(self, job_id: str) -> None:
        """``job_id`` changed (a notice, or a change made through this process)."""
        self._tick += 1
        self._changed[job_id] = self._tick
        self._changed.move_to_end(job_id)
        if len(self._changed) > _CHANGES_KEPT:
            _, number = self._changed.popitem(last=False)
            self._floor = max(self._floor, number)
        self._kept.pop(job_id, None)

    # -- the subscription ---------------------------------------------------------

    def _lost(self) -> None:
        self._live = False
        self._tick += 1
        self._floor = self._tick
        self._kept.clear()
        self._changed.clear()

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub()
            try:
                await pubsub.psubscribe(self._pattern)
                heard = pinged = time.monotonic()
                while True:
                    message = await pubsub.get_message(timeout=self._ping / 2)
                    now = time.monotonic()
                    if message is not None:
                        heard = now
                        if message["type"] == "psubscribe":
                            # Again on a live subscription: the client reconnected
                            # on its own, and notices may have been lost meanwhile.
                            self._lost()
                            self._live = True
                        elif message["type"] == "pmessage":
                            self._notice(message["channel"])
                    if now - heard > 3 * self._ping:
                        raise TimeoutError("the subscription went quiet")
                    if now - pinged >= self._ping:
                        await pubsub.ping()
                        pinged = now
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the connection: drop everything, then resubscribe
                if self._live:
                    log.warning("job read cache off until Redis is back: %s", type(exc).__name__)
                self._lost()
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
            await asyncio.sleep(self._reconnect)

    def _notice(self, channel: str | bytes) -> None:
        name = channel.decode() if isinstance(channel, bytes) else channel
        job_id = name.removeprefix(self._job_key).removesuffix(":changed")
        self.forget(job_id)
