"""Batch job routes: submit, follow (poll or stream), list, cancel, retry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated
from uuid import UUID

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage
from litestar.status_codes import HTTP_200_OK, HTTP_202_ACCEPTED

from reasonflow.domain.errors import (
    BatchTooLarge,
    BudgetUnenforceable,
    DatabaseUnavailable,
    DuplicateEmailIds,
    EmailsConflict,
    EmailsNotFound,
    EmptyBatch,
    IdempotencyKeyReused,
    InvalidCursor,
    JobConflict,
    JobNotFound,
    RateLimited,
    ServiceUnavailable,
    TooManyActiveJobs,
)
from reasonflow.domain.model import JOB_CURSOR, BatchJob, JobKind
from reasonflow.entrypoints.bootstrap import Services
from reasonflow.entrypoints.http.contract import INVALID, JSON_BODY, SIGNED_IN, answers
from reasonflow.entrypoints.http.controllers import AUTHENTICATED
from reasonflow.entrypoints.http.dto import (
    AcceptedOut,
    ClassifyIn,
    EmailEventOut,
    EstimateOut,
    JobOut,
    JobPage,
    ProcessIn,
)

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        min_length=1,
        max_length=255,
        description="Replays within 24 h return the first job; another body → 422.",
    ),
]
LastEventId = Annotated[
    str | None,
    HeaderParameter(
        name="Last-Event-ID",
        pattern=r"^[0-9]{1,9}(-[0-9]{1,12})?$",
        description="Resume after this event: the stream repeats no email event up to it.",
    ),
]
#: What an estimate can answer besides its figures: a submission's checks.
ESTIMATE = (
    SIGNED_IN,
    JSON_BODY,
    EmptyBatch,
    BatchTooLarge,
    DuplicateEmailIds,
    EmailsNotFound,
    DatabaseUnavailable,
)
#: What a submission can answer besides its job.
SUBMISSION = (
    *ESTIMATE,
    BudgetUnenforceable,
    IdempotencyKeyReused,
    TooManyActiveJobs,
    RateLimited,
    ServiceUnavailable,
)
#: Clients reconnecting to a closed stream wait this long (ms) first.
STREAM_RETRY_MS = 2000


def _job_id(job_id: str) -> str:
    # Anything that cannot be a job id is simply not found.
    if len(job_id) != 20:
        raise JobNotFound()
    return job_id


class BatchController(Controller):
    path = "/api/v1/emails/batch"
    tags = ["batch"]
    dependencies = AUTHENTICATED
    security = [{"BearerToken": []}]

    @post(
        "/classify",
        status_code=HTTP_202_ACCEPTED,
        operation_id="classifyBatch",
        responses=answers(*SUBMISSION),
    )
    async def classify(
        self,
        data: JSONBody[ClassifyIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        idempotency_key: IdempotencyKey = None,
    ) -> AcceptedOut:
        job = await services.batch.submit_classify(
            user_id, data.email_ids, data.force, idempotency_key, data.max_cost_usd
        )
        return AcceptedOut.of(job)

    @post(
        "/classify/estimate",
        status_code=HTTP_200_OK,
        operation_id="estimateClassifyBatch",
        responses=answers(*ESTIMATE),
    )
    async def estimate_classify(
        self,
        data: JSONBody[ClassifyIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EstimateOut:
        """What the classify job of this body would spend; claims and queues nothing."""
        estimate = await services.estimates.estimate(
            JobKind.CLASSIFY, user_id, data.email_ids, data.force
        )
        return EstimateOut.of(estimate)

    @post(
        "/process",
        status_code=HTTP_202_ACCEPTED,
        operation_id="processBatch",
        responses=answers(*SUBMISSION, EmailsConflict, JobConflict),
    )
    async def process(
        self,
        data: JSONBody[ProcessIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        idempotency_key: IdempotencyKey = None,
    ) -> AcceptedOut:
        job = await services.batch.submit_process(
            user_id, data.email_ids, idempotency_key, data.max_cost_usd
        )
        return AcceptedOut.of(job)

    @post(
        "/process/estimate",
        status_code=HTTP_200_OK,
        operation_id="estimateProcessBatch",
        responses=answers(*ESTIMATE, EmailsConflict),
    )
    async def estimate_process(
        self,
        data: JSONBody[ProcessIn],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> EstimateOut:
        """What the process job of this body would spend; claims and queues nothing."""
        estimate = await services.estimates.estimate(JobKind.PROCESS, user_id, data.email_ids)
        return EstimateOut.of(estimate)

    @get(
        "/status/{job_id:str}",
        operation_id="getBatchStatus",
        responses=answers(SIGNED_IN, INVALID, JobNotFound, ServiceUnavailable),
    )
    async def status(
        self,
        job_id: FromPath[str],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> JobOut:
        return JobOut.of(await services.batch.status(user_id, _job_id(job_id)))

    @get(
        "/status/{job_id:str}/stream",
        operation_id="streamBatchStatus",
        responses=answers(SIGNED_IN, INVALID, JobNotFound, ServiceUnavailable),
    )
    async def stream(
        self,
        job_id: FromPath[str],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        state: State,
        last_event_id: LastEventId = None,
    ) -> ServerSentEvent:
        """One ``email`` event per finished email and one ``progress`` event with the
        status body per change; closes when finished. Resumes after ``Last-Event-ID``."""
        job = await services.batch.status(user_id, _job_id(job_id))
        heartbeat: float = state.settings.stream_heartbeat_seconds
        seen = int(last_event_id.partition("-")[0]) if last_event_id else 0
        return ServerSentEvent(
            _events(services, job, heartbeat, seen),
            retry_duration=STREAM_RETRY_MS,
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    @get(
        "/jobs",
        operation_id="listBatchJobs",
        responses=answers(SIGNED_IN, INVALID, InvalidCursor, ServiceUnavailable),
    )
    async def jobs(
        self,
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        cursor: Annotated[
            str | None,
            QueryParameter(pattern=JOB_CURSOR, description="next_cursor of the previous page"),
        ] = None,
    ) -> JobPage:
        page = await services.batch.list_jobs(user_id, limit, cursor)
        return JobPage([JobOut.of(j) for j in page.items], page.next_cursor)

    @post(
        "/{job_id:str}/cancel",
        status_code=HTTP_202_ACCEPTED,
        operation_id="cancelBatch",
        responses=answers(
            SIGNED_IN, INVALID, JobNotFound, JobConflict, ServiceUnavailable, DatabaseUnavailable
        ),
    )
    async def cancel(
        self,
        job_id: FromPath[str],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> JobOut:
        return JobOut.of(await services.batch.cancel(user_id, _job_id(job_id)))

    @post(
        "/{job_id:str}/retry",
        status_code=HTTP_202_ACCEPTED,
        operation_id="retryBatch",
        responses=answers(
            SIGNED_IN,
            INVALID,
            JobNotFound,
            JobConflict,
            EmailsConflict,
            BudgetUnenforceable,
            TooManyActiveJobs,
            RateLimited,
            ServiceUnavailable,
            DatabaseUnavailable,
        ),
    )
    async def retry(
        self,
        job_id: FromPath[str],
        services: NamedDependency[Services],
        user_id: NamedDependency[UUID],
    ) -> AcceptedOut:
        return AcceptedOut.of(await services.batch.retry(user_id, _job_id(job_id)))


async def _events(
    services: Services, job: BatchJob, heartbeat: float, seen: int
) -> AsyncIterator[ServerSentEventMessage]:
    """Event ids: an email event's is its outcome's ``seq``; a progress event's is
    ``<last seq sent>-<revision>``. Either way the number before the dash is
    where a reconnecting client resumes."""
    async for state in services.batch.watch(job, heartbeat):
        if state is None:
            yield ServerSentEventMessage(comment="keep-alive", data=None)
            continue
        # The log holds every outcome the state counts (both are written in one
        # atomic step), so the email events come before the progress that counts them.
        for outcome in await services.batch.outcomes(job, seen):
            body = msgspec.json.encode(EmailEventOut.of(outcome)).decode()
            yield ServerSentEventMessage(event="email", data=body, id=outcome.seq)
            seen = max(seen, outcome.seq)
        body = msgspec.json.encode(JobOut.of(state)).decode()
        yield ServerSentEventMessage(event="progress", data=body, id=f"{seen}-{state.revision}")
