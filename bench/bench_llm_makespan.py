"""Makespan of a 100-email classify batch against a slow LiteLLM provider.

Starts two processes on 127.0.0.1: the fake OpenAI-compatible provider
(``tests/llm/fake_openai.py``, 500 ms a request) and a real ReasonFlow server
(uvicorn, ``REASONFLOW_LLM_MODEL=openai/bench-model``,
``REASONFLOW_LLM_MAX_CONCURRENCY=16``). It then classifies the same 100
emails ``--runs`` times (``force: true``) and prints each makespan, from the
job's ``created_at`` to its ``completed_at``, against the ideal
``ceil(100 / 16) x 0.5 s``, and the most requests the provider saw in flight.
Target: at most 1.2 x ideal, never more than 16 in flight. Stops on its own.

    .venv/bin/python -m bench.bench_llm_makespan
"""

from __future__ import annotations

import argparse
import math
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(argv: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            argv, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"{url} exited early:\n{log.read_text(errors='replace')}")
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    sys.exit(f"{url} did not come up:\n{log.read_text(errors='replace')}")


def classify_once(
    client: httpx.Client, headers: dict[str, str], ids: list[str]
) -> tuple[float, datetime]:
    response = client.post(
        "/api/v1/emails/batch/classify", json={"email_ids": ids, "force": True}, headers=headers
    )
    response.raise_for_status()
    job_id = response.json()["job_id"]
    deadline = time.monotonic() + 120
    while True:
        job: dict[str, Any] = client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=headers
        ).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            break
        if time.monotonic() > deadline:
            sys.exit(f"job did not finish: {job}")
        time.sleep(0.05)
    if job["succeeded"] != len(ids):
        sys.exit(f"job had failures: {job['errors']}")
    created = datetime.fromisoformat(job["created_at"])
    completed = datetime.fromisoformat(job["completed_at"])
    return (completed - created).total_seconds(), created


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-llm-"))
    llm_port, app_port = free_port(), free_port()
    llm_url, app_url = f"http://127.0.0.1:{llm_port}", f"http://127.0.0.1:{app_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REASONFLOW_")}
    env.update(
        PYTHONPATH=str(REPO),
        REASONFLOW_DATABASE_URL=f"sqlite+aiosqlite:///{work / 'bench.db'}",
        REASONFLOW_VAR_DIR=str(work / "var"),
        REASONFLOW_JWT_SECRET="bench-secret-" + "x" * 40,
        REASONFLOW_LLM_MODEL="openai/bench-model",
        REASONFLOW_LLM_API_BASE=f"{llm_url}/v1",
        REASONFLOW_LLM_API_KEY="sk-bench",
        REASONFLOW_LLM_MAX_CONCURRENCY=str(args.concurrency),
        REASONFLOW_LOG_LEVEL="WARNING",
    )
    fake = start(
        [sys.executable, "-m", "tests.llm.fake_openai", "--port", str(llm_port),
         "--latency", str(args.latency)],
        env, work / "fake.log",
    )  # fmt: skip
    server = start(
        [sys.executable, "-m", "reasonflow.entrypoints.cli", "serve", "--port", str(app_port)],
        env,
        work / "server.log",
    )
    try:
        wait_until_up(f"{llm_url}/_stats", fake, work / "fake.log")
        wait_until_up(f"{app_url}/health", server, work / "server.log")
        with httpx.Client(base_url=app_url, timeout=30) as client:
            creds = {"email": "bench@example.com", "password": "bench password"}
            client.post("/api/v1/auth/register", json=creds).raise_for_status()
            token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            ids = [
                client.post(
                    "/api/v1/emails",
                    json={"subject": f"Pricing question {n}", "body": "What does it cost?",
                          "sender": f"c{n}@example.com"},
                    headers=headers,
                ).json()["id"]
                for n in range(args.emails)
            ]  # fmt: skip
            ideal = math.ceil(args.emails / args.concurrency) * args.latency
            runs, in_flight = [], []
            for run in range(1, args.runs + 1):
                httpx.post(f"{llm_url}/_reset").raise_for_status()
                makespan, created = classify_once(client, headers, ids)
                stats = httpx.get(f"{llm_url}/_stats").json()
                first = stats["first_arrival_epoch"] - created.timestamp()
                runs.append(makespan)
                arrivals = sorted(stats["arrivals"])
                waves = arrivals[:: args.concurrency]
                print(
                    f"  first request {first:.3f} s after submission; wave starts:",
                    " ".join(f"{w:.3f}" for w in waves),
                    f"; last {arrivals[-1]:.3f}",
                )
                in_flight.append(stats["max_in_flight"])
                print(
                    f"run {run}: makespan {makespan:.3f} s ({makespan / ideal:.3f} x ideal), "
                    f"max in flight {stats['max_in_flight']}, requests {stats['requests']}"
                )
    finally:
        stop(server)
        stop(fake)
    median = statistics.median(runs)
    print(
        f"\n{args.emails} emails, {args.latency * 1000:.0f} ms provider latency, "
        f"LLM_MAX_CONCURRENCY={args.concurrency}; machine: {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(f"ideal ceil({args.emails}/{args.concurrency}) x {args.latency} s = {ideal:.3f} s")
    print(
        f"makespan median {median:.3f} s ({median / ideal:.3f} x ideal), "
        f"spread {min(runs):.3f}-{max(runs):.3f} s over {len(runs)} runs"
    )
    print(f"max in flight {max(in_flight)} (limit {args.concurrency})")
    ok = median <= 1.2 * ideal and max(in_flight) <= args.concurrency
    print("target met" if ok else "TARGET MISSED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
