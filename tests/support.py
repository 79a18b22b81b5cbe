"""Helpers shared by the integration and end-to-end tests."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, TypeVar

from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Classification, Email, Intent
from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.bootstrap import Services, build_adapters, wire
from reasonflow.entrypoints.settings import Settings

T = TypeVar("T")


def services_over(settings: Settings, classifier: IntentClassifier | None = None) -> Services:
    """The production wiring, with the provider's classifier replaced when one is given."""
    adapters = build_adapters(settings)
    if classifier is not None:
        adapters = replace(adapters, classifier=classifier)
    return wire(adapters, settings)


async def wait_for(
    probe: Callable[[], Awaitable[T]],
    until: Callable[[T], bool],
    timeout: float = 10.0,
    interval: float = 0.02,
) -> T:
    """Re-run ``probe`` until ``until`` holds or the deadline passes (then fail)."""
    deadline = time.monotonic() + timeout
    while True:
        value = await probe()
        if until(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last value: {value!r}")
        await asyncio.sleep(interval)


class GatedClassifier(IntentClassifier):
    """Classifies as ``inquiry`` (0.95), holding chosen emails until released.

    Emails whose subject contains ``hold`` wait for ``release``; subjects with
    ``fail`` raise a provider error. Lets a test observe a job mid-run.
    """

    def __init__(self) -> None:
        self.gate = asyncio.Event()
        self.calls: list[str] = []

    def release(self) -> None:
        self.gate.set()

    async def classify(self, email: Email) -> Classification:
        self.calls.append(email.subject)
        if "hold" in email.subject:
            await self.gate.wait()
        if "fail" in email.subject:
            raise ProviderError("API rate limit exceeded")
        return Classification(Intent.INQUIRY, 0.95, "gated test classifier")


def auth(token: str) -> dict[str, Any]:
    return {"Authorization": f"Bearer {token}"}
