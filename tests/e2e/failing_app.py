"""A real server whose provider fails for emails marked ``[fail]``.

Run as ``python -m tests.e2e.failing_app --port N``: the production app and
adapters, with only the classifier changed, so a test can see a job with
failures through the CLI client.
"""

from __future__ import annotations

import argparse
from dataclasses import replace

import uvicorn

from reasonflow.adapters.llm.offline import RuleBasedClassifier
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Classification, Email
from reasonflow.domain.ports import IntentClassifier
from reasonflow.entrypoints.bootstrap import build_adapters, wire
from reasonflow.entrypoints.http.app import create_app
from reasonflow.entrypoints.settings import load_settings

FAIL_MARKER = "[fail]"


class FailingClassifier(IntentClassifier):
    def __init__(self) -> None:
        self._rules = RuleBasedClassifier()

    async def classify(self, email: Email) -> Classification:
        if FAIL_MARKER in email.subject:
            raise ProviderError("API rate limit exceeded")
        return await self._rules.classify(email)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    settings = load_settings()
    app = create_app(
        settings, wire(replace(build_adapters(settings), classifier=FailingClassifier()), settings)
    )
    uvicorn.run(app, host=args.host, port=args.port, log_config=None)


if __name__ == "__main__":
    main()
