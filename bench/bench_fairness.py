"""Row 3: fairness. A 1-email job submitted just after a 100-email job.

Starts the fake OpenAI-compatible provider (500 ms a request) and a real
server (``LLM_MAX_CONCURRENCY=16``) on 127.0.0.1. Each run submits a
100-email classify job and, as soon as its 202 is back, a 1-email classify
job from the same user, then waits for both. The small job's makespan
(``completed_at - created_at``, the server's clock) must stay within
2 x the provider latency: the big job has been handed all 16 slots when it
arrives, so at worst it waits for the first slot to free (at most one
latency) and then makes its own call (one more); since emails begin one at a
time and a slot is given to a job only when its email begins, it usually
takes the next slot to begin instead. Also reported: the time from the
client sending the small job to its ``completed_at`` (same machine, same
clock), the big job's makespan, and (not the target) the small job sent
``--later`` seconds after the big one, when the whole first wave has begun
and it must wait for a slot to free.

    .venv/bin/python -m bench.bench_fairness
"""

from __future__ import annotations

import argparse
import sys
import time
from contextlib import ExitStack
from datetime import datetime
from typing import Any

import httpx
from bench.support import (
    Load,
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


def wait_finished(
    client: httpx.Client, headers: dict[str, str], job_id: str, interval: float = 0.05
) -> tuple[dict[str, Any], datetime | None]:
    """The finished job, and when it started (its ``updated_at`` while ``processing``)."""
    started = None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=headers
        ).json()
        if job["status"] == "processing" and started is None:
            started = datetime.fromisoformat(job["updated_at"])
        if job["status"] in ("completed", "failed", "cancelled"):
            if job["succeeded"] != job["total"]:
                sys.exit(f"job had failures: {job['errors']}")
            return job, started
        time.sleep(interval)
    sys.exit(f"job {job_id} did not finish within 60 s")


def makespan(job: dict[str, Any]) -> float:
    created = datetime.fromisoformat(job["created_at"])
    return (datetime.fromisoformat(job["completed_at"]) - created).total_seconds()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--big", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--later", type=float, default=0.25, help="seconds, the informative case")
    parser.add_argument("--later-runs", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {machine()}")

    small_runs, client_runs, big_runs, waits = [], [], [], []
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-fairness-"))
        fake, llm_url = start_fake_llm(work, args.latency)
        stack.callback(fake.stop)
        env = server_env(
            f"sqlite+aiosqlite:///{work / 'bench.db'}",
            work,
            REASONFLOW_LLM_MODEL="openai/bench-model",
            REASONFLOW_LLM_API_BASE=f"{llm_url}/v1",
            REASONFLOW_LLM_API_KEY="sk-bench",
            REASONFLOW_LLM_MAX_CONCURRENCY=str(args.concurrency),
        )
        server, url = start_server(work, env)
        stack.callback(server.stop)
        client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
        _, token = register(client)
        headers = {"Authorization": f"Bearer {token}"}
        ids = [
            client.post(
                "/api/v1/emails",
                json={"subject": f"Question {n}", "body": "What does it cost?",
                      "sender": f"c{n}@example.com"},
                headers=headers,
            ).json()["id"]
            for n in range(args.big + 1)
        ]  # fmt: skip
        big_ids, small_ids = ids[: args.big], ids[args.big :]

        def one_run(label: str, delay: float) -> tuple[float, float, float, float | None]:
            """(small makespan, from the client sending it, big makespan, small's wait)."""
            big = client.post(
                "/api/v1/emails/batch/classify",
                json={"email_ids": big_ids, "force": True},
                headers=headers,
            )
            big.raise_for_status()
            time.sleep(delay)
            sent = time.time()
            small = client.post(
                "/api/v1/emails/batch/classify",
                json={"email_ids": small_ids, "force": True},
                headers=headers,
            )
            small.raise_for_status()
            # Polled every 10 ms to catch the moment it took a slot (~100 requests).
            small_job, started = wait_finished(client, headers, small.json()["job_id"], 0.01)
            big_job, _ = wait_finished(client, headers, big.json()["job_id"])
            created = datetime.fromisoformat(small_job["created_at"])
            wait = None if started is None else (started - created).total_seconds()
            completed = datetime.fromisoformat(small_job["completed_at"]).timestamp()
            result = (makespan(small_job), completed - sent, makespan(big_job), wait)
            waited = "not seen" if wait is None else f"{wait:.3f} s"
            print(
                f"{label}: 1-email job {result[0]:.3f} s ({result[0] / args.latency:.2f} x "
                f"latency; waited {waited} for a slot; {result[1]:.3f} s from the client "
                f"sending it), {args.big}-email job {result[2]:.3f} s"
            )
            return result

        load = Load()
        for run in range(1, args.runs + 1):
            small, from_client, whole, wait = one_run(f"run {run}", 0.0)
            small_runs.append(small)
            client_runs.append(from_client)
            big_runs.append(whole)
            if wait is not None:
                waits.append(wait)
        # Not the target: the same, the small job sent later, when the slots are mid-call.
        later = [one_run(f"sent {args.later:.2f} s later, run {n}", args.later)[0]
                 for n in range(1, args.later_runs + 1)]  # fmt: skip
        ran = load.finish()

    small_s, client_s, big_s = spread(small_runs), spread(client_runs), spread(big_runs)
    ok = small_s["median"] <= 2 * args.latency
    print(
        f"\nrow 3: 1-email job behind a {args.big}-email job, {args.latency * 1000:.0f} ms "
        f"latency, LLM_MAX_CONCURRENCY={args.concurrency}: median {small_s['median']:.3f} s "
        f"= {small_s['median'] / args.latency:.2f} x latency (spread {small_s['min']:.3f}-"
        f"{small_s['max']:.3f} s, {small_s['runs']} runs); from the client sending it "
        f"{client_s['median']:.3f} s; target <= 2 x latency: {verdict(ok)}"
    )
    if waits:
        print(f"  of which waiting for a slot: median {spread(waits)['median']:.3f} s")
    print(f"the {args.big}-email job meanwhile: median {big_s['median']:.3f} s")
    if later:
        late = spread(later)["median"]
        print(
            f"sent {args.later:.2f} s after the big job instead: median {late:.3f} s "
            f"({late / args.latency:.2f} x latency)"
        )
    print(f"load while it ran: {ran}")
    save(
        "row3_fairness",
        {
            "machine": machine(),
            "load": ran,
            "args": vars(args),
            "small_job_seconds": small_s,
            "small_job_from_client_seconds": client_s,
            "big_job_seconds": big_s,
            "small_job_wait_seconds": spread(waits) if waits else None,
            "small_job_sent_later_seconds": spread(later) if later else None,
            "runs_detail": {
                "small": small_runs,
                "client": client_runs,
                "big": big_runs,
                "wait": waits,
            },
            "met": ok,
        },
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
