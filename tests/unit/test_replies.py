"""ReplyHeaders: a stable Message-ID per reply and the threading of imported mail."""

from __future__ import annotations

from dataclasses import replace
from uuid import uuid4

from reasonflow.domain.replies import ReplyHeaders
from tests.fakes import make_email


def test_the_message_id_is_the_same_for_every_send_and_differs_per_email() -> None:
    email = make_email(uuid4(), recipient="support@acme.example")
    other = make_email(uuid4(), recipient="support@acme.example")

    first, again = ReplyHeaders.answering(email), ReplyHeaders.answering(replace(email))

    assert first == again
    assert first.message_id == f"<reply-{email.id.hex}@acme.example>"
    assert ReplyHeaders.answering(other).message_id != first.message_id


def test_an_unusable_recipient_falls_back_to_a_local_domain() -> None:
    for recipient in ("", "no-at-sign", "x@bad domain>", "y@"):
        email = make_email(uuid4(), recipient=recipient)
        assert ReplyHeaders.answering(email).message_id.endswith("@reasonflow.local>")


def test_a_thread_id_that_is_no_message_id_is_left_out_of_references() -> None:
    email = make_email(uuid4(), message_id="<a@x.example>", thread_id="manual-thread")

    headers = ReplyHeaders.answering(email)

    assert (headers.in_reply_to, headers.references) == ("<a@x.example>", ("<a@x.example>",))
