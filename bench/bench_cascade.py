"""Cascade: how many emails the offline classifier keeps from the LLM, and how often it is right.

With ``REASONFLOW_CLASSIFY_CASCADE_THRESHOLD`` set (DESIGN §10) the offline
classifier answers first, and an answer at or above the threshold stands with
no LLM call. This script runs that classifier, the real adapter as the
composition root builds it (``build_provider`` with ``LLM_MODEL=rules``),
through its port (``IntentClassifier.classify``), over the labelled set
``tests/data/labelled_emails.jsonl`` (hand-written, seven languages, labelled
by a person: ``tests/data/README.md``) and reports, for each threshold:

* **kept**: the share of emails whose confidence is at or above it (no LLM call);
* **precision**: of those kept, the share whose intent matches the human label
  (the rest are wrong answers the cascade lets through).

Overall, per language, per labelled intent and per offline answer. The
classifier holds no state, draws no random numbers and does no I/O; the script
classifies every email twice and stops if any answer differs, so one run
suffices. The check: at ``--threshold`` (the one ``docs/llm.md`` recommends)
precision on the kept emails is at least ``--min-precision``; exit status 1 if not.

    .venv/bin/python -m bench.bench_cascade                # < 1 s
    .venv/bin/python -m bench.bench_cascade --markdown     # the tables of docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.support import REPO, Load, machine, save, verdict

from reasonflow.domain.model import Email
from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.provider_choice import RULES, build_provider
from reasonflow.entrypoints.settings import Settings

DATA = REPO / "tests" / "data" / "labelled_emails.jsonl"
THRESHOLDS = tuple(round(0.60 + 0.05 * i, 2) for i in range(8))  # 0.60 ... 0.95
RECEIVED = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
USER = uuid.UUID(int=1)


@dataclass(frozen=True)
class Answer:
    """The offline classifier's answer to one labelled email."""

    id: str
    language: str
    label: str
    intent: str
    confidence: float
    tags: tuple[str, ...]

    @property
    def correct(self) -> bool:
        return self.intent == self.label


def load(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def as_email(row: dict[str, Any]) -> Email:
    return Email(
        id=uuid.uuid5(uuid.NAMESPACE_URL, f"reasonflow:labelled:{row['id']}"),
        user_id=USER,
        subject=row["subject"],
        body=row["body"],
        sender=row["sender"],
        recipient="inbox@reasonflow.local",
        received_at=RECEIVED,
        updated_at=RECEIVED,
    )


async def classify_all(
    classifier: IntentClassifier, rows: Sequence[dict[str, Any]]
) -> list[Answer]:
    answers = []
    for row in rows:
        result = await classifier.classify(as_email(row))
        answers.append(
            Answer(
                row["id"],
                row["language"],
                row["intent"],
                result.intent.value,
                result.confidence,
                tuple(row["tags"]),
            )
        )
    return answers


def wilson_low(correct: int, n: int, z: float = 1.96) -> float | None:
    """Lower end of the 95 % Wilson interval of ``correct / n``: small samples are honest."""
    if n == 0:
        return None
    p = correct / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return (centre - spread) / (1 + z * z / n)


def cell(answers: Sequence[Answer], threshold: float) -> dict[str, Any]:
    kept = [a for a in answers if a.confidence >= threshold]
    correct = sum(a.correct for a in kept)
    low = wilson_low(correct, len(kept))
    return {
        "emails": len(answers),
        "kept": len(kept),
        "kept_share": round(len(kept) / len(answers), 4) if answers else None,
        "correct": correct,
        "wrong": len(kept) - correct,
        "precision": round(correct / len(kept), 4) if kept else None,
        "precision_low95": None if low is None else round(low, 4),
    }


def by_threshold(answers: Sequence[Answer], thresholds: Sequence[float]) -> dict[str, Any]:
    return {f"{t:.2f}": cell(answers, t) for t in thresholds}


def grouped(
    answers: Sequence[Answer], key: Callable[[Answer], str], thresholds: Sequence[float]
) -> dict[str, Any]:
    groups: dict[str, list[Answer]] = {}
    for answer in answers:
        groups.setdefault(key(answer), []).append(answer)
    return {name: by_threshold(group, thresholds) for name, group in sorted(groups.items())}


def pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f} %"


