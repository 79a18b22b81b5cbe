"""Job events as log records with structured fields: submitted, cancelled, finished.

Ids, kinds and counts only: never an email's content or address. The fields
ride on the record (``extra={"fields": …}``); the log set-up prints them as
JSON keys or ``key=value`` pairs.
"""

from __future__ import annotations

import logging
from datetime import datetime

from reasonflow.domain.model import BatchJob

log = logging.getLogger("reasonflow.jobs")


def _fields(event: str, job: BatchJob) -> dict[str, object]:
    return {
        "event": event,
        "job_id": job.id,
        "kind": job.kind.value,
        "user_id": str(job.user_id),
        "total": job.total,
    }


def job_submitted(job: BatchJob) -> None:
    log.info("job submitted", extra={"fields": _fields("job_submitted", job)})


def job_cancelled(job: BatchJob, withdrawn: int) -> None:
    """The owner asked to cancel; ``withdrawn`` emails had not started."""
    fields = _fields("job_cancelled", job) | {"withdrawn": withdrawn}
    log.info("job cancelled", extra={"fields": fields})


def finished_now(job: BatchJob, now: datetime) -> bool:
    """Whether the change made at ``now`` is the one that finished ``job``
    (a later no-op record on a finished job leaves ``completed_at`` older)."""
    return job.is_finished and job.completed_at == now


def job_finished(job: BatchJob) -> None:
    fields = _fields("job_finished", job) | {
        "status": job.status.value,
        "succeeded": job.succeeded,
        "failed": job.failed,
        "cancelled": job.cancelled,
        "duration_ms": _duration_ms(job),
    }
    log.info("job finished", extra={"fields": fields})


def _duration_ms(job: BatchJob) -> float | None:
    if job.completed_at is None:
        return None
    return round((job.completed_at - job.created_at).total_seconds() * 1000, 1)
