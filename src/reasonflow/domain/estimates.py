"""What a batch would cost before it runs (DESIGN §10): tokens, USD and seconds.

An estimate walks the emails a submission names under the same refusal rules
(``submission``), lists the model calls its job would make, and asks the
provider's ``CostModel`` what they cost. It claims and queues nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

from reasonflow.domain.cascade import CascadeClassifier
from reasonflow.domain.errors import EmailsNotFound
from reasonflow.domain.model import Email, Intent, JobKind
from reasonflow.domain.ports import CostModel, EmailRepository, ModelCall
from reasonflow.domain.submission import check_submission, validate_selection


@dataclass(frozen=True, slots=True)
class Estimate:
    """At most what a job over ``emails`` would spend, and about how long it takes."""

    emails: int
    llm_calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float | None
    seconds: float


class EstimateService:
    """Estimates for classify and process submissions, for their owner only.

    Counted per email: a classification unless the email is classified already
    (classify without ``force``) or the cascade would settle it without a model
    call; for process, every email's classification and the draft of its reply
    (an upper bound: spam the pipeline rejects gets no draft). Completion
    tokens are the most each call may use. ``seconds`` assumes the job has the
    concurrency to itself: ceil(emails / concurrency) rounds of its calls, one
    after the other per email, at the latency lately observed, and no faster
    than the provider's pace allows.
    """

    def __init__(
        self,
        emails: EmailRepository,
        costs: CostModel,
        concurrency: int,
        cascade: CascadeClassifier | None = None,
        context_limit: int = 5,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self._emails = emails
        self._costs = costs
        self._concurrency = concurrency
        self._cascade = cascade
        self._context_limit = context_limit

    async def estimate(
        self, kind: JobKind, user_id: UUID, email_ids: Sequence[UUID], force: bool = False
    ) -> Estimate:
        """Raises what a submission of the same body would: 400, 404, 409."""
        ids = validate_selection(kind, email_ids)
        check_submission(kind, ids, await self._emails.statuses(user_id, ids))
        emails = await self._owned(user_id, ids)
        calls: list[ModelCall] = []
        busy = 0
        for email in emails:
            mine = await self._calls(kind, email, force)
            calls.extend(mine)
            busy += bool(mine)
        usage = await self._costs.usage(calls)
        steps = 1 if kind is JobKind.CLASSIFY else 2
        rounds = math.ceil(busy / self._concurrency)
        seconds = max(
            rounds * steps * self._costs.call_seconds(),
            len(calls) * self._costs.pace_seconds(),
        )
        return Estimate(
            emails=len(ids),
            llm_calls=usage.llm_calls,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            cost_usd=None if usage.cost_usd is None else round(usage.cost_usd, 8),
            seconds=round(seconds, 3),
        )

    async def _owned(self, user_id: UUID, ids: Sequence[UUID]) -> list[Email]:
        found = [await self._emails.get(user_id, i) for i in ids]
        missing = [i for i, email in zip(ids, found, strict=True) if email is None]
        if missing:  # deleted between the two reads
            raise EmailsNotFound(missing)
        return [email for email in found if email is not None]

    async def _calls(self, kind: JobKind, email: Email, force: bool) -> list[ModelCall]:
        """The model calls the job would make for ``email``, in order."""
        if kind is JobKind.CLASSIFY and email.is_classified and not force:
            return []
        calls: list[ModelCall] = []
        intent = email.intent or Intent.OTHER
        guess = await self._cascade.settled(email) if self._cascade is not None else None
        if guess is None:
            calls.append(ModelCall(email))
        else:
            intent = guess.intent
        if kind is JobKind.PROCESS:
            context = tuple(await self._emails.context(email, self._context_limit))
            calls.append(ModelCall(email, intent, context))
        return calls
