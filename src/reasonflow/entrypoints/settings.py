"""Settings: the only reader of the environment (DESIGN §6).

Every variable is ``REASONFLOW_<FIELD>``. Unknown or malformed values fail at
startup with a message naming the variable (never echoing a secret's value).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Literal

import msgspec

PREFIX = "REASONFLOW_"
SECRET_FIELDS = frozenset({"jwt_secret", "llm_api_key", "smtp_url", "redis_url"})
#: Variables read by the CLI client rather than the server.
CLIENT_VARIABLES = frozenset({"REASONFLOW_URL", "REASONFLOW_TOKEN_FILE"})

Positive = Annotated[int, msgspec.Meta(ge=1)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
Fraction = Annotated[float, msgspec.Meta(ge=0, le=1)]


class SettingsError(ValueError):
    """One line per bad variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    database_url: str = "sqlite+aiosqlite:///./var/reasonflow.db"
    var_dir: str = "./var"
    jwt_secret: str | None = None
    access_token_minutes: Positive = 30
    llm_model: str = "rules"
    llm_api_base: str | None = None
    llm_api_key: str | None = None
    llm_timeout_seconds: PositiveFloat = 30.0
    llm_max_retries: Annotated[int, msgspec.Meta(ge=0, le=10)] = 2
    llm_max_concurrency: Annotated[int, msgspec.Meta(ge=1, le=1024)] = 8
    llm_rpm: Positive | None = None
    #: ``auto``: the lean httpx client for ``openai/…`` with an API base, LiteLLM otherwise.
    llm_client: Literal["auto", "litellm"] = "auto"
    job_max_concurrency: Positive | None = None
    submit_rate_per_minute: Positive = 60
    #: Failed sign-ins per (account, client address) pair within the window, then 429.
    signin_failures_per_pair: Positive = 5
    #: Failed sign-ins per client address (any account) within the window, then 429.
    signin_failures_per_client: Positive = 20
    signin_window_seconds: PositiveFloat = 60.0
    #: Threads that run Argon2 (each check takes one core for tens of ms).
    password_hash_threads: Annotated[int, msgspec.Meta(ge=1, le=64)] = 1
    auto_approve_threshold: Fraction = 0.8
    #: Unset: off. Set: the offline rules classify first, and an answer at least
    #: this confident stands with no model call; below it the model decides.
    classify_cascade_threshold: Fraction | None = None
    auto_send: bool = False
    smtp_url: str | None = None
    #: Delivery attempts of one reply before its email reads ``send_failed``.
    dispatch_max_attempts: Annotated[int, msgspec.Meta(ge=1, le=100)] = 8
    #: Wait after the first failed attempt; doubled after each next one, up to the max.
    dispatch_retry_base_seconds: PositiveFloat = 5.0
    dispatch_retry_max_seconds: PositiveFloat = 600.0
    #: How long the dispatch lease lasts; one delivery may take it less 5 s at most.
    dispatch_lease_seconds: Annotated[float, msgspec.Meta(ge=10, le=3600)] = 60.0
    #: How often a dispatcher looks for due replies when nothing woke it.
    dispatch_poll_seconds: PositiveFloat = 1.0
    #: ``POST /emails/{id}/send`` waits this long for delivery before answering ``sending``.
    send_wait_seconds: Annotated[float, msgspec.Meta(ge=0, le=30)] = 2.0
    job_store: Literal["memory", "redis"] = "memory"
    queue: Literal["inprocess", "saq"] = "inprocess"
    redis_url: str = "redis://127.0.0.1:6379/0"
    #: Every Redis key of this deployment starts with it (several can share a server).
    redis_prefix: str = "reasonflow:"
    #: A worker's task beats this often (a third of it) and is swept this long after dying.
    task_heartbeat_seconds: Annotated[int, msgspec.Meta(ge=1, le=600)] = 10
    #: How often one process of the cluster releases the claims of finished or lost jobs.
    recovery_interval_seconds: PositiveFloat = 30.0
    job_retention_seconds: Positive = 86_400
    max_active_jobs: Positive = 10
    shutdown_grace_seconds: Annotated[float, msgspec.Meta(ge=0)] = 10.0
    #: A JSON request body over this answers 413.
    json_max_bytes: Positive = 1 << 20
    #: An upload to ``POST /api/v1/emails/import`` over this answers 413.
    import_max_bytes: Positive = 25 << 20
    stream_heartbeat_seconds: PositiveFloat = 15.0
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    def __post_init__(self) -> None:
        if not self.database_url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise SettingsError(
                f"{PREFIX}DATABASE_URL: use a sqlite+aiosqlite:// or postgresql+asyncpg:// URL"
            )
        if self.jwt_secret is not None and len(self.jwt_secret) < 32:
            raise SettingsError(f"{PREFIX}JWT_SECRET: must be at least 32 characters long")
        if (self.job_store == "redis") != (self.queue == "saq"):
            raise SettingsError(
                f"{PREFIX}JOB_STORE and {PREFIX}QUEUE: the cluster mode needs both "
                "(JOB_STORE=redis with QUEUE=saq); the default is memory with inprocess"
            )
        if not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError(f"{PREFIX}REDIS_URL: use a redis://, rediss:// or unix:// URL")
        if self.dispatch_retry_max_seconds < self.dispatch_retry_base_seconds:
            raise SettingsError(
                f"{PREFIX}DISPATCH_RETRY_MAX_SECONDS: must be at least DISPATCH_RETRY_BASE_SECONDS"
            )
        if not self.llm_model.strip():
            raise SettingsError(f"{PREFIX}LLM_MODEL: 'rules' or a LiteLLM model string")
        if self.smtp_url is not None:
            from reasonflow.adapters.mail.smtp import SmtpConfig

            try:
                SmtpConfig.from_url(self.smtp_url)
            except ValueError as exc:  # the reason never repeats the URL (it holds a password)
                raise SettingsError(f"{PREFIX}SMTP_URL: {exc}") from None

    def __repr__(self) -> str:
        shown = ", ".join(
            f"{name}={'<hidden>' if name in SECRET_FIELDS and value else value!r}"
            for name, value in msgspec.structs.asdict(self).items()
        )
        return f"Settings({shown})"

    @property
    def var_path(self) -> Path:
        return Path(self.var_dir)

    @property
    def cluster(self) -> bool:
        """Job state in Redis and emails run by ``reasonflow worker`` processes."""
        return self.queue == "saq"

    @property
    def effective_job_concurrency(self) -> int:
        return min(self.job_max_concurrency or self.llm_max_concurrency, self.llm_max_concurrency)


