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
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from reasonflow.adapters.auth.passwords import Argon2PasswordHasher
from reasonflow.adapters.auth.throttle import MemorySignInThrottle
from reasonflow.adapters.auth.tokens import JwtTokens
from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.llm.offline import RuleBasedClassifier
from reasonflow.adapters.mail.importer import parse_upload
from reasonflow.adapters.metrics import PrometheusMetrics
from reasonflow.adapters.sql.dispatches import SqlDispatchQueue, local_holder
from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.users import SqlUserRepository
from reasonflow.domain.accounts import AccountService, SignInThrottle
from reasonflow.domain.cascade import CascadeClassifier
from reasonflow.domain.dispatch import DispatchPolicy, ReplyDispatcher
from reasonflow.domain.estimates import EstimateService
from reasonflow.domain.execution import JobExecution
from reasonflow.domain.inbox import ImportedEmail, ImportProblem, InboxService
from reasonflow.domain.pipeline import ReviewPolicy, StagedPipeline
from reasonflow.domain.ports import (
    AccessTokens,
    Clock,
    CostModel,
    DispatchQueue,
    EmailRepository,
    FreeCalls,
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
from reasonflow.entrypoints.cluster import RunnerFactory, job_adapters, signin_limits
from reasonflow.entrypoints.lifecycle import (
    Background,
    DispatcherTask,
    Lifecycle,
    Probe,
    Resource,
    every,
)
from reasonflow.entrypoints.provider_choice import build_mailer, build_provider
from reasonflow.entrypoints.settings import Settings

log = logging.getLogger(__name__)


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
    #: The replies committed for sending (same database as ``emails``).
    dispatches: DispatchQueue
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
    #: Cluster only: whether this process may run claim recovery this round.
    lease: Callable[[], Awaitable[bool]] | None = None
    #: Failed sign-ins across processes (cluster); None: counted in this process.
    signin_throttle: SignInThrottle | None = None
    #: What the provider's calls cost (estimates, budgets); the offline default is free.
    costs: CostModel = field(default_factory=FreeCalls)


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
    runner: JobRunner
    estimates: EstimateService
    dispatcher: ReplyDispatcher
    exposition: Exposition | None = None


def build_adapters(settings: Settings) -> Adapters:
    """The production adapters the settings select; connects to nothing."""
    clock = SystemClock()
    database = Database(settings.database_url)
    metrics = PrometheusMetrics()
    job_side = job_adapters(settings, clock, metrics)
    provider = build_provider(settings, job_side.llm_pacer)
    tokens = JwtTokens(
        settings.jwt_secret,
        timedelta(minutes=settings.access_token_minutes),
        secret_file=settings.var_path / "jwt_secret",
    )
    # SQLite's WAL is checkpointed off the request path by a serving process only.
    checkpointer = (
        [Background("wal-checkpointer", database.run_checkpointer)] if database.is_sqlite else []
    )

    return Adapters(
        clock=clock,
        emails=SqlEmailRepository(database, clock),
        dispatches=SqlDispatchQueue(database),
        users=SqlUserRepository(database),
        jobs=job_side.jobs,
        classifier=provider.classifier,
        drafter=provider.drafter,
        mailer=build_mailer(settings, database, clock),
        hasher=Argon2PasswordHasher(),
        tokens=tokens,
        idempotency=job_side.idempotency,
        rate_limiter=job_side.rate_limiter,
        signin_throttle=job_side.signin_throttle,
        runner=job_side.runner,
        read_upload=parse_upload,
        metrics=metrics,
        exposition=metrics,
        storage=[database],
        resources=[tokens, provider, *job_side.resources, *checkpointer],
        probes=[database.ready, *job_side.probes],
        lease=job_side.lease,
        costs=provider.costs,
    )


def wire(adapters: Adapters, settings: Settings) -> Services:
    """The use cases over ``adapters``; starts nothing (see ``Services.lifecycle``)."""
    a = adapters
    policy = ReviewPolicy(settings.auto_approve_threshold, settings.auto_send)
    cascade = _cascade(a.classifier, settings.classify_cascade_threshold)
    classifier = cascade or a.classifier
    pipeline = StagedPipeline(classifier, a.drafter, a.emails, policy)
    dispatcher = ReplyDispatcher(
        a.dispatches, a.mailer, a.clock, dispatch_policy(settings), holder=local_holder()
    )
    execution = JobExecution(
        a.emails,
        a.jobs,
        classifier,
        pipeline,
        a.clock,
        a.metrics,
        on_reply_queued=dispatcher.wake,
    )
    runner = a.runner(execution.run_email)
    batch = BatchService(
        a.emails,
        a.jobs,
        runner,
        a.clock,
        settings.max_active_jobs,
        idempotency=a.idempotency,
        rate_limiter=a.rate_limiter,
        metrics=a.metrics,
        costs=a.costs,
    )
    estimates = EstimateService(
        a.emails, a.costs, settings.effective_job_concurrency, cascade=cascade
    )
    throttle = a.signin_throttle or MemorySignInThrottle(a.clock, signin_limits(settings))
    accounts = AccountService(
        a.users, a.hasher, a.clock, throttle, hash_threads=settings.password_hash_threads
    )
    # Every serving process (API, worker) runs a dispatcher; the lease lets one deliver.
    dispatching = DispatcherTask(dispatcher, settings.shutdown_grace_seconds)
    resources = [*a.storage, *a.resources, dispatching]
    # Now and then, claims of jobs that ended or vanished go back (never fresh
    # ones). In a cluster one process at a time does it (the lease); alone, a
    # process does it for the claims it could not give back itself (the
    # database was away for longer than a failed email waits for it).
    recovery = functools.partial(_recover_if_leading, batch, a.lease or _always, a.clock)
    interval = settings.recovery_interval_seconds
    resources.append(Background("claim-recovery", functools.partial(every, interval, recovery)))
    lifecycle = Lifecycle(
        resources,
        a.probes,
        jobs=batch,
        accounts=accounts,
        grace=settings.shutdown_grace_seconds,
        recover_at_start=a.lease is None,
    )
    return Services(
        batch=batch,
        inbox=InboxService(a.emails, a.clock, dispatcher, settings.send_wait_seconds),
        accounts=accounts,
        tokens=a.tokens,
        clock=a.clock,
        lifecycle=lifecycle,
        read_upload=a.read_upload,
        runner=runner,
        estimates=estimates,
        dispatcher=dispatcher,
        exposition=a.exposition,
    )


def _cascade(classifier: IntentClassifier, threshold: float | None) -> CascadeClassifier | None:
    """The offline rules first, then ``classifier`` (DESIGN §10); None when off, or
    when the classifier is the offline rules already."""
    if threshold is None or isinstance(classifier, RuleBasedClassifier):
        return None
    return CascadeClassifier(RuleBasedClassifier(), classifier, threshold)


def dispatch_policy(settings: Settings) -> DispatchPolicy:
    return DispatchPolicy(
        max_attempts=settings.dispatch_max_attempts,
        retry_base_seconds=settings.dispatch_retry_base_seconds,
        retry_max_seconds=settings.dispatch_retry_max_seconds,
        lease_seconds=settings.dispatch_lease_seconds,
        poll_seconds=settings.dispatch_poll_seconds,
    )


def build_services(settings: Settings) -> Services:
    """``wire(build_adapters(settings), settings)``: the production service."""
    return wire(build_adapters(settings), settings)


def admin_lifecycle(adapters: Adapters) -> Lifecycle:
    """For one-off commands (migrate, seed, create a user): the storage only, no jobs."""
    return Lifecycle(adapters.storage, adapters.probes)


#: A claim younger than this may belong to a submission whose job is not stored yet.
CLAIM_GRACE = timedelta(minutes=1)


async def _always() -> bool:
    return True


async def _recover_if_leading(
    batch: BatchService, lease: Callable[[], Awaitable[bool]], clock: Clock
) -> None:
    if await lease():
        released = await batch.recover(claimed_before=clock.now() - CLAIM_GRACE)
        if released:
            log.warning("recovered %d emails left processing by ended jobs", released)
