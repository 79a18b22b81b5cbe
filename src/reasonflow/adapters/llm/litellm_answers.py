"""The JSON schemas every request carries, and the checks every answer passes.

Providers do not all enforce a schema, so answers are validated here: an
unknown intent becomes ``other``, a confidence outside 0..1 is clamped, and
anything unreadable is a per-email failure (``provider returned an invalid
answer``), never a guess.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from reasonflow.adapters.llm.litellm_errors import INVALID_ANSWER
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Classification, Draft, Intent, Usage

REASONING_LIMIT = 500
DRAFT_LIMIT = 10_000
#: The ``max_tokens`` each request sends: the most an answer may cost. A
#: classification is a short JSON object; a draft is a reply of a few hundred words.
CLASSIFY_MAX_TOKENS = 300
DRAFT_MAX_TOKENS = 1200

_CONFIDENCE = {
    "type": "number",
    "description": "How sure you are, from 0 (a guess) to 1 (certain).",
}

CLASSIFICATION_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "classification",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "intent": {"type": "string", "enum": [i.value for i in Intent]},
                "confidence": _CONFIDENCE,
                "reasoning": {"type": "string", "description": "One short sentence."},
            },
            "required": ["intent", "confidence", "reasoning"],
            "additionalProperties": False,
        },
    },
}

DRAFT_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {
        "name": "reply_draft",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {
                "draft": {"type": "string", "description": "The reply, plain text."},
                "confidence": _CONFIDENCE,
            },
            "required": ["draft", "confidence"],
            "additionalProperties": False,
        },
    },
}

# Some models wrap JSON in a Markdown code fence even when asked for JSON.
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.S | re.I)


def parse_classification(content: str | None, usage: Usage) -> Classification:
    answer = _object(content)
    intent = _intent(answer.get("intent"))
    reasoning = answer.get("reasoning", "")
    if not isinstance(reasoning, str):
        reasoning = ""
    return Classification(
        intent, _confidence(answer.get("confidence")), reasoning[:REASONING_LIMIT], usage
    )


def parse_draft(content: str | None, usage: Usage) -> Draft:
    answer = _object(content)
    text = answer.get("draft")
    if not isinstance(text, str) or not text.strip():
        raise ProviderError(INVALID_ANSWER)
    return Draft(text.strip()[:DRAFT_LIMIT], _confidence(answer.get("confidence")), usage)


def _object(content: str | None) -> dict[str, Any]:
    if not content:
        raise ProviderError(INVALID_ANSWER)
    fenced = _FENCE.match(content)
    try:
        answer = json.loads(fenced.group(1) if fenced else content)
    except ValueError:
        raise ProviderError(INVALID_ANSWER) from None
    if not isinstance(answer, dict):
        raise ProviderError(INVALID_ANSWER)
    return answer


def _intent(value: object) -> Intent:
    if not isinstance(value, str):
        raise ProviderError(INVALID_ANSWER)
    key = value.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Intent(key)
    except ValueError:
        return Intent.OTHER


def _confidence(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ProviderError(INVALID_ANSWER)
    try:
        number = float(value)
    except ValueError:
        raise ProviderError(INVALID_ANSWER) from None
    if not math.isfinite(number):
        raise ProviderError(INVALID_ANSWER)
    return min(1.0, max(0.0, number))
