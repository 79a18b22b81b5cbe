"""One message in, one ``ImportedEmail`` or ``ImportProblem`` out: the content rules."""

from __future__ import annotations

import base64
import quopri
import re
import textwrap
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from reasonflow.adapters.mail.html_text import html_to_text
from reasonflow.adapters.mail.importer import MAX_BODY, MAX_SUBJECT, parse_eml
from reasonflow.domain.inbox import ImportedEmail, ImportProblem

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def eml(text: str, body: bytes = b"") -> bytes:
    """Headers (and a body) written as indented text; LF line ends, as files often have."""
    return textwrap.dedent(text).lstrip("\n").encode("ascii") + body


def imported(data: bytes, now: datetime = NOW) -> ImportedEmail:
    item = parse_eml(data, now=now)
    assert isinstance(item, ImportedEmail), item
    return item


def problem(data: bytes) -> ImportProblem:
    item = parse_eml(data, now=NOW, position=7)
    assert isinstance(item, ImportProblem), item
    assert item.position == 7 and "\n" not in item.error
    return item


PLAIN = eml("""
    From: Ada Lovelace <ada@example.com>
    To: Support <support@example.com>, other@example.com
    Subject: Where is my order?
    Date: Tue, 04 Mar 2025 09:30:00 -0500
    Message-ID: <order-1@example.com>

    Hello,

    my parcel has not arrived.
    """)


def test_a_plain_message_keeps_sender_name_first_recipient_and_utc_time() -> None:
    email = imported(PLAIN)

    assert email == ImportedEmail(
        message_id="<order-1@example.com>",
        subject="Where is my order?",
        body="Hello,\n\nmy parcel has not arrived.",
        sender="Ada Lovelace <ada@example.com>",
        recipient="support@example.com",
        received_at=datetime(2025, 3, 4, 14, 30, tzinfo=UTC),
        thread_id="<order-1@example.com>",
    )


def test_without_a_usable_date_the_message_is_received_now() -> None:
    undated = PLAIN.replace(b"Date: Tue, 04 Mar 2025 09:30:00 -0500\n", b"")
    garbled = PLAIN.replace(b"Tue, 04 Mar 2025 09:30:00 -0500", b"sometime last week")
    unknown_zone = PLAIN.replace(b"-0500", b"-0000")

    assert imported(undated).received_at == NOW
    assert imported(garbled).received_at == NOW
    assert imported(unknown_zone).received_at == datetime(2025, 3, 4, 9, 30, tzinfo=UTC)


ALTERNATIVE = eml("""
    From: shop@example.com
    Subject: Your receipt
    MIME-Version: 1.0
    Content-Type: multipart/alternative; boundary="b1"

    --b1
    Content-Type: text/plain; charset=utf-8

    Total: 12 EUR
    --b1
    Content-Type: text/html; charset=utf-8

    <p>Total: <b>12 EUR</b> (HTML)</p>
    --b1--
    """)


def test_multipart_alternative_prefers_the_plain_text() -> None:
    assert imported(ALTERNATIVE).body == "Total: 12 EUR"


HTML_ONLY = eml("""
    From: news@example.com
    Subject: Newsletter
    Content-Type: text/html; charset=utf-8

    <html><head><title>Ignored</title><style>p { color: red }</style>
    <script>alert("no")</script></head>
    <body><h1>March&nbsp;news</h1><p>Fish &amp; chips,   now
    cheaper.</p><ul><li>one</li><li>two &lt;2&gt;</li></ul>Line<br>break<div>end</div></body></html>
    """)


def test_html_is_reduced_to_readable_text() -> None:
    assert imported(HTML_ONLY).body == (
        "March news\n\nFish & chips, now cheaper.\n\n- one\n- two <2>\nLine\nbreak\nend"
    )


def test_html_tables_pre_and_odd_declarations_stay_readable() -> None:
    markup = (
        "<table><tr><td>Item</td><td>Qty</td></tr><tr><td>Mug</td><td>2</td></tr></table>"
        "<pre>  indented\n    code</pre><![if !mso]>Outlook<![endif]><![foo[ skipped ]]>end"
    )

    assert html_to_text(markup) == "Item Qty\nMug 2\n\n  indented\n    code\n\nOutlookend"


def test_base64_and_quoted_printable_bodies_are_decoded() -> None:
    text = "Grüße aus Köln — 10 € bitte.\n"
    b64 = base64.encodebytes(text.encode()).decode()
    qp = quopri.encodestring(text.encode()).decode()
    for encoding, payload in (("base64", b64), ("quoted-printable", qp)):
        data = (
            eml(f"""
            From: a@example.com
            Subject: Encoded
            Content-Type: text/plain; charset=UTF-8
            Content-Transfer-Encoding: {encoding}

            """)
            + payload.encode()
        )
        assert imported(data).body == text.strip(), encoding


def test_encoded_words_in_subject_and_names_decode_from_utf8_and_latin1() -> None:
    utf8 = eml("""
        From: =?UTF-8?Q?Ren=C3=A9e_M=C3=BCller?= <renee@example.com>
        Subject: =?UTF-8?B?w4l0w6kgw6AgUGFyaXMg4pyI?=
         =?utf-8?q?_=E2=80=94_suite?=

        x
        """)
    latin1 = eml("""
        From: someone@example.com
        Subject: =?ISO-8859-1?Q?Caf=E9_cr=E8me?= et =?iso-8859-1?b?Z2F0ZWF1?=

        x
        """)

    assert imported(utf8).subject == "Été à Paris ✈ — suite"
    assert imported(utf8).sender == "Renée Müller <renee@example.com>"
    assert imported(latin1).subject == "Café crème et gateau"


