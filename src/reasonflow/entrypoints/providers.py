"""Which provider and which mailer the settings select (part of the composition root).

``REASONFLOW_LLM_MODEL=rules`` (the default) is the offline provider; any other
value is a LiteLLM model string, and LiteLLM itself is imported only then
(``load_litellm``; the adapter modules imported here do not import it).
"""

from __future__ import annotations

from reasonflow.adapters.llm.litellm_client import LiteLLMClient, LLMConfig
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier, LiteLLMDrafter
from reasonflow.adapters.llm.litellm_runtime import load_litellm
from reasonflow.adapters.llm.rules import RuleBasedClassifier, TemplateDrafter
from reasonflow.adapters.mail.outbox import OutboxMailer
from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.ports import Clock, IntentClassifier, Mailer, ReplyDrafter
from reasonflow.entrypoints.settings import PREFIX, Settings, SettingsError

RULES = "rules"


def build_provider(settings: Settings) -> tuple[IntentClassifier, ReplyDrafter]:
    """The classifier and drafter of the configured model; one LiteLLM client serves both."""
    if settings.llm_model == RULES:
        return RuleBasedClassifier(), TemplateDrafter()
    client = LiteLLMClient(llm_config(settings))
    return LiteLLMClassifier(client), LiteLLMDrafter(client)


def llm_config(settings: Settings) -> LLMConfig:
    try:
        load_litellm().get_llm_provider(settings.llm_model)
    except Exception:
        raise SettingsError(
            f"{PREFIX}LLM_MODEL: LiteLLM knows no provider for {settings.llm_model!r}; "
            "use a model string such as openai/gpt-4o-mini or ollama/llama3"
        ) from None
    return LLMConfig(
        model=settings.llm_model,
        api_base=settings.llm_api_base,
        api_key=settings.llm_api_key,
        timeout_seconds=settings.llm_timeout_seconds,
        max_retries=settings.llm_max_retries,
        max_concurrency=settings.llm_max_concurrency,
        rpm=settings.llm_rpm,
    )


def build_mailer(settings: Settings, database: Database, clock: Clock) -> Mailer:
    """SMTP when ``REASONFLOW_SMTP_URL`` is set, otherwise the outbox table."""
    if settings.smtp_url:
        from reasonflow.adapters.mail.smtp import SmtpConfig, SmtpMailer

        return SmtpMailer(SmtpConfig.from_url(settings.smtp_url))
    return OutboxMailer(database, clock)


async def close_provider(*parts: object) -> None:
    """Release what the provider holds (LiteLLM's HTTP session); others have nothing."""
    for part in parts:
        aclose = getattr(part, "aclose", None)
        if aclose is not None:
            await aclose()
