"""The agent pipeline's stages, shared by every provider (DESIGN §1).

classify → gather context → draft → review → dispatch. A provider supplies only
the two steps that need a model (an ``IntentClassifier`` and a ``ReplyDrafter``);
review and dispatch are the same for all, through ``ReviewPolicy``.
"""

from __future__ import annotations

from reasonflow.domain.errors import DeliveryFailed, ProviderError
from reasonflow.domain.model import Email, EmailStatus, PipelineResult
from reasonflow.domain.ports import (
    AgentPipeline,
    EmailRepository,
    IntentClassifier,
    Mailer,
    ReplyDrafter,
)
from reasonflow.domain.rules import ReviewPolicy


class StagedPipeline(AgentPipeline):
    def __init__(
        self,
        classifier: IntentClassifier,
        drafter: ReplyDrafter,
        emails: EmailRepository,
        mailer: Mailer,
        policy: ReviewPolicy,
        context_limit: int = 5,
    ) -> None:
        self._classifier = classifier
        self._drafter = drafter
        self._emails = emails
        self._mailer = mailer
        self._policy = policy
        self._context_limit = context_limit

    async def run(self, email: Email) -> PipelineResult:
        classification = await self._classifier.classify(email)
        intent, usage = classification.intent, classification.usage
        if not self._policy.needs_draft(intent, classification.confidence):
            return PipelineResult(
                intent, classification.confidence, EmailStatus.REJECTED, None, usage
            )
        context = await self._emails.context(email, self._context_limit)
        try:
            draft = await self._drafter.draft(email, intent, context)
        except ProviderError as exc:
            raise exc.with_usage(usage) from None
        usage = usage + draft.usage
        # A reply is only as trustworthy as the weaker of its two model answers.
        confidence = min(classification.confidence, draft.confidence)
        status = self._policy.review(intent, confidence)
        if status is EmailStatus.SENT:
            try:
                await self._mailer.send(email, draft.text)
            except DeliveryFailed:
                # The draft stays for a person to review and send again.
                raise ProviderError("the reply could not be delivered", usage=usage) from None
        return PipelineResult(intent, classification.confidence, status, draft.text, usage)
