"""The rules-first cascade (DESIGN §10): a cheap classifier answers first, and a
model is asked only when that answer is not sure enough."""

from __future__ import annotations

from dataclasses import replace

from reasonflow.domain.model import Classification, Email, Usage
from reasonflow.domain.ports import IntentClassifier

#: Added to the usage of a classification the cascade settled without a model.
SAVED = Usage(llm_calls_saved=1)


class CascadeClassifier(IntentClassifier):
    """``first`` answers; at or above ``threshold`` its answer stands (one model
    call saved), below it ``then`` decides. ``first`` must be cheap and local
    (the offline rules): it runs for every email."""

    def __init__(self, first: IntentClassifier, then: IntentClassifier, threshold: float) -> None:
        if not 0.0 <= threshold <= 1.0:
            raise ValueError("the cascade threshold must lie in 0..1")
        self._first = first
        self._then = then
        self.threshold = threshold

    async def settled(self, email: Email) -> Classification | None:
        """``first``'s answer when it stands on its own, else None (the model decides)."""
        guess = await self._first.classify(email)
        return guess if guess.confidence >= self.threshold else None

    async def classify(self, email: Email) -> Classification:
        guess = await self.settled(email)
        if guess is None:
            return await self._then.classify(email)
        return replace(guess, usage=guess.usage + SAVED)
