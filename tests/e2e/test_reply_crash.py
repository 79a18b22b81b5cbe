"""Issue 14's crash test: auto-sent replies survive SIGKILL at any moment, none lost.

200 runs against real ``reasonflow serve`` processes (forked from
``tests.e2e.forkserver`` so a restart costs no re-import) with auto-send on and
SMTP pointed at an aiosmtpd sink in its own process, which records the
Message-ID of every message it accepted. Each run: a fresh user submits a
process batch of 10 emails (offline provider); the server is SIGKILLed at a
random moment of the batch (after k of its replies were committed ``sent``, k
drawn from 0..10, plus a random delay) and started again; the run's emails the
crash sent back to ``pending`` are submitted again (the in-memory job died with
the process), until all ten read ``sent``. The restarted server then hosts the
next run, which kills it in turn: one kill per run. Two lanes, each with its
own database and servers, run side by side to keep the wall time down.

Asserted: every reply reached the sink (none lost), every email reads ``sent``,
no reply whose ``sent`` was committed before the kill reached the sink twice,
and a kill repeats at most one reply (the dispatcher has one in flight at a
time): duplicates come only from the window between the SMTP server's
acceptance and that commit, and carry the same Message-ID. The duplicate count
is printed (``pytest -s``).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.server import REPO, free_port, server_env

pytestmark = pytest.mark.e2e

#: ``CRASH_TEST_RUNS`` runs fewer while working on the test; the suite runs 200.
RUNS = int(os.environ.get("CRASH_TEST_RUNS", "200"))
#: Runs go in two lanes at once, each with its own database and server: while
#: one lane's server starts, the other's batch runs.
LANES = 2
BATCH = 10
INQUIRY = (
    "Hi, could you tell me how much the Business plan costs for 50 seats? "
    "Do you offer a discount for annual billing?"
)


class Forked:
    """One ``reasonflow serve`` forked by the fork server (which reaps it)."""

    def __init__(self, pid: int, port: int, log: Path) -> None:
        self.pid, self.port, self.log = pid, port, log
        self.url = f"http://127.0.0.1:{port}"

    def alive(self) -> bool:
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return True

    def kill(self) -> None:
        """SIGKILL to its process group: no shutdown hook runs."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 10
        while self.alive():
            assert time.monotonic() < deadline, "a SIGKILLed server did not go away"
            time.sleep(0.005)


class ForkServer:
    """The fork server process; ``serve`` may be called from several threads."""

    def __init__(self, env: dict[str, str]) -> None:
        self._lock = threading.Lock()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.forkserver"],
            cwd=REPO,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._read() == {"ready": True}

    def _read(self) -> dict[str, Any]:
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        assert line, "the fork server exited"
        answer: dict[str, Any] = json.loads(line)
        return answer

    def serve(self, workdir: Path, env: dict[str, str]) -> Forked:
        """A server over ``workdir``'s database, once it answers ``/ready``."""
        port = free_port()
        log = workdir / f"server-{port}.log"
        request = {
            "argv": ["serve", "--host", "127.0.0.1", "--port", str(port)],
            "env": env,
            "cwd": str(workdir),
            "log": str(log),
        }
        with self._lock:
            assert self._proc.stdin is not None
            self._proc.stdin.write(json.dumps(request) + "\n")
            self._proc.stdin.flush()
            server = Forked(self._read()["pid"], port, log)
        deadline = time.monotonic() + 60
        while True:
            assert server.alive(), f"server exited early:\n{log.read_text(errors='replace')}"
            try:
                if httpx.get(server.url + "/ready", timeout=2).status_code == 200:
                    return server
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.01)

    def close(self) -> None:
        for pipe in (self._proc.stdin, self._proc.stdout):
            if pipe is not None:
                pipe.close()
        self._proc.wait(timeout=10)


class Sink:
    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.path = workdir / "received.txt"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.smtp_sink", str(self.port), str(self.path)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        assert self._proc.stdout.readline().strip() == "ready"

    def message_ids(self) -> Counter[str]:
        lines = self.path.read_text().splitlines() if self.path.exists() else []
        return Counter(line.split(" ", 1)[0] for line in lines)

    def close(self) -> None:
        self._proc.terminate()
        self._proc.wait(timeout=10)
        if self._proc.stdout is not None:
            self._proc.stdout.close()