_BOOLEANS = {"1": True, "true": True, "yes": True, "on": True}
_BOOLEANS |= {"0": False, "false": False, "no": False, "off": False}
FIELDS = {f.name: f for f in msgspec.structs.fields(Settings)}


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read every ``REASONFLOW_*`` variable; raise ``SettingsError`` listing each bad one."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, raw in env.items():
        if not name.startswith(PREFIX) or name in CLIENT_VARIABLES:
            continue
        key = name[len(PREFIX) :].lower()
        field = FIELDS.get(key)
        if field is None:
            problems.append(f"{name}: unknown setting")
            continue
        if raw == "":
            continue
        value: object = raw
        if field.type is bool:
            value = _BOOLEANS.get(raw.strip().lower(), raw)
        try:
            values[key] = msgspec.convert(value, field.type, strict=False)
        except msgspec.ValidationError as exc:
            shown = "<hidden>" if key in SECRET_FIELDS else repr(raw)
            reason = str(exc).split(" - at ", 1)[0]
            problems.append(f"{name}: {reason} (got {shown})")
    if problems:
        raise SettingsError("\n".join(sorted(problems)))
    try:
        return msgspec.convert(values, Settings)
    except msgspec.ValidationError as exc:
        raise SettingsError(str(exc)) from exc
