"""USD per token from LiteLLM's price map, without importing LiteLLM.

The map is the JSON file LiteLLM ships and reads itself when
``LITELLM_LOCAL_MODEL_COST_MAP`` is set (as ``litellm_runtime`` sets it). It
is read when a client starts, and only the configured model's price is
kept; each call's cost is then two multiplications.
"""

from __future__ import annotations

import importlib.util
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reasonflow.adapters.llm.litellm_runtime import load_litellm
from reasonflow.domain.model import Usage

PRICE_MAP_FILE = "model_prices_and_context_window_backup.json"

_lock = threading.Lock()
#: model string -> its price (None: unknown), for each model asked about.
_known: dict[str, Price | None] = {}


@dataclass(frozen=True, slots=True)
class Price:
    """USD per token."""

    input: float
    output: float
    #: Prompt tokens served from the provider's cache, when it says so and prices them.
    cached_input: float | None = None

    def cost(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> float:
        cached = min(cached_tokens, prompt_tokens) if self.cached_input is not None else 0
        fresh = prompt_tokens - cached
        return (
            fresh * self.input
            + cached * (self.cached_input or 0.0)
            + (completion_tokens * self.output)
        )

    def usage(self, prompt_tokens: int, completion_tokens: int, cached_tokens: int = 0) -> Usage:
        cost = self.cost(prompt_tokens, completion_tokens, cached_tokens)
        return Usage(prompt_tokens, completion_tokens, cost)


def price_of(model: str) -> Price | None:
    """The price of ``model`` (``openai/gpt-4o-mini`` or ``gpt-4o-mini``); None if unknown.

    The first question about a model reads the map (~0.1 s); the answer is kept,
    the map is not.
    """
    with _lock:
        if model not in _known:
            prices = _price_map()
            _, _, bare = model.partition("/")
            entries = (prices.get(key) for key in (model, bare or model))
            entry = next((e for e in entries if isinstance(e, dict)), None)
            _known[model] = _price(entry) if entry is not None else None
        return _known[model]


def _price(entry: dict[str, Any]) -> Price | None:
    numbers = {
        name: entry.get(name)
        for name in ("input_cost_per_token", "output_cost_per_token", "cache_read_input_token_cost")
    }
    if not all(_is_price(numbers[n]) for n in ("input_cost_per_token", "output_cost_per_token")):
        return None
    cached = numbers["cache_read_input_token_cost"]
    return Price(
        float(numbers["input_cost_per_token"]),  # type: ignore[arg-type]
        float(numbers["output_cost_per_token"]),  # type: ignore[arg-type]
        float(cached) if _is_price(cached) else None,  # type: ignore[arg-type]
    )


def _is_price(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _price_map() -> dict[str, Any]:
    """LiteLLM's price map: its file, or LiteLLM's own copy if the file has moved."""
    prices = _read_file()
    if prices is None:
        loaded = getattr(load_litellm(), "model_cost", None)
        prices = loaded if isinstance(loaded, dict) else {}
    return prices


def _read_file() -> dict[str, Any] | None:
    spec = importlib.util.find_spec("litellm")  # finds the package without importing it
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / PRICE_MAP_FILE
        try:
            loaded = json.loads(path.read_bytes())
        except (OSError, ValueError):
            continue
        if isinstance(loaded, dict):
            return loaded
    return None
