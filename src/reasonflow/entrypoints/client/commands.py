"""The client's subcommands on the ``reasonflow`` parser, and ``login``."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import re
import uuid
from collections.abc import Callable
from typing import Any

from reasonflow.entrypoints.client import batch
from reasonflow.entrypoints.client.context import Context, Handler, run
from reasonflow.entrypoints.client.errors import EXIT_OK, ApiError, ClientError
from reasonflow.entrypoints.client.imports import import_mail

EMAIL_STATUSES = (
    "pending",
    "processing",
    "drafted",
    "needs_review",
    "approved",
    "sending",
    "sent",
    "send_failed",
    "rejected",
)
JOB_ID = re.compile(r"^(cls|prc)_[0-9a-f]{16}$")


def register_client_commands(commands: Any) -> None:
    """Add ``login``, ``batch …`` and ``import`` to the ``reasonflow`` subparsers.

    They talk to a running server (``REASONFLOW_URL``) and never read the
    server's settings: ``main`` runs them through ``run_client``.
    """
    login_parser = commands.add_parser("login", help="sign in to a server and keep the token")
    login_parser.add_argument("--email", help="the account's address (asked when missing)")
    login_parser.add_argument("--password-stdin", action="store_true", help="read it from stdin")
    _handles(login_parser, login)

    batch_parser = commands.add_parser("batch", help="classify or process emails on a server")
    actions = batch_parser.add_subparsers(required=True, metavar="ACTION")
    for kind, limit in (("classify", 100), ("process", 50)):
        sub = actions.add_parser(kind, help=f"{kind} a selection, {limit} emails per job")
        which = sub.add_mutually_exclusive_group()
        which.add_argument("--all-pending", action="store_true", help="every pending email")
        which.add_argument(
            "--status",
            choices=EMAIL_STATUSES,
            metavar="STATUS",
            help=f"every email in STATUS ({', '.join(EMAIL_STATUSES)})",
        )
        sub.add_argument("ids", nargs="*", type=_email_id, metavar="ID", help="email ids")
        if kind == "classify":
            sub.add_argument("--force", action="store_true", help="classify classified emails")
        sub.add_argument("--json", action="store_true", help="no progress bar; one JSON document")
        sub.add_argument(
            "--estimate",
            action="store_true",
            help="print what it would cost (tokens, USD, time) and exit; submits nothing",
        )
        sub.add_argument(
            "--max-cost",
            type=_budget,
            metavar="USD",
            help="stop starting emails once the run has spent this much (jobs run one at a time)",
        )
        sub.set_defaults(kind=kind, check=_selection_check(sub))
        _handles(sub, batch.submit)

    status = actions.add_parser("status", help="one job's status and errors")
    status.add_argument("job", type=_job_id, metavar="JOB")
    status.add_argument("--json", action="store_true", help="the status body as JSON")
    _handles(status, batch.status)

    cancel = actions.add_parser("cancel", help="stop a job (emails not started are released)")
    cancel.add_argument("job", type=_job_id, metavar="JOB")
    _handles(cancel, batch.cancel)

    retry = actions.add_parser("retry", help="a new job over the emails a job failed")
    retry.add_argument("job", type=_job_id, metavar="JOB")
    retry.add_argument("--wait", action="store_true", help="follow it with a progress bar")
    retry.add_argument("--json", action="store_true", help="JSON instead of text")
    _handles(retry, batch.retry)

    jobs = actions.add_parser("jobs", help="your jobs, newest first")
    jobs.add_argument("--limit", type=_positive, default=20, help="how many (default 20)")
    jobs.add_argument("--json", action="store_true", help="the status bodies as JSON")
    _handles(jobs, batch.jobs)

    upload = commands.add_parser("import", help="upload .eml files and mbox mailboxes")
    upload.add_argument("paths", nargs="+", metavar="PATH", help=".eml, mbox or directory")
    upload.add_argument("--json", action="store_true", help="the import reports as JSON")
    _handles(upload, import_mail)


def run_client(args: argparse.Namespace, context: Context | None = None) -> int:
    """Run a client command parsed by the ``reasonflow`` parser."""
    handler: Handler = args.client
    check = getattr(args, "check", None)
    if check is not None:
        check(args)
    return run(handler, args, context)


async def login(context: Context, args: argparse.Namespace) -> int:
    config = context.config()
    email = args.email or (await asyncio.to_thread(input, "email: ")).strip()
    if args.password_stdin:
        password = (await asyncio.to_thread(context.stdin.readline)).rstrip("\n")
    else:
        password = await asyncio.to_thread(getpass.getpass, "password: ")
    if not email or not password:
        raise ClientError("login needs an email address and a password")
    async with context.api(signed_in=False) as api:
        try:
            answer = await api.login(email, password)
        except ApiError as exc:
            raise ClientError(f"login refused: {exc.detail}") from None
    config.save_token(answer["access_token"])
    minutes = int(answer.get("expires_in", 0)) // 60
    context.say(f"signed in to {config.url} as {email} (the token lasts {minutes} min)")
    context.say(f"token saved to {config.token_file}")
    return EXIT_OK


def _selection_check(parser: argparse.ArgumentParser) -> Callable[[argparse.Namespace], None]:
    def check(args: argparse.Namespace) -> None:
        chosen = sum((bool(args.all_pending), args.status is not None, bool(args.ids)))
        if chosen != 1:
            parser.error("choose the emails: --all-pending, --status STATUS, or email ids")

    return check


def _handles(parser: argparse.ArgumentParser, handler: Handler) -> None:
    parser.set_defaults(client=handler, run_client=run_client)


def _email_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an email id: {value!r}") from None


def _job_id(value: str) -> str:
    if not JOB_ID.match(value):
        raise argparse.ArgumentTypeError(f"not a job id (cls_… or prc_…): {value!r}")
    return value


def _budget(value: str) -> float:
    try:
        amount = float(value)
    except ValueError:
        amount = float("nan")
    if not amount > 0 or amount == float("inf"):
        raise argparse.ArgumentTypeError(f"not an amount of US dollars above 0: {value!r}")
    return amount


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"not a positive number: {value!r}")
    return int(value)