@pytest.fixture
def sink(tmp_path: Path) -> Iterator[Sink]:
    running = Sink(tmp_path)
    try:
        yield running
    finally:
        running.close()


def _sign_up(client: httpx.Client, run: int) -> dict[str, str]:
    creds = {"email": f"crash{run}@example.com", "password": "crash test password"}
    assert client.post("/api/v1/auth/register", json=creds).status_code == 201
    token = client.post("/api/v1/auth/login", json=creds).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


def _add_emails(client: httpx.Client, headers: dict[str, str], run: int) -> list[str]:
    ids = []
    for n in range(BATCH):
        email = {
            "subject": f"Pricing for 50 seats ({run}.{n})",
            "body": INQUIRY,
            "sender": f"customer{n}@run{run}.example.com",
            "recipient": "support@example.com",
        }
        response = client.post("/api/v1/emails", json=email, headers=headers)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def _statuses(client: httpx.Client, headers: dict[str, str]) -> dict[str, str]:
    page = client.get("/api/v1/emails", params={"limit": 50}, headers=headers).json()
    return {e["id"]: e["status"] for e in page["items"]}


def _committed_sent(db: Path, ids: list[str]) -> set[str]:
    """The emails of ``ids`` whose delivery is committed (``sent``)."""
    hexes = [i.replace("-", "") for i in ids]
    marks = ",".join("?" * len(hexes))
    query = f"SELECT id FROM emails WHERE status = 'sent' AND id IN ({marks})"
    conn = sqlite3.connect(db, timeout=10)
    try:
        sent = {row[0] for row in conn.execute(query, hexes)}
    finally:
        conn.close()
    return {i for i, h in zip(ids, hexes, strict=True) if h in sent}


def _wait_for_the_moment(rng: random.Random, db: Path, ids: list[str], window: float) -> None:
    """Wait for a random moment of the batch: k of its replies committed ``sent``
    (k drawn from 0..10, so kills spread over processing, dispatching and done),
    then a random fraction of the time one more reply takes."""
    target = rng.randint(0, len(ids))
    if target == 0:
        time.sleep(rng.uniform(0, window))
        return
    deadline = time.monotonic() + 60
    while len(_committed_sent(db, ids)) < target:
        assert time.monotonic() < deadline, "the batch stopped making progress"
        time.sleep(0.005)
    time.sleep(rng.uniform(0, window / len(ids)))


def _phase(sent: set[str], ids: list[str]) -> str:
    if len(sent) == len(ids):
        return "all sent"
    return "dispatching" if sent else "processing or the first reply"


def _finish(client: httpx.Client, headers: dict[str, str], ids: list[str]) -> None:
    """Submit what the crash sent back to ``pending`` until every email reads ``sent``."""
    deadline = time.monotonic() + 60
    while True:
        statuses = _statuses(client, headers)
        if all(statuses[i] == "sent" for i in ids):
            return
        assert set(statuses.values()) <= {"pending", "processing", "sending", "sent"}, statuses
        pending = [i for i in ids if statuses[i] == "pending"]
        if pending:
            response = client.post(
                "/api/v1/emails/batch/process", json={"email_ids": pending}, headers=headers
            )
            assert response.status_code == 202, response.text
        assert time.monotonic() < deadline, statuses
        time.sleep(0.02)


def _time_a_batch(client: httpx.Client) -> tuple[float, list[str]]:
    """Seconds from submitting a batch to every reply sent, without a crash."""
    headers = _sign_up(client, -1)
    ids = _add_emails(client, headers, -1)
    started = time.monotonic()
    client.post("/api/v1/emails/batch/process", json={"email_ids": ids}, headers=headers)
    _finish(client, headers, ids)
    return time.monotonic() - started, ids


def _message_id(email_id: str) -> str:
    return f"<reply-{email_id.replace('-', '')}@example.com>"


