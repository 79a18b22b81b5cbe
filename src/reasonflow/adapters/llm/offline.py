"""The offline provider (DESIGN §1): a rule-based classifier and template drafter.

It needs no key and no network, answers in well under a millisecond and costs
nothing, so a fresh checkout runs end to end. The classifier weighs cues from
``lexicon.py``: the subject counts double, the sender adds its own hints, and
confidence comes from how far the winning intent leads the runner-up.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import NamedTuple

from reasonflow.adapters.llm.lexicon import SENDER_CUES, TEXT_CUES
from reasonflow.adapters.llm.templates import TemplateDrafter
from reasonflow.domain.model import Classification, Email, Intent, Usage
from reasonflow.domain.pipeline import ReviewPolicy, StagedPipeline
from reasonflow.domain.ports import EmailRepository, IntentClassifier

__all__ = ["RuleBasedClassifier", "TemplateDrafter", "rules_pipeline"]

_SUBJECT_WEIGHT = 2.0
# Intent is stated early; the cap bounds the cost of pathological bodies.
_MAX_BODY_CHARS = 2000
# Below this much evidence nothing was really said: fall back to ``other``.
_MIN_EVIDENCE = 1.5
# Evidence at which confidence reaches ~63 % of its ceiling (1 - 1/e).
_SATURATION = 2.0
_FLOOR, _CEILING = 0.45, 0.97

_WORD = re.compile(r"\w+")
_SUFFIXES = ("ing", "ed", "es", "s", "e")
# Quoted history carries the earlier messages' cues, which must not vote here.
_HISTORY = re.compile(r"^(?:>|On .{1,200} wrote:|-{2,} ?Original Message)", re.M | re.I)
_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv)\s*:", re.I)
_FORWARD_PREFIX = re.compile(r"^\s*(?:fwd?|fw)\s*:", re.I)
# Both start at a digit, which keeps a scan of a long body cheap.
_BIG_MONEY = re.compile(r"\d(?:\s?million|,\d{3},\d{3})", re.I)
_CLOCK_TIME = re.compile(r"\d(?::\d{2})?\s?[ap]m\b|\d:\d{2}\s?-\s?\d", re.I)
_SHOUTED_WORD = re.compile(r"\b[A-Z]{4,}\b")


class _Cue(NamedTuple):
    words: tuple[str, ...]
    intent: Intent
    weight: float
    label: str


class _Evidence(NamedTuple):
    points: float
    label: str


@lru_cache(maxsize=16384)
def _stem(word: str) -> str:
    """Strip common suffixes, repeatedly, so "meetings", "meeting" and "meet" agree.

    The result need not be a word: both the lexicon and the text pass through
    the same function, so only consistency matters.
    """
    stripped = True
    while stripped:
        stripped = False
        for suffix in _SUFFIXES:
            if word.endswith(suffix) and len(word) - len(suffix) >= 3:
                word = word[: -len(suffix)]
                stripped = True
                break
    return word


def _tokens(text: str) -> list[str]:
    # "haven't" must read as one word, "havent", to match the lexicon.
    text = text.lower().replace("'", "").replace("\u2019", "")
    return [_stem(w) for w in _WORD.findall(text)]


def _index(tables: dict[Intent, dict[str, float]]) -> dict[str, list[_Cue]]:
    """Cues keyed by their first stemmed word, so matching is one lookup per token.

    Phrases that stem alike ("following up", "follow up") merge into the
    heaviest, and each list runs longest first for ``_matches``.
    """
    merged: dict[tuple[tuple[str, ...], Intent], _Cue] = {}
    for intent, cues in tables.items():
        for phrase, weight in cues.items():
            words = tuple(_tokens(phrase))
            known = merged.get((words, intent))
            if known is None or known.weight < weight:
                merged[words, intent] = _Cue(words, intent, weight, phrase)
    index: dict[str, list[_Cue]] = defaultdict(list)
    for cue in sorted(merged.values(), key=lambda c: -len(c.words)):
        index[cue.words[0]].append(cue)
    return dict(index)


_TEXT_INDEX = _index(TEXT_CUES)
_SENDER_INDEX = _index(SENDER_CUES)


def _matches(tokens: list[str], index: dict[str, list[_Cue]]) -> Iterator[_Cue]:
    """Each cue at most once per field, so repetition does not outvote variety.

    Where phrases of one intent start at the same word only the longest counts:
    "question about" is one cue, not "question about" plus "question".
    """
    seen: set[_Cue] = set()
    for i, token in enumerate(tokens):
        claimed: set[Intent] = set()
        for cue in index.get(token, ()):
            n = len(cue.words)
            if cue.intent in claimed or (n > 1 and tuple(tokens[i : i + n]) != cue.words):
                continue
            claimed.add(cue.intent)
            if cue not in seen:
                seen.add(cue)
                yield cue


def _without_history(body: str) -> str:
    body = body[:_MAX_BODY_CHARS]
    quoted = _HISTORY.search(body)
    return body[: quoted.start()] if quoted else body


def _signals(subject: str, body: str) -> Iterator[tuple[Intent, float, str]]:
    """Cues of form rather than wording: prefixes, shouting, sums of money, clock times."""
    if _REPLY_PREFIX.match(subject):
        yield Intent.FOLLOW_UP, 0.75, "'Re:' prefix"
    if _FORWARD_PREFIX.match(subject):
        yield Intent.OTHER, 0.5, "'Fwd:' prefix"
    if "!!" in subject or len(_SHOUTED_WORD.findall(subject)) >= 2:
        yield Intent.SPAM, 1.0, "shouting subject"
    if _BIG_MONEY.search(subject) or _BIG_MONEY.search(body):
        yield Intent.SPAM, 1.0, "large sum of money"
    if _CLOCK_TIME.search(body):
        yield Intent.MEETING_REQUEST, 0.75, "a proposed time"
    if "?" in subject or "?" in body:
        yield Intent.INQUIRY, 0.75, "a question mark"


def _gather(subject: str, body: str, sender: str) -> dict[Intent, list[_Evidence]]:
    evidence: dict[Intent, list[_Evidence]] = {intent: [] for intent in Intent}
    # A reply inherits its subject from the thread: it speaks for the first
    # message, not this one, so it weighs no more than the body.
    subject_weight = 1.0 if _REPLY_PREFIX.match(subject) else _SUBJECT_WEIGHT
    fields: Iterable[tuple[str, dict[str, list[_Cue]], float, str]] = (
        (subject, _TEXT_INDEX, subject_weight, " (subject)"),
        (body, _TEXT_INDEX, 1.0, ""),
        (sender, _SENDER_INDEX, 1.0, " (sender)"),
    )
    for text, index, weight, where in fields:
        for cue in _matches(_tokens(text), index):
            evidence[cue.intent].append(_Evidence(cue.weight * weight, f"'{cue.label}'{where}"))
    for intent, points, label in _signals(subject, body):
        evidence[intent].append(_Evidence(points, label))
    return evidence


def _explain(intent: Intent, found: list[_Evidence], runner_up: Intent | None) -> str:
    strongest = sorted(found, key=lambda e: -e.points)[:4]
    text = f"{intent.value}: " + ", ".join(e.label for e in strongest)
    return f"{text}; runner-up {runner_up.value}" if runner_up else text


class RuleBasedClassifier(IntentClassifier):
    """Weighted keyword and phrase rules; deterministic, free, no I/O."""

    async def classify(self, email: Email) -> Classification:
        return self.classify_text(email.subject, email.body, email.sender)

    def classify_text(self, subject: str, body: str, sender: str) -> Classification:
        evidence = _gather(subject, _without_history(body), sender)
        scores = {intent: sum(e.points for e in found) for intent, found in evidence.items()}
        # Enum order breaks ties, so equal scores always give the same answer.
        ranked = sorted(Intent, key=lambda intent: -scores[intent])
        best, second = ranked[0], ranked[1]
        top, runner = scores[best], scores[second]
        if top < _MIN_EVIDENCE:
            hint = f" (weak hint: {_explain(best, evidence[best], None)})" if top else ""
            return Classification(
                Intent.OTHER,
                round(0.3 + 0.1 * top, 3),
                f"other: no clear intent cues{hint}",
                Usage(),
            )
        margin = (top - runner) / top
        strength = 1.0 - math.exp(-top / _SATURATION)
        confidence = _FLOOR + (_CEILING - _FLOOR) * margin * strength
        return Classification(
            best,
            round(confidence, 3),
            _explain(best, evidence[best], second if runner > 0 else None),
            Usage(),
        )


def rules_pipeline(emails: EmailRepository, policy: ReviewPolicy) -> StagedPipeline:
    """The agent pipeline on the offline provider: review and dispatch stay the domain's."""
    return StagedPipeline(RuleBasedClassifier(), TemplateDrafter(), emails, policy)
