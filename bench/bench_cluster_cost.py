"""Cluster mode: what one email and one status poll cost (docs/scaling.md).

One ``reasonflow serve`` and one ``reasonflow worker`` (offline provider, so
the figures are this service's own cost, not a model's), Postgres and Redis.
Per run: 400 emails classified (4 jobs of 100), 200 processed (4 jobs of 50),
then 1,000 status polls. Reported per email and per poll, median of 5 runs
with min and max:

* CPU seconds of the API process and of the worker (``/proc/<pid>/stat``);
* Redis commands (``INFO commandstats``, less what the idle cluster sends in
  the same time: SAQ's upkeep timers);
* Postgres transactions committed (``pg_stat_database.xact_commit``: the
  writes; reads end in a rollback and are not counted). A backend publishes
  its counters when idle for 10 s, so each reading waits 11 s first.

    .venv/bin/python -m bench.bench_cluster_cost [--runs 5]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from bench.support import (
    PG_SERVER,
    REDIS_URL,
    Proc,
    cluster_settings,
    machine,
    register,
    running,
    save,
    scratch,
    seed_emails,
    server_env,
    spread,
    start_server,
)
from redis.asyncio import Redis
from sqlalchemy.engine import make_url

CLASSIFY_JOBS, CLASSIFY_SIZE = 4, 100
PROCESS_JOBS, PROCESS_SIZE = 4, 50
POLLS = 1_000
#: An idle Postgres backend flushes its statistics after 10 s (PGSTAT_IDLE_INTERVAL).
PG_STATS_DELAY = 11.0


async def redis_calls() -> int:
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    try:
        stats = await client.info("commandstats")
    finally:
        await client.aclose()
    return sum(int(v["calls"]) for k, v in stats.items() if k.startswith("cmdstat_"))


async def pg_commits(database_url: str) -> int:
    name = make_url(database_url).database
    conn = await asyncpg.connect(PG_SERVER, timeout=10)
    try:
        await conn.execute("SELECT pg_stat_clear_snapshot()")
        value = await conn.fetchval(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = $1", name
        )
    finally:
        await conn.close()
    return int(value)


class Meter:
    """CPU of the two processes, Redis commands and Postgres commits since ``start``."""

    def __init__(self, api: Proc, worker: Proc, database_url: str, idle_rate: float) -> None:
        self.api, self.worker, self.database_url, self.idle_rate = (
            api,
            worker,
            database_url,
            idle_rate,
        )

    def start(self) -> None:
        time.sleep(PG_STATS_DELAY)
        self.t0 = time.monotonic()
        self.cpu = (self.api.cpu_seconds(), self.worker.cpu_seconds())
        self.redis = asyncio.run(redis_calls())
        self.pg = asyncio.run(pg_commits(self.database_url))

    def stop(self, units: int) -> dict[str, float]:
        elapsed = time.monotonic() - self.t0
        api, worker = self.api.cpu_seconds(), self.worker.cpu_seconds()
        redis = asyncio.run(redis_calls()) - self.redis - self.idle_rate * elapsed
        time.sleep(PG_STATS_DELAY)
        pg = asyncio.run(pg_commits(self.database_url)) - self.pg
        return {
            "api_cpu_ms": (api - self.cpu[0]) * 1000 / units,
            "worker_cpu_ms": (worker - self.cpu[1]) * 1000 / units,
            "redis_commands": max(0.0, redis) / units,
            "pg_commits": pg / units,
        }


def run_jobs(client: httpx.Client, kind: str, ids: list[uuid.UUID], size: int) -> None:
    job_ids = []
    for start in range(0, len(ids), size):
        chunk = [str(i) for i in ids[start : start + size]]
        response = client.post(f"/api/v1/emails/batch/{kind}", json={"email_ids": chunk})
        response.raise_for_status()
        job_ids.append(response.json()["job_id"])
    deadline = time.monotonic() + 300
    for job_id in job_ids:
        while True:
            status = client.get(f"/api/v1/emails/batch/status/{job_id}").json()
            if status["status"] in ("completed", "failed", "cancelled"):
                assert status["succeeded"] == status["total"], status
                break
            if time.monotonic() > deadline:
                sys.exit(f"job {job_id} did not finish: {status}")
            time.sleep(0.2)


def one_run(work: Path) -> dict[str, dict[str, float]]:
    with ExitStack() as stack:
        database, cluster = cluster_settings(stack)
        env = server_env(database, work, **cluster)
        api, url = start_server(work, env)
        worker = Proc([sys.executable, "-m", "reasonflow.entrypoints.cli", "worker"], env,
                      work / "worker.log")  # fmt: skip
        with running(api, worker), httpx.Client(base_url=url, timeout=30) as client:
            user_id, token = register(client, f"cost-{uuid.uuid4().hex[:6]}@example.com")
            client.headers["Authorization"] = f"Bearer {token}"
            total = CLASSIFY_JOBS * CLASSIFY_SIZE
            ids = seed_emails(database, [user_id], total)
            time.sleep(2)  # the worker's start-up, before the idle baseline
            before, t0 = asyncio.run(redis_calls()), time.monotonic()
            time.sleep(5)
            idle_rate = (asyncio.run(redis_calls()) - before) / (time.monotonic() - t0)
            meter = Meter(api, worker, database, idle_rate)
            figures: dict[str, dict[str, float]] = {}

            meter.start()
            run_jobs(client, "classify", ids, CLASSIFY_SIZE)
            figures["classify_per_email"] = meter.stop(total)

            processed = ids[: PROCESS_JOBS * PROCESS_SIZE]
            meter.start()
            run_jobs(client, "process", processed, PROCESS_SIZE)
            figures["process_per_email"] = meter.stop(len(processed))

            last = client.get("/api/v1/emails/batch/jobs").json()["items"][0]["job_id"]
            meter.start()
            for _ in range(POLLS):
                client.get(f"/api/v1/emails/batch/status/{last}").raise_for_status()
            figures["status_poll"] = meter.stop(POLLS)
            figures["idle_redis_commands_per_s"] = {"value": idle_rate}
            return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    runs = []
    for n in range(args.runs):
        with scratch("rf-cost-") as work:
            runs.append(one_run(work))
        print(f"run {n + 1}: " + ", ".join(
            f"{k}: " + " ".join(f"{m}={v:.2f}" for m, v in row.items())
            for k, row in runs[-1].items()
        ))  # fmt: skip
    summary: dict[str, Any] = {"machine": machine(), "runs": runs}
    for row in runs[0]:
        summary[row] = {metric: spread([r[row][metric] for r in runs]) for metric in runs[0][row]}
    for row in ("classify_per_email", "process_per_email", "status_poll"):
        print(row)
        for metric, stats in summary[row].items():
            low, high, runs = stats["min"], stats["max"], stats["runs"]
            print(
                f"  {metric:16} median {stats['median']:.3f}  ({low:.3f}..{high:.3f}, {runs} runs)"
            )
    save("cluster_cost", summary)


if __name__ == "__main__":
    main()
