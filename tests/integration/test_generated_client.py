"""A client generated from ``/schema/openapi.json`` by openapi-python-client drives a batch.

The client is generated offline into a temporary folder and imported from
there, as a user of the API would; errors come back as ``ErrorBody`` objects
(the parsed body), not raw responses.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.integration.live import live_server
from tests.support import GatedClassifier, wait_for

PACKAGE = "reason_flow_batch_client"
PASSWORD = "correct horse battery"


def generate(schema: dict[str, Any], folder: Path) -> Path:
    path = folder / "openapi.json"
    path.write_text(json.dumps(schema))
    tool = Path(sys.executable).with_name("openapi-python-client")
    result = subprocess.run(
        [str(tool), "generate", "--path", str(path), "--output-path", str(folder / "client")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Every error answer is kept: none was dropped for a schema the tool cannot read.
    assert "Cannot parse response" not in result.stdout + result.stderr, result.stdout
    return folder / "client"


def load(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, ModuleType]:
    monkeypatch.syspath_prepend(str(root))
    for name in [m for m in sys.modules if m.startswith(PACKAGE)]:
        monkeypatch.delitem(sys.modules, name)
    names = {
        "client": "",
        "models": ".models",
        "register": ".api.auth.register",
        "sign_in": ".api.auth.sign_in",
        "create_email": ".api.emails.create_email",
        "classify": ".api.batch.classify_batch",
        "process": ".api.batch.process_batch",
        "status": ".api.batch.get_batch_status",
        "get_email": ".api.emails.get_email",
    }
    return {key: importlib.import_module(PACKAGE + suffix) for key, suffix in names.items()}


async def test_a_generated_client_classifies_a_batch_and_reads_errors_as_types(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    classifier = GatedClassifier()
    async with live_server(tmp_path, classifier) as live:
        async with httpx.AsyncClient(base_url=live.url) as raw:
            schema = (await raw.get("/schema/openapi.json")).json()
        api = load(generate(schema, tmp_path), monkeypatch)
        try:
            await drive(api, live.url)
        finally:
            classifier.release()


async def drive(api: dict[str, ModuleType], url: str) -> None:
    models = api["models"]
    async with api["client"].Client(base_url=url) as anonymous:
        creds = models.Registration(email="ada@example.com", password=PASSWORD)
        user = await api["register"].asyncio(client=anonymous, body=creds)
        assert isinstance(user, models.UserOut), user
        token = await api["sign_in"].asyncio(
            client=anonymous, body=models.Credentials(email="ada@example.com", password=PASSWORD)
        )
        assert isinstance(token, models.TokenOut), token
    async with api["client"].AuthenticatedClient(base_url=url, token=token.access_token) as client:
        ids = []
        for subject in ("Pricing question", "Invoice question", "hold: meeting next week"):
            email = await api["create_email"].asyncio(
                client=client,
                body=models.EmailIn(subject=subject, body="Hello, a question.", sender="c@ex.com"),
            )
            assert isinstance(email, models.EmailOut), email
            ids.append(email.id)

        accepted = await api["classify"].asyncio(
            client=client, body=models.ClassifyIn(email_ids=ids[:2])
        )
        assert isinstance(accepted, models.AcceptedOut), accepted
        assert accepted.job_id.startswith("cls_") and accepted.total == 2

        async def status() -> Any:
            return await api["status"].asyncio(client=client, job_id=accepted.job_id)

        done = await wait_for(status, lambda job: job.status == models.JobStatus.COMPLETED)
        assert isinstance(done, models.JobOut)
        assert (done.succeeded, done.failed) == (2, 0)

        unknown = uuid.uuid4()
        missing = await api["classify"].asyncio(
            client=client, body=models.ClassifyIn(email_ids=[unknown])
        )
        assert isinstance(missing, models.ErrorBody), missing
        assert missing.status_code == 404
        assert missing.detail == "Some emails were not found"
        assert missing.extra.to_dict() == {"email_ids": [str(unknown)]}

        # The held email stays processing, so a second process job over it conflicts.
        first = await api["process"].asyncio(client=client, body=models.ProcessIn(email_ids=ids))
        assert isinstance(first, models.AcceptedOut), first

        async def held() -> Any:
            return await api["get_email"].asyncio(client=client, email_id=ids[2])

        await wait_for(held, lambda email: email.status == models.EmailStatus.PROCESSING)
        conflict = await api["process"].asyncio(
            client=client, body=models.ProcessIn(email_ids=[ids[2]])
        )
        assert isinstance(conflict, models.ErrorBody), conflict
        assert conflict.status_code == 409
        assert conflict.extra.to_dict() == {"conflicts": {str(ids[2]): "processing"}}