@dataclass
class Lane:
    """One database and its succession of servers; its runs one after another."""

    workdir: Path
    env: dict[str, str]
    runs: list[list[str]] = field(default_factory=list)
    committed: set[str] = field(default_factory=set)
    phases: Counter[str] = field(default_factory=Counter)
    restarts: list[float] = field(default_factory=list)

    def drive(self, forks: ForkServer, numbers: range, window: float, seed: int) -> None:
        rng = random.Random(seed)
        db = self.workdir / "reasonflow.db"
        server = forks.serve(self.workdir, self.env)
        try:
            for run in numbers:
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    headers = _sign_up(client, run)
                    ids = _add_emails(client, headers, run)
                    self.runs.append(ids)
                    response = client.post(
                        "/api/v1/emails/batch/process", json={"email_ids": ids}, headers=headers
                    )
                    assert response.status_code == 202, response.text
                    _wait_for_the_moment(rng, db, ids, window)
                server.kill()
                sent = _committed_sent(db, ids)
                self.committed |= sent
                self.phases[_phase(sent, ids)] += 1
                restarted = time.monotonic()
                server = forks.serve(self.workdir, self.env)
                self.restarts.append(time.monotonic() - restarted)
                with httpx.Client(base_url=server.url, timeout=30) as client:
                    _finish(client, headers, ids)
        finally:
            server.kill()


def test_replies_survive_sigkill_at_any_moment_none_lost(tmp_path: Path, sink: Sink) -> None:
    def env_for(workdir: Path) -> dict[str, str]:
        return server_env(
            workdir,
            REASONFLOW_AUTO_SEND="true",
            # Every non-spam, non-complaint email is auto-sent, whatever its confidence.
            REASONFLOW_AUTO_APPROVE_THRESHOLD="0",
            REASONFLOW_SMTP_URL=f"smtp://127.0.0.1:{sink.port}?starttls=false&timeout=10",
            REASONFLOW_SUBMIT_RATE_PER_MINUTE="1000",
            REASONFLOW_DISPATCH_RETRY_BASE_SECONDS="0.2",
        )

    lanes = []
    for n in range(LANES):
        workdir = tmp_path / f"lane{n}"
        workdir.mkdir()
        lanes.append(Lane(workdir, env_for(workdir)))
    forks = ForkServer(lanes[0].env)
    started = time.monotonic()
    try:
        first = forks.serve(lanes[0].workdir, lanes[0].env)
        try:
            with httpx.Client(base_url=first.url, timeout=30) as client:
                seconds, calibration = _time_a_batch(client)
        finally:
            first.kill()
        window = seconds
        with ThreadPoolExecutor(LANES) as pool:
            futures = [
                pool.submit(lane.drive, forks, range(n, RUNS, LANES), window, 14 + n)
                for n, lane in enumerate(lanes)
            ]
            for future in futures:
                future.result()
    finally:
        forks.close()
    elapsed = time.monotonic() - started

    runs = [ids for lane in lanes for ids in lane.runs]
    committed = set().union(*(lane.committed for lane in lanes))
    phases = sum((lane.phases for lane in lanes), Counter[str]())
    restarts = [s for lane in lanes for s in lane.restarts]
    received = sink.message_ids()
    expected = {_message_id(i) for ids in runs for i in ids}
    lost = expected - set(received)
    duplicates = sum(n - 1 for n in received.values())
    print(
        f"\nreply crash test: {len(runs)} runs x {BATCH} replies in {elapsed:.0f} s "
        f"({LANES} lanes); killed while "
        f"{dict(phases)}; delivered {len(expected) - len(lost)}/{len(expected)}, "
        f"lost {len(lost)}, duplicates {duplicates} (same Message-ID); "
        f"restart to ready {sum(restarts) / len(restarts):.2f} s on average"
    )
    assert len(runs) == RUNS
    assert not lost, f"{len(lost)} replies never reached the mail server"
    # Nothing but our replies, each under the Message-ID made from its email id.
    assert set(received) == expected | {_message_id(i) for i in calibration}
    # A reply whose delivery was committed before the kill is never sent again:
    # duplicates come only from the window between acceptance and that commit.
    assert all(received[_message_id(i)] == 1 for i in committed)
    # One reply in flight at a time: a kill repeats at most one reply of its run.
    for ids in runs:
        assert sum(received[_message_id(i)] - 1 for i in ids) <= 1, ids
