"""Per-email CPU: the server's CPU time per classified and per processed email, and where it goes.

Starts on 127.0.0.1 the fake OpenAI-compatible provider
(``tests/llm/fake_openai.py``, ``--latency`` per request, none by default) and,
for each provider in ``--providers``, a real ReasonFlow server (uvicorn,
SQLite, ``LLM_MAX_CONCURRENCY=16``):

* **offline**: ``REASONFLOW_LLM_MODEL=rules``, the default;
* **model**: ``REASONFLOW_LLM_MODEL=openai/bench-model`` with
  ``REASONFLOW_LLM_API_BASE`` at the fake, as configured by default (the lean
  OpenAI-compatible client, ``docs/llm.md``);
* **litellm**: the same model forced through LiteLLM
  (``REASONFLOW_LLM_CLIENT=litellm``).

For each, a user is signed up and pending emails are inserted straight into
the database; after one warm-up job of each kind, ``--runs`` classify jobs of
100 emails (``force: true``, the same emails each run) and ``--runs`` process
jobs of 50 fresh pending emails (the most one submission of each kind takes)
are submitted through the API and polled every 0.1 s until finished. The figure is the server
process's CPU time (user + system, every thread, ``/proc/<pid>/stat``) from
just before the submission to the job's end, divided by the emails: it
includes the submission, the polls, the database and the provider client.

Then ``--profile-jobs`` more jobs of each kind run under ``py-spy record --gil`` (1 kHz,
samples of the thread holding the GIL: Python's own CPU, not the time SQLite
or the kernel work with the GIL released), and each sample is put in one
bucket by its innermost frame that belongs to one: **provider call** (our
LLM adapter, LiteLLM, httpx, aiohttp, the OpenAI SDK), **database** (our SQL adapter, SQLAlchemy,
aiosqlite), **job store** (the in-memory store), **scheduling** (the runner,
``JobExecution``, the pipeline), **HTTP** (uvicorn, h11, Litestar, our
routes); the rest is **event loop / other**. The median CPU per email is
split by those shares, and the heaviest frames are listed.

Targets (medians): with a model, <= 6 ms per classified email and <= 15 ms
per processed email; offline, <= 1.5 ms per classified email.

    .venv/bin/python -m bench.bench_email_cpu                        # ~2 min
    .venv/bin/python -m bench.bench_email_cpu --providers model --runs 7
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from bench.support import (
    REPO,
    RESULTS,
    Load,
    Proc,
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
#: Emails per job: the most one submission of each kind may carry.
SIZES = {"classify": 100, "process": 50}
KINDS = tuple(SIZES)
PROVIDERS = {
    "offline": {"REASONFLOW_LLM_MODEL": "rules"},
    "model": {"REASONFLOW_LLM_MODEL": "openai/bench-model"},
    "litellm": {"REASONFLOW_LLM_MODEL": "openai/bench-model", "REASONFLOW_LLM_CLIENT": "litellm"},
}
#: (provider, kind) -> ms of server CPU per email, at most.
TARGETS = {("model", "classify"): 6.0, ("model", "process"): 15.0, ("offline", "classify"): 1.5}

#: Buckets of the breakdown: a sample goes to the first rule its innermost frames match.
BUCKETS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("provider call", ("reasonflow/adapters/llm/", "litellm/", "openai/", "httpx/", "httpcore/",
                       "aiohttp/", "tiktoken/", "pydantic/")),
    ("database", ("reasonflow/adapters/sql/", "sqlalchemy/", "aiosqlite/", "asyncpg/",
                  "sqlite3/")),
    ("job store", ("reasonflow/adapters/jobs/memory.py", "reasonflow/adapters/jobs/redis_")),
    ("scheduling", ("reasonflow/adapters/jobs/", "reasonflow/domain/")),
    ("HTTP", ("uvicorn/protocols/", "h11/", "litestar/", "msgspec/",
              "reasonflow/entrypoints/http/")),
)  # fmt: skip
OTHER = "event loop / other"


@dataclass
class Server:
    name: str
    proc: Proc
    client: httpx.Client
    headers: dict[str, str]
    database_url: str
    user_id: Any
    classify_ids: list[str]


def run_job(
    server: Server, kind: str, ids: list[str], deadline_s: float
) -> tuple[float, dict[str, Any]]:
    """Submit one job and wait for it; (server CPU seconds it took, the finished job)."""
    body: dict[str, Any] = {"email_ids": ids}
    if kind == "classify":
        body["force"] = True
    cpu = server.proc.cpu_seconds()
    response = server.client.post(f"/api/v1/emails/batch/{kind}", json=body, headers=server.headers)
    response.raise_for_status()
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + deadline_s
    while True:
        time.sleep(0.1)
        job: dict[str, Any] = server.client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=server.headers
        ).json()
        if job["status"] in FINISHED:
            break
        if time.monotonic() > deadline:
            sys.exit(f"{server.name}: {kind} job did not finish in {deadline_s:.0f} s: {job}")
    cpu = server.proc.cpu_seconds() - cpu
    if job["succeeded"] != len(ids):
        sys.exit(f"{server.name}: {kind} job had failures: {job['errors']}")
    return cpu, job


def job_ids(server: Server, kind: str) -> list[str]:
    """Classify: the same emails each run (``force``); process: fresh pending ones."""
    return server.classify_ids if kind == "classify" else fresh_ids(server, SIZES[kind])


def fresh_ids(server: Server, count: int) -> list[str]:
    return [str(i) for i in seed_emails(server.database_url, [server.user_id], count)]


def start(name: str, work: Path, llm_url: str) -> Server:
    database_url = f"sqlite+aiosqlite:///{work / (name + '.db')}"
    env = server_env(
        database_url,
        work / name,
        REASONFLOW_LLM_API_BASE=f"{llm_url}/v1",
        REASONFLOW_LLM_API_KEY="sk-bench",
        REASONFLOW_LLM_MAX_CONCURRENCY="16",
        REASONFLOW_MAX_ACTIVE_JOBS="100",
        REASONFLOW_SUBMIT_RATE_PER_MINUTE="1000",
        **PROVIDERS[name],
    )
    proc, url = start_server(work, env)
    client = httpx.Client(base_url=url, timeout=30)
    user_id, token = register(client)
    return Server(name, proc, client, {"Authorization": f"Bearer {token}"}, database_url,
                  user_id, [])  # fmt: skip


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def profile(server: Server, kind: str, jobs: int, out: Path) -> Counter[str] | None:
    """Run ``jobs`` jobs under ``py-spy record``; the collapsed stacks (stack -> samples)."""
    exe = py_spy()
    if exe is None:
        print("py-spy not found (make install): no breakdown")
        return None
    out.parent.mkdir(exist_ok=True)
    argv = [exe, "record", "--pid", str(server.proc.pid), "--rate", "1000", "--format", "raw",
            "--gil", "--nonblocking", "-o", str(out)]  # fmt: skip
    spy = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    time.sleep(1.0)  # attached before the job starts
    try:
        for _ in range(jobs):
            run_job(server, kind, job_ids(server, kind), 120)
    finally:
        spy.send_signal(signal.SIGINT)
        try:
            _, err = spy.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            spy.kill()
            spy.communicate()
            err = b"py-spy did not stop"
    if spy.returncode != 0 or not out.exists():
        print(f"py-spy failed ({err.decode(errors='replace').strip()[-300:]}): no breakdown")
        return None
    stacks: Counter[str] = Counter()
    for line in out.read_text(errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks[stack] += int(count)
    return stacks


def bucket_of(frames: list[str]) -> str:
    for frame in reversed(frames):  # innermost first
        for name, markers in BUCKETS:
            if any(marker in frame for marker in markers):
                return name
    return OTHER


def frame_name(frame: str) -> str:
    """``func (path/to/module.py:12)`` -> ``func (module.py)``, paths cut to the package."""
    func, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for anchor in ("site-packages/", "src/", "lib/python3.11/"):
        if anchor in path:
            path = path.split(anchor, 1)[1]
            break
    return f"{func} ({path})"


def breakdown(stacks: Counter[str], top: int) -> dict[str, Any]:
    total = sum(stacks.values()) or 1
    buckets: Counter[str] = Counter()
    own: Counter[str] = Counter()  # samples whose innermost frame is this one
    inclusive: Counter[str] = Counter()  # samples with this frame anywhere on the stack
    for stack, count in stacks.items():
        frames = [f for f in stack.split(";") if f]
        buckets[bucket_of(frames)] += count
        if frames:
            own[frame_name(frames[-1])] += count
        for name in {frame_name(f) for f in frames}:
            inclusive[name] += count
    ours = Counter({k: v for k, v in inclusive.items() if "reasonflow/" in k})
    return {
        "samples": total,
        "shares": {name: buckets[name] / total for name, _ in (*BUCKETS, (OTHER, ()))},
        "top_self": [(name, n / total) for name, n in own.most_common(top)],
        "top_ours_inclusive": [(name, n / total) for name, n in ours.most_common(top)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="timed jobs of each kind")
    parser.add_argument("--latency", type=float, default=0.0, help="fake provider, seconds")
    parser.add_argument("--providers", default="offline,model,litellm",
                        help=f"comma-separated, of {', '.join(PROVIDERS)}")  # fmt: skip
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy breakdown")
    parser.add_argument("--profile-jobs", type=int, default=3, help="jobs of each kind profiled")
    parser.add_argument("--top", type=int, default=12, help="frames listed in the breakdown")
    args = parser.parse_args()
    providers = [p.strip() for p in args.providers.split(",") if p.strip()]
    unknown = [p for p in providers if p not in PROVIDERS]
    if unknown:
        parser.error(f"unknown providers {unknown}; choose from {', '.join(PROVIDERS)}")
    print(f"machine: {machine()}")

    results: dict[str, dict[str, Any]] = {}
    load = Load()
    with ExitStack() as stack:
        work = stack.enter_context(scratch("bench-email-cpu-"))
        fake, llm_url = start_fake_llm(work, args.latency)
        stack.callback(fake.stop)
        for name in providers:
            server = start(name, work, llm_url)
            stack.callback(server.proc.stop)
            stack.callback(server.client.close)
            server.classify_ids = fresh_ids(server, SIZES["classify"])
            deadline = 120
            for kind in KINDS:  # warm-up: first-use costs of a fresh process
                ids = server.classify_ids if kind == "classify" else fresh_ids(server, 50)
                run_job(server, kind, ids[:50], deadline)
            for kind in KINDS:
                per_email: list[float] = []
                for n in range(1, args.runs + 1):
                    ids = job_ids(server, kind)
                    seconds, _ = run_job(server, kind, ids, deadline)
                    per_email.append(seconds / len(ids) * 1000)
                    print(f"{name} {kind} run {n}: {per_email[-1]:.2f} ms of server CPU per email "
                          f"({len(ids)} emails)")  # fmt: skip
                entry: dict[str, Any] = {"cpu_ms_per_email": spread(per_email),
                                         "runs_detail": per_email}  # fmt: skip
                if not args.no_profile:
                    out = RESULTS / f"email_cpu-profile-{name}-{kind}.txt"
                    stacks = profile(server, kind, args.profile_jobs, out)
                    if stacks:
                        entry["profile"] = breakdown(stacks, args.top)
                results.setdefault(name, {})[kind] = entry
            server.proc.stop()
    ran = load.finish()

    print(f"\nserver CPU per email, median of {args.runs} runs (min-max), "
          f"{SIZES['classify']} emails a classify job, {SIZES['process']} a process job, "
          f"{args.latency * 1000:.0f} ms provider latency:")  # fmt: skip
    ok = True
    verdicts: dict[str, bool] = {}
    for name, kinds in results.items():
        for kind, entry in kinds.items():
            s = entry["cpu_ms_per_email"]
            line = f"  {name:<8} {kind:<9} {s['median']:6.2f} ms ({s['min']:.2f}-{s['max']:.2f})"
            target = TARGETS.get((name, kind))
            if target is not None:
                met = s["median"] <= target
                ok = ok and met
                verdicts[f"{name} {kind}"] = met
                line += f"; target <= {target} ms: {verdict(met)}"
            print(line)
            prof = entry.get("profile")
            if prof:
                parts = ", ".join(f"{b} {share * s['median']:.2f} ms ({share:.0%})"
                                  for b, share in prof["shares"].items())  # fmt: skip
                print(f"      where it goes ({prof['samples']} samples): {parts}")
                for frame, share in prof["top_self"]:
                    print(f"        {share:6.1%}  {frame}")
    print(f"load while it ran: {ran}")
    save("email_cpu", {"machine": machine(), "load": ran, "args": vars(args),
                       "results": results, "targets_met": verdicts})  # fmt: skip
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    os.chdir(REPO)
    main()
