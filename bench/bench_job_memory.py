"""Row 6: memory of the in-memory job store per retained finished job, and its sweep time.

In one process, no server: jobs go through ``InMemoryJobStore``'s own API
(``create``, then ``record`` once per email, as the runner does) on a clock
the script moves.

* **Memory.** ``tracemalloc`` counts the Python memory still allocated after
  ``--jobs`` finished 100-email jobs (10 jobs per user) are retained, divided
  by the number of jobs: the job, its email ids as the request decoded them,
  its timestamps and usage, and the store's indexes, measured once the jobs'
  outcome logs (kept ``OUTCOME_LOG_TAIL`` after a job finishes, for stream
  clients to catch up) are gone. Target <= 2 KiB a job. Also shown, not
  targets: a job whose 10 failures it must keep reporting, and a job still
  within its outcome log's tail.
* **Sweep.** ``--sweep-jobs`` finished jobs expire at once; the time of the one
  ``sweep()`` that evicts them all (``time.perf_counter``, tracemalloc off).
  Target <= 1 s for 100,000.

    .venv/bin/python -m bench.bench_job_memory
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
import tracemalloc
import uuid
from datetime import UTC, datetime, timedelta

from bench.support import Load, machine, save, spread, verdict

from reasonflow.adapters.jobs.memory import InMemoryJobStore
from reasonflow.domain.model import OUTCOME_LOG_TAIL, BatchJob, JobKind, Usage

RETENTION = timedelta(hours=24)
KIB = 1024


class StepClock:
    def __init__(self) -> None:
        self.current = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def now(self) -> datetime:
        return self.current


async def fill(
    store: InMemoryJobStore,
    clock: StepClock,
    jobs: int,
    emails: int,
    failures: int = 0,
    shed_every: int = 0,
) -> None:
    """``jobs`` finished jobs of ``emails`` emails each, 10 jobs a user. With
    ``shed_every``, the clock jumps an outcome log's tail after each such many
    jobs and the store sweeps, as time would pass between them (each finished
    job's log costs ~20 KB until then)."""
    owners = [uuid.uuid4() for _ in range(max(1, jobs // 10))]
    for n in range(jobs):
        # A fresh UUID object per job, as each request's token decodes its own.
        user = uuid.UUID(int=owners[n % len(owners)].int)
        ids = tuple(uuid.uuid4() for _ in range(emails))
        now = clock.now()
        job = BatchJob(JobKind.CLASSIFY.new_job_id(), JobKind.CLASSIFY, user, ids, now, now)
        await store.create(job, max_active=10**9)
        for i, email_id in enumerate(ids):
            clock.current += timedelta(microseconds=10)
            if i < failures:
                error = "Classification failed: provider timed out"
                await store.record(job.id, email_id, clock.now(), error=error)
            else:
                usage = Usage(120, 30, None)
                await store.record(job.id, email_id, clock.now(), usage=usage)
        del job, ids
        if shed_every and (n + 1) % shed_every == 0:
            clock.current += OUTCOME_LOG_TAIL
            store.sweep()


async def bytes_per_job(jobs: int, emails: int, failures: int, tail_passed: bool = True) -> float:
    clock = StepClock()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        store = InMemoryJobStore(clock, RETENTION)
        await fill(store, clock, jobs, emails, failures)
        if tail_passed:
            clock.current += OUTCOME_LOG_TAIL
            store.sweep()
        gc.collect()
        after = tracemalloc.get_traced_memory()[0]
        if len(store) != jobs or store.unfinished_count:
            raise SystemExit("the store did not retain every finished job")
    finally:
        tracemalloc.stop()
    return (after - before) / jobs


async def sweep_seconds(jobs: int, emails: int) -> tuple[float, float]:
    clock = StepClock()
    store = InMemoryJobStore(clock, RETENTION)
    built = time.perf_counter()
    # 15 min after every 2,000 jobs: 100,000 jobs span 12.5 h, inside their retention.
    await fill(store, clock, jobs, emails, shed_every=2000)
    built = time.perf_counter() - built
    clock.current += RETENTION + timedelta(seconds=1)
    gc.collect()
    started = time.perf_counter()
    evicted = store.sweep()
    elapsed = time.perf_counter() - started
    if evicted != jobs or len(store):
        raise SystemExit(f"the sweep evicted {evicted} of {jobs} jobs")
    return elapsed, built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000, help="jobs retained per memory run")
    parser.add_argument("--emails", type=int, default=100)
    parser.add_argument("--sweep-jobs", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = Load()

    memory, memory_failed, memory_tail, sweeps = [], [], [], []
    for run in range(1, args.runs + 1):
        memory.append(asyncio.run(bytes_per_job(args.jobs, args.emails, 0)))
        memory_failed.append(asyncio.run(bytes_per_job(args.jobs, args.emails, 10)))
        memory_tail.append(asyncio.run(bytes_per_job(args.jobs, args.emails, 0, False)))
        print(
            f"run {run}: {memory[-1]:.0f} B per finished {args.emails}-email job "
            f"({memory_failed[-1]:.0f} B with 10 failures kept, "
            f"{memory_tail[-1]:.0f} B with its outcome log)"
        )
    for run in range(1, args.runs + 1):
        elapsed, built = asyncio.run(sweep_seconds(args.sweep_jobs, args.emails))
        sweeps.append(elapsed)
        print(f"run {run}: sweep of {args.sweep_jobs} expired jobs {elapsed:.3f} s "
              f"(building them took {built:.1f} s)")  # fmt: skip

    ran = load.finish()
    mem, mem_failed, sweep = spread(memory), spread(memory_failed), spread(sweeps)
    mem_tail = spread(memory_tail)
    ok_mem = mem["median"] <= 2 * KIB
    ok_sweep = sweep["median"] <= 1.0
    print(
        f"\nmemory per retained finished {args.emails}-email job: median {mem['median']:.0f} B "
        f"(spread {mem['min']:.0f}-{mem['max']:.0f} B), target <= {2 * KIB} B: {verdict(ok_mem)}"
    )
    print(f"  with 10 failed emails kept in errors: median {mem_failed['median']:.0f} B")
    print(f"  within the outcome log's tail: median {mem_tail['median']:.0f} B")
    print(
        f"sweep of {args.sweep_jobs} expired jobs: median {sweep['median']:.3f} s "
        f"(spread {sweep['min']:.3f}-{sweep['max']:.3f} s), target <= 1 s: {verdict(ok_sweep)}"
    )
    print(f"load while it ran: {ran}")
    save(
        "row6_job_memory",
        {
            "machine": machine(),
            "load": ran,
            "args": vars(args),
            "bytes_per_job": mem,
            "bytes_per_job_with_10_failures": mem_failed,
            "bytes_per_job_within_outcome_tail": mem_tail,
            "sweep_seconds": sweep,
            "met": ok_mem and ok_sweep,
        },
    )
    raise SystemExit(0 if ok_mem and ok_sweep else 1)


if __name__ == "__main__":
    main()
