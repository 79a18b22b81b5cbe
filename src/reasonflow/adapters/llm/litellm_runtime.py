"""Loading LiteLLM: lazily, offline, and quiet.

LiteLLM takes seconds to import, so it is imported only when a LiteLLM model
is configured; the offline ``rules`` provider never pays for it. It is used as
an untyped module (``Any``): the adapter's own types stop at this boundary.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import threading
import warnings
from collections.abc import Iterator
from typing import Any

_lock = threading.Lock()
_module: Any = None
_warm: set[str] = set()

# LiteLLM's own loggers print to stderr through their own handlers, at DEBUG
# whenever the root logger is, including prompts and raw provider answers.
_LITELLM_LOGGERS = ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy")
# The OpenAI SDK logs request bodies (email text) at DEBUG.
_CHATTY_LOGGERS = ("openai", "httpx", "httpcore", "aiohttp")

_WARM_UP_FORMAT = {
    "type": "json_schema",
    "json_schema": {
        "name": "warm_up",
        "strict": True,
        "schema": {
            "type": "object",
            "properties": {"ok": {"type": "boolean"}},
            "required": ["ok"],
            "additionalProperties": False,
        },
    },
}


def load_litellm() -> Any:
    """Import LiteLLM once, with the cost map read from the package, never the network."""
    global _module
    with _lock:
        if _module is None:
            os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
            os.environ["LITELLM_OFFLINE_MODE"] = "true"
            _quiet_logs()  # before the import too: LiteLLM logs while it loads
            with _load_warnings_ignored():
                module: Any = importlib.import_module("litellm")
            module.suppress_debug_info = True
            module.telemetry = False
            _quiet_logs()
            _module = module
    return _module


def warm_up(model: str) -> None:
    """Load the parts of LiteLLM a call to ``model`` needs, now rather than mid-request.

    LiteLLM imports most of itself lazily, on the first call for each provider,
    and some of those modules warn as they load (pydantic: "... is using the
    `ReadOnly` qualifier"). One offline ``mock_response`` call loads them here,
    where those warnings are filtered, instead of during the first real call,
    where they would print or, under ``filterwarnings = error``, fail it.
    """
    litellm = load_litellm()
    with _lock:
        if model in _warm:
            return
        _warm.add(model)
    with _load_warnings_ignored(), contextlib.suppress(Exception):
        # Best effort: a real call reports any real problem.
        litellm.completion(
            model=model,
            messages=[{"role": "system", "content": "-"}, {"role": "user", "content": "-"}],
            response_format=_WARM_UP_FORMAT,
            mock_response='{"ok": true}',
        )


@contextlib.contextmanager
def _load_warnings_ignored() -> Iterator[None]:
    """Ignore what LiteLLM's modules warn while they load (not thread-safe: startup only)."""
    with warnings.catch_warnings():
        for category in (UserWarning, DeprecationWarning, PendingDeprecationWarning):
            warnings.simplefilter("ignore", category)
        yield


def _quiet_logs() -> None:
    """Route LiteLLM's records through the app's handlers, at WARNING and above only."""
    for name in _LITELLM_LOGGERS:
        logger = logging.getLogger(name)
        for handler in list(logger.handlers):
            logger.removeHandler(handler)
        logger.setLevel(logging.WARNING)
        logger.propagate = True
    quiet_http_logs()


def quiet_http_logs() -> None:
    """The HTTP clients' loggers at WARNING: at INFO httpx logs every request's URL,
    at DEBUG httpcore and the OpenAI SDK log requests (email text, headers)."""
    for name in _CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


def import_aiohttp() -> Any:
    """aiohttp comes with LiteLLM; the client hands LiteLLM one session it owns."""
    return importlib.import_module("aiohttp")
