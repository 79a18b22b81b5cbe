"""The agent pipeline's stages, shared by every provider (DESIGN §1).

classify → gather context → draft → review → dispatch. A provider supplies only
the two steps that need a model (an ``IntentClassifier`` and a ``ReplyDrafter``);
review and dispatch are the same for all, through ``ReviewPolicy``. Dispatch
here means queueing the reply; ``domain.dispatch`` delivers it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Email, EmailStatus, Intent, PipelineResult
from reasonflow.domain.ports import AgentPipeline, EmailRepository, IntentClassifier, ReplyDrafter
from reasonflow.domain.replies import Reply


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Where an email goes after its draft: review, then dispatch.

    Below ``auto_approve_threshold`` or a complaint → ``needs_review``; spam at
    or above it → ``rejected`` (no reply); otherwise ``drafted``, or ``sending``
    when auto-send is on (the reply is queued with the result; the dispatcher
    makes it ``sent``).
    """

    auto_approve_threshold: float = 0.8
    auto_send: bool = False

    def __post_init__(self) -> None:
        if not 0.0 <= self.auto_approve_threshold <= 1.0:
            raise ValueError("auto_approve_threshold must lie in 0..1")

    def review(self, intent: Intent, confidence: float) -> EmailStatus:
        if intent is Intent.SPAM and confidence >= self.auto_approve_threshold:
            return EmailStatus.REJECTED
        if intent is Intent.COMPLAINT or confidence < self.auto_approve_threshold:
            return EmailStatus.NEEDS_REVIEW
        return EmailStatus.SENDING if self.auto_send else EmailStatus.DRAFTED

    def needs_draft(self, intent: Intent, confidence: float) -> bool:
        return self.review(intent, confidence) is not EmailStatus.REJECTED


class StagedPipeline(AgentPipeline):
    def __init__(
        self,
        classifier: IntentClassifier,
        drafter: ReplyDrafter,
        emails: EmailRepository,
        policy: ReviewPolicy,
        context_limit: int = 5,
    ) -> None:
        self._classifier = classifier
        self._drafter = drafter
        self._emails = emails
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
        # Auto-send only queues the reply: it is committed with the result.
        reply = Reply.to(email, draft.text) if status is EmailStatus.SENDING else None
        return PipelineResult(intent, classification.confidence, status, draft.text, usage, reply)
