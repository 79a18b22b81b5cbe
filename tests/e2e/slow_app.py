"""A real server whose provider takes ``--delay`` seconds per email.

Run as ``python -m tests.e2e.slow_app --port N``: the production app and
adapters, with only the classifier slowed, so a test can kill it mid-job.
"""

from __future__ import annotations

import argparse
import asyncio
from dataclasses import replace

import uvicorn

from reasonflow.adapters.llm.offline import RuleBasedClassifier
from reasonflow.domain.model import Classification, Email
from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.http.app import create_app
from reasonflow.entrypoints.settings import load_settings


class SlowClassifier(IntentClassifier):
    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._rules = RuleBasedClassifier()

    async def classify(self, email: Email) -> Classification:
        await asyncio.sleep(self._delay)
        return await self._rules.classify(email)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    settings = load_settings()
    app = create_app(
        settings,
        wire(replace(build_adapters(settings), classifier=SlowClassifier(args.delay)), settings),
    )
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
