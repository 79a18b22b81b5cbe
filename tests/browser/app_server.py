"""The production app over a provider a browser test can steer by subject.

Run as ``python -m tests.browser.app_server --port N``. Every provider call
takes ``--delay`` seconds (``--slow-delay`` when the email's subject or body
contains ``[slow]``), and emails marked ``[fail]`` fail with a provider error,
so a test can watch a job advance, fail in part, and be cancelled. (A marker at
the end of a long body steers an email without showing in the inbox.) Replies
to ``bounce@`` addresses are refused by the mailer, as a mail server would.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

import uvicorn

from reasonflow.adapters.llm.offline import RuleBasedClassifier
from reasonflow.domain.errors import DeliveryFailed, ProviderError
from reasonflow.domain.model import Classification, Email
from reasonflow.domain.ports import IntentClassifier, Mailer
from reasonflow.domain.replies import Reply
from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.http.app import create_app
from reasonflow.entrypoints.settings import load_settings

FAIL = "[fail]"
SLOW = "[slow]"


class SteeredClassifier(IntentClassifier):
    def __init__(self, delay: float, slow_delay: float) -> None:
        self._delay = delay
        self._slow_delay = slow_delay
        self._rules = RuleBasedClassifier()

    async def classify(self, email: Email) -> Classification:
        text = f"{email.subject}\n{email.body}"
        await asyncio.sleep(self._slow_delay if SLOW in text else self._delay)
        if FAIL in text:
            raise ProviderError("API rate limit exceeded")
        return await self._rules.classify(email)


class BouncingMailer(Mailer):
    def __init__(self, inner: Mailer) -> None:
        self._inner = inner

    async def send(self, reply: Reply) -> None:
        address = reply.recipient.rpartition("<")[2]
        if address.startswith("bounce@"):
            raise DeliveryFailed("SMTP delivery failed: the mail server refused the recipient")
        await self._inner.send(reply)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--slow-delay", type=float, default=2.0)
    args = parser.parse_args()
    settings = load_settings()
    classifier = SteeredClassifier(args.delay, args.slow_delay)
    adapters = build_adapters(settings)
    steered = replace(adapters, classifier=classifier, mailer=BouncingMailer(adapters.mailer))
    app = create_app(settings, wire(steered, settings))
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
