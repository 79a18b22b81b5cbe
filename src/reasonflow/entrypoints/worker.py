"""``reasonflow worker``: runs the emails of batch jobs in the cluster mode (DESIGN §7).

Built from the same wiring as the API (provider, repositories, job store), it
takes SAQ tasks, ``--concurrency`` at a time. SIGTERM or SIGINT stops taking
tasks; running ones get ``SHUTDOWN_GRACE_SECONDS`` to finish, then are handed
back to the queue, where another worker runs them (each outcome still counts
once).
"""

from __future__ import annotations

import logging

from saq import Worker
from saq.types import PartialTimersDict

from reasonflow.adapters.jobs.saq_runner import TASK, SaqJobRunner
from reasonflow.entrypoints.bootstrap import Services
from reasonflow.entrypoints.settings import PREFIX, Settings, SettingsError

log = logging.getLogger(__name__)


def check_cluster(settings: Settings) -> None:
    if not settings.cluster:
        raise SettingsError(
            f"{PREFIX}QUEUE: reasonflow worker runs in the cluster mode; "
            f"set {PREFIX}JOB_STORE=redis and {PREFIX}QUEUE=saq"
        )


async def run_worker(services: Services, settings: Settings, concurrency: int) -> None:
    """Start ``services``, take tasks until SIGTERM or SIGINT, then stop them."""
    runner = services.runner
    assert isinstance(runner, SaqJobRunner)
    # SAQ logs every task at INFO; its warnings and errors still come through.
    logging.getLogger("saq").setLevel(logging.WARNING)
    await services.lifecycle.start()
    try:
        worker = Worker(
            runner.queue,
            functions=[(TASK, runner.run)],
            concurrency=concurrency,
            shutdown_grace_period_s=int(settings.shutdown_grace_seconds),
            # Tasks of a dead worker are found one heartbeat after they stop beating.
            timers=PartialTimersDict(
                sweep=settings.task_heartbeat_seconds, abort=1, schedule=1, worker_info=10
            ),
        )
        log.info("worker started concurrency=%d", concurrency)
        await worker.start()  # until SIGTERM or SIGINT
    finally:
        await services.lifecycle.stop()
        log.info("worker stopped")
