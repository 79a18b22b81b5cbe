"""How long an estimate takes (DESIGN §10): 100 classify emails and 50 process emails.

The real app over a SQLite file of its own, with ``openai/gpt-4o-mini`` (a
priced model; no call is made, so its API base points nowhere). Each email's
body is ~2,400 characters. The first estimate of a process imports LiteLLM and
loads the model's tokenizer; the median of the next five is the steady state.

    PYTHONPATH=. .venv/bin/python -m bench.bench_estimate_latency
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from litestar.testing import AsyncTestClient
from tests.conftest import make_settings, sign_in
from tests.support import services_over

from reasonflow.entrypoints.http.app import create_app

BODY = "Hello, could you tell me more about your plans and prices? " * 40


async def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="rf-estimate-"))
    settings = make_settings(
        tmp, llm_model="openai/gpt-4o-mini", llm_api_base="http://127.0.0.1:9/v1"
    )
    async with AsyncTestClient(create_app(settings, services_over(settings))) as client:
        api = await sign_in(client)
        ids = []
        for n in range(100):
            body = {"subject": f"Question {n}", "body": BODY, "sender": "c@example.com"}
            ids.append((await api.post("/api/v1/emails", body)).json()["id"])
        for kind, selection in (("classify", ids), ("process", ids[:50])):
            took = []
            for _ in range(6):
                started = time.perf_counter()
                answer = await api.post(
                    f"/api/v1/emails/batch/{kind}/estimate", {"email_ids": selection}
                )
                took.append(time.perf_counter() - started)
                assert answer.status_code == 200, answer.text
            print(
                f"{kind} {len(selection)} emails: first {took[0]:.2f} s, "
                f"then median {statistics.median(took[1:]) * 1000:.0f} ms; {answer.json()}"
            )


if __name__ == "__main__":
    asyncio.run(main())
