"""The client commands end to end against the in-memory API: output and exit codes."""

from __future__ import annotations

import argparse
import io
import json
import stat
from pathlib import Path

import httpx
import pytest

from reasonflow.entrypoints import cli
from reasonflow.entrypoints.client import register_client_commands, run_client
from reasonflow.entrypoints.client.context import Context
from tests.unit.test_client_api import TOKEN, URL, FakeServer, reply


class Terminal:
    """Runs ``reasonflow …`` client commands with captured output and a fake server."""

    def __init__(self, tmp_path: Path, server: FakeServer | None = None) -> None:
        self.server = server or FakeServer()
        self.token_file = tmp_path / "config" / "token"
        self.transport: httpx.AsyncBaseTransport = self.server.transport()
        self.waits: list[float] = []

    def sign_in(self) -> Terminal:
        self.token_file.parent.mkdir(parents=True, exist_ok=True)
        self.token_file.write_text(TOKEN + "\n")
        return self

    def __call__(self, *argv: str, stdin: str = "") -> tuple[int, str, str]:
        parser = argparse.ArgumentParser(prog="reasonflow")
        register_client_commands(parser.add_subparsers(required=True))
        out, err = io.StringIO(), io.StringIO()

        async def sleep(seconds: float) -> None:
            self.waits.append(seconds)

        env = {"REASONFLOW_URL": URL, "REASONFLOW_TOKEN_FILE": str(self.token_file)}
        context = Context(env, out, err, io.StringIO(stdin), self.transport, sleep)
        code = run_client(parser.parse_args(argv), context)
        assert "Traceback" not in err.getvalue()
        return code, out.getvalue(), err.getvalue()


def test_login_keeps_the_token_for_its_owner_only(tmp_path: Path) -> None:
    term = Terminal(tmp_path)
    code, out, _ = term(
        "login", "--email", "ada@example.com", "--password-stdin", stdin="right password\n"
    )
    assert code == 0
    assert f"signed in to {URL} as ada@example.com" in out
    assert term.token_file.read_text().strip() == TOKEN
    assert stat.S_IMODE(term.token_file.stat().st_mode) == 0o600

    code, _, err = term("login", "--email", "ada@example.com", "--password-stdin", stdin="no\n")
    assert code == 2
    assert err.strip() == "error: login refused: Invalid email or password"
    assert term.token_file.read_text().strip() == TOKEN, "a failed login keeps the old token"


def test_classify_all_pending_shows_progress_and_exits_0(tmp_path: Path) -> None:
    term = Terminal(tmp_path, FakeServer([f"Question {n}" for n in range(120)])).sign_in()
    code, out, err = term("batch", "classify", "--all-pending")
    assert code == 0, err
    assert "120/120" in err and "120 succeeded" in err and "0 failed" in err
    assert out.startswith("classify: 120 emails, 2 jobs (cls_")
    assert out.rstrip().endswith("120 succeeded, 0 failed")


def test_failures_are_listed_by_subject_and_exit_1(tmp_path: Path) -> None:
    term = Terminal(tmp_path, FakeServer(["Fine", "Refund [fail]"])).sign_in()
    code, out, _ = term("batch", "classify", "--status", "pending")
    assert code == 1
    assert "1 succeeded, 1 failed" in out
    assert '  "Refund [fail]": Classification failed: API rate limit exceeded' in out


def test_json_is_one_document_with_every_job_and_a_summary(tmp_path: Path) -> None:
    server = FakeServer([f"Q{n}" for n in range(60)] + ["Z [fail]"])
    term = Terminal(tmp_path, server).sign_in()
    code, out, err = term("batch", "process", *server.ids(), "--json")
    assert code == 1 and err == ""
    document = json.loads(out)
    assert [job["total"] for job in document["jobs"]] == [50, 11]
    assert document["summary"] == {
        "selected": 61,
        "jobs": 2,
        "processed": 61,
        "succeeded": 60,
        "failed": 1,
        "cancelled": 0,
    }
    assert document["errors"][0]["subject"] == "Z [fail]"
    assert document["refused"] is None and document["exit_code"] == 1


def test_a_refused_batch_exits_2_with_the_servers_detail(tmp_path: Path) -> None:
    server = FakeServer(["One"])
    conflict = {
        "status_code": 409,
        "detail": "Some emails cannot be processed now: already sent",
        "extra": {"conflicts": {server.ids()[0]: "sent"}},
    }
    server.answers = [reply(409, conflict)]
    code, out, err = Terminal(tmp_path, server).sign_in()("batch", "process", "--all-pending")
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: Some emails cannot be processed now: already sent (HTTP 409)",
        f'details: {{"conflicts": {{"{server.ids()[0]}": "sent"}}}}',
    ]


