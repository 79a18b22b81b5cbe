"""Cluster mode: throughput with 1, 2 and 4 workers, makespan and fairness (docs/benchmarks.md).

Each setting starts a cluster of real processes on 127.0.0.1: the fake
OpenAI-compatible provider (``tests/llm/fake_openai.py``, ``--latency`` a
request), a Postgres database of its own (``rf_bench_<hex>``, dropped at the
end), a Redis key prefix of its own (deleted at the end), one
``reasonflow serve`` and N ``reasonflow worker --concurrency 8`` processes,
with a LiteLLM model (``openai/bench-model``) pointed at the fake. The API
runs with ``JOB_MAX_CONCURRENCY=16`` (the per-job window); every worker with
``LLM_MAX_CONCURRENCY=8``. A warm-up job runs first on every cluster and is
not counted.

* **scaling** (``--workers 1 2 4``): 400 emails as 4 classify jobs of 100,
  submitted back to back. Throughput = 400 / (last ``completed_at`` - first
  ``created_at``, the server's clock). Target: with N workers, >= 0.9 x N x
  the 1-worker throughput (medians).
* **makespan** (2 workers): one 100-email classify, ``completed_at -
  created_at``. Ideal = ceil(100 / 16 slots) x latency. Target <= 1.15 x ideal.
* **fairness** (2 workers): a 100-email classify, then, as soon as its 202
  is back, a 1-email classify of the same user. Target: the small job's
  makespan <= 2 x latency + 100 ms.

    .venv/bin/python -m bench.bench_cluster [--runs 5] [--only scaling|makespan|fairness]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from bench.support import (
    Load,
    Proc,
    cluster_settings,
    machine,
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

FINISHED = ("completed", "failed", "cancelled")
WORKER_CONCURRENCY = 8
WINDOW = 16


@dataclass
class Cluster:
    client: httpx.Client
    ids: list[str]
    llm_url: str
    workers: list[Proc]

    def submit(self, ids: list[str]) -> str:
        response = self.client.post(
            "/api/v1/emails/batch/classify", json={"email_ids": ids, "force": True}
        )
        response.raise_for_status()
        job_id: str = response.json()["job_id"]
        return job_id

    def finished(self, job_id: str, timeout: float = 180.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            job: dict[str, Any] = self.client.get(f"/api/v1/emails/batch/status/{job_id}").json()
            if job["status"] in FINISHED:
                if job["succeeded"] != job["total"]:
                    sys.exit(f"job {job_id} had failures: {job['errors'][:3]}")
                return job
            if time.monotonic() > deadline:
                sys.exit(f"job {job_id} did not finish within {timeout:.0f} s: {job}")
            time.sleep(0.05)

    def max_in_flight(self) -> int:
        stats: dict[str, Any] = httpx.get(f"{self.llm_url}/_stats").json()
        return int(stats["max_in_flight"])

    def reset_provider(self) -> None:
        httpx.post(f"{self.llm_url}/_reset").raise_for_status()


def _when(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


def makespan(job: dict[str, Any]) -> float:
    return _when(job["completed_at"]) - _when(job["created_at"])


@contextmanager
def cluster(work: Path, workers: int, latency: float, emails: int) -> Iterator[Cluster]:
    """A provider, Postgres, Redis, one API and ``workers`` workers; stopped and removed after."""
    with ExitStack() as stack:
        database, cluster_vars = cluster_settings(stack)
        fake, llm_url = start_fake_llm(work, latency)
        stack.callback(fake.stop)
        common = {
            **cluster_vars,
            "REASONFLOW_LLM_MODEL": "openai/bench-model",
            "REASONFLOW_LLM_API_BASE": f"{llm_url}/v1",
            "REASONFLOW_LLM_API_KEY": "sk-bench",
            "REASONFLOW_MAX_ACTIVE_JOBS": "50",
        }
        api_env = server_env(
            database,
            work / "api",
            **common,
            REASONFLOW_LLM_MAX_CONCURRENCY=str(WINDOW),
            REASONFLOW_JOB_MAX_CONCURRENCY=str(WINDOW),
        )
        api, url = start_server(work, api_env)
        stack.callback(api.stop)
        procs = []
        for n in range(workers):
            env = server_env(
                database,
                work / f"worker-{n}",
                **common,
                REASONFLOW_LLM_MAX_CONCURRENCY=str(WORKER_CONCURRENCY),
                REASONFLOW_LOG_LEVEL="INFO",  # "worker started" tells it is ready
            )
            argv = [sys.executable, "-m", "reasonflow.entrypoints.cli", "worker"]
            argv += ["--concurrency", str(WORKER_CONCURRENCY)]
            proc = Proc(argv, env, work / f"worker-{n}.log")
            stack.callback(proc.stop)
            procs.append(proc)
        for proc in procs:
            _wait_started(proc)
        client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
        user_id, token = register(client, f"cluster-{uuid.uuid4().hex[:6]}@example.com")
        client.headers["Authorization"] = f"Bearer {token}"
        ids = [str(i) for i in seed_emails(database, [user_id], emails)]
        handle = Cluster(client, ids, llm_url, procs)
        handle.finished(handle.submit(ids[:WINDOW]))  # warm-up: every worker imports LiteLLM
        yield handle


def _wait_started(proc: Proc, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while "worker started" not in proc.log.read_text(errors="replace"):
        if proc.proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(f"worker did not start:\n{proc.log.read_text(errors='replace')}")
        time.sleep(0.1)


def scaling_run(handle: Cluster, jobs: int, size: int) -> dict[str, float]:
    handle.reset_provider()
    ids = handle.ids[: jobs * size]
    job_ids = [handle.submit(ids[n : n + size]) for n in range(0, len(ids), size)]
    done = [handle.finished(job_id) for job_id in job_ids]
    first = min(_when(job["created_at"]) for job in done)
    last = max(_when(job["completed_at"]) for job in done)
    return {
        "seconds": last - first,
        "emails_per_second": len(ids) / (last - first),
        "max_in_flight": handle.max_in_flight(),
    }


def scaling(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    emails = args.jobs * args.size
    per_workers: dict[int, list[dict[str, float]]] = {}
    for workers in args.workers:
        with scratch("bench-cluster-") as work, cluster(work, workers, args.latency, emails) as c:
            runs = per_workers.setdefault(workers, [])
            for n in range(args.runs):
                runs.append(scaling_run(c, args.jobs, args.size))
                print(
                    f"scaling, {workers} worker(s), run {n + 1}: {emails} emails in "
                    f"{runs[-1]['seconds']:.2f} s = {runs[-1]['emails_per_second']:.1f}/s, "
                    f"max in flight {runs[-1]['max_in_flight']}"
                )
    rates = {w: spread([r["emails_per_second"] for r in runs]) for w, runs in per_workers.items()}
    base = rates[min(rates)]["median"] / min(rates)
    ok = True
    summary: dict[str, Any] = {}
    for workers, rate in rates.items():
        linear = rate["median"] / (base * workers)
        ideal = emails / (math.ceil(emails / (workers * WORKER_CONCURRENCY)) * args.latency)
        met = linear >= 0.9
        ok = ok and met
        summary[str(workers)] = {**rate, "x_linear": linear, "ideal_per_second": ideal}
        print(
            f"  {workers} worker(s): median {rate['median']:.1f} emails/s "
            f"({rate['min']:.1f}-{rate['max']:.1f}, {rate['runs']} runs) = {linear:.3f} x linear, "
            f"{rate['median'] / ideal:.3f} x ideal ({ideal:.1f}/s); target >= 0.9 x linear: "
            f"{verdict(met)}"
        )
    return {"rates": summary, "runs": per_workers}, ok


def makespan_and_fairness(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    slots = 2 * WORKER_CONCURRENCY
    ideal = math.ceil(args.size / min(slots, WINDOW)) * args.latency
    bound = 2 * args.latency + 0.1
    spans, small_spans, big_spans, in_flight = [], [], [], 0
    with scratch("bench-cluster-") as work, cluster(work, 2, args.latency, args.size + 1) as c:
        big_ids, small_ids = c.ids[: args.size], c.ids[args.size :]
        if "makespan" in args.only:
            for n in range(args.runs):
                c.reset_provider()
                job = c.finished(c.submit(big_ids))
                spans.append(makespan(job))
                in_flight = max(in_flight, c.max_in_flight())
                print(
                    f"makespan run {n + 1}: {spans[-1]:.3f} s = {spans[-1] / ideal:.3f} x ideal "
                    f"({ideal:.2f} s), max in flight {c.max_in_flight()}"
                )
        if "fairness" in args.only:
            for n in range(args.runs):
                big = c.submit(big_ids)
                small = c.submit(small_ids)
                small_spans.append(makespan(c.finished(small)))
                big_spans.append(makespan(c.finished(big)))
                print(
                    f"fairness run {n + 1}: 1-email job {small_spans[-1]:.3f} s "
                    f"(bound {bound:.2f} s), 100-email job {big_spans[-1]:.3f} s"
                )
    data: dict[str, Any] = {}
    ok = True
    if spans:
        stats = spread(spans)
        met = stats["median"] <= 1.15 * ideal
        ok = ok and met
        data["makespan"] = {**stats, "ideal": ideal, "x_ideal": stats["median"] / ideal,
                            "max_in_flight": in_flight}  # fmt: skip
        print(
            f"  makespan: median {stats['median']:.3f} s = {stats['median'] / ideal:.3f} x ideal "
            f"({stats['min']:.3f}-{stats['max']:.3f} s, {stats['runs']} runs); "
            f"target <= 1.15 x: {verdict(met)}"
        )
    if small_spans:
        stats = spread(small_spans)
        met = stats["median"] <= bound
        ok = ok and met
        data["fairness"] = {**stats, "bound": bound, "big": spread(big_spans)}
        print(
            f"  fairness: 1-email job median {stats['median']:.3f} s "
            f"({stats['min']:.3f}-{stats['max']:.3f} s, {stats['runs']} runs); "
            f"target <= {bound:.2f} s: {verdict(met)}"
        )
    return data, ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--jobs", type=int, default=4, help="scaling: jobs of --size emails")
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument(
        "--only", nargs="+", default=["scaling", "makespan", "fairness"],
        choices=["scaling", "makespan", "fairness"],
    )  # fmt: skip
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load = Load()
    data: dict[str, Any] = {"machine": machine(), "args": vars(args)}
    ok = True
    if "scaling" in args.only:
        data["scaling"], met = scaling(args)
        ok = ok and met
    if {"makespan", "fairness"} & set(args.only):
        found, met = makespan_and_fairness(args)
        data.update(found)
        ok = ok and met
    data["load"] = load.finish()
    data["met"] = ok
    print(f"load while it ran: {data['load']}")
    save("cluster", data)
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
