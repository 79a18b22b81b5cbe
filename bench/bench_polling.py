"""Row 5: status polling. 1,000 clients polling every 2 s for 60 s, then saturated throughput.

Starts a real server (``reasonflow serve``, uvicorn, SQLite, the offline
``rules`` provider) on 127.0.0.1. ``--clients`` users each get one email
(inserted straight into the table) and an access token (minted with the
server's secret, as ``/api/v1/auth/login`` would issue it, to skip 1,000
argon2 hashes), and submit one classify job through the API. This script is
the load generator, a separate process on loopback, using
``bench/rawhttp.py`` (asyncio streams, one keep-alive connection per client).

1. **Polling.** Every client opens its own connection at a random moment in
   the first 2 s and then sends ``GET /api/v1/emails/batch/status/{its job}``
   every 2 s for ``--seconds`` s (the UI's interval): about 500 requests a
   second. Target: 0 errors (any non-200 answer, lost connection or timeout).
2. **Throughput.** ``--connections`` connections send requests back to back
   for ``--burst`` s, alternately to the status route (each request as a
   random client) and to ``/health``, ``--runs`` times each. Target: the
   status route's requests per second >= 50 % of ``/health``'s (medians).

With ``--store redis`` (cluster mode, DESIGN §7) the same runs go to a
server with ``JOB_STORE=redis`` and ``QUEUE=saq`` over a Postgres database
of its own (``rf_bench_<hex>``, dropped at the end) and a Redis key prefix
of its own (deleted at the end), and one ``reasonflow worker`` runs the
jobs. The jobs finish at once, and a process keeps the finished jobs it has
read (they never change again); ``--jobs waiting`` starts no worker, so the
jobs stay queued and every status request reads Redis: the cost of polling a
job that is still running.

    .venv/bin/python -m bench.bench_polling
    .venv/bin/python -m bench.bench_polling --store redis
    .venv/bin/python -m bench.bench_polling --store redis --jobs waiting
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
from bench.rawhttp import Connection, HttpError
from bench.support import (
    Load,
    Proc,
    cluster_settings,
    machine,
    mint_token,
    percentile,
    save,
    scratch,
    seed_emails,
    server_env,
    spread,
    start_server,
    verdict,
)

TIMEOUT = 10.0


@dataclass
class Client:
    token: str
    job_id: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def path(self) -> str:
        return f"/api/v1/emails/batch/status/{self.job_id}"


@dataclass
class Polls:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def prepare(url: str, database_url: str, count: int) -> list[Client]:
    owners = [uuid.uuid4() for _ in range(count)]
    email_ids = seed_emails(database_url, owners, 1)
    clients = []
    with httpx.Client(base_url=url, timeout=30) as http:
        for owner, email_id in zip(owners, email_ids, strict=True):
            token = mint_token(owner)
            response = http.post(
                "/api/v1/emails/batch/classify",
                json={"email_ids": [str(email_id)]},
                headers={"Authorization": f"Bearer {token}"},
            )
            response.raise_for_status()
            clients.append(Client(token, response.json()["job_id"]))
    return clients


async def poll(url: str, client: Client, interval: float, seconds: float, polls: Polls) -> None:
    loop = asyncio.get_running_loop()
    start = loop.time() + random.uniform(0, interval)
    end = start + seconds
    conn = Connection(url)
    try:
        tick = start
        while tick < end:
            await asyncio.sleep(max(0.0, tick - loop.time()))
            sent = time.perf_counter()
            try:
                status, body = await asyncio.wait_for(
                    conn.request("GET", client.path, client.headers), TIMEOUT
                )
            except (HttpError, OSError, TimeoutError) as exc:
                polls.errors.append(f"{type(exc).__name__}: {exc}")
                await conn.close()
            else:
                polls.latencies.append(time.perf_counter() - sent)
                if status != 200:
                    polls.errors.append(f"HTTP {status}: {body[:120]!r}")
            tick += interval
    finally:
        await conn.close()


async def polling_phase(url: str, clients: list[Client], seconds: float) -> tuple[Polls, float]:
    polls = Polls()
    started = time.perf_counter()
    await asyncio.gather(*(poll(url, c, 2.0, seconds, polls) for c in clients))
    return polls, time.perf_counter() - started


async def burst(
    url: str, clients: list[Client], target: str, connections: int, seconds: float
) -> tuple[int, int]:
    """Requests answered 200 and errors, ``connections`` sending back to back."""
    done, errors = 0, 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done, errors
        conn = Connection(url)
        try:
            while time.perf_counter() < stop_at:
                if target == "health":
                    path, headers = "/health", None
                else:
                    client = random.choice(clients)
                    path, headers = client.path, client.headers
                try:
                    status, _ = await asyncio.wait_for(conn.request("GET", path, headers), TIMEOUT)
                except (HttpError, OSError, TimeoutError):
                    errors += 1
                    await conn.close()
                    continue
                if status == 200:
                    done += 1
                else:
                    errors += 1
        finally:
            await conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return done, errors


def throughput_phase(
    url: str, server: Proc, clients: list[Client], args: argparse.Namespace
) -> dict[str, Any]:
    rates: dict[str, list[float]] = {"status": [], "health": []}
    cpu: dict[str, list[float]] = {"status": [], "health": []}
    errors = 0
    for run in range(1, args.runs + 1):
        for target in ("status", "health"):
            used = server.cpu_seconds()
            started = time.perf_counter()
            done, failed = asyncio.run(burst(url, clients, target, args.connections, args.burst))
            elapsed = time.perf_counter() - started
            rates[target].append(done / elapsed)
            cpu[target].append((server.cpu_seconds() - used) / elapsed)
            errors += failed
            print(
                f"run {run}: {target:<6} {done / elapsed:7.0f} requests/s, {failed} errors, "
                f"server CPU {cpu[target][-1]:.2f} cores"
            )
    ratios = [s / h for s, h in zip(rates["status"], rates["health"], strict=True)]
    return {
        "status_rps": spread(rates["status"]),
        "health_rps": spread(rates["health"]),
        "ratio": spread(ratios),
        "server_cpu_cores": {k: spread(v) for k, v in cpu.items()},
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--burst", type=float, default=10.0, help="seconds per throughput run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--store", choices=["memory", "redis"], default="memory")
    parser.add_argument(
        "--jobs",
        choices=["finished", "waiting"],
        default="finished",
        help="waiting (redis only): no worker runs them, every poll reads Redis",
    )
    args = parser.parse_args()
    if args.jobs == "waiting" and args.store != "redis":
        parser.error("--jobs waiting needs --store redis")
    print(f"machine: {machine()}")
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-polling-"))
        if args.store == "redis":
            database_url, cluster = cluster_settings(stack)
            env = server_env(database_url, work, **cluster)
        else:
            database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
            env = server_env(database_url, work)
        server, url = start_server(work, env)
        stack.callback(server.stop)
        if args.store == "redis" and args.jobs == "finished":
            argv = [sys.executable, "-m", "reasonflow.entrypoints.cli", "worker"]
            worker = Proc(argv, env, work / "worker.log")
            stack.callback(worker.stop)
        clients = prepare(url, database_url, args.clients)
        print(f"{len(clients)} clients, each with its own job")

        load = Load()
        used = server.cpu_seconds()
        polls, elapsed = asyncio.run(polling_phase(url, clients, args.seconds))
        poll_cpu = (server.cpu_seconds() - used) / elapsed
        poll_load = load.finish()
        count = len(polls.latencies)
        print(
            f"polling: {count} answers in {elapsed:.1f} s ({count / elapsed:.0f}/s), "
            f"{len(polls.errors)} errors, latency p50 {percentile(polls.latencies, 50) * 1000:.1f} "
            f"ms p99 {percentile(polls.latencies, 99) * 1000:.1f} ms max "
            f"{max(polls.latencies) * 1000:.1f} ms, server CPU {poll_cpu:.2f} cores"
        )
        for error in sorted(set(polls.errors))[:5]:
            print(f"  e.g. {error}")

        load = Load()
        burst_figures = throughput_phase(url, server, clients, args)
        burst_load = load.finish()

    ok_polls = not polls.errors and count > 0
    ratio = burst_figures["ratio"]
    ok_rate = ratio["median"] >= 0.5
    status_rps, health_rps = burst_figures["status_rps"], burst_figures["health_rps"]
    print(
        f"\nrow 5: {args.clients} clients polling every 2 s for {args.seconds:.0f} s: "
        f"{len(polls.errors)} errors in {count} requests; target 0: {verdict(ok_polls)}"
    )
    print(
        f"  saturated, {args.connections} connections: status route {status_rps['median']:.0f}/s "
        f"({status_rps['min']:.0f}-{status_rps['max']:.0f}), /health {health_rps['median']:.0f}/s "
        f"({health_rps['min']:.0f}-{health_rps['max']:.0f})"
    )
    print(
        f"  status = {ratio['median'] * 100:.0f} % of /health "
        f"({ratio['min'] * 100:.0f}-{ratio['max'] * 100:.0f} %); target >= 50 %: {verdict(ok_rate)}"
    )
    print(f"load while polling: {poll_load}; during the bursts: {burst_load}")
    save(
        "row5_polling" if args.store == "memory" else f"row5_polling_redis_{args.jobs}",
        {
            "machine": machine(),
            "args": vars(args),
            "polling": {
                "requests": count,
                "errors": len(polls.errors),
                "error_samples": sorted(set(polls.errors))[:5],
                "seconds": elapsed,
                "p50_ms": percentile(polls.latencies, 50) * 1000,
                "p99_ms": percentile(polls.latencies, 99) * 1000,
                "max_ms": max(polls.latencies) * 1000,
                "server_cpu_cores": poll_cpu,
                "load": poll_load,
            },
            "throughput": {**burst_figures, "load": burst_load},
            "met": ok_polls and ok_rate,
        },
    )
    raise SystemExit(0 if ok_polls and ok_rate else 1)


if __name__ == "__main__":
    main()
