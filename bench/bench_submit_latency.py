"""Row 4: submit latency with 100,000 emails in the database, on SQLite and on Postgres.

For each database (a SQLite file; a new Postgres database ``rf_bench_<hex>``
on 127.0.0.1:5432, dropped at the end) the script starts a real server,
signs a user up through the API, bulk-inserts ``--emails`` emails for that
user straight into the ``emails`` table (multi-row INSERTs), and then times,
one request at a time over one keep-alive connection, in a random order
within each round:

* ``POST /api/v1/emails/batch/classify`` with 100 random ids of the user's;
* ``POST /api/v1/emails/batch/process`` with 50 ids never claimed before;
* ``GET /api/v1/emails/{id}`` of a random email (the reference).

Jobs must not run while requests are timed, or the figures would measure
their work: the server's provider is the fake OpenAI-compatible one with a
one-hour latency, so each job waits in the runner's queue behind the first
eight emails, parked at the provider, and the server does nothing but the
request being timed. Each run is a fresh server process (``--rounds`` rounds
after a warm-up); the script reports p50 and p99 of each request, and the
target, each submission's p99 <= 3 x the GET's p99, on the median of runs.

    .venv/bin/python -m bench.bench_submit_latency                    # both databases
    .venv/bin/python -m bench.bench_submit_latency --databases sqlite
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
from bench.rawhttp import Connection
from bench.support import (
    Load,
    create_pg_database,
    drop_pg_database,
    machine,
    percentile,
    register,
    save,
    scratch,
    seed_emails,
    server_env,
    spread,
    start_fake_llm,
    start_server,
    verdict,
)

KINDS = ("get", "classify", "process")
WARM_UP = 10


async def measure(
    url: str,
    token: str,
    ids: list[str],
    process_pool: list[str],
    rounds: int,
    rng: random.Random,
    selection: str,
) -> dict[str, list[float]]:
    """Seconds per request, by kind; ``process_pool`` is consumed 50 ids at a time."""
    conn = Connection(url)
    headers = {"Authorization": f"Bearer {token}"}
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}

    async def one(kind: str) -> float:
        if kind == "get":
            method, path, body = "GET", f"/api/v1/emails/{rng.choice(ids)}", b""
        elif kind == "classify":
            method, path = "POST", "/api/v1/emails/batch/classify"
            if selection == "page":
                start = rng.randrange(len(ids) - 100)
                chosen = ids[start : start + 100]
            else:
                chosen = rng.sample(ids, 100)
            body = json.dumps({"email_ids": chosen}).encode()
        else:
            method, path = "POST", "/api/v1/emails/batch/process"
            chunk = [process_pool.pop() for _ in range(50)]
            body = json.dumps({"email_ids": chunk}).encode()
        started = time.perf_counter()
        status, answer = await conn.request(method, path, headers, body)
        elapsed = time.perf_counter() - started
        if status not in (200, 202):
            sys.exit(f"{method} {path} answered {status}: {answer[:300]!r}")
        return elapsed

    try:
        for _ in range(WARM_UP):
            for kind in KINDS:
                await one(kind)
        for _ in range(rounds):
            order = list(KINDS)
            rng.shuffle(order)
            for kind in order:
                timings[kind].append(await one(kind))
    finally:
        await conn.close()
    return timings


def run_database(
    name: str, database_url: str, work: Path, llm_url: str, args: argparse.Namespace
) -> dict[str, Any]:
    rng = random.Random(6)
    env = server_env(
        database_url,
        work,
        REASONFLOW_LLM_MODEL="openai/bench-model",
        REASONFLOW_LLM_API_BASE=f"{llm_url}/v1",
        REASONFLOW_LLM_API_KEY="sk-bench",
        REASONFLOW_LLM_TIMEOUT_SECONDS="3000",
        REASONFLOW_MAX_ACTIVE_JOBS="1000000",
        REASONFLOW_SUBMIT_RATE_PER_MINUTE="1000000",
    )
    ids: list[str] = []
    token = ""
    runs: list[dict[str, dict[str, float]]] = []
    for run in range(1, args.runs + 1):
        with ExitStack() as stack:
            server, url = start_server(work, env)
            stack.callback(server.stop)
            client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
            if not ids:
                user_id, token = register(client)
                started = time.perf_counter()
                ids = [str(i) for i in seed_emails(database_url, [user_id], args.emails)]
                print(
                    f"{name}: {len(ids)} emails inserted in {time.perf_counter() - started:.1f} s"
                )
            else:
                creds = {"email": "bench@example.com", "password": "bench password"}
                token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
            # Each 50 ids claimed once per run, so never a 409: the new server process
            # released, at start-up, every claim of the previous one's parked jobs.
            # Popped from the end: pages of the inbox from the newest down, or random.
            process_pool = ids[:]
            if args.selection == "random":
                rng.shuffle(process_pool)
            timings = asyncio.run(
                measure(url, token, ids, process_pool, args.rounds, rng, args.selection)
            )
        figures = {
            kind: {
                "p50_ms": percentile(values, 50) * 1000,
                "p99_ms": percentile(values, 99) * 1000,
            }
            for kind, values in timings.items()
        }
        runs.append(figures)
        print(
            f"{name} run {run}: "
            + ", ".join(
                f"{kind} p50 {f['p50_ms']:.2f} ms p99 {f['p99_ms']:.2f} ms"
                for kind, f in figures.items()
            )
        )
    result: dict[str, Any] = {"runs": runs}
    for kind in KINDS:
        for stat in ("p50_ms", "p99_ms"):
            result[f"{kind}_{stat}"] = spread([r[kind][stat] for r in runs])
    for kind in ("classify", "process"):
        result[f"{kind}_p99_over_get_p99"] = spread(
            [r[kind]["p99_ms"] / r["get"]["p99_ms"] for r in runs]
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--emails", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=1000, help="timed rounds per run")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--selection",
        choices=("page", "random"),
        default="page",
        help="page: consecutive emails of the inbox, as its select-all picks; random: anywhere",
    )
    args = parser.parse_args()
    if (args.rounds + WARM_UP) * 50 > args.emails:
        sys.exit("not enough emails for that many process submissions")
    print(f"machine: {machine()}")
    results: dict[str, Any] = {}
    load = Load()
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-submit-"))
        fake, llm_url = start_fake_llm(work, 3600.0)
        stack.callback(fake.stop)
        for name in args.databases.split(","):
            if name == "sqlite":
                url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
            elif name == "postgres":
                url = asyncio.run(create_pg_database())
                stack.callback(lambda url=url: asyncio.run(drop_pg_database(url)))
            else:
                sys.exit(f"unknown database {name!r}: sqlite or postgres")
            results[name] = run_database(name, url, work / name, llm_url, args)
    ran = load.finish()

    ok = True
    print(f"\nrow 4: one request at a time, {args.emails} emails in the database, "
          f"{args.selection} selections, {args.rounds} rounds x {args.runs} runs; "
          "medians of runs (spread)")  # fmt: skip
    for name, result in results.items():
        for kind in KINDS:
            p50, p99 = result[f"{kind}_p50_ms"], result[f"{kind}_p99_ms"]
            print(
                f"  {name:<8} {kind:<8} p50 {p50['median']:6.2f} ms ({p50['min']:.2f}-"
                f"{p50['max']:.2f})  p99 {p99['median']:6.2f} ms "
                f"({p99['min']:.2f}-{p99['max']:.2f})"
            )
        for kind in ("classify", "process"):
            ratio = result[f"{kind}_p99_over_get_p99"]
            met = ratio["median"] <= 3
            ok = ok and met
            print(
                f"  {name:<8} {kind} p99 / GET p99 = {ratio['median']:.2f} "
                f"({ratio['min']:.2f}-{ratio['max']:.2f}); target <= 3: {verdict(met)}"
            )
    print(f"load while it ran: {ran}")
    data = {"machine": machine(), "load": ran, "args": vars(args), "results": results, "met": ok}
    save(f"row4_submit_latency_{args.selection}", data)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
