"""Start and stop real server processes for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import JWT_SECRET

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(workdir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REASONFLOW_")}
    env.update(
        REASONFLOW_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'reasonflow.db'}",
        REASONFLOW_VAR_DIR=str(workdir / "var"),
        REASONFLOW_JWT_SECRET=JWT_SECRET,
        REASONFLOW_SHUTDOWN_GRACE_SECONDS="1",
        PYTHONPATH=str(REPO),
    )
    env.update(extra)
    return env


class ServerProcess:
    """A server in its own process group, logging to a file."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-{self.port}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [*argv, "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=workdir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited early:\n{self.log()}")
            try:
                if httpx.get(self.url + "/ready", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready within {timeout}s:\n{self.log()}")

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as in a crash or an OOM kill."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        """SIGTERM, as a supervisor sends it; uvicorn shuts down gracefully, then
        re-raises the signal, so a clean stop exits with -SIGTERM."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._log.close()
        return self.proc.returncode


def reasonflow_cli() -> list[str]:
    return [sys.executable, "-m", "reasonflow.entrypoints.cli"]


def finished_job(client: httpx.Client, headers: dict[str, str], job_id: str) -> dict[str, Any]:
    """The job's status body once it has finished (polled; fails after 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = client.get(
            f"/api/v1/emails/batch/status/{job_id}", headers=headers
        ).json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
