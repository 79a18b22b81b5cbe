"""The composition root: the one place where ports meet their adapters."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from reasonflow.adapters.auth.passwords import Argon2PasswordHasher
from reasonflow.adapters.auth.tokens import JwtTokens, load_or_create_secret
from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.jobs.limits import InMemoryIdempotencyStore, TokenBucketRateLimiter
from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.adapters.jobs.runner import AsyncioJobRunner
from reasonflow.adapters.metrics import PrometheusMetrics
from reasonflow.adapters.sql.emails import SqlEmailRepository
from reasonflow.adapters.sql.engine import Database
from reasonflow.adapters.sql.migrate import upgrade
from reasonflow.adapters.sql.users import SqlUserRepository
from reasonflow.domain.accounts import AccountService
from reasonflow.domain.inbox import InboxService
from reasonflow.domain.pipeline import StagedPipeline
from reasonflow.domain.ports import Clock, IntentClassifier, ReplyDrafter
from reasonflow.domain.rules import ReviewPolicy
from reasonflow.domain.services import BatchService
from reasonflow.entrypoints.providers import build_mailer, build_provider, close_provider
from reasonflow.entrypoints.settings import Settings

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]


async def _always_ready() -> bool:
    return True


@dataclass
class Services:
    """What the entrypoints use, plus the hooks that start and stop it."""

    batch: BatchService
    inbox: InboxService
    accounts: AccountService
    tokens: JwtTokens
    clock: Clock
    on_start: list[Hook] = field(default_factory=list)
    on_stop: list[Hook] = field(default_factory=list)
    ready: Callable[[], Awaitable[bool]] = _always_ready
    metrics: PrometheusMetrics | None = None

    async def start(self) -> None:
        for hook in self.on_start:
            await hook()

    async def stop(self) -> None:
        for hook in reversed(self.on_stop):
            await hook()


def jwt_secret(settings: Settings) -> str:
    return settings.jwt_secret or load_or_create_secret(settings.var_path / "jwt_secret")


@dataclass
class AdminServices:
    """What the admin CLI needs: accounts and the inbox, without the job runner."""

    accounts: AccountService
    inbox: InboxService
    database: Database

    async def migrate(self) -> None:
        await upgrade(self.database.engine)

    async def close(self) -> None:
        await self.database.dispose()


def build_admin(settings: Settings) -> AdminServices:
    clock = SystemClock()
    database = Database(settings.database_url)
    return AdminServices(
        accounts=AccountService(SqlUserRepository(database), Argon2PasswordHasher(), clock),
        inbox=InboxService(
            SqlEmailRepository(database, clock), build_mailer(settings, database, clock), clock
        ),
        database=database,
    )


def build_services(
    settings: Settings,
    classifier: IntentClassifier | None = None,
    drafter: ReplyDrafter | None = None,
) -> Services:
    """Wire the production object graph. Connects to nothing until ``start``.

    ``classifier`` and ``drafter`` replace the provider's two model steps
    (tests use this to run the real app over a controllable provider).
    """
    clock = SystemClock()
    if classifier is None or drafter is None:
        chosen_classifier, chosen_drafter = build_provider(settings)
        classifier = classifier or chosen_classifier
        drafter = drafter or chosen_drafter
    database = Database(settings.database_url)
    emails = SqlEmailRepository(database, clock)
    mailer = build_mailer(settings, database, clock)
    policy = ReviewPolicy(settings.auto_approve_threshold, settings.auto_send)
    runner = AsyncioJobRunner(settings.llm_max_concurrency, settings.effective_job_concurrency)
    store = InMemoryJobStore(
        clock,
        timedelta(seconds=settings.job_retention_seconds),
        on_finished=lambda job: metrics.job_finished(job),
    )
    metrics = PrometheusMetrics(
        jobs_in_flight=lambda: store.unfinished_count, emails_in_flight=lambda: runner.in_flight
    )
    batch = BatchService(
        emails,
        store,
        runner,
        classifier,
        StagedPipeline(classifier, drafter, emails, mailer, policy),
        clock,
        settings.max_active_jobs,
        idempotency=InMemoryIdempotencyStore(clock),
        rate_limiter=TokenBucketRateLimiter(settings.submit_rate_per_minute),
        metrics=metrics,
    )
    runner.bind(batch.run_email)
    background: list[asyncio.Task[None]] = []

    async def start() -> None:
        await upgrade(database.engine)
        released = await emails.recover_orphans(await store.unfinished_ids())
        if released:
            log.warning("recovered %d emails left processing by a previous run", released)
        background.append(asyncio.create_task(store.run_sweeper(), name="job-sweeper"))
        if database.is_sqlite:
            checkpointer = database.run_checkpointer()
            background.append(asyncio.create_task(checkpointer, name="wal-checkpointer"))

    async def stop() -> None:
        for job_id in await runner.stop(settings.shutdown_grace_seconds):
            await emails.release(job_id)
        for task in background:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await close_provider(classifier, drafter)
        await database.dispose()

    async def ready() -> bool:
        return not runner.stopping and await database.ping()

    return Services(
        batch=batch,
        inbox=InboxService(emails, mailer, clock),
        accounts=AccountService(SqlUserRepository(database), Argon2PasswordHasher(), clock),
        tokens=JwtTokens(jwt_secret(settings), timedelta(minutes=settings.access_token_minutes)),
        clock=clock,
        on_start=[start],
        on_stop=[stop],
        ready=ready,
        metrics=metrics,
    )
