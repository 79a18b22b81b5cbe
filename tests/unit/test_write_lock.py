"""``WriteLock``: one holder at a time, in turn, urgent waiters ahead of the others."""

from __future__ import annotations

import asyncio

from reasonflow.adapters.sql.engine import WriteLock


async def test_waiters_go_in_turn_and_an_urgent_one_goes_ahead_of_them() -> None:
    lock = WriteLock()
    order: list[str] = []

    async def write(name: str, *, urgent: bool = False) -> None:
        async with lock.urgent() if urgent else lock:
            order.append(name)
            await asyncio.sleep(0)

    await lock.acquire()  # a write under way
    tasks = [asyncio.create_task(write(n)) for n in ("first", "second")]
    await asyncio.sleep(0)
    tasks.append(asyncio.create_task(write("urgent", urgent=True)))
    await asyncio.sleep(0)
    assert order == []  # nobody overtakes the holder

    lock.release()
    async with asyncio.timeout(5):
        await asyncio.gather(*tasks)

    assert order == ["urgent", "first", "second"]


async def test_a_cancelled_waiter_neither_holds_the_lock_nor_blocks_the_next() -> None:
    lock = WriteLock()
    await lock.acquire()
    cancelled = asyncio.create_task(lock.acquire())
    waiting = asyncio.create_task(lock.acquire(urgent=True))
    await asyncio.sleep(0)

    cancelled.cancel()
    await asyncio.sleep(0)
    lock.release()
    async with asyncio.timeout(5):
        await waiting
    lock.release()

    assert cancelled.cancelled()
    async with asyncio.timeout(5):
        await lock.acquire()  # free again
    lock.release()
