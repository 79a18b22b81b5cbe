"""``reasonflow import PATH...``: upload .eml files and mbox mailboxes."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonflow.entrypoints.client.context import Context
from reasonflow.entrypoints.client.display import plural
from reasonflow.entrypoints.client.errors import (
    EXIT_ERROR,
    EXIT_FAILURES,
    EXIT_OK,
    ApiError,
    ClientError,
)

MESSAGE = "message/rfc822"
MBOX = "application/mbox"


@dataclass(frozen=True)
class Upload:
    path: Path
    content_type: str


def uploads(paths: list[str]) -> list[Upload]:
    """A ``.eml`` file is one message, a directory every ``.eml`` inside it (at any
    depth, in name order), and any other file an mbox mailbox."""
    found: list[Upload] = []
    for raw in paths:
        path = Path(raw).expanduser()
        if path.is_dir():
            messages = sorted(p for p in path.rglob("*") if _is_eml(p) and p.is_file())
            if not messages:
                raise ClientError(f"{raw}: no .eml files in this directory")
            found.extend(Upload(p, MESSAGE) for p in messages)
        elif path.is_file():
            found.append(Upload(path, MESSAGE if _is_eml(path) else MBOX))
        else:
            raise ClientError(f"{raw}: no such file or directory")
    return found


async def import_mail(context: Context, args: argparse.Namespace) -> int:
    files = uploads(args.paths)
    results: list[dict[str, Any]] = []
    async with context.api() as api:
        for upload in files:
            try:
                report = await api.import_file(upload.path, upload.content_type)
            except ApiError as exc:
                # One unusable file (too large, refused) does not stop the others.
                results.append({"path": str(upload.path), "refused": exc.detail})
                if not args.json:
                    print(f"{upload.path}: refused: {exc.message}", file=context.err)
                continue
            results.append({"path": str(upload.path), **report})
            if not args.json:
                _print_report(context, upload.path, report)
    totals = {
        name: sum(int(r.get(name, 0)) for r in results) for name in ("imported", "duplicates")
    }
    problems = sum(len(r.get("problems", [])) for r in results)
    refused = sum("refused" in r for r in results)
    if args.json:
        context.json({"files": results, **totals, "problems": problems, "refused": refused})
    elif len(files) > 1:
        context.say(
            f"total: {totals['imported']} imported, {totals['duplicates']} duplicates, "
            f"{plural(problems, 'problem')} in {plural(len(files), 'file')}"
        )
    if refused:
        return EXIT_ERROR
    return EXIT_FAILURES if problems else EXIT_OK


def _print_report(context: Context, path: Path, report: dict[str, Any]) -> None:
    problems = report.get("problems") or []
    context.say(
        f"{path}: {report['imported']} imported, {report['duplicates']} duplicates, "
        f"{plural(len(problems), 'problem')}"
    )
    for problem in problems:
        message_id = f" {problem['message_id']}" if problem.get("message_id") else ""
        context.say(f"  message {problem['position']}{message_id}: {problem['error']}")


def _is_eml(path: Path) -> bool:
    return path.suffix.lower() == ".eml"