def markdown(report: dict[str, Any], group: str | None) -> str:
    """One table: a row per threshold; overall, or a column per member of ``group``."""
    if group is None:
        lines = ["| threshold | kept (no LLM call) | wrong answers kept | precision on kept "
                 "(95 % low) |", "|---|---|---|---|"]  # fmt: skip
        for t, c in report["overall"].items():
            lines.append(
                f"| {t} | {c['kept']} of {c['emails']} = **{pct(c['kept_share'])}** "
                f"| {c['wrong']} | **{pct(c['precision'])}** ({pct(c['precision_low95'])}) |"
            )
        return "\n".join(lines)
    columns = report[group]
    names = list(columns)
    sizes = [next(iter(columns[n].values()))["emails"] for n in names]
    head = " | ".join(f"{n} ({size})" for n, size in zip(names, sizes, strict=True))
    lines = [f"| threshold | {head} |", "|---" * (len(names) + 1) + "|"]
    for t in report["overall"]:
        cells = [columns[n][t] for n in names]
        row = " | ".join(f"{pct(c['kept_share'])} / {pct(c['precision'])}" for c in cells)
        lines.append(f"| {t} | {row} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA, help="labelled emails (JSON lines)")
    parser.add_argument("--threshold", type=float, default=0.85, help="the recommended threshold")
    parser.add_argument("--min-precision", type=float, default=0.95)
    parser.add_argument("--markdown", action="store_true", help="also print markdown tables")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    load_ = Load()
    rows = load(args.data)
    classifier = build_provider(Settings(llm_model=RULES)).classifier

    started = time.perf_counter()
    first = asyncio.run(classify_all(classifier, rows))
    elapsed = time.perf_counter() - started
    second = asyncio.run(classify_all(classifier, rows))
    if first != second:
        changed = [a.id for a, b in zip(first, second, strict=True) if a != b]
        raise SystemExit(f"the offline classifier answered differently twice: {changed}")
    answers = first
    # 0.00 keeps everything: the offline classifier alone, for comparison.
    thresholds = sorted({0.0, *THRESHOLDS, args.threshold})

    report = {
        "overall": by_threshold(answers, thresholds),
        "language": grouped(answers, lambda a: a.language, thresholds),
        "intent": grouped(answers, lambda a: a.label, thresholds),
        "answer": grouped(answers, lambda a: a.intent, thresholds),
        "hard": grouped(answers, lambda a: "tagged" if a.tags else "untagged", thresholds),
    }
    print(f"{len(answers)} emails, classified in {1000 * elapsed:.1f} ms, twice, same answers")
    print("threshold 0.00 = the offline classifier answering everything\n")
    print(markdown(report, None))
    at = report["overall"][f"{args.threshold:.2f}"]
    wrong = [a for a in answers if a.confidence >= args.threshold and not a.correct]
    print(f"\nwrong answers kept at {args.threshold:.2f}:")
    for a in sorted(wrong, key=lambda a: -a.confidence):
        tags = f" [{', '.join(a.tags)}]" if a.tags else ""
        print(f"  {a.id}: {a.label} answered {a.intent} at {a.confidence:.3f}{tags}")
    if args.markdown:
        for group in ("language", "intent", "answer"):
            print(f"\nby {group}: kept / precision\n{markdown(report, group)}")

    ok = at["precision"] is not None and at["precision"] >= args.min_precision
    print(
        f"\nat {args.threshold:.2f}: {pct(at['kept_share'])} of emails kept from the LLM, "
        f"precision {pct(at['precision'])} (target >= {pct(args.min_precision)}): {verdict(ok)}"
    )
    ran = load_.finish()
    print(f"load while it ran: {ran}")
    save(
        "cascade",
        {
            "machine": machine(),
            "load": ran,
            "args": {**vars(args), "data": str(args.data)},
            "emails": len(answers),
            "deterministic": True,
            "classify_ms": round(1000 * elapsed, 2),
            "thresholds": report,
            "wrong_at_threshold": [a.__dict__ for a in wrong],
            "met": ok,
        },
    )
    raise SystemExit(0 if ok else 1)


if __name__ == "__main__":
    main()
