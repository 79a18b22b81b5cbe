"""The ``reasonflow`` client commands against a real server process."""

from __future__ import annotations

import json
import mailbox
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import REPO, ServerProcess, free_port, reasonflow_cli, server_env

pytestmark = pytest.mark.e2e

ADDRESS = "cli@example.com"
PASSWORD = "cli test password"


class Cli:
    """Runs ``reasonflow`` as a user would, with only the client's variables set."""

    def __init__(self, tmp_path: Path, url: str) -> None:
        self.token_file = tmp_path / "home" / ".config" / "reasonflow" / "token"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("REASONFLOW_")}
        self.env.update(
            REASONFLOW_URL=url,
            REASONFLOW_TOKEN_FILE=str(self.token_file),
            PYTHONPATH=str(REPO),
            # A malformed server setting is no business of the client's.
            REASONFLOW_MAX_ACTIVE_JOBS="plenty",
        )
        self.cwd = tmp_path

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [*reasonflow_cli(), *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def login(self) -> None:
        done = self("login", "--email", ADDRESS, "--password-stdin", stdin=PASSWORD + "\n")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "signed in" in done.stdout
        assert stat.S_IMODE(self.token_file.stat().st_mode) == 0o600

    def token(self) -> str:
        return self.token_file.read_text().strip()


def _server(tmp_path: Path, argv: list[str]) -> Iterator[ServerProcess]:
    env = server_env(tmp_path)
    created = subprocess.run(
        [*reasonflow_cli(), "user", "create", ADDRESS, "--password-stdin"],
        env=env,
        cwd=tmp_path,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
    )
    assert created.returncode == 0, created.stderr
    server = ServerProcess(argv, env, tmp_path)
    try:
        server.wait_ready()
        yield server
    finally:
        assert server.stop() in (0, -15), server.log()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    yield from _server(tmp_path, [*reasonflow_cli(), "serve"])


@pytest.fixture
def failing_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """Its provider fails every email whose subject contains ``[fail]``."""
    yield from _server(tmp_path, [sys.executable, "-m", "tests.e2e.failing_app"])


def _message(subject: str, sender: str | None, n: int) -> EmailMessage:
    msg = EmailMessage()
    if sender:
        msg["From"] = sender
    msg["To"] = ADDRESS
    msg["Subject"] = subject
    msg["Message-ID"] = f"<cli-{n}@example.com>"
    msg["Date"] = f"Mon, 23 Nov 2026 10:0{n}:00 +0000"
    msg.set_content(f"Hello, this is message {n}. Could you tell me more about pricing?")
    return msg


def _mbox(path: Path) -> Path:
    box = mailbox.mbox(path)
    for n, subject in enumerate(["Pricing", "Meeting next week", "Invoice", "Thanks!"]):
        box.add(_message(subject, f"customer{n}@example.com", n))
    box.add(_message("No sender at all", None, 4))  # malformed: no From address
    box.flush()
    box.close()
    return path


def _seed(url: str, token: str, subjects: list[str]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for subject in subjects:
            body = {"subject": subject, "body": "What does the plan cost?", "sender": "c@x.org"}
            assert client.post("/api/v1/emails", json=body).status_code == 201


def test_a_run_with_failures_shows_them_and_exits_1(
    tmp_path: Path, failing_server: ServerProcess
) -> None:
    cli = Cli(tmp_path, failing_server.url)
    cli.login()
    # 103 emails: more than one classify batch holds, so the client splits them.
    subjects = [f"Question {n}" for n in range(101)] + ["Refund [fail]", "Upgrade [fail]"]
    _seed(failing_server.url, cli.token(), subjects)

    run = cli("batch", "classify", "--all-pending")
    assert run.returncode == 1, run.stdout + run.stderr
    assert re.search(r"103/103\s+101 succeeded\s+2 failed", run.stderr), run.stderr
    assert "classify: 103 emails, 2 jobs" in run.stdout
    assert "101 succeeded, 2 failed" in run.stdout
    assert '"Refund [fail]": Classification failed: API rate limit exceeded' in run.stdout
    assert '"Upgrade [fail]": Classification failed: API rate limit exceeded' in run.stdout

    again = cli("batch", "classify", "--all-pending", "--json")
    assert again.returncode == 1, again.stderr
    document = json.loads(again.stdout)  # nothing but the JSON document on stdout
    assert document["summary"] == {
        "selected": 103, "jobs": 2, "processed": 103, "succeeded": 101, "failed": 2,
        "cancelled": 0,
    }  # fmt: skip
    assert sorted(e["subject"] for e in document["errors"]) == ["Refund [fail]", "Upgrade [fail]"]
    assert "━" not in again.stderr, "no progress bar with --json"

    failed_job = next(job["job_id"] for job in document["jobs"] if job["failed"])
    retried = cli("batch", "retry", failed_job, "--wait")
    assert retried.returncode == 1, retried.stdout + retried.stderr
    assert re.search(r"2/2\s+0 succeeded\s+2 failed", retried.stderr), retried.stderr

    listed = cli("batch", "jobs")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0].split()[:3] == ["JOB", "KIND", "STATUS"]
    assert len(listed.stdout.splitlines()) == 1 + 5  # 2 + 2 + 1 retry, newest first
    shown = cli("batch", "status", failed_job)
    assert shown.returncode == 0 and "Classification failed" in shown.stdout
    assert "completed" in shown.stdout

    finished = cli("batch", "cancel", failed_job)
    assert finished.returncode == 2
    assert "already finished" in finished.stderr


def test_import_a_mailbox_then_classify_all_pending(tmp_path: Path, server: ServerProcess) -> None:
    cli = Cli(tmp_path, server.url)
    cli.login()

    imported = cli("import", str(_mbox(tmp_path / "inbox.mbox")))
    assert imported.returncode == 1, imported.stdout + imported.stderr  # one problem
    assert "4 imported, 0 duplicates, 1 problem" in imported.stdout
    assert re.search(r"message 5 <cli-4@example.com>: .*no From address", imported.stdout)

    again = cli("import", str(tmp_path / "inbox.mbox"), "--json")
    assert json.loads(again.stdout)["duplicates"] == 4

    run = cli("batch", "classify", "--all-pending")
    assert run.returncode == 0, run.stdout + run.stderr
    assert re.search(r"4/4\s+4 succeeded\s+0 failed", run.stderr), run.stderr
    assert "classify: 4 emails, 1 job" in run.stdout


def test_clear_errors_without_a_server_or_a_valid_token(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    cli = Cli(tmp_path, url)
    signed_out = cli("batch", "jobs")
    assert signed_out.returncode == 2
    assert signed_out.stderr.strip() == "error: not signed in: run `reasonflow login`"

    cli.token_file.parent.mkdir(parents=True)
    cli.token_file.write_text("not-a-token\n")
    down = cli("batch", "classify", "--all-pending")
    assert down.returncode == 2
    lines = down.stderr.strip().splitlines()
    assert len(lines) == 1 and url in lines[0], down.stderr


def test_an_expired_or_foreign_token_asks_to_log_in_again(
    tmp_path: Path, server: ServerProcess
) -> None:
    cli = Cli(tmp_path, server.url)
    cli.token_file.parent.mkdir(parents=True)
    cli.token_file.write_text("not-a-token\n")
    refused = cli("batch", "status", "cls_0123456789abcdef")
    assert refused.returncode == 2
    assert "run `reasonflow login`" in refused.stderr
    wrong = cli("login", "--email", ADDRESS, "--password-stdin", stdin="wrong password\n")
    assert wrong.returncode == 2
    assert "Invalid email or password" in wrong.stderr


def test_estimate_and_a_budget_against_a_real_server(tmp_path: Path, server: ServerProcess) -> None:
    cli = Cli(tmp_path, server.url)
    cli.login()
    _seed(server.url, cli.token(), [f"Question {n}" for n in range(3)])

    guess = cli("batch", "process", "--all-pending", "--estimate")
    assert guess.returncode == 0, guess.stderr
    # The offline provider calls no model and costs nothing.
    assert guess.stdout.startswith("process estimate: 3 emails in 1 job: 0 model calls, 0 prompt")
    assert "at most $0.0000" in guess.stdout
    assert json.loads(cli("batch", "jobs", "--json").stdout) == []

    run = cli("batch", "process", "--all-pending", "--max-cost", "0.01")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 succeeded, 0 failed" in run.stdout
    job = json.loads(cli("batch", "jobs", "--json").stdout)[0]
    assert (job["max_cost_usd"], job["cancel_reason"]) == (0.01, None)
