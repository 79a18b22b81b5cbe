"""Finished jobs a process has read from Redis, kept in memory until they expire.

A finished job never changes again (``BatchJob``'s invariant: a cancel or an
outcome recorded after the end changes nothing), so once a read shows a job
finished, later reads of it need no Redis round trip: a client still polling
a job that has ended, the jobs panel, a retry reading its failures. A job that
has not finished is always read from Redis, so nothing served from here can
be behind a change. Expiry is checked on every hit (``expires_at``), as for a
read from Redis; a Redis that lost its data (no persistence) is the one case
where a finished job stays visible here until its expiry.

Bounded: ``size`` jobs, least recently used dropped first; a finished job
keeps no email ids, about 1 KiB.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from reasonflow.domain.model import BatchJob


@dataclass(frozen=True, slots=True)
class Kept:
    job: BatchJob
    #: Epoch seconds after which the job is gone (None while it runs).
    expires_at: float | None


class FinishedJobs:
    def __init__(self, size: int = 10_000) -> None:
        if size < 1:
            raise ValueError("size must be at least 1")
        self._size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, job_id: str) -> Kept | None:
        kept = self._kept.get(job_id)
        if kept is not None:
            self._kept.move_to_end(job_id)
        return kept

    def keep(self, job_id: str, kept: Kept) -> None:
        """Remember ``kept`` if its job has finished (anything else is ignored)."""
        if not kept.job.is_finished:
            return
        self._kept[job_id] = kept
        self._kept.move_to_end(job_id)
        if len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def forget(self, job_id: str) -> None:
        self._kept.pop(job_id, None)
