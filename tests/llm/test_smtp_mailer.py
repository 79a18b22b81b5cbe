"""The SMTP mailer against an aiosmtpd server on 127.0.0.1, and through the app."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from reasonflow.adapters.mail.smtp import MailDeliveryError, SmtpConfig, SmtpMailer
from reasonflow.domain.replies import Reply
from tests.conftest import AppFactory, sign_in
from tests.fakes_llm import make_email
from tests.llm.conftest import free_port
from tests.support import wait_for

PASSWORD = "p@ss:w0rd/secret"


class Inbox:
    """An aiosmtpd handler that keeps what it receives and refuses ``nobody@``."""

    def __init__(self) -> None:
        self.messages: list[tuple[Envelope, Message]] = []
        #: The session (connection) each message came over, in order.
        self.sessions: list[Session] = []
        self.quits = 0

    async def handle_RCPT(
        self, server: Any, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        if address.startswith("nobody@"):
            return "550 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append((envelope, message_from_bytes(envelope.content)))
        self.sessions.append(session)
        return "250 Message accepted"

    async def handle_QUIT(self, server: Any, session: Session, envelope: Envelope) -> str:
        self.quits += 1
        return "221 Bye"


def authenticate(
    server: Any, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    # aiosmtpd logs each connection from its own thread, sometimes after the
    # test's captured stderr has closed; its INFO lines say nothing we check.
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox, port = Inbox(), free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def mailer(url: str) -> SmtpMailer:
    return SmtpMailer(SmtpConfig.from_url(url))


async def test_a_reply_is_delivered_to_the_sender(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    email = make_email("Pricing question", sender="Ada Lovelace <ada@example.com>")

    smtp = mailer(f"smtp://127.0.0.1:{port}?starttls=false")
    await smtp.send(Reply.to(email, "Thanks, Ada!"))
    await smtp.close()

    ((envelope, message),) = inbox.messages
    assert envelope.mail_from == "demo@reasonflow.local"
    assert envelope.rcpt_tos == ["ada@example.com"]
    assert message["Subject"] == "Re: Pricing question"
    assert message["To"] == "Ada Lovelace <ada@example.com>"
    assert message.get_payload(decode=True).strip() == b"Thanks, Ada!"


async def test_credentials_and_sender_come_from_the_url(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    url = f"smtp://bot:p%40ss%3Aw0rd%2Fsecret@127.0.0.1:{port}?starttls=false&from=bot@example.org"

    smtp = mailer(url)
    await smtp.send(Reply.to(make_email("Hi"), "Hello back"))
    await smtp.close()

    ((envelope, message),) = inbox.messages
    assert envelope.mail_from == "bot@example.org" and message["From"] == "bot@example.org"


@pytest.mark.parametrize(
    ("url", "email_fields", "reason"),
    [
        (
            "smtp://bot:wrong-password@127.0.0.1:{port}?starttls=false",
            {},
            "the mail server rejected the credentials",
        ),
        (
            "smtp://127.0.0.1:{port}?starttls=false",
            {"sender": "nobody@example.com"},
            "the mail server refused the recipient",
        ),
        ("smtp://bot:x@127.0.0.1:{free}", {}, "could not reach the mail server"),
        ("smtp://127.0.0.1:{port}?starttls=true", {}, "does not support"),
    ],
)
async def test_failures_are_clear_and_keep_the_credentials_out(
    smtp_server: tuple[Inbox, int], url: str, email_fields: dict[str, str], reason: str
) -> None:
    _, port = smtp_server
    target = url.format(port=port, free=free_port())

    with pytest.raises(MailDeliveryError) as caught:
        await mailer(target).send(Reply.to(make_email("Hi", **email_fields), "Hello"))

    message = str(caught.value)
    assert message.startswith("SMTP delivery failed: ") and reason in message
    assert "wrong-password" not in message and target not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_send_returns_on_acceptance_and_the_session_serves_the_next_replies(
    smtp_server: tuple[Inbox, int],
) -> None:
    inbox, port = smtp_server
    smtp = mailer(f"smtp://127.0.0.1:{port}?starttls=false")

    for n in range(3):
        await smtp.send(Reply.to(make_email(f"Question {n}"), "Answer"))
        # Accepted, and the session not ended yet: the caller commits first.
        assert len(inbox.messages) == n + 1 and inbox.quits == 0 and smtp.connected

    assert len({id(session) for session in inbox.sessions}) == 1
    await smtp.close()
    assert inbox.quits == 1 and not smtp.connected


async def test_a_session_the_server_dropped_is_replaced_without_losing_the_reply() -> None:
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    inbox, port = Inbox(), free_port()
    smtp = mailer(f"smtp://127.0.0.1:{port}?starttls=false")
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        await smtp.send(Reply.to(make_email("Before"), "One"))
        controller.stop()  # the server goes away with the session
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()

        await smtp.send(Reply.to(make_email("After"), "Two"))

        assert [m["Subject"] for _, m in inbox.messages] == ["Re: Before", "Re: After"]
        assert inbox.sessions[0] is not inbox.sessions[1]
        await smtp.close()
        assert inbox.quits == 1
    finally:
        controller.stop()


async def test_a_refused_reply_drops_the_session_and_the_next_one_goes_through(
    smtp_server: tuple[Inbox, int],
) -> None:
    inbox, port = smtp_server
    smtp = mailer(f"smtp://127.0.0.1:{port}?starttls=false")

    with pytest.raises(MailDeliveryError):
        await smtp.send(Reply.to(make_email("Hi", sender="nobody@example.com"), "Hello"))
    assert not smtp.connected
    await smtp.send(Reply.to(make_email("Hi"), "Hello"))

    assert len(inbox.messages) == 1 and smtp.connected
    await smtp.close()


def test_urls_are_parsed_with_sensible_defaults() -> None:
    tls = SmtpConfig.from_url("smtps://u:pw@mail.example.com")
    plain = SmtpConfig.from_url("smtp://mail.example.com:587?starttls=true&timeout=5")

    assert (tls.host, tls.port, tls.use_tls, tls.username, tls.password) == (
        "mail.example.com",
        465,
        True,
        "u",
        "pw",
    )
    assert (plain.port, plain.use_tls, plain.start_tls, plain.timeout) == (587, False, True, 5.0)
    assert "pw" not in repr(tls)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://mail.example.com", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://mail.example.com:99999", "port"),
        ("smtp://mail.example.com?tls=yes", "unknown parameter 'tls'"),
        ("smtp://mail.example.com?starttls=maybe", "starttls must be true or false"),
        ("smtps://mail.example.com?starttls=true", "already TLS"),
        ("smtp://mail.example.com?timeout=0", "timeout"),
    ],
)
def test_bad_urls_are_refused(url: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        SmtpConfig.from_url(url)


async def test_auto_send_delivers_through_smtp(
    app_client: AppFactory, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    client = await app_client(
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=false&from=replies@example.org",
        auto_send=True,
    )
    api = await sign_in(client)
    ids = await api.add_emails(3)

    response = await api.post("/api/v1/emails/batch/process", {"email_ids": ids})
    job = await api.finished_job(response.json()["job_id"])

    assert job["succeeded"] == 3
    await wait_for(lambda: _count(inbox), lambda n: n == 3)
    recipients = sorted(e.rcpt_tos[0] for e, _ in inbox.messages)
    assert recipients == [f"customer{n}@example.com" for n in range(3)]
    # Each email reads sent once the server accepted its reply (the dispatcher).
    for email_id in ids:
        email = await wait_for(lambda i=email_id: _email(api, i), lambda e: e["status"] == "sent")
        assert email["last_error"] is None


async def test_a_refused_reply_retries_then_reads_send_failed_and_can_be_sent_again(
    app_client: AppFactory, smtp_server: tuple[Inbox, int]
) -> None:
    inbox, port = smtp_server
    client = await app_client(
        smtp_url=f"smtp://127.0.0.1:{port}?starttls=false&from=replies@example.org",
        dispatch_max_attempts=3,
        dispatch_retry_base_seconds=0.1,
        dispatch_retry_max_seconds=0.2,
    )
    api = await sign_in(client)
    created = await api.post(
        "/api/v1/emails",
        {"subject": "Pricing", "body": "How much is it?", "sender": "nobody@example.com"},
    )
    email_id = created.json()["id"]
    job = await api.post("/api/v1/emails/batch/process", {"email_ids": [email_id]})
    await api.finished_job(job.json()["job_id"])
    assert (await api.post(f"/api/v1/emails/{email_id}/approve", {})).status_code == 200

    first = await api.post(f"/api/v1/emails/{email_id}/send")

    # Answered after the first attempt: still sending, with the reason shown.
    assert first.status_code == 200
    assert first.json()["status"] == "sending"
    refused = "SMTP delivery failed: the mail server refused the recipient"
    assert first.json()["last_error"] == refused
    failed = await wait_for(lambda: _email(api, email_id), lambda e: e["status"] == "send_failed")
    assert failed["last_error"] == f"Sending failed after 3 attempts: {refused}"
    assert inbox.messages == []
    listed = await api.get("/api/v1/emails?status=send_failed")
    assert [e["id"] for e in listed.json()["items"]] == [email_id]

    again = await api.post(f"/api/v1/emails/{email_id}/send")
    assert again.status_code == 200 and again.json()["status"] == "sending"
    assert (await api.post(f"/api/v1/emails/{email_id}/send")).status_code == 409


async def _email(api: Any, email_id: str) -> dict[str, Any]:
    response = await api.get(f"/api/v1/emails/{email_id}")
    body: dict[str, Any] = response.json()
    return body


async def _count(inbox: Inbox) -> int:
    return len(inbox.messages)
