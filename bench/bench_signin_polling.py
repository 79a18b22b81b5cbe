"""Sign-in under load: status polling p99 while 20 sign-ins a second run.

Starts a real server (``reasonflow serve``, uvicorn, SQLite, the offline
``rules`` provider, the default throttle settings) on 127.0.0.1.
``--clients`` users each get one classify job (as ``bench_polling`` does) and
poll its status every ``--interval`` s over their own keep-alive connection.
Each run measures two phases of ``--seconds`` s back to back:

1. **Quiet**: polling only.
2. **Sign-ins**: the same polling while ``--rate`` sign-ins a second go to
   ``/api/v1/auth/login``, half with the right password and half with a wrong
   one, for ``--accounts`` registered accounts, each from one of ``--peers``
   loopback addresses (``127.0.0.2``, ``127.0.0.3``, …, bound as the source
   address). Spread this way, no pair or address reaches its throttle limit
   (a wrong guess per address every few seconds, well under 20 a minute), so
   every sign-in pays its Argon2 check: throttling does not hide the load.
   The answers are counted by status; 429s are reported.

Target: the sign-in phase's polling p99 < 2 x the quiet phase's (the median
over ``--runs`` runs of the per-run ratio).

    .venv/bin/python -m bench.bench_signin_polling
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import itertools
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
from bench.bench_polling import Client, Polls, poll, prepare
from bench.support import (
    Load,
    machine,
    percentile,
    save,
    scratch,
    server_env,
    spread,
    start_server,
    verdict,
)

PASSWORD = "bench password right"  # noqa: S105 - a benchmark account


def register_accounts(url: str, count: int) -> list[str]:
    addresses = [f"signin-{n}@example.com" for n in range(count)]
    with httpx.Client(base_url=url, timeout=30) as http:
        for address in addresses:
            answer = http.post(
                "/api/v1/auth/register", json={"email": address, "password": PASSWORD}
            )
            answer.raise_for_status()
    return addresses


async def sign_ins(
    url: str, accounts: list[str], peers: int, rate: float, seconds: float
) -> tuple[collections.Counter[int], list[float]]:
    statuses: collections.Counter[int] = collections.Counter()
    latencies: list[float] = []
    clients = [
        httpx.AsyncClient(
            base_url=url,
            timeout=30,
            transport=httpx.AsyncHTTPTransport(local_address=f"127.0.0.{2 + n}"),
        )
        for n in range(peers)
    ]
    pending: set[asyncio.Task[None]] = set()
    accounts_cycle = itertools.cycle(accounts)
    peers_cycle = itertools.cycle(clients)

    async def one(client: httpx.AsyncClient, account: str, right: bool) -> None:
        password = PASSWORD if right else "a wrong guess"
        sent = time.perf_counter()
        try:
            answer = await client.post(
                "/api/v1/auth/login", json={"email": account, "password": password}
            )
        except httpx.HTTPError:
            statuses[0] += 1
            return
        latencies.append(time.perf_counter() - sent)
        statuses[answer.status_code] += 1

    loop = asyncio.get_running_loop()
    start = loop.time()
    try:
        for n in range(int(rate * seconds)):
            await asyncio.sleep(max(0.0, start + n / rate - loop.time()))
            task = asyncio.create_task(one(next(peers_cycle), next(accounts_cycle), n % 2 == 0))
            pending.add(task)
            task.add_done_callback(pending.discard)
        if pending:
            await asyncio.gather(*pending)
    finally:
        for client in clients:
            await client.aclose()
    return statuses, latencies


async def phase(
    url: str, clients: list[Client], args: argparse.Namespace, accounts: list[str] | None
) -> tuple[Polls, collections.Counter[int], list[float]]:
    polls = Polls()
    polling = asyncio.gather(*(poll(url, c, args.interval, args.seconds, polls) for c in clients))
    if accounts is None:
        await polling
        return polls, collections.Counter(), []
    # The sign-ins start with the polls' first ticks and end with their last,
    # from a process of their own: httpx's CPU must not delay the polls' clock.
    with ProcessPoolExecutor(1) as pool:
        signing = asyncio.get_running_loop().run_in_executor(
            pool, run_sign_ins, url, accounts, args.peers, args.rate, args.seconds
        )
        _, (statuses, latencies) = await asyncio.gather(polling, signing)
    return polls, statuses, latencies


def run_sign_ins(
    url: str, accounts: list[str], peers: int, rate: float, seconds: float
) -> tuple[collections.Counter[int], list[float]]:
    return asyncio.run(sign_ins(url, accounts, peers, rate, seconds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between polls")
    parser.add_argument("--seconds", type=float, default=15.0, help="per phase")
    parser.add_argument("--rate", type=float, default=20.0, help="sign-ins per second")
    parser.add_argument("--accounts", type=int, default=40)
    parser.add_argument("--peers", type=int, default=64)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    runs: list[dict[str, Any]] = []
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-signin-"))
        database_url = f"sqlite+aiosqlite:///{work / 'bench.db'}"
        server, url = start_server(work, server_env(database_url, work))
        stack.callback(server.stop)
        clients = prepare(url, database_url, args.clients)
        accounts = register_accounts(url, args.accounts)
        print(f"{len(clients)} polling clients, {len(accounts)} accounts, {args.peers} peers")
        for run in range(1, args.runs + 1):
            load = Load()
            quiet, _, _ = asyncio.run(phase(url, clients, args, None))
            busy, statuses, signin_latencies = asyncio.run(phase(url, clients, args, accounts))
            quiet_p99 = percentile(quiet.latencies, 99) * 1000
            busy_p99 = percentile(busy.latencies, 99) * 1000
            figures = {
                "quiet_p99_ms": quiet_p99,
                "busy_p99_ms": busy_p99,
                "ratio": busy_p99 / quiet_p99,
                "quiet_p50_ms": percentile(quiet.latencies, 50) * 1000,
                "busy_p50_ms": percentile(busy.latencies, 50) * 1000,
                "poll_errors": len(quiet.errors) + len(busy.errors),
                "polls": len(quiet.latencies) + len(busy.latencies),
                "signin_statuses": dict(statuses),
                "signin_p50_ms": percentile(signin_latencies, 50) * 1000,
                "signin_p99_ms": percentile(signin_latencies, 99) * 1000,
                "load": load.finish(),
            }
            runs.append(figures)
            print(
                f"run {run}: polling p99 {quiet_p99:.1f} ms quiet, {busy_p99:.1f} ms with "
                f"sign-ins (x{figures['ratio']:.2f}); sign-ins {dict(statuses)}, p50 "
                f"{figures['signin_p50_ms']:.0f} ms; poll errors {figures['poll_errors']}"
            )
    ratio = spread([r["ratio"] for r in runs])
    quiet_p99 = spread([r["quiet_p99_ms"] for r in runs])
    busy_p99 = spread([r["busy_p99_ms"] for r in runs])
    ok = ratio["median"] < 2.0 and all(r["poll_errors"] == 0 for r in runs)
    print(
        f"\nsign-ins at {args.rate:.0f}/s: polling p99 {quiet_p99['median']:.1f} ms "
        f"({quiet_p99['min']:.1f}-{quiet_p99['max']:.1f}) quiet, {busy_p99['median']:.1f} ms "
        f"({busy_p99['min']:.1f}-{busy_p99['max']:.1f}) with sign-ins; "
        f"ratio x{ratio['median']:.2f} "
        f"({ratio['min']:.2f}-{ratio['max']:.2f}); target < 2x: {verdict(ok)}"
    )
    save(
        "signin_polling",
        {
            "machine": machine(),
            "args": vars(args),
            "runs": runs,
            "ratio": ratio,
            "quiet_p99_ms": quiet_p99,
            "busy_p99_ms": busy_p99,
            "met": ok,
        },
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