def test_a_refusal_mid_run_still_reports_the_jobs_that_ran(tmp_path: Path) -> None:
    server = FakeServer([f"Q{n}" for n in range(80)])
    server.answers = [None, reply(429, {"detail": "Too many"}, **{"Retry-After": "1"})]
    server.answers += [reply(400, {"detail": "A process batch accepts at most 50 emails"})]
    code, out, err = Terminal(tmp_path, server).sign_in()("batch", "process", "--all-pending")
    assert code == 2
    assert "50 succeeded, 0 failed, 30 not submitted" in out
    assert "error: A process batch accepts at most 50 emails (HTTP 400)" in err


def test_nothing_selected_is_not_an_error(tmp_path: Path) -> None:
    code, out, _ = Terminal(tmp_path).sign_in()("batch", "classify", "--all-pending")
    assert (code, out) == (0, "nothing to classify: no pending emails\n")


def test_a_server_that_is_down_is_one_line_naming_it(tmp_path: Path) -> None:
    term = Terminal(tmp_path).sign_in()

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    term.transport = httpx.MockTransport(refuse)
    code, out, err = term("batch", "classify", "--all-pending")
    assert code == 2 and out == ""
    assert len(err.splitlines()) == 1 and URL in err and "connection refused" in err


def test_a_missing_or_stale_token_asks_to_log_in(tmp_path: Path) -> None:
    term = Terminal(tmp_path)
    assert term("batch", "jobs")[2] == "error: not signed in: run `reasonflow login`\n"
    term.token_file.parent.mkdir(parents=True)
    term.token_file.write_text("stale\n")
    code, _, err = term("batch", "status", "cls_0123456789abcdef")
    assert code == 2 and "run `reasonflow login`" in err


def test_status_jobs_cancel_and_retry(tmp_path: Path) -> None:
    server = FakeServer(["Fine", "Refund [fail]"], reads_to_finish=1)
    term = Terminal(tmp_path, server).sign_in()
    code, out, _ = term("batch", "classify", "--all-pending", "--json")
    job_id = json.loads(out)["jobs"][0]["job_id"]

    code, out, _ = term("batch", "status", job_id)
    assert code == 0 and f"{job_id} (classify)" in out
    assert '"Refund [fail]": Classification failed' in out, "errors are named by subject"
    assert json.loads(term("batch", "status", job_id, "--json")[1])["failed"] == 1

    code, out, err = term("batch", "retry", job_id, "--wait")
    assert code == 1 and "1/1" in err and "0 succeeded, 1 failed" in out
    code, out, _ = term("batch", "retry", job_id)
    assert code == 0 and out.startswith("retrying 1 failed email(s) as cls_")

    code, out, _ = term("batch", "jobs")
    lines = out.splitlines()
    assert lines[0].split() == ["JOB", "KIND", "STATUS", "DONE", "SUCCEEDED", "FAILED", "CREATED"]
    assert len(lines) == 4 and lines[-1].startswith(job_id), "newest first"

    code, _, err = term("batch", "cancel", job_id)
    assert code == 2 and "The job has already finished (completed)" in err


def test_cancel_reports_what_was_released(tmp_path: Path) -> None:
    server = FakeServer(["One", "Two"], reads_to_finish=5)
    term = Terminal(tmp_path, server).sign_in()
    job_id = server.new_job("process", server.ids(), "key")["job_id"]
    code, out, _ = term("batch", "cancel", job_id)
    assert code == 0 and out.startswith(f"cancelled {job_id}: 2 not started and released")


def test_job_and_email_ids_are_checked_before_anything_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    term = Terminal(tmp_path).sign_in()
    for argv in (
        ["batch", "status", "../auth"],
        ["batch", "classify", "not-an-id"],
        ["batch", "classify"],
        ["batch", "process", "--all-pending", "--status", "sent"],
    ):
        with pytest.raises(SystemExit) as exited:
            term(*argv)
        assert exited.value.code == 2
    assert term.server.requests == []
    assert "choose the emails" in capsys.readouterr().err


