"""The composition root: the one place where ports meet their adapters.

Three steps, each usable alone:

* ``build_adapters(settings)``: every adapter the settings select. Nothing
  connects, reads a file or imports LiteLLM here.
* ``wire(adapters, settings)``: the use cases over any set of adapters (the
  unit tests pass fakes), plus the ``Lifecycle`` that starts and stops them.
* ``Lifecycle.start()`` / ``stop()`` / ``ready()``: called by the app's
  lifespan, the CLI and workers; this is where work happens.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from reasonflow.adapters.auth.passwords import Argon2PasswordHasher
from reasonflow.adapters.auth.tokens import JwtTokens
from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.jobs.idempotency import InMemoryIdempotencyStore
from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.adapters.jobs.rate_limit import TokenBucketRateLimiter
from reasonflow.adapters.jobs.runner import AsyncioJobRunner
from reasonflow.adapters.mail.importer import parse_upload
from reasonflow.adapters.metrics import PrometheusMetrics
from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.users import SqlUserRepository
from reasonflow.domain.accounts import AccountService
from reasonflow.domain.execution import JobExecution
from reasonflow.domain.inbox import ImportedEmail, ImportProblem, InboxService
from reasonflow.domain.pipeline import ReviewPolicy, StagedPipeline
from reasonflow.domain.ports import (
    AccessTokens,
    Clock,
    EmailRepository,
    EmailStep,
    IdempotencyStore,
    IntentClassifier,
    JobRunner,
    JobStore,
    Mailer,
    Metrics,
    NoMetrics,
    PasswordHasher,
    RateLimiter,
    ReplyDrafter,
    UserRepository,
)
from reasonflow.domain.services import BatchService
from reasonflow.entrypoints.lifecycle import Background, Lifecycle, Probe, Resource, every
from reasonflow.entrypoints.provider_choice import build_mailer, build_provider
from reasonflow.entrypoints.settings import Settings

RunnerFactory = Callable[[EmailStep], JobRunner]
#: How often finished jobs past their retention are evicted when nobody asks.
SWEEP_SECONDS = 60.0


class UploadReader(Protocol):
    """Reads an uploaded message or mailbox (``adapters.mail.importer.parse_upload``)."""

    def __call__(
        self, data: bytes, content_type: str, *, now: datetime
    ) -> Iterable[ImportedEmail | ImportProblem]: ...


class Exposition(Protocol):
    """Metrics in a scrape format (``/metrics``)."""

    content_type: str

    def exposition(self) -> bytes: ...


@dataclass(frozen=True)
class Adapters:
    """One adapter per port, plus what the lifecycle starts.

    ``runner`` builds the job runner once the per-email step exists (``wire``).
    ``storage`` holds the data (the database): the admin CLI starts only it;
    a serving process starts it, then ``resources``.
    """

    clock: Clock
    emails: EmailRepository
    users: UserRepository
    jobs: JobStore
    classifier: IntentClassifier
    drafter: ReplyDrafter
    mailer: Mailer
    hasher: PasswordHasher
    tokens: AccessTokens
    idempotency: IdempotencyStore
    rate_limiter: RateLimiter
    runner: RunnerFactory
    read_upload: UploadReader
    metrics: Metrics = field(default_factory=NoMetrics)
    exposition: Exposition | None = None
    storage: Sequence[Resource] = ()
    resources: Sequence[Resource] = ()
    probes: Sequence[Probe] = ()


@dataclass(frozen=True)
class Services:
    """What the entrypoints use: the use cases and the lifecycle that runs them."""

    batch: BatchService
    inbox: InboxService
    accounts: AccountService
    tokens: AccessTokens
    clock: Clock
    lifecycle: Lifecycle
    read_upload: UploadReader
    exposition: Exposition | None = None


def build_adapters(settings: Settings) -> Adapters:
    """The production adapters the settings select; connects to nothing."""
    clock = SystemClock()
    database = Database(settings.database_url)
    provider = build_provider(settings)
    metrics = PrometheusMetrics()
    jobs = InMemoryJobStore(
        clock, timedelta(seconds=settings.job_retention_seconds), on_finished=metrics.job_finished
    )
    metrics.watch(
        "reasonflow_jobs_in_flight", "Unfinished batch jobs.", lambda: jobs.unfinished_count
    )
    tokens = JwtTokens(
        settings.jwt_secret,
        timedelta(minutes=settings.access_token_minutes),
        secret_file=settings.var_path / "jwt_secret",
    )

    # A serving process sweeps expired jobs even when nobody asks, and checkpoints
    # SQLite's WAL off the request path; one-off commands do neither.
    background = [Background("job-sweeper", functools.partial(every, SWEEP_SECONDS, jobs.sweep))]
    if database.is_sqlite:
        background.append(Background("wal-checkpointer", database.run_checkpointer))

    def runner(step: EmailStep) -> JobRunner:
        built = AsyncioJobRunner(
            step, settings.llm_max_concurrency, settings.effective_job_concurrency
        )
        metrics.watch(
            "reasonflow_emails_in_flight",
            "Emails holding a provider slot right now.",
            lambda: built.in_flight,
        )
        return built

    return Adapters(
        clock=clock,
        emails=SqlEmailRepository(database, clock),
        users=SqlUserRepository(database),
        jobs=jobs,
        classifier=provider.classifier,
        drafter=provider.drafter,
        mailer=build_mailer(settings, database, clock),
        hasher=Argon2PasswordHasher(),
        tokens=tokens,
        idempotency=InMemoryIdempotencyStore(clock),
        rate_limiter=TokenBucketRateLimiter(settings.submit_rate_per_minute),
        runner=runner,
        read_upload=parse_upload,
        metrics=metrics,
        exposition=metrics,
        storage=[database],
        resources=[tokens, provider, *background],
        probes=[database.ready],
    )


def wire(adapters: Adapters, settings: Settings) -> Services:
    """The use cases over ``adapters``; starts nothing (see ``Services.lifecycle``)."""
    a = adapters
    policy = ReviewPolicy(settings.auto_approve_threshold, settings.auto_send)
    pipeline = StagedPipeline(a.classifier, a.drafter, a.emails, a.mailer, policy)
    execution = JobExecution(a.emails, a.jobs, a.classifier, pipeline, a.clock, a.metrics)
    batch = BatchService(
        a.emails,
        a.jobs,
        a.runner(execution.run_email),
        a.clock,
        settings.max_active_jobs,
        idempotency=a.idempotency,
        rate_limiter=a.rate_limiter,
        metrics=a.metrics,
    )
    accounts = AccountService(a.users, a.hasher, a.clock)
    lifecycle = Lifecycle(
        [*a.storage, *a.resources],
        a.probes,
        jobs=batch,
        accounts=accounts,
        grace=settings.shutdown_grace_seconds,
    )
    return Services(
        batch=batch,
        inbox=InboxService(a.emails, a.mailer, a.clock),
        accounts=accounts,
        tokens=a.tokens,
        clock=a.clock,
        lifecycle=lifecycle,
        read_upload=a.read_upload,
        exposition=a.exposition,
    )


def build_services(settings: Settings) -> Services:
    """``wire(build_adapters(settings), settings)``: the production service."""
    return wire(build_adapters(settings), settings)


def admin_lifecycle(adapters: Adapters) -> Lifecycle:
    """For one-off commands (migrate, seed, create a user): the storage only, no jobs."""
    return Lifecycle(adapters.storage, adapters.probes)
