"""Reading headers and text of parsed mail without trusting them.

Every function degrades instead of raising: the header registry of
``email.policy.default`` decodes RFC 2047 words, and where it gives up the raw
value is decoded by hand.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

MAX_ID = 255  # the width of the thread column: longer ids are hashed
_ANGLED = re.compile(r"<([^<>]*)>")
_SPACE = re.compile(r"\s+")
_SURROGATES = re.compile("[\ud800-\udfff]")
_PRINTABLE_ASCII = re.compile(r"[!-~]+")


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text in the declared charset if it decodes cleanly, else UTF-8 if that
    does; else, when UTF-8 was declared, UTF-8 with U+FFFD for the damaged
    bytes, and otherwise Latin-1 (undeclared 8-bit text; never fails)."""
    declared = _codec(charset)
    for codec in (declared, "utf-8"):
        if codec is not None:
            try:
                return data.decode(codec)
            except (UnicodeDecodeError, LookupError):  # LookupError: not a text codec
                continue
    if declared == "utf-8":
        return data.decode("utf-8", "replace")
    return data.decode("latin-1")


def header(msg: EmailMessage, name: str) -> str | None:
    """The first ``name`` header as one line of text, or None when absent."""
    raw = _raw(msg, name)
    if raw is None:
        return None
    if _SURROGATES.search(raw):
        # 8-bit bytes with no declared charset; the registry would make them U+FFFD.
        return _one_line(_decode_words(decode_bytes(_raw_bytes(raw), None)))
    try:
        return _one_line(str(msg[name]))
    except Exception:  # a value the header registry cannot parse
        return _one_line(_decode_words(raw))


def addresses(msg: EmailMessage, name: str) -> list[tuple[str, str]]:
    """``(display name, address)`` of each mailbox in the ``name`` header."""
    try:
        found = [(a.display_name, a.addr_spec) for a in msg[name].addresses]
    except Exception:  # absent (None has no addresses) or unparsable
        raw = header(msg, name)
        found = getaddresses([raw]) if raw else []
    pairs = [(_one_line(n), _SPACE.sub("", _clean(a))) for n, a in found]
    return [(n, a) for n, a in pairs if a and a != "<>"]


def message_ids(value: str | None) -> list[str]:
    """The ids in a Message-ID, References or In-Reply-To value, as ``<id>``.

    Bare ids are accepted when they contain ``@``, so an old-style
    ``In-Reply-To: Your message of …`` phrase is not taken for one.
    """
    if not value:
        return []
    tokens = [_SPACE.sub("", t) for t in _ANGLED.findall(value)]
    if not any(tokens):
        tokens = [t.strip("<>") for t in value.split() if "@" in t]
    return [_normal_id(t) for t in tokens if t]


def synthetic_id(*parts: str) -> str:
    """A stable Message-ID for a message that has none, from its content."""
    digest = hashlib.sha256("\x00".join(parts).encode("utf-8", "replace")).hexdigest()
    return f"<sha256-{digest}@reasonflow.import>"


def received_at(msg: EmailMessage) -> datetime | None:
    """The Date header as aware UTC (an unknown zone, ``-0000``, is taken as
    UTC), or None when absent or unparsable."""
    try:
        when = msg["Date"].datetime
    except Exception:  # absent, or a value the header registry cannot parse
        try:
            when = parsedate_to_datetime(header(msg, "Date") or "")
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    if not isinstance(when, datetime):
        return None
    try:
        return (when if when.tzinfo else when.replace(tzinfo=UTC)).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _normal_id(token: str) -> str:
    if len(token) + 2 <= MAX_ID and _PRINTABLE_ASCII.fullmatch(token):
        return f"<{token}>"
    return synthetic_id(token)


def _codec(charset: str | None) -> str | None:
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except (LookupError, ValueError, TypeError):
        return None


def _raw(msg: EmailMessage, name: str) -> str | None:
    wanted = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == wanted:
            return str(value)
    return None


def _raw_bytes(raw: str) -> bytes:
    """The bytes a parsed header came from (the parser kept 8-bit ones as surrogates)."""
    return raw.encode("utf-8", "surrogateescape")


def _decode_words(text: str) -> str:
    try:
        return str(make_header(decode_header(text)))
    except Exception:  # malformed encoded words: keep the text as it is
        return text


def _one_line(text: str) -> str:
    return _SPACE.sub(" ", _clean(text)).strip()


def _clean(text: str) -> str:
    """No NUL (Postgres refuses it) and no lone surrogate (UTF-8 cannot hold one)."""
    return text.replace("\x00", "").encode("utf-8", "replace").decode("utf-8")
