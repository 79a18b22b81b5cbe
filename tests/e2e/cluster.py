"""A cluster of real processes for end-to-end tests: API servers and workers
over one Postgres database and one Redis key prefix of the test's own."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.dbs import create_migrated_postgres_database, drop_postgres_database
from tests.e2e.server import ServerProcess, reasonflow_cli, server_env
from tests.redis_support import connect, delete_prefix, new_prefix, redis_url

PASSWORD = "cluster test pw"


class WorkerProcess:
    """``tests.e2e.slow_worker`` in its own process group, logging to a file."""

    def __init__(self, env: dict[str, str], workdir: Path, n: int, delay: float) -> None:
        self.log_path = workdir / f"worker-{n}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.slow_worker", "--concurrency=4", f"--delay={delay}"],
            env=env,
            cwd=workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while "worker started" not in self.log():
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited early:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not ready within {timeout}s:\n{self.log()}")
            time.sleep(0.1)

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        return self.proc.returncode


class Cluster:
    def __init__(self, workdir: Path, env: dict[str, str], delay: float) -> None:
        self.workdir, self.env, self.delay = workdir, env, delay
        self.apis: list[ServerProcess] = []
        self.workers: list[WorkerProcess] = []

    def start_api(self) -> ServerProcess:
        api = ServerProcess([*reasonflow_cli(), "serve"], self.env, self.workdir)
        api.wait_ready()
        self.apis.append(api)
        return api

    def start_worker(self) -> WorkerProcess:
        worker = WorkerProcess(self.env, self.workdir, len(self.workers), self.delay)
        worker.wait_ready()
        self.workers.append(worker)
        return worker

    def logs(self) -> str:
        parts = [f"--- {p.log_path.name}\n{p.log()}" for p in [*self.apis, *self.workers]]
        return "\n".join(parts)[-20_000:]

    def stop(self) -> None:
        for process in [*self.workers, *self.apis]:
            process.stop()


@contextmanager
def running_cluster(
    workdir: Path, apis: int = 2, workers: int = 2, delay: float = 0.2, **settings: str
) -> Iterator[Cluster]:
    database = asyncio.run(create_migrated_postgres_database())
    prefix = new_prefix()
    values = {
        "database_url": database,
        "job_store": "redis",
        "queue": "saq",
        "redis_url": redis_url(),
        "redis_prefix": prefix,
        "task_heartbeat_seconds": "2",
        "recovery_interval_seconds": "2",
        "job_max_concurrency": "4",
    } | settings
    env = server_env(workdir, **{f"REASONFLOW_{k.upper()}": v for k, v in values.items()})
    cluster = Cluster(workdir, env, delay)
    try:
        for _ in range(apis):
            cluster.start_api()
        for _ in range(workers):
            cluster.start_worker()
        yield cluster
    finally:
        cluster.stop()
        asyncio.run(_forget(values["redis_url"], prefix))
        asyncio.run(drop_postgres_database(database))


async def _forget(url: str, prefix: str) -> None:
    client = await connect(url)
    try:
        await delete_prefix(client, prefix)
    finally:
        await client.aclose()


class User:
    """A signed-in user's view of one API process (a connection per request, so
    nothing is left open when a test ends)."""

    def __init__(self, url: str, token: str) -> None:
        self.url = url
        self.token = token
        self.headers = {"Authorization": f"Bearer {token}"}

    @classmethod
    def sign_up(cls, url: str, address: str) -> User:
        creds = {"email": address, "password": PASSWORD}
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.post("/api/v1/auth/register", json=creds).status_code == 201
            token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
        return cls(url, token)

    def on(self, url: str) -> User:
        """The same user, talking to another API process."""
        return User(url, self.token)

    def request(self, method: str, path: str, **options: Any) -> httpx.Response:
        headers = self.headers | options.pop("headers", {})
        options.setdefault("timeout", 10)
        return httpx.request(method, self.url + path, headers=headers, **options)

    def add_emails(self, count: int, subject: str = "Pricing question") -> list[str]:
        ids = []
        for n in range(count):
            body = {
                "subject": f"{subject} {n}",
                "body": "What does the pro plan cost per month?",
                "sender": f"customer{n}@example.com",
            }
            response = self.request("POST", "/api/v1/emails", json=body)
            assert response.status_code == 201, response.text
            ids.append(response.json()["id"])
        return ids

    def submit(self, kind: str, ids: list[str], **headers: str) -> httpx.Response:
        return self.request(
            "POST", f"/api/v1/emails/batch/{kind}", json={"email_ids": ids}, headers=headers
        )

    def status(self, job_id: str) -> dict[str, Any]:
        response = self.request("GET", f"/api/v1/emails/batch/status/{job_id}")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def wait(self, job_id: str, until: Any, timeout: float = 60.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(job_id)
            if until(status):
                return status
            assert time.monotonic() < deadline, f"gave up waiting: {status}"
            time.sleep(0.1)

    def finished(self, job_id: str, timeout: float = 60.0) -> dict[str, Any]:
        return self.wait(
            job_id, lambda s: s["status"] in ("completed", "failed", "cancelled"), timeout
        )

    def emails(self, status: str | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": 100} | ({"status": status} if status else {})
        items: list[dict[str, Any]] = self.request("GET", "/api/v1/emails", params=params).json()[
            "items"
        ]
        return items
