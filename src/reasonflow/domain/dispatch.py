"""Dispatch: delivering the replies committed to the queue, once each (DESIGN §4).

Sending a reply never talks to a mail server: it commits the email's move to
``sending`` together with the reply (the transactional outbox). A
``ReplyDispatcher`` delivers due replies through the ``Mailer``, marks a reply
delivered (and its email ``sent``) as soon as the mailer returned (the mail
server accepted it; the mailer ends its session only later, ``Mailer.close``),
retries failures with exponential backoff and gives up after ``max_attempts``
(``send_failed``).

One dispatcher at a time per database delivers: it holds a lease, renewed
before each delivery, and a delivery may not outlast the lease. A crash after
the mail server accepted a reply and before ``delivered`` committed sends it
again on restart, with the same Message-ID (the only window for a duplicate).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta
from uuid import UUID

from reasonflow.domain.errors import DeliveryFailed
from reasonflow.domain.ports import Clock, DispatchQueue, Mailer, QueuedReply

log = logging.getLogger(__name__)

#: A delivery must end this long before the lease does, so no other dispatcher
#: can take over while it may still be talking to the mail server.
LEASE_MARGIN_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    """Retries, lease and polling of the dispatcher (settings ``DISPATCH_*``)."""

    max_attempts: int = 8
    retry_base_seconds: float = 5.0
    retry_max_seconds: float = 600.0
    lease_seconds: float = 60.0
    poll_seconds: float = 1.0
    batch: int = 20

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.batch < 1:
            raise ValueError("max_attempts and batch must be at least 1")
        if self.retry_base_seconds <= 0 or self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry delays must be positive, the cap at least the base")
        if self.lease_seconds <= LEASE_MARGIN_SECONDS or self.poll_seconds <= 0:
            raise ValueError(f"the lease must exceed {LEASE_MARGIN_SECONDS} s; poll positive")

    def retry_delay(self, attempts: int) -> timedelta:
        """The wait after the ``attempts``-th failure: base, 2 x base, 4 x base, ... capped."""
        seconds = self.retry_base_seconds * 2 ** min(attempts - 1, 30)
        return timedelta(seconds=min(seconds, self.retry_max_seconds))


class ReplyDispatcher:
    """Delivers the queued replies while it holds the lease; ``run`` loops until ``stop``."""

    def __init__(
        self,
        queue: DispatchQueue,
        mailer: Mailer,
        clock: Clock,
        policy: DispatchPolicy | None = None,
        *,
        holder: str | None = None,
    ) -> None:
        self._queue = queue
        self._mailer = mailer
        self._clock = clock
        self.policy = policy or DispatchPolicy()
        self.holder = holder or uuid.uuid4().hex
        self._wake = asyncio.Event()
        self._stopping = False
        self._leading = False
        self._waiters: dict[UUID, list[asyncio.Future[None]]] = {}

    def wake(self) -> None:
        """A reply was just committed: look for due replies now, not at the next poll."""
        self._wake.set()

    async def wait_settled(self, email_id: UUID, patience: float) -> None:
        """Return once this dispatcher made an attempt at ``email_id``'s reply, or
        after ``patience`` seconds (another process may hold the lease)."""
        if patience <= 0:
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.setdefault(email_id, []).append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), patience)
        except TimeoutError:
            pass  # still sending: the caller answers with the email as it is
        finally:
            waiting = self._waiters.get(email_id, [])
            if future in waiting:
                waiting.remove(future)
            if not waiting:
                self._waiters.pop(email_id, None)

    async def deliver_due(self) -> int:
        """One round: take the lease, deliver what is due (one batch). Returns the
        number of replies attempted; 0 when nothing was due or another holds the lease."""
        policy = self.policy
        if not await self._queue.due(self._clock.now(), 1):
            return 0  # idle: a read, no write (no lease taken) until something is due
        self._leading = await self._queue.acquire_lease(
            self.holder, self._clock.now(), policy.lease_seconds
        )
        if not self._leading:
            return 0
        # Read after taking the lease: anything delivered before is no longer due.
        pending = await self._queue.due(self._clock.now(), policy.batch)
        attempted = 0
        for item in pending:
            if self._stopping:
                break
            if not await self._queue.renew_lease(
                self.holder, self._clock.now(), policy.lease_seconds
            ):
                # Lost it (stalled past the expiry): the list may be stale now.
                self._leading = False
                break
            await self._attempt(item)
            attempted += 1
        return attempted

    async def run(self) -> None:
        """Deliver due replies until ``stop``: at once when woken, else every poll.

        The mailer's session stays open while replies keep coming and is ended
        once a round finds nothing to deliver, and when the loop ends.
        """
        try:
            while not self._stopping:
                self._wake.clear()
                try:
                    attempted = await self.deliver_due()
                except Exception as exc:  # the database away for a moment: next round
                    log.warning("reply dispatch round failed error=%s", type(exc).__name__)
                    attempted = 0
                if attempted >= self.policy.batch:
                    continue  # more may be due
                if attempted == 0:
                    await self._close_mailer()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.policy.poll_seconds)
        finally:
            await self._close_mailer()

    async def _close_mailer(self) -> None:
        try:
            await self._mailer.close()
        except Exception as exc:  # a session already gone: nothing left to end
            log.warning("closing the mailer failed error=%s", type(exc).__name__)

    async def stop(self) -> None:
        """Finish the delivery under way, take no more, and let the lease go."""
        self._stopping = True
        self._wake.set()

    async def release(self) -> None:
        if self._leading:
            self._leading = False
            await self._queue.release_lease(self.holder)

    async def _attempt(self, item: QueuedReply) -> None:
        reply = item.reply
        budget = self.policy.lease_seconds - LEASE_MARGIN_SECONDS
        try:
            async with asyncio.timeout(budget):
                await self._mailer.send(reply)
        except DeliveryFailed as exc:
            error = str(exc)
        except TimeoutError:
            error = "the mail server did not answer in time"
        except Exception as exc:  # a bug in a mailer: count it as a failed attempt
            log.error("reply delivery crashed error=%s", type(exc).__name__)
            error = "unexpected error while sending"
        else:
            await self._queue.delivered(reply.email_id, self._clock.now())
            self._settle(reply.email_id)
            return
        attempts = item.attempts + 1
        now = self._clock.now()
        if attempts >= self.policy.max_attempts:
            tries = f"{attempts} attempt{'' if attempts == 1 else 's'}"
            await self._queue.failed(
                reply.email_id, now, f"Sending failed after {tries}: {error}", None
            )
            log.warning("reply gave up attempts=%d", attempts)
        else:
            retry_at = now + self.policy.retry_delay(attempts)
            await self._queue.failed(reply.email_id, now, error, retry_at)
        self._settle(reply.email_id)

    def _settle(self, email_id: UUID) -> None:
        for future in self._waiters.pop(email_id, []):
            if not future.done():
                future.set_result(None)