def test_non_ascii_bodies_use_the_declared_charset_then_utf8_then_latin1() -> None:
    def body(charset: str | None, raw: bytes) -> str:
        content_type = f"Content-Type: text/plain; charset={charset}\n" if charset else ""
        head = f"From: a@example.com\nSubject: s\n{content_type}Content-Transfer-Encoding: 8bit\n\n"
        return imported(head.encode() + raw).body

    assert body("utf-8", "Zoë says café".encode()) == "Zoë says café"
    assert body("iso-8859-1", "Zoë".encode("latin-1")) == "Zoë"
    assert body("koi8-r", "Привет".encode("koi8-r")) == "Привет"
    assert body(None, "Zoë, undeclared".encode()) == "Zoë, undeclared"
    assert body("x-unknown-charset", "Zoë".encode()) == "Zoë"
    assert body("us-ascii", "Zoë mislabelled".encode("latin-1")) == "Zoë mislabelled"
    assert body("utf-8", b"caf\xc3\xa9 and a bad byte \xff") == "café and a bad byte \ufffd"
    # Raw 8-bit header text with no declared charset: UTF-8 if it is, else Latin-1.
    raw_subject = b"From: a@example.com\nSubject: caf\xe9 cr\xe8me\n\nx"
    assert imported(raw_subject).subject == "café crème"


WITH_ATTACHMENTS = eml(
    """
    From: a@example.com
    Subject: Report attached
    Content-Type: multipart/mixed; boundary="mix"

    --mix
    Content-Type: text/plain; charset=utf-8

    Please find the report attached.
    --mix
    Content-Type: text/plain; name="notes.txt"
    Content-Disposition: attachment; filename="notes.txt"

    These notes are an attachment, not the body.
    --mix
    Content-Type: application/pdf; name="report.pdf"
    Content-Disposition: attachment; filename="report.pdf"
    Content-Transfer-Encoding: base64

    """,
    base64.encodebytes(b"%PDF-1.4 binary \x00\x01\x02") + b"--mix--\n",
)


def test_attachments_are_ignored() -> None:
    assert imported(WITH_ATTACHMENTS).body == "Please find the report attached."


def test_a_thread_is_named_after_its_root_message() -> None:
    root = eml("""
        From: a@example.com
        Message-ID: <root@example.com>
        Subject: Plan

        First.
        """)
    reply = eml("""
        From: b@example.com
        Message-ID: <reply-1@example.com>
        In-Reply-To: <root@example.com>
        References: <root@example.com>
        Subject: Re: Plan

        Second.
        """)
    reply_to_reply = eml("""
        From: a@example.com
        Message-ID: <reply-2@example.com>
        In-Reply-To: <reply-1@example.com>
        References: <root@example.com>
         <reply-1@example.com>
        Subject: Re: Re: Plan

        Third.
        """)
    only_in_reply_to = eml("""
        From: c@example.com
        Message-ID: <late@example.com>
        In-Reply-To: <reply-2@example.com> (Ada's message of Monday)

        Fourth.
        """)

    threads = {imported(m).thread_id for m in (root, reply, reply_to_reply)}
    assert threads == {"<root@example.com>"}
    assert imported(only_in_reply_to).thread_id == "<reply-2@example.com>"


def test_a_message_without_message_id_gets_a_stable_one_from_its_content() -> None:
    anonymous = PLAIN.replace(b"Message-ID: <order-1@example.com>\n", b"")
    undated = anonymous.replace(b"Date: Tue, 04 Mar 2025 09:30:00 -0500\n", b"")

    first = imported(anonymous)
    assert re.fullmatch(r"<sha256-[0-9a-f]{64}@reasonflow\.import>", first.message_id)
    assert first.thread_id == first.message_id
    assert imported(anonymous, now=NOW + timedelta(days=1)).message_id == first.message_id
    assert imported(undated).message_id == imported(undated, NOW + timedelta(1)).message_id
    assert imported(undated).message_id != first.message_id
    assert imported(anonymous.replace(b"parcel", b"letter")).message_id != first.message_id


def test_body_and_subject_are_capped() -> None:
    long = eml(f"""
        From: a@example.com
        Subject: {"s" * 2000}

        """) + b"x" * (MAX_BODY + 50)

    email = imported(long)
    assert (len(email.subject), len(email.body)) == (MAX_SUBJECT, MAX_BODY)


def test_unusable_messages_are_problems_with_a_one_line_reason() -> None:
    no_from = problem(b"To: b@example.com\nMessage-ID: <x@y>\nSubject: hi\n\nbody")
    assert (no_from.message_id, no_from.error) == ("<x@y>", "no From address")
    assert problem(b"From: \nSubject: empty sender\n\nbody").error == "no From address"
    assert problem(b"").error == "empty message"
    assert problem(b"\x89PNG\r\n\x1a\n\x00\x00binary").error.startswith("not an email message")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.builds(lambda b: PLAIN[:200] + b, st.binary(max_size=400)))
def test_no_input_makes_it_raise_and_what_imports_fits_the_database(data: bytes) -> None:
    item = parse_eml(data, now=NOW)

    if isinstance(item, ImportedEmail):
        for text in (item.subject, item.body, item.sender, item.recipient, item.message_id):
            assert "\x00" not in text
            text.encode("utf-8")  # no lone surrogates
        assert len(item.sender) <= 320 and len(item.recipient) <= 320
        assert len(item.thread_id) <= 255 and item.received_at.tzinfo is not None
