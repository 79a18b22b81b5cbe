"""Other provider families through LiteLLM's ``mock_response``, and provider selection."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from reasonflow.adapters.clock import SystemClock
from reasonflow.adapters.llm.litellm_client import LLMConfig
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier, LiteLLMDrafter
from reasonflow.adapters.llm.offline import RuleBasedClassifier, TemplateDrafter
from reasonflow.adapters.mail.mailbox import DevMailboxMailer
from reasonflow.adapters.mail.smtp import SmtpMailer
from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.errors import ProviderError
from reasonflow.domain.model import Intent
from reasonflow.entrypoints.provider_choice import build_mailer, build_provider
from reasonflow.entrypoints.settings import Settings, SettingsError
from tests.conftest import make_settings
from tests.fakes_llm import make_email
from tests.llm.conftest import Clients

REPO = Path(__file__).resolve().parents[2]
CLASSIFIED = json.dumps({"intent": "meeting_request", "confidence": 0.82, "reasoning": "A call."})
DRAFTED = json.dumps({"draft": "Tuesday at 10 works for me.", "confidence": 0.7})


@pytest.mark.parametrize(
    ("model", "priced"),
    [
        ("anthropic/claude-haiku-4-5", True),
        ("gemini/gemini-2.5-flash", True),
        ("ollama/llama3", False),  # local: LiteLLM prices it at zero
        ("anthropic/claude-made-up-model", None),
    ],
)
async def test_each_provider_family_classifies_and_drafts(
    litellm_clients: Clients, model: str, priced: bool | None
) -> None:
    classifier = LiteLLMClassifier(
        litellm_clients(LLMConfig(model, options={"mock_response": CLASSIFIED}))
    )
    drafter = LiteLLMDrafter(litellm_clients(LLMConfig(model, options={"mock_response": DRAFTED})))

    result = await classifier.classify(make_email("Call next week?"))
    draft = await drafter.draft(make_email("Call next week?"), result.intent, [])

    assert (result.intent, result.confidence) == (Intent.MEETING_REQUEST, 0.82)
    assert (draft.text, draft.confidence) == ("Tuesday at 10 works for me.", 0.7)
    assert result.usage.prompt_tokens > 0 and result.usage.completion_tokens > 0
    if priced is None:
        assert result.usage.cost_usd is None
    elif priced:
        assert result.usage.cost_usd is not None and result.usage.cost_usd > 0
    else:
        assert result.usage.cost_usd == 0.0


async def test_a_mocked_provider_error_maps_like_a_real_one(litellm_clients: Clients) -> None:
    from reasonflow.adapters.llm.litellm_runtime import load_litellm

    litellm = load_litellm()
    error = litellm.AuthenticationError("bad key", llm_provider="anthropic", model="claude")
    config = LLMConfig("anthropic/claude-haiku-4-5", options={"mock_response": error})
    classifier = LiteLLMClassifier(litellm_clients(config))

    with pytest.raises(ProviderError) as caught:
        await classifier.classify(make_email("Hello"))

    assert (caught.value.reason, caught.value.fatal) == ("provider rejected the credentials", True)


async def test_rules_is_the_offline_pair(tmp_path: Path) -> None:
    provider = build_provider(make_settings(tmp_path))

    assert isinstance(provider.classifier, RuleBasedClassifier)
    assert isinstance(provider.drafter, TemplateDrafter)


async def test_a_litellm_model_gives_a_pair_over_one_client(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, llm_model="ollama/llama3", llm_max_concurrency=3)

    provider = build_provider(settings)
    await provider.start()

    classifier, drafter = provider.classifier, provider.drafter
    assert isinstance(classifier, LiteLLMClassifier) and isinstance(drafter, LiteLLMDrafter)
    assert classifier._client is drafter._client
    await provider.stop()


async def test_an_unknown_provider_fails_at_startup_naming_the_variable(tmp_path: Path) -> None:
    provider = build_provider(make_settings(tmp_path, llm_model="no-such-provider/model"))
    with pytest.raises(SettingsError, match="REASONFLOW_LLM_MODEL"):
        await provider.start()


async def test_the_mailer_is_smtp_only_when_a_url_is_set(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    clock = SystemClock()
    try:
        assert isinstance(build_mailer(make_settings(tmp_path), database, clock), DevMailboxMailer)
        smtp = make_settings(tmp_path, smtp_url="smtp://127.0.0.1:2525")
        assert isinstance(build_mailer(smtp, database, clock), SmtpMailer)
    finally:
        await database.dispose()


def test_the_rules_provider_never_imports_litellm(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from reasonflow.entrypoints.bootstrap import build_services\n"
        "from reasonflow.entrypoints.http.app import create_app\n"
        "from reasonflow.entrypoints.settings import load_settings\n"
        "settings = load_settings()\n"
        "create_app(settings, build_services(settings))\n"
        "assert settings.llm_model == 'rules'\n"
        "print('litellm' in sys.modules, 'aiohttp' in sys.modules)\n"
    )
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO / "src"),
        "REASONFLOW_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        "REASONFLOW_VAR_DIR": str(tmp_path / "var"),
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]


def test_building_the_app_touches_nothing_until_it_starts(tmp_path: Path) -> None:
    """No folder, secret file, database, LiteLLM import or Argon2 hash at construction."""
    script = (
        "import sys, time\n"
        "from reasonflow.entrypoints.http.app import create_app\n"
        "from reasonflow.entrypoints.settings import load_settings\n"
        "started = time.perf_counter()\n"
        "create_app(load_settings())\n"
        "print('litellm' in sys.modules, time.perf_counter() - started < 1.0)\n"
    )
    var = tmp_path / "var"
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO / "src"),
        "REASONFLOW_DATABASE_URL": f"sqlite+aiosqlite:///{var / 'db.sqlite'}",
        "REASONFLOW_VAR_DIR": str(var),
        "REASONFLOW_LLM_MODEL": "openai/gpt-4o-mini",
    }
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]
    assert not var.exists()


def test_settings_accept_a_litellm_model_and_reject_a_bad_smtp_url(tmp_path: Path) -> None:
    assert make_settings(tmp_path, llm_model="openai/gpt-4o-mini").llm_model == "openai/gpt-4o-mini"
    with pytest.raises(SettingsError) as caught:
        Settings(smtp_url="smtp://user:hunter2@mail.example.com:notaport")

    assert "REASONFLOW_SMTP_URL" in str(caught.value)
    assert "hunter2" not in str(caught.value)
