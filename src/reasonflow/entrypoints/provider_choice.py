"""The model steps and the mailer the settings select (part of the composition root).

``REASONFLOW_LLM_MODEL=rules`` (the default) is the offline provider; any other
value is a LiteLLM model string. ``openai/<model>`` with ``REASONFLOW_LLM_API_BASE``
(an OpenAI-compatible server) goes through the lean httpx client, unless
``REASONFLOW_LLM_CLIENT=litellm``; everything else through LiteLLM. Choosing
imports nothing heavy: LiteLLM is imported, and the model string checked,
when the provider is started.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reasonflow.adapters.llm.chat_client import ChatClient, LLMConfig, Pacer, UnknownModel
from reasonflow.adapters.llm.estimates import ProviderCostModel
from reasonflow.adapters.llm.litellm_client import LiteLLMClient
from reasonflow.adapters.llm.litellm_provider import LiteLLMClassifier, LiteLLMDrafter
from reasonflow.adapters.llm.offline import RuleBasedClassifier, TemplateDrafter
from reasonflow.adapters.llm.openai_http import OpenAIHttpClient, serves
from reasonflow.adapters.mail.mailbox import DevMailboxMailer
from reasonflow.adapters.sql.engine import Database
from reasonflow.domain.ports import (
    Clock,
    CostModel,
    FreeCalls,
    IntentClassifier,
    Mailer,
    ReplyDrafter,
)
from reasonflow.entrypoints.settings import PREFIX, Settings, SettingsError

RULES = "rules"


@dataclass(frozen=True)
class Provider:
    """The classifier and drafter of one model, and the client they share (if any).

    A lifecycle resource: ``start`` loads what the client needs (LiteLLM and a
    check of the model string, a bad one being a ``SettingsError`` naming the
    variable; or the lean client's connection pool and the model's price);
    ``stop`` closes the client's HTTP connections.
    """

    classifier: IntentClassifier
    drafter: ReplyDrafter
    client: ChatClient | None = None
    #: What the model's calls would cost (estimates, budgets).
    costs: CostModel = field(default_factory=FreeCalls)

    async def start(self) -> None:
        if self.client is None:
            return
        try:
            await self.client.start()
        except UnknownModel as exc:
            raise SettingsError(f"{PREFIX}LLM_MODEL: {exc}") from None

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.aclose()


def build_provider(settings: Settings, pacer: Pacer | None = None) -> Provider:
    """The offline pair, or a model's pair over one client (so both share its limits).

    ``pacer``: how ``LLM_RPM`` is kept, when not within this process (cluster)."""
    if settings.llm_model == RULES:
        return Provider(RuleBasedClassifier(), TemplateDrafter())
    client = build_client(llm_config(settings), settings.llm_client, pacer)
    return Provider(
        LiteLLMClassifier(client), LiteLLMDrafter(client), client, ProviderCostModel(client)
    )


def build_client(config: LLMConfig, choice: str = "auto", pacer: Pacer | None = None) -> ChatClient:
    """The lean httpx client for an OpenAI-compatible server, unless LiteLLM is asked for."""
    if choice == "auto" and not config.options and serves(config.model, config.api_base):
        return OpenAIHttpClient(config, pacer=pacer)
    return LiteLLMClient(config, pacer=pacer)


def llm_config(settings: Settings) -> LLMConfig:
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
    """SMTP when ``REASONFLOW_SMTP_URL`` is set, otherwise the dev mailer (the
    ``dev_mailbox`` table)."""
    if settings.smtp_url:
        from reasonflow.adapters.mail.smtp import SmtpConfig, SmtpMailer

        return SmtpMailer(SmtpConfig.from_url(settings.smtp_url))
    return DevMailboxMailer(database, clock)
