"""What the benchmark scripts share: processes on 127.0.0.1, seeding, machine facts, statistics.

Every process a script starts listens on 127.0.0.1 only, runs in its own
process group and is stopped (SIGTERM, then SIGKILL) when the script ends;
every wait has a deadline, so no script can hang.
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
JWT_SECRET = "bench-secret-" + "x" * 40
HOST = "127.0.0.1"
REDIS_URL = os.environ.get("REASONFLOW_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


class Proc:
    """A child process in its own process group, its output in a log file."""

    def __init__(self, argv: Sequence[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                list(argv),
                env=env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_until_up(self, url: str, timeout: float = 90.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"{url}: process exited early:\n{self.log.read_text(errors='replace')}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        sys.exit(
            f"{url} did not come up in {timeout:.0f} s:\n{self.log.read_text(errors='replace')}"
        )

    def cpu_seconds(self) -> float:
        """User + system CPU the process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)


def server_env(database_url: str, work: Path, **extra: str) -> dict[str, str]:
    """The environment of a ``reasonflow serve`` process: nothing inherited from REASONFLOW_*."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REASONFLOW_")}
    env.update(
        PYTHONPATH=str(REPO),
        REASONFLOW_DATABASE_URL=database_url,
        REASONFLOW_VAR_DIR=str(work / "var"),
        REASONFLOW_JWT_SECRET=JWT_SECRET,
        REASONFLOW_LOG_LEVEL="WARNING",
        REASONFLOW_SHUTDOWN_GRACE_SECONDS="1",
    )
    env.update(extra)
    return env


def start_fake_llm(work: Path, latency: float) -> tuple[Proc, str]:
    """``tests/llm/fake_openai.py`` as a process; returns it and its base URL (no ``/v1``)."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    argv = [sys.executable, "-m", "tests.llm.fake_openai", "--port", str(port)]
    proc = Proc([*argv, "--latency", str(latency)], env, work / f"fake-llm-{port}.log")
    url = f"http://{HOST}:{port}"
    proc.wait_until_up(f"{url}/_stats")
    return proc, url


def start_server(work: Path, env: dict[str, str]) -> tuple[Proc, str]:
    """``reasonflow serve`` (uvicorn) as a process; returns it and its base URL."""
    port = free_port()
    argv = [sys.executable, "-m", "reasonflow.entrypoints.cli", "serve"]
    proc = Proc([*argv, "--host", HOST, "--port", str(port)], env, work / f"server-{port}.log")
    url = f"http://{HOST}:{port}"
    proc.wait_until_up(f"{url}/ready")
    return proc, url


@contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A temporary directory for a run's databases and logs, removed at the end."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextmanager
def running(*procs: Proc) -> Iterator[None]:
    try:
        yield
    finally:
        for proc in reversed(procs):
            proc.stop()


def mint_token(user_id: uuid.UUID) -> str:
    """An access token for ``user_id``, as ``POST /api/v1/auth/login`` issues it.

    Minted with the server's secret so a script can act as many users without
    hashing a password for each (argon2 costs ~50 ms by design).
    """
    from reasonflow.adapters.auth.tokens import JwtTokens

    tokens = JwtTokens(JWT_SECRET, timedelta(hours=2))
    return tokens.issue(user_id, datetime.now(UTC)).value


def register(client: httpx.Client, address: str = "bench@example.com") -> tuple[uuid.UUID, str]:
    """Sign a user up and in through the API; returns the user id and a bearer token."""
    creds = {"email": address, "password": "bench password"}
    response = client.post("/api/v1/auth/register", json=creds)
    response.raise_for_status()
    user_id = uuid.UUID(response.json()["id"])
    token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
    return user_id, token


async def _seed(database_url: str, owners: Sequence[uuid.UUID], per_owner: int) -> list[uuid.UUID]:
    from sqlalchemy import insert, text

    from reasonflow.adapters.sql.engine import Database
    from reasonflow.adapters.sql.migrate import upgrade
    from reasonflow.adapters.sql.rows import email_values
    from reasonflow.adapters.sql.tables import emails
    from reasonflow.domain.model import Email

    db = Database(database_url)
    ids: list[uuid.UUID] = []
    try:
        await upgrade(db.engine)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        rows = []
        for owner in owners:
            for n in range(per_owner):
                email_id = uuid.uuid4()
                ids.append(email_id)
                received = start + timedelta(seconds=len(ids))
                rows.append(
                    email_values(
                        Email(
                            id=email_id,
                            user_id=owner,
                            subject=f"Pricing question {n}",
                            body="Hello, could you tell me what the premium plan costs?",
                            sender=f"customer{n % 5000}@example.com",
                            recipient="support@example.com",
                            received_at=received,
                            updated_at=received,
                        )
                    )
                )
        for chunk in range(0, len(rows), 5000):
            async with db.write() as session:
                await session.execute(insert(emails), rows[chunk : chunk + 5000])
        if not db.is_sqlite:
            # What autovacuum does within a minute of a bulk load (autovacuum_naptime):
            # without statistics, Postgres plans as if the table were empty.
            async with db.engine.begin() as conn:
                await conn.execute(text("ANALYZE emails"))
    finally:
        await db.dispose()
    return ids


