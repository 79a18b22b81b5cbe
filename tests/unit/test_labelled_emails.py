"""The labelled email set the cascade benchmark runs on (``tests/data/README.md``)."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import combinations
from typing import Any

import pytest

from reasonflow.domain.model import Intent
from tests.data.build_labelled_emails import OUTPUT, TAGS, build, render

FIELDS = {"id", "subject", "body", "sender", "language", "intent", "tags"}
#: The languages the brief asks for, each with enough emails to measure on.
MAIN_LANGUAGES = ("en", "de", "fr", "es")
SENDER = re.compile(r"^[^<>@]+ <[\w.+-]+@[\w-]+(?:\.[\w-]+)+>$")


@pytest.fixture(scope="module")
def emails() -> list[dict[str, Any]]:
    lines = OUTPUT.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_there_are_at_least_300_emails_with_valid_fields(emails: list[dict[str, Any]]) -> None:
    assert len(emails) >= 300
    for email in emails:
        assert set(email) == FIELDS, email["id"]
        assert re.fullmatch(r"[a-z]{2}-\d{3}", email["id"])
        assert email["id"].startswith(email["language"] + "-")
        assert email["intent"] in {i.value for i in Intent}
        assert email["subject"].strip() and email["body"].strip()
        assert SENDER.match(email["sender"]), email["sender"]
        assert set(email["tags"]) <= set(TAGS)


def test_ids_are_unique(emails: list[dict[str, Any]]) -> None:
    ids = [e["id"] for e in emails]
    assert len(set(ids)) == len(ids)


def test_every_intent_has_a_fair_share(emails: list[dict[str, Any]]) -> None:
    shares = Counter(e["intent"] for e in emails)
    assert set(shares) == {i.value for i in Intent}
    for intent, n in shares.items():
        assert 0.12 <= n / len(emails) <= 0.25, (intent, n)


def test_several_languages_each_measurable(emails: list[dict[str, Any]]) -> None:
    by_language = Counter(e["language"] for e in emails)
    for language in MAIN_LANGUAGES:
        assert by_language[language] >= 30, language
        intents = {e["intent"] for e in emails if e["language"] == language}
        assert intents == {i.value for i in Intent}, language
    # Most of the set is not in English, the one language the offline lexicon knows.
    assert len(by_language) >= 6
    assert by_language["en"] / len(emails) <= 0.6


def test_short_long_and_hard_cases_are_all_there(emails: list[dict[str, Any]]) -> None:
    lengths = [len(e["body"]) for e in emails]
    assert sum(n < 200 for n in lengths) >= 30
    assert sum(n >= 700 for n in lengths) >= 15
    tags = Counter(t for e in emails for t in e["tags"])
    for tag in ("sarcasm", "mixed", "forwarded", "quoted", "thread", "disguised", "no_cues"):
        assert tags[tag] >= 5, tag


def test_no_two_bodies_or_subjects_are_the_same(emails: list[dict[str, Any]]) -> None:
    bodies = [" ".join(e["body"].split()).lower() for e in emails]
    subjects = [e["subject"].strip().lower() for e in emails]
    assert len(set(bodies)) == len(bodies)
    assert len(set(subjects)) == len(subjects)


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def test_no_near_duplicates(emails: list[dict[str, Any]]) -> None:
    """No pair shares more than a third of its three-word runs (Jaccard)."""
    shingles = {e["id"]: _shingles(e["body"]) for e in emails}
    close = []
    for (a, sa), (b, sb) in combinations(shingles.items(), 2):
        shared = len(sa & sb)
        if shared and shared / (len(sa) + len(sb) - shared) > 1 / 3:
            close.append((a, b))
    assert close == []


def test_the_file_is_what_the_builder_writes() -> None:
    """The committed file never drifts from the sources in ``labelled_src/``."""
    assert OUTPUT.read_text(encoding="utf-8") == render(build())
