"""What the batch commands show: a rich progress bar, summaries, job tables."""

from __future__ import annotations

from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from reasonflow.entrypoints.client.api import Json
from reasonflow.entrypoints.client.runner import Tally


class ProgressBar:
    """One bar for the whole selection, with succeeded and failed counts."""

    def __init__(self, console: Console, label: str, total: int) -> None:
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[green]{task.fields[succeeded]} succeeded"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("{task.fields[note]}", markup=False),
            console=console,
        )
        self._task: TaskID = self._progress.add_task(
            label, total=total, succeeded=0, failed=0, note=""
        )

        self._started = False

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._started:
            self._progress.stop()

    def update(self, tally: Tally) -> None:
        # Shown from the first accepted job: a refused first batch draws no empty bar.
        if not self._started:
            self._started = True
            self._progress.start()
        self._progress.update(
            self._task,
            completed=tally.processed + tally.cancelled,
            succeeded=tally.succeeded,
            failed=tally.failed,
        )

    def note(self, message: str) -> None:
        self._progress.update(self._task, note=message)


class Silent:
    """No progress at all (``--json`` prints one document at the end)."""

    def update(self, tally: Tally) -> None:
        pass

    def note(self, message: str) -> None:
        pass


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def summary_line(kind: str, tally: Tally) -> str:
    jobs = list(tally.jobs)
    named = ", ".join(jobs) if len(jobs) <= 3 else f"{jobs[0]} … {jobs[-1]}"
    line = (
        f"{kind}: {plural(tally.total, 'email')}, {plural(len(jobs), 'job')}"
        f"{f' ({named})' if jobs else ''}: {tally.succeeded} succeeded, {tally.failed} failed"
    )
    if tally.cancelled:
        line += f", {tally.cancelled} cancelled"
    unsent = tally.total - sum(int(job["total"]) for job in tally.jobs.values())
    if unsent:
        line += f", {unsent} not submitted"
    return line


def print_errors(console: Console, errors: list[Json], subjects: dict[str, str]) -> None:
    if not errors:
        return
    console.print(f"{plural(len(errors), 'error')}:", markup=False, highlight=False)
    for error in errors:
        subject = subjects.get(error["email_id"])
        name = f'"{subject}"' if subject is not None else error["email_id"]
        console.print(f"  {name}: {error['error']}", markup=False, highlight=False, soft_wrap=True)


def print_job(console: Console, job: Json, subjects: dict[str, str]) -> None:
    rows = [
        ("job", f"{job['job_id']} ({job['kind']})"),
        ("status", job["status"]),
        (
            "progress",
            f"{job['processed']}/{job['total']} processed: {job['succeeded']} succeeded, "
            f"{job['failed']} failed, {job['cancelled']} cancelled",
        ),
        ("created", job["created_at"]),
        ("finished", job.get("completed_at") or "-"),
    ]
    for name, value in rows:
        console.print(f"{name:<10}{value}", markup=False, highlight=False)
    print_errors(console, job.get("errors") or [], subjects)


def print_jobs(console: Console, jobs: list[Json]) -> None:
    if not jobs:
        console.print("no batch jobs", markup=False)
        return
    rows = [("JOB", "KIND", "STATUS", "DONE", "SUCCEEDED", "FAILED", "CREATED")]
    rows += [
        (
            job["job_id"],
            job["kind"],
            job["status"],
            f"{job['processed']}/{job['total']}",
            str(job["succeeded"]),
            str(job["failed"]),
            job["created_at"][:19].replace("T", " "),
        )
        for job in jobs
    ]
    # Plain aligned columns: never truncated, whatever the terminal's width.
    widths = [max(len(row[n]) for row in rows) for n in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        console.print(line.rstrip(), markup=False, highlight=False, soft_wrap=True)