PG_SERVER = os.environ.get(
    "REASONFLOW_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


async def create_pg_database() -> str:
    """A new, uniquely named database ``rf_bench_<hex>``; returns its SQLAlchemy URL."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = f"rf_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(PG_SERVER, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    server = make_url(PG_SERVER)
    url = server.set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


async def drop_pg_database(url: str) -> None:
    """Drop a database ``create_pg_database`` made, closing what is still connected to it."""
    import asyncpg
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    if not name or not name.startswith("rf_bench_"):
        raise ValueError(f"refusing to drop {name!r}: not a benchmark database")
    admin = await asyncpg.connect(PG_SERVER, timeout=10)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def forget_prefix(redis_url: str, prefix: str) -> None:
    """Delete every key of a benchmark's Redis prefix."""
    from redis.asyncio import Redis

    if not prefix.startswith("rf_bench_"):
        raise ValueError(f"refusing to delete {prefix!r}: not a benchmark prefix")
    client = Redis.from_url(redis_url, decode_responses=True)
    try:
        async for key in client.scan_iter(match=f"*{prefix}*", count=500):
            await client.delete(key)
    finally:
        await client.aclose()


def cluster_settings(stack: ExitStack) -> tuple[str, dict[str, str]]:
    """A Postgres database and a Redis key prefix of the run's own, removed when
    ``stack`` closes; returns the database URL and the cluster mode's variables."""
    database_url = asyncio.run(create_pg_database())
    stack.callback(lambda: asyncio.run(drop_pg_database(database_url)))
    prefix = f"rf_bench_{uuid.uuid4().hex[:8]}:"
    stack.callback(lambda: asyncio.run(forget_prefix(REDIS_URL, prefix)))
    return database_url, {
        "REASONFLOW_JOB_STORE": "redis",
        "REASONFLOW_QUEUE": "saq",
        "REASONFLOW_REDIS_URL": REDIS_URL,
        "REASONFLOW_REDIS_PREFIX": prefix,
    }


def seed_emails(database_url: str, owners: Sequence[uuid.UUID], per_owner: int) -> list[uuid.UUID]:
    """Bulk-insert ``per_owner`` pending emails for each owner (multi-row INSERTs);
    on Postgres, ``ANALYZE`` the table afterwards."""
    return asyncio.run(_seed(database_url, owners, per_owner))


@dataclass
class Load:
    """The machine's load while a measurement ran: load average and CPU busy share."""

    started: float = field(default_factory=time.monotonic)
    load_before: float = field(default_factory=lambda: os.getloadavg()[0])
    _cpu_before: tuple[int, int] = field(default_factory=lambda: _cpu_times())

    def finish(self) -> dict[str, float]:
        busy0, total0 = self._cpu_before
        busy1, total1 = _cpu_times()
        return {
            "seconds": round(time.monotonic() - self.started, 1),
            "loadavg_1m_before": round(self.load_before, 2),
            "loadavg_1m_after": round(os.getloadavg()[0], 2),
            "machine_cpu_busy": round((busy1 - busy0) / max(1, total1 - total0), 3),
        }


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies over all CPUs, from /proc/stat."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    return sum(parts) - idle, sum(parts)


def machine() -> dict[str, Any]:
    return {
        "cores": len(os.sched_getaffinity(0)),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


def spread(values: Sequence[float]) -> dict[str, float]:
    """Median, min and max of repeated runs."""
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "runs": len(values),
    }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (``pct`` in 0..100)."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(pct / 100 * len(ordered))))
    return ordered[rank - 1]


def save(name: str, data: dict[str, Any]) -> Path:
    """Write a row's figures to ``bench/results/<name>.json`` (not committed)."""
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    print(f"figures written to {path.relative_to(REPO)}")
    return path


def verdict(ok: bool) -> str:
    return "target met" if ok else "TARGET MISSED"
