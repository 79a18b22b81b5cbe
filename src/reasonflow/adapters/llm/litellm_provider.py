"""The model provider: the two model steps of the agent pipeline.

Review and dispatch stay the domain's (``StagedPipeline`` with
``ReviewPolicy``); only classification and drafting call the model, through
one shared ``ChatClient`` (``LiteLLMClient``, or ``OpenAIHttpClient`` for an
OpenAI-compatible server) so both count against the same limits.
"""

from __future__ import annotations

from collections.abc import Sequence

from reasonflow.adapters.llm.chat_client import ChatClient
from reasonflow.adapters.llm.litellm_answers import (
    CLASSIFICATION_FORMAT,
    CLASSIFY_MAX_TOKENS,
    DRAFT_FORMAT,
    DRAFT_MAX_TOKENS,
    parse_classification,
    parse_draft,
)
from reasonflow.adapters.llm.litellm_prompts import classification_messages, draft_messages
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Classification, Draft, Email, Intent, Usage
from reasonflow.domain.ports import IntentClassifier, ReplyDrafter

#: Added to the usage of every answered call: one more model call.
ONE_CALL = Usage(llm_calls=1)


class LiteLLMClassifier(IntentClassifier):
    def __init__(self, client: ChatClient) -> None:
        self._client = client

    async def classify(self, email: Email) -> Classification:
        completion = await self._client.complete(
            classification_messages(email), CLASSIFICATION_FORMAT, CLASSIFY_MAX_TOKENS
        )
        usage = completion.usage + ONE_CALL
        try:
            return parse_classification(completion.content, usage)
        except ProviderError as exc:
            raise exc.with_usage(usage) from None

    async def aclose(self) -> None:
        await self._client.aclose()


class LiteLLMDrafter(ReplyDrafter):
    def __init__(self, client: ChatClient) -> None:
        self._client = client

    async def draft(self, email: Email, intent: Intent, context: Sequence[Email]) -> Draft:
        completion = await self._client.complete(
            draft_messages(email, intent, context), DRAFT_FORMAT, DRAFT_MAX_TOKENS
        )
        usage = completion.usage + ONE_CALL
        try:
            return parse_draft(completion.content, usage)
        except ProviderError as exc:
            raise exc.with_usage(usage) from None

    async def aclose(self) -> None:
        await self._client.aclose()
