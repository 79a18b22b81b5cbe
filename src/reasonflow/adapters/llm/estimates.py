"""``CostModel`` of a model provider: tokens, price and latency of calls not yet made.

Prompt tokens are counted with LiteLLM's ``token_counter`` on the very prompts
the adapters would send (``litellm_prompts``); completion tokens are the
``max_tokens`` each request carries (``litellm_answers``), so the estimate is
an upper bound for them. Prices come from LiteLLM's price map (``prices``).
LiteLLM is imported on the first estimate, in a worker thread, so a process
that never estimates never pays for it (the lean client does not need it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from reasonflow.adapters.llm.chat_client import ChatClient
from reasonflow.adapters.llm.litellm_answers import CLASSIFY_MAX_TOKENS, DRAFT_MAX_TOKENS
from reasonflow.adapters.llm.litellm_prompts import (
    Messages,
    classification_messages,
    draft_messages,
)
from reasonflow.adapters.llm.litellm_runtime import load_litellm
from reasonflow.adapters.llm.prices import price_of
from reasonflow.domain.model import Usage
from reasonflow.domain.ports import CostModel, ModelCall

#: Seconds per call assumed before this process has seen any answer (docs/llm.md).
DEFAULT_CALL_SECONDS = 2.0


class ProviderCostModel(CostModel):
    def __init__(self, client: ChatClient) -> None:
        self._client = client

    @property
    def priced(self) -> bool:
        return price_of(self._client.config.model) is not None

    async def usage(self, calls: Sequence[ModelCall]) -> Usage:
        if not calls:
            return Usage()
        prompts = [_messages(call) for call in calls]
        prompt_tokens = await asyncio.to_thread(_count, self._client.config.model, prompts)
        completion_tokens = sum(
            CLASSIFY_MAX_TOKENS if call.intent is None else DRAFT_MAX_TOKENS for call in calls
        )
        price = price_of(self._client.config.model)
        cost = None if price is None else price.cost(prompt_tokens, completion_tokens)
        return Usage(prompt_tokens, completion_tokens, cost, llm_calls=len(calls))

    def call_seconds(self) -> float:
        observed = self._client.observed_seconds()
        return DEFAULT_CALL_SECONDS if observed is None else observed

    def pace_seconds(self) -> float:
        rpm = self._client.config.rpm
        return 60.0 / rpm if rpm else 0.0


def _messages(call: ModelCall) -> Messages:
    if call.intent is None:
        return classification_messages(call.email)
    return draft_messages(call.email, call.intent, call.context)


def _count(model: str, prompts: list[Messages]) -> int:
    """Tokens of every prompt, by LiteLLM's counter for ``model`` (CPU: run in a thread)."""
    litellm: Any = load_litellm()
    return sum(int(litellm.token_counter(model=model, messages=m)) for m in prompts)
