"""``reasonflow batch …``: classify or process a selection, and manage jobs."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import Any

from reasonflow.entrypoints.client.api import ApiClient, Json
from reasonflow.entrypoints.client.context import Context
from reasonflow.entrypoints.client.display import (
    ProgressBar,
    Silent,
    plural,
    print_errors,
    print_job,
    print_jobs,
    summary_line,
)
from reasonflow.entrypoints.client.errors import EXIT_ERROR, EXIT_FAILURES, EXIT_OK
from reasonflow.entrypoints.client.runner import BatchRunner, Display, Outcome, Tally
from reasonflow.entrypoints.client.selection import (
    BATCH_LIMITS,
    Selection,
    by_status,
    name_emails,
    split,
    unique_ids,
)

Work = Callable[[BatchRunner], Awaitable[Outcome]]


async def submit(context: Context, args: argparse.Namespace) -> int:
    """``batch classify|process``: the selection in batches, one progress bar."""
    kind: str = args.kind
    async with context.api() as api:
        if args.ids:
            selection = Selection(unique_ids(args.ids))
        else:
            selection = await by_status(api, args.status or "pending")
        if not selection.ids:
            where = f"{args.status or 'pending'} emails" if not args.ids else "emails"
            if args.json:
                context.json(_document(kind, Outcome(Tally(0)), {}))
            else:
                context.say(f"nothing to {kind}: no {where}")
            return EXIT_OK
        batches = split(selection.ids, BATCH_LIMITS[kind])
        force = bool(getattr(args, "force", False))
        if args.estimate:
            return await _estimate(context, api, kind, batches, force, args.json)
        max_cost: float | None = args.max_cost

        async def work(runner: BatchRunner) -> Outcome:
            return await runner.run(kind, batches, force, max_cost)

        return await _run(context, api, kind, len(selection.ids), args.json, selection, work)


async def _estimate(
    context: Context,
    api: ApiClient,
    kind: str,
    batches: list[list[str]],
    force: bool,
    as_json: bool,
) -> int:
    """``--estimate``: what the run would spend, batch by batch; nothing is submitted."""
    estimates = [await api.estimate(kind, batch, force) for batch in batches]
    total = sum_estimates(estimates)
    if as_json:
        context.json({"kind": kind, "jobs": len(batches), **total, "estimates": estimates})
    else:
        context.say(estimate_line(kind, len(batches), total))
    return EXIT_OK


def sum_estimates(estimates: list[Json]) -> Json:
    """The run's estimate: the batches' summed (their jobs run one after the other at
    worst, so their seconds add up too); ``cost_usd`` None if any is unpriced."""
    costs = [e["cost_usd"] for e in estimates]
    total: Json = {
        name: sum(e[name] for e in estimates)
        for name in ("emails", "llm_calls", "prompt_tokens", "completion_tokens")
    }
    total["cost_usd"] = None if None in costs else round(sum(costs), 6)
    total["seconds"] = round(sum(e["seconds"] for e in estimates), 1)
    return total


def estimate_line(kind: str, jobs: int, total: Json) -> str:
    cost = total["cost_usd"]
    price = (
        "cost unknown (the model has no known price)" if cost is None else f"at most ${cost:.4f}"
    )
    return (
        f"{kind} estimate: {plural(total['emails'], 'email')} in {plural(jobs, 'job')}: "
        f"{plural(total['llm_calls'], 'model call')}, {total['prompt_tokens']:,} prompt tokens, "
        f"at most {total['completion_tokens']:,} completion tokens, {price}, "
        f"about {total['seconds']:g} s"
    )


async def status(context: Context, args: argparse.Namespace) -> int:
    async with context.api() as api:
        job = await api.status(args.job)
        if args.json:
            context.json(job)
        else:
            names = await name_emails(api, _failed_ids(job), {})
            print_job(context.console(), job, names)
    return EXIT_OK


async def cancel(context: Context, args: argparse.Namespace) -> int:
    async with context.api() as api:
        job = await api.cancel(args.job)
    context.say(
        f"cancelled {job['job_id']}: {job['cancelled']} not started and released, "
        f"{job['processed']} already done ({job['succeeded']} succeeded, {job['failed']} failed)"
    )
    return EXIT_OK


async def retry(context: Context, args: argparse.Namespace) -> int:
    async with context.api() as api:
        accepted = await api.retry(args.job)
        kind = "classify" if accepted["job_id"].startswith("cls_") else "process"
        if not args.wait:
            if args.json:
                context.json(accepted)
            else:
                emails = accepted["total"]
                context.say(f"retrying {emails} failed email(s) as {accepted['job_id']}")
            return EXIT_OK

        async def work(runner: BatchRunner) -> Outcome:
            return await runner.watch(accepted, kind)

        return await _run(context, api, kind, accepted["total"], args.json, Selection([]), work)


async def jobs(context: Context, args: argparse.Namespace) -> int:
    found: list[Json] = []
    cursor: str | None = None
    async with context.api() as api:
        while len(found) < args.limit:
            page = await api.jobs(min(100, args.limit - len(found)), cursor)
            found.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                break
    if args.json:
        context.json(found)
    else:
        print_jobs(context.console(), found)
    return EXIT_OK


async def _run(
    context: Context,
    api: ApiClient,
    kind: str,
    total: int,
    as_json: bool,
    selection: Selection,
    work: Work,
) -> int:
    display: Display
    if as_json:
        outcome = await work(BatchRunner(api, Silent(), context.sleep))
    else:
        with ProgressBar(context.progress_console(), kind, total) as display:
            outcome = await work(BatchRunner(api, display, context.sleep))
    if outcome.refused is not None and not outcome.tally.jobs and not as_json:
        raise outcome.refused  # nothing ran: the refusal is the whole story
    errors = outcome.tally.errors
    names = await name_emails(api, [e["email_id"] for e in errors], selection.subjects)
    if as_json:
        context.json(_document(kind, outcome, names))
    else:
        context.say(summary_line(kind, outcome.tally))
        if outcome.budget_left is not None and outcome.budget_left <= 0:
            context.say("the --max-cost budget was reached: no further email was started")
        print_errors(context.console(), errors, names)
        if outcome.refused is not None:
            context.error(outcome.refused)
    return exit_code(outcome)


def exit_code(outcome: Outcome) -> int:
    """2 when the server refused a batch, 1 when any email did not succeed, else 0."""
    tally = outcome.tally
    if outcome.refused is not None:
        return EXIT_ERROR
    if tally.failed or tally.cancelled or tally.succeeded < tally.total:
        return EXIT_FAILURES
    return EXIT_OK


def _document(kind: str, outcome: Outcome, names: dict[str, str]) -> dict[str, Any]:
    tally, refused = outcome.tally, outcome.refused
    return {
        "kind": kind,
        "jobs": list(tally.jobs.values()),
        "summary": {
            "selected": tally.total,
            "jobs": len(tally.jobs),
            "processed": tally.processed,
            "succeeded": tally.succeeded,
            "failed": tally.failed,
            "cancelled": tally.cancelled,
        },
        "errors": [
            {"email_id": e["email_id"], "subject": names.get(e["email_id"]), "error": e["error"]}
            for e in tally.errors
        ],
        "refused": None
        if refused is None
        else {"status_code": refused.status, "detail": refused.detail, "extra": refused.extra},
        "exit_code": exit_code(outcome),
    }


def _failed_ids(job: Json) -> list[str]:
    return [error["email_id"] for error in job.get("errors") or []]
