"""Build ``labelled_emails.jsonl`` from the hand-written sources in ``labelled_src/``.

Every email was written for this project (nothing is copied from a public
corpus) and labelled by what a careful reader would say it is, following the
rules in ``tests/data/README.md`` — never by what the offline classifier
answers. A source file is named ``<language>_<anything>.txt`` and holds blocks:

    @@ <intent> | <subject>
    <the body, up to the next @@>

with, on lines of their own anywhere in the block (never part of the body):

    @from Display Name <address>      (optional: else a name of the language)
    @with signature, legal, mobile    (optional: appended in the language)
    @tags sarcasm, mixed              (optional: what makes it hard)

The builder only adds what mail clients add (a sender when none is given, a
signature block, a legal footer, "Sent from my phone"), chosen by a random
generator seeded with the email's id, so the output is the same on every run:

    .venv/bin/python -m tests.data.build_labelled_emails          # rewrite the file
    .venv/bin/python -m tests.data.build_labelled_emails --check  # exit 1 if stale
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
import zlib
from pathlib import Path
from typing import Any

from tests.data.labelled_extras import FOOTERS, LANGUAGES

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "labelled_src"
OUTPUT = HERE / "labelled_emails.jsonl"
INTENTS = ("inquiry", "meeting_request", "complaint", "follow_up", "spam", "other")
WITH = ("signature", "legal", "mobile")
TAGS = (
    "sarcasm",
    "mixed",
    "forwarded",
    "quoted",
    "thread",
    "polite",
    "no_cues",
    "disguised",
    "short",
    "long",
)
_HEADER = re.compile(r"^@@ (\w+) \| (.+)$")
_META = re.compile(r"^@(from|with|tags) (.+)$")


class SourceError(ValueError):
    """A block that does not follow the format; the message says where."""


def _split(names: str, allowed: tuple[str, ...], where: str) -> list[str]:
    items = [n.strip() for n in names.split(",") if n.strip()]
    unknown = sorted(set(items) - set(allowed))
    if unknown:
        raise SourceError(f"{where}: unknown {unknown}, expected some of {allowed}")
    return items


def parse(path: Path) -> list[dict[str, Any]]:
    """The blocks of one source file, in order, before any decoration."""
    blocks: list[dict[str, Any]] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        where = f"{path.name}:{n}"
        header = _HEADER.match(line)
        if header:
            intent, subject = header.groups()
            if intent not in INTENTS:
                raise SourceError(f"{where}: unknown intent {intent!r}")
            blocks.append(
                {"intent": intent, "subject": subject.strip(), "lines": [], "with": [], "tags": []}
            )
            continue
        if not blocks:
            if line.strip() and not line.startswith("#"):
                raise SourceError(f"{where}: text before the first @@ block")
            continue
        block = blocks[-1]
        meta = _META.match(line)
        if meta:
            key, value = meta.groups()
            if key == "from":
                block["sender"] = value.strip()
            else:
                block[key] = _split(value, WITH if key == "with" else TAGS, where)
            continue
        block["lines"].append(line)
    return blocks


_HISTORY = re.compile(r"^(?:>|-{3,}|_{5,}|.*(?:wrote|schrieb|a écrit|escribió):$)", re.M)
_NAME = re.compile(r"^(?:[A-ZÀ-Ý][\w'\u2019-]*\.? ?){1,3}$")
_TITLES = ("Mr", "Mrs", "Ms", "Dr", "Mr.", "Mrs.", "Ms.", "Dr.")
_NOT_NAMES = {
    "Shopfitting", "Decorating", "Mortgages", "Surveyors", "Conveyancing", "Team", "Department",
    "Headteacher", "Gestoría", "Steuerkanzlei", "Hausverwaltung", "Dirección", "Secretary",
    "Talent", "Customer", "Sales", "Manager", "Events", "Accounts", "Hi", "Hello", "Thanks",
    "Cheers", "Danke", "Best", "Regards", "Merci", "Gracias", "Enjoy", "Congratulations",
    "GmbH", "Retail", "Manufacturing", "The", "Analytics", "Grupo", "Personalabteilung",
    "Partners", "Health",
}  # fmt: skip


def signed_name(body: str) -> tuple[str, str | None] | None:
    """(first, last) of the name a hand-written body is signed with, if any.

    Looks at the last lines before any quoted or forwarded history, so that a
    generated sender agrees with the sign-off ("Thanks, Zoe" comes from Zoe).
    """
    own = body[: m.start()] if (m := _HISTORY.search(body)) else body
    for line in [x.strip() for x in own.splitlines() if x.strip()][-4:][::-1]:
        line = line.rsplit(",", 1)[-1].strip().removeprefix("x ")
        line = re.split(r" (?:&|and|y|et|und) ", line)[0]
        words = line.split()
        if not _NAME.match(line) or _NOT_NAMES & set(words) or any(c.isdigit() for c in line):
            continue
        if words[0] in _TITLES:
            rest = words[1:]
            return ("", " ".join(rest)) if len(rest) == 1 else (rest[0], " ".join(rest[1:]))
        return words[0], " ".join(words[1:]) or None
    return None


def _sender(lang: str, rng: random.Random, body: str, domain: str | None) -> str:
    people = LANGUAGES[lang]
    # Never the name the email greets ("Hi Marcus," is not from Marcus).
    greeted = set(re.findall(r"\w+", body.split("\n", 1)[0][:40]))
    first = rng.choice([n for n in people["first"] if n not in greeted])
    last = rng.choice(people["last"])
    signed = signed_name(body)
    if signed:
        first, last = signed[0] or first, signed[1] or last
    domain = domain or rng.choice(people["domains"])
    local = f"{first}.{last}" if rng.random() < 0.7 else f"{first[0]}{last}"
    local = local.lower().replace("..", ".")
    ascii_local = unicodedata.normalize("NFKD", local.replace("ß", "ss")).encode("ascii", "ignore")
    return f"{first} {last} <{ascii_local.decode().replace(' ', '')}@{domain}>"


def _name_of(sender: str) -> str:
    return sender.split("<", 1)[0].strip().strip('"') or sender


def decorate(lang: str, block: dict[str, Any], email_id: str) -> dict[str, Any]:
    rng = random.Random(zlib.crc32(email_id.encode()))
    body = "\n".join(block["lines"]).strip()
    extras = FOOTERS[lang]
    signature = rng.choice(extras["signatures"])
    if "sender" in block:
        sender = block["sender"]
        # Signed from the sender's own company when one of the signatures is.
        domain = sender.rsplit("@", 1)[-1].rstrip(">")
        signature = next((s for s in extras["signatures"] if s[3] == domain), signature)
    else:
        sender = _sender(lang, rng, body, signature[3] if "signature" in block["with"] else None)
    for kind in block["with"]:
        if kind == "signature":
            role, company, phone, _ = signature
            body += f"\n\n--\n{_name_of(sender)}\n{role} | {company}\n{phone}"
        elif kind == "legal":
            body += "\n\n" + rng.choice(extras["legal"])
        else:
            body += "\n\n" + rng.choice(extras["mobile"])
    return {
        "id": email_id,
        "subject": block["subject"],
        "body": body,
        "sender": sender,
        "language": lang,
        "intent": block["intent"],
        "tags": block["tags"],
    }


def build() -> list[dict[str, Any]]:
    """Every email of every source file; ids are ``<language>-<nnn>`` in file order."""
    emails: list[dict[str, Any]] = []
    counters: dict[str, int] = {}
    for path in sorted(SOURCES.glob("*.txt")):
        lang = path.stem.split("_", 1)[0]
        if lang not in LANGUAGES:
            raise SourceError(f"{path.name}: no language {lang!r} in labelled_extras.py")
        for block in parse(path):
            counters[lang] = counters.get(lang, 0) + 1
            emails.append(decorate(lang, block, f"{lang}-{counters[lang]:03d}"))
    return emails


def render(emails: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in emails)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        stale = not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text
        print(f"{OUTPUT.name} is {'STALE' if stale else 'up to date'}")
        return 1 if stale else 0
    OUTPUT.write_text(text, encoding="utf-8")
    print(f"{len(text.splitlines())} emails written to {OUTPUT.relative_to(HERE.parents[1])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
