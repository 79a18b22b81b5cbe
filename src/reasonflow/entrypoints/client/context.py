"""What a client command runs with, and the one place its errors become exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import httpx
from rich.console import Console

from reasonflow.entrypoints.client.api import ApiClient
from reasonflow.entrypoints.client.config import ClientConfig
from reasonflow.entrypoints.client.errors import EXIT_ERROR, EXIT_FAILURES, ApiError, ClientError
from reasonflow.entrypoints.client.runner import Sleep

INTERRUPTED = 130


@dataclass
class Context:
    """The process's environment and streams; tests pass their own (and a fake server)."""

    env: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    out: TextIO = field(default_factory=lambda: sys.stdout)
    err: TextIO = field(default_factory=lambda: sys.stderr)
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    transport: httpx.AsyncBaseTransport | None = None
    sleep: Sleep = asyncio.sleep

    def config(self) -> ClientConfig:
        return ClientConfig.from_env(self.env)

    def api(self, signed_in: bool = True) -> ApiClient:
        config = self.config()
        token = config.read_token() if signed_in else None
        return ApiClient(config.url, token, self.transport)

    def console(self) -> Console:
        return Console(file=self.out, highlight=False, soft_wrap=True)

    def progress_console(self) -> Console:
        return Console(file=self.err, highlight=False)

    def say(self, line: str) -> None:
        print(line, file=self.out)

    def error(self, problem: ClientError) -> None:
        print(f"error: {problem.message}", file=self.err)
        if isinstance(problem, ApiError) and problem.extra:
            print(f"details: {json.dumps(problem.extra, ensure_ascii=False)}", file=self.err)

    def json(self, document: Any) -> None:
        print(json.dumps(document, indent=2, ensure_ascii=False), file=self.out)


Handler = Callable[[Context, argparse.Namespace], Coroutine[Any, Any, int]]


def run(handler: Handler, args: argparse.Namespace, context: Context | None = None) -> int:
    """Run one command; every failure is one line on stderr, never a stack trace."""
    context = context or Context()
    try:
        return asyncio.run(handler(context, args))
    except ClientError as exc:
        context.error(exc)
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other tools do.
        _silence(context.out)
        return EXIT_FAILURES
    except KeyboardInterrupt:
        print("interrupted", file=context.err)
        return INTERRUPTED
    except Exception as exc:  # the promise is one line, even for a bug
        print(f"error: unexpected {type(exc).__name__}: {exc}", file=context.err)
        return EXIT_ERROR


def _silence(stream: TextIO) -> None:
    """Point ``stream`` at /dev/null so the flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
    except (OSError, ValueError):
        pass
