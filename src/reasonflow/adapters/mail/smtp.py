"""A ``Mailer`` that delivers replies through an SMTP server (aiosmtplib).

Selected by ``REASONFLOW_SMTP_URL``::

    smtp://user:password@host:587?starttls=true&from=replies@example.com
    smtps://user:password@host            (implicit TLS, port 465)

``starttls=true`` requires STARTTLS, ``false`` never uses it, and without the
parameter it is used when the server offers it. ``from`` sets the sender
address; otherwise a reply comes from the address the email was sent to.
Failures raise ``MailDeliveryError`` with a short reason and never the URL,
the credentials or the server's own text. One session serves consecutive
replies (``SmtpMailer``); ``close`` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from reasonflow.domain.errors import DeliveryFailed
from reasonflow.domain.ports import Mailer
from reasonflow.domain.replies import Reply

_BOOLEANS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
_OPTIONS = frozenset({"starttls", "from", "timeout"})


class MailDeliveryError(DeliveryFailed):
    """A reply could not be delivered; the message is safe to show and to log."""


@dataclass(frozen=True, slots=True)
class SmtpConfig:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    use_tls: bool = False
    start_tls: bool | None = None
    sender: str | None = None
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str) -> SmtpConfig:
        """Parse an ``smtp://`` or ``smtps://`` URL; ``ValueError`` names the problem only."""
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("use an smtp:// or smtps:// URL")
        try:
            port = parts.port
        except ValueError:
            raise ValueError("the port is not a number between 0 and 65535") from None
        if not parts.hostname:
            raise ValueError("the URL names no host")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - _OPTIONS)
        if unknown:
            raise ValueError(f"unknown parameter {unknown[0]!r} (known: starttls, from, timeout)")
        use_tls = parts.scheme == "smtps"
        start_tls = _flag(query, "starttls")
        if use_tls and start_tls:
            raise ValueError("smtps:// is already TLS; drop starttls=true")
        return cls(
            host=parts.hostname,
            port=port or (465 if use_tls else 25),
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password is not None else None,
            use_tls=use_tls,
            start_tls=start_tls,
            sender=_single(query, "from"),
            timeout=_timeout(query),
        )


def _single(query: dict[str, list[str]], name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _flag(query: dict[str, list[str]], name: str) -> bool | None:
    raw = _single(query, name)
    if raw is None:
        return None
    if raw.lower() not in _BOOLEANS:
        raise ValueError(f"{name} must be true or false")
    return _BOOLEANS[raw.lower()]


def _timeout(query: dict[str, list[str]]) -> float:
    raw = _single(query, "timeout")
    if raw is None:
        return 30.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 600:
        raise ValueError("timeout must be a number of seconds between 0 and 600")
    return value


#: The longest ``close`` waits for the server to answer ``QUIT``.
QUIT_TIMEOUT_SECONDS = 5.0


class SmtpMailer(Mailer):
    """Delivers over one SMTP session kept open across consecutive replies.

    ``send`` returns as soon as the server answered the message's ``DATA`` with
    250, so the dispatcher commits the delivery before anything else is said
    to the server. The next ``send`` reuses the session after a ``NOOP`` shows
    it is still there, and opens a new one when the server dropped it (idle
    timeout, restart): nothing of the reply was sent on the dead one. ``close``
    ends the session with ``QUIT`` (the dispatcher calls it once nothing is due,
    and at shutdown). A failed send drops its session. Sends take turns.
    """

    def __init__(self, config: SmtpConfig) -> None:
        self._config = config
        self._smtp: aiosmtplib.SMTP | None = None
        self._turn = asyncio.Lock()

    @property
    def connected(self) -> bool:
        """Whether a session is open now (kept for the next reply)."""
        return self._smtp is not None and self._smtp.is_connected

    async def send(self, reply: Reply) -> None:
        config = self._config
        sender = config.sender or reply.sender
        if not sender:
            raise MailDeliveryError(
                "SMTP delivery failed: no sender address (the email has no recipient; "
                "set from= in the SMTP URL)"
            )
        message = EmailMessage()
        message["From"] = sender
        message["To"] = reply.recipient
        message["Subject"] = reply.subject
        headers = reply.headers
        message["Message-ID"] = headers.message_id
        if headers.in_reply_to is not None:
            message["In-Reply-To"] = headers.in_reply_to
        if headers.references:
            message["References"] = " ".join(headers.references)
        message.set_content(reply.body)
        async with self._turn:
            try:
                smtp = await self._session()
                await smtp.send_message(message)
            except (aiosmtplib.SMTPException, OSError) as exc:
                await self._drop()
                raise MailDeliveryError(f"SMTP delivery failed: {_reason(exc)}") from None
            except BaseException:
                await self._drop()  # cancelled (the delivery timed out): state unknown
                raise

    async def close(self) -> None:
        async with self._turn:
            smtp, self._smtp = self._smtp, None
            if smtp is None:
                return
            if smtp.is_connected:
                with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                    await smtp.quit(timeout=min(self._config.timeout, QUIT_TIMEOUT_SECONDS))
            smtp.close()

    async def _session(self) -> aiosmtplib.SMTP:
        """The open session, checked with ``NOOP``, or a new one."""
        smtp = self._smtp
        if smtp is not None:
            if smtp.is_connected:
                try:
                    await smtp.noop()
                    return smtp
                except (aiosmtplib.SMTPException, OSError):
                    pass  # dropped by the server: start again
            smtp.close()
            self._smtp = None
        config = self._config
        smtp = aiosmtplib.SMTP(
            hostname=config.host,
            port=config.port,
            username=config.username,
            password=config.password,
            use_tls=config.use_tls,
            start_tls=config.start_tls,
            timeout=config.timeout,
        )
        try:
            await smtp.connect()
        except BaseException:
            smtp.close()
            raise
        self._smtp = smtp
        return smtp

    async def _drop(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _reason(exc: Exception) -> str:
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return "the mail server rejected the credentials"
    if isinstance(exc, TimeoutError):
        return "the mail server timed out"
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPRecipientRefused):
        return "the mail server refused the recipient"
    if isinstance(exc, aiosmtplib.SMTPSenderRefused):
        return "the mail server refused the sender"
    if isinstance(exc, aiosmtplib.SMTPNotSupported) or "STARTTLS" in str(exc):
        # aiosmtplib reports a missing STARTTLS as a bare SMTPException.
        return "the mail server does not support what the URL asks (STARTTLS or login)"
    if isinstance(exc, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected | OSError):
        return "could not reach the mail server"
    return "the mail server refused the message"
