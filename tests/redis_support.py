"""A real Redis for tests (DESIGN §9): every run uses its own key prefix and
deletes its keys afterwards. A server that cannot be reached is an error,
never a skip. ``REASONFLOW_TEST_REDIS`` overrides the server URL.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

DEFAULT_SERVER = "redis://127.0.0.1:6379/0"


def redis_url() -> str:
    return os.environ.get("REASONFLOW_TEST_REDIS", DEFAULT_SERVER)


def new_prefix() -> str:
    """A key prefix no other run or test shares."""
    return f"rf_test_{secrets.token_hex(6)}:"


async def connect(url: str | None = None) -> Redis:
    """A client that has answered a PING; the caller closes it (``aclose``)."""
    url = url or redis_url()
    client = Redis.from_url(url, decode_responses=True)
    try:
        await client.ping()
    except (OSError, RedisError) as exc:
        await client.aclose()
        raise RuntimeError(
            f"Redis is not reachable at {url} ({exc!r}); "
            "start it (make test does) or set REASONFLOW_TEST_REDIS"
        ) from exc
    return client


async def delete_prefix(client: Redis, prefix: str) -> int:
    """Delete every key under ``prefix`` (which must be a test prefix)."""
    if not prefix.startswith("rf_test_"):
        raise ValueError(f"refusing to delete {prefix!r}: not a test prefix")
    deleted = 0
    async for key in client.scan_iter(match=f"{prefix}*", count=500):
        deleted += await client.delete(key)
    return deleted


class RedisServer:
    """A Redis server of the test's own on a free port, persisting every write
    (AOF, fsync always) in ``workdir``, so it can be stopped and started again
    with its data, as a restarted production Redis would come back."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.workdir, self.port = workdir, port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "yes", "--appendfsync", "always"]
        argv += ["--dir", str(self.workdir), "--logfile", str(self.workdir / "redis.log")]
        self.proc = subprocess.Popen(argv, start_new_session=True)
        deadline = time.monotonic() + 20
        while not self.answers():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM: Redis syncs its AOF and exits; clients are refused until ``start``."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.proc = None