def test_import_uploads_eml_files_and_mailboxes_and_lists_problems(tmp_path: Path) -> None:
    folder = tmp_path / "mail"
    (folder / "sub").mkdir(parents=True)
    (folder / "b.eml").write_bytes(b"From: b@x\n\nb")
    (folder / "sub" / "a.EML").write_bytes(b"From: a@x\n\na")
    (folder / "notes.txt").write_text("not mail")
    (tmp_path / "inbox.mbox").write_bytes(b"From x Sat Jan  1 00:00:00 2026\nFrom: c@x\n\nc\n")
    term = Terminal(tmp_path).sign_in()
    code, out, _ = term("import", str(folder), str(tmp_path / "inbox.mbox"))
    assert code == 1, "the fake reports one problem per file"
    assert [kind for kind, _ in term.server.imports] == [
        "message/rfc822",
        "message/rfc822",
        "application/mbox",
    ]
    assert [body for _, body in term.server.imports][:2] == [b"From: b@x\n\nb", b"From: a@x\n\na"]
    assert "  message 2 <b@x>: no From address" in out
    assert "total: 3 imported, 0 duplicates, 3 problems in 3 files" in out

    code, _, err = term("import", str(tmp_path / "missing.mbox"))
    assert code == 2 and "missing.mbox: no such file or directory" in err


def test_client_commands_ignore_the_servers_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REASONFLOW_MAX_ACTIVE_JOBS", "lots")
    monkeypatch.setenv("REASONFLOW_TOKEN_FILE", str(tmp_path / "none"))
    assert cli.main(["batch", "jobs"]) == 2
    assert capsys.readouterr().err == "error: not signed in: run `reasonflow login`\n"
    assert cli.main(["db", "upgrade"]) == 2, "server commands still check their settings"
    assert "REASONFLOW_MAX_ACTIVE_JOBS" in capsys.readouterr().err


def test_estimate_prints_what_the_run_would_spend_and_submits_nothing(tmp_path: Path) -> None:
    term = Terminal(tmp_path, FakeServer([f"Question {n}" for n in range(120)])).sign_in()

    code, out, _ = term("batch", "classify", "--all-pending", "--estimate")

    assert code == 0
    assert out.strip() == (
        "classify estimate: 120 emails in 2 jobs: 120 model calls, 30,000 prompt tokens, "
        "at most 36,000 completion tokens, at most $1.2000, about 32 s"
    )
    assert term.server.submissions == []
    assert [len(e["email_ids"]) for e in term.server.estimates] == [100, 20]

    code, out, _ = term("batch", "process", *term.server.ids()[:3], "--estimate", "--json")
    document = json.loads(out)
    assert (code, document["emails"], document["llm_calls"], document["jobs"]) == (0, 3, 6, 1)
    assert document["cost_usd"] == 0.03
    assert term.server.submissions == []


def test_max_cost_is_a_budget_for_the_whole_run(tmp_path: Path) -> None:
    term = Terminal(tmp_path, FakeServer([f"Question {n}" for n in range(120)])).sign_in()

    code, out, _ = term("batch", "classify", "--all-pending", "--max-cost", "0.5")

    # The first job may spend $0.50: it starts 50 emails and cancels the other 50;
    # nothing is left for the second batch, which is not submitted.
    assert code == 1
    assert [s.get("max_cost_usd") for s in term.server.submissions] == [0.5]
    assert "50 succeeded, 0 failed, 50 cancelled, 20 not submitted" in out
    assert "the --max-cost budget was reached" in out


def test_max_cost_carries_what_is_left_to_the_next_job(tmp_path: Path) -> None:
    term = Terminal(tmp_path, FakeServer([f"Question {n}" for n in range(120)])).sign_in()

    code, out, _ = term("batch", "classify", "--all-pending", "--max-cost", "1.1")

    assert code == 1
    budgets = [s["max_cost_usd"] for s in term.server.submissions]
    assert budgets[0] == 1.1 and budgets[1] == pytest.approx(0.1)
    assert "110 succeeded, 0 failed, 10 cancelled" in out


@pytest.mark.parametrize("amount", ["0", "-1", "free", "inf", "nan"])
def test_a_budget_must_be_an_amount_above_zero(tmp_path: Path, amount: str) -> None:
    term = Terminal(tmp_path, FakeServer(["One"])).sign_in()
    with pytest.raises(SystemExit) as exited:
        term("batch", "classify", "--all-pending", "--max-cost", amount)
    assert exited.value.code == 2
    assert term.server.requests == []
