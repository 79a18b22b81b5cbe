"""Rows 1 and 2: makespan of a 100-email classify batch against a slow LiteLLM provider,
ours against a one-email-at-a-time baseline, in the same run.

Starts on 127.0.0.1 the fake OpenAI-compatible provider
(``tests/llm/fake_openai.py``, 500 ms a request) and two real ReasonFlow
servers (uvicorn, ``REASONFLOW_LLM_MODEL=openai/bench-model``) over it:

* **ours**: ``REASONFLOW_LLM_MAX_CONCURRENCY=16``;
* **baseline**: ``REASONFLOW_LLM_MAX_CONCURRENCY=1``, which is the naive
  design: one email, one provider call, at a time.

Each server gets the same 100 emails; the script then classifies them
(``force: true``) ``--runs`` times on each server, alternating, and reports
each job's makespan (``completed_at - created_at``) against the ideal
``ceil(100 / 16) x 0.5 s``, the most requests the provider had in flight,
and the server's CPU time per email.

Targets: row 1, median makespan <= 1.05 x ideal (1.10 until issue 11) with never more than 16 in
flight; row 2, ours >= 12 x faster than the baseline (medians).

    .venv/bin/python -m bench.bench_llm_makespan                   # rows 1 and 2
    .venv/bin/python -m bench.bench_llm_makespan --baseline-runs 0  # row 1 only
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from bench.support import (
    Load,
    Proc,
    machine,
    register,
    save,
    scratch,
    server_env,
    spread,
    start_fake_llm,
    start_server,
    verdict,
)

FINISHED = ("completed", "failed", "cancelled")
#: Row 1: median makespan at most this times the ideal.
ROW1_TARGET = 1.05


@dataclass
class Server:
    name: str
    proc: Proc
    client: httpx.Client
    headers: dict[str, str]
    ids: list[str]


@dataclass
class Run:
    makespan: float
    first_request: float
    max_in_flight: int
    cpu_per_email_ms: float


def classify_once(server: Server, llm_url: str, deadline_s: float) -> Run:
    httpx.post(f"{llm_url}/_reset").raise_for_status()
    cpu = server.proc.cpu_seconds()
    response = server.client.post(
        "/api/v1/emails/batch/classify",
        json={"email_ids": server.ids, "force": True},
        headers=server.headers,
    )
    response.raise_for_status()
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + deadline_s
    while True:
        job: dict[str, Any] = server.client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=server.headers
        ).json()
        if job["status"] in FINISHED:
            break
        if time.monotonic() > deadline:
            sys.exit(f"{server.name}: job did not finish in {deadline_s:.0f} s: {job}")
        time.sleep(0.05)
    cpu = server.proc.cpu_seconds() - cpu
    if job["succeeded"] != len(server.ids):
        sys.exit(f"{server.name}: job had failures: {job['errors']}")
    created = datetime.fromisoformat(job["created_at"])
    completed = datetime.fromisoformat(job["completed_at"])
    stats = httpx.get(f"{llm_url}/_stats").json()
    return Run(
        makespan=(completed - created).total_seconds(),
        first_request=stats["first_arrival_epoch"] - created.timestamp(),
        max_in_flight=stats["max_in_flight"],
        # Includes the status polls (every 50 ms) and uvicorn's own work.
        cpu_per_email_ms=cpu / len(server.ids) * 1000,
    )


def prepare(name: str, proc: Proc, url: str, emails: int) -> Server:
    client = httpx.Client(base_url=url, timeout=30)
    _, token = register(client)
    headers = {"Authorization": f"Bearer {token}"}
    ids = [
        client.post(
            "/api/v1/emails",
            json={"subject": f"Pricing question {n}", "body": "What does it cost?",
                  "sender": f"c{n}@example.com"},
            headers=headers,
        ).json()["id"]
        for n in range(emails)
    ]  # fmt: skip
    return Server(name, proc, client, headers, ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="runs of ours")
    parser.add_argument("--baseline-runs", type=int, default=3, help="0 skips row 2")
    args = parser.parse_args()
    print(f"machine: {machine()}")

    plan = {"ours": args.concurrency, "baseline": 1}
    wanted = {"ours": args.runs, "baseline": args.baseline_runs}
    ideal = math.ceil(args.emails / args.concurrency) * args.latency
    results: dict[str, list[Run]] = {name: [] for name, runs in wanted.items() if runs}
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-makespan-"))
        fake, llm_url = start_fake_llm(work, args.latency)
        stack.callback(fake.stop)
        servers: dict[str, Server] = {}
        for name in results:
            env = server_env(
                f"sqlite+aiosqlite:///{work / (name + '.db')}",
                work / name,
                REASONFLOW_LLM_MODEL="openai/bench-model",
                REASONFLOW_LLM_API_BASE=f"{llm_url}/v1",
                REASONFLOW_LLM_API_KEY="sk-bench",
                REASONFLOW_LLM_MAX_CONCURRENCY=str(plan[name]),
            )
            proc, url = start_server(work, env)
            stack.callback(proc.stop)
            servers[name] = prepare(name, proc, url, args.emails)
            stack.callback(servers[name].client.close)

        load = Load()
        # Alternating, so both see the same conditions on a shared machine.
        for n in range(max(wanted.values())):
            for name, server in servers.items():
                if n >= wanted[name]:
                    continue
                limit = plan[name]
                run = classify_once(server, llm_url, args.emails * args.latency / limit * 3 + 30)
                results[name].append(run)
                print(
                    f"{name} run {n + 1}: makespan {run.makespan:.3f} s "
                    f"({run.makespan / ideal:.3f} x ideal), first request "
                    f"{run.first_request * 1000:.0f} ms after submission, "
                    f"max in flight {run.max_in_flight} (limit {limit}), "
                    f"server CPU {run.cpu_per_email_ms:.1f} ms per email"
                )
        ran = load.finish()

    ours = spread([r.makespan for r in results["ours"]])
    in_flight = max(r.max_in_flight for r in results["ours"])
    ok1 = ours["median"] <= ROW1_TARGET * ideal and in_flight <= args.concurrency
    print(
        f"\n{args.emails} emails, {args.latency * 1000:.0f} ms provider latency; "
        f"ideal ceil({args.emails}/{args.concurrency}) x {args.latency} s = {ideal:.3f} s"
    )
    print(
        f"row 1: ours (LLM_MAX_CONCURRENCY={args.concurrency}) median {ours['median']:.3f} s "
        f"= {ours['median'] / ideal:.3f} x ideal (spread {ours['min']:.3f}-{ours['max']:.3f} s, "
        f"{ours['runs']} runs), max in flight {in_flight}; "
        f"target <= {ROW1_TARGET} x: {verdict(ok1)}"
    )
    data: dict[str, Any] = {
        "machine": machine(),
        "load": ran,
        "args": vars(args),
        "ideal_seconds": ideal,
        "ours": {**ours, "x_ideal": ours["median"] / ideal, "max_in_flight": in_flight,
                 "runs_detail": [vars(r) for r in results["ours"]]},
        "row1_met": ok1,
    }  # fmt: skip
    ok = ok1
    if args.baseline_runs:
        base = spread([r.makespan for r in results["baseline"]])
        speedup = base["median"] / ours["median"]
        ok2 = speedup >= 12
        ok = ok and ok2
        print(
            f"row 2: baseline (LLM_MAX_CONCURRENCY=1) median {base['median']:.3f} s "
            f"(spread {base['min']:.3f}-{base['max']:.3f} s, {base['runs']} runs); "
            f"ours is {speedup:.1f} x faster; target >= 12 x: {verdict(ok2)}"
        )
        data["baseline"] = {**base, "runs_detail": [vars(r) for r in results["baseline"]]}
        data["speedup"] = speedup
        data["row2_met"] = ok2
    print(f"load while it ran: {ran}")
    save("rows1-2_makespan", data)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
