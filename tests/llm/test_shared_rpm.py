"""``LLM_RPM`` in the cluster mode: one allowance for every worker process
(DESIGN §7), kept in Redis; two workers' providers over the fake server."""

from __future__ import annotations

import asyncio
import itertools
import uuid
from pathlib import Path

from reasonflow.entrypoints.bootstrap import build_adapters
from tests.conftest import make_settings
from tests.fakes import make_email
from tests.llm.conftest import llm_settings
from tests.llm.fake_openai import FakeOpenAI
from tests.redis_support import connect, delete_prefix, new_prefix, redis_url


async def test_two_workers_keep_one_llm_rpm_between_them(
    fake_llm: FakeOpenAI, tmp_path: Path
) -> None:
    prefix = new_prefix()
    settings = make_settings(
        tmp_path,
        job_store="redis",
        queue="saq",
        redis_url=redis_url(),
        redis_prefix=prefix,
        database_url="postgresql+asyncpg://unused@127.0.0.1/unused",
        **llm_settings(fake_llm, llm_rpm=600),  # a call every 0.1 s, for the cluster
    )
    workers = [build_adapters(settings) for _ in range(2)]
    for adapters in workers:
        for resource in adapters.resources:
            await resource.start()
    try:
        calls = [w.classifier.classify(make_email(uuid.uuid4())) for w in workers for _ in range(3)]
        await asyncio.gather(*calls)
    finally:
        for adapters in workers:
            for resource in reversed(adapters.resources):
                await resource.stop()
        client = await connect()
        await delete_prefix(client, prefix)
        await client.aclose()
    starts = sorted(fake_llm.stats.started_at)
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) == 6
    assert min(gaps) >= 0.08, f"calls from both workers share the spacing: {gaps}"
