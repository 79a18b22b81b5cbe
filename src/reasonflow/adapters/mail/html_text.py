"""HTML mail bodies reduced to readable plain text (stdlib ``html.parser``)."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

# Content that is never shown as text.
_HIDDEN = frozenset({"script", "style", "title", "template"})
# Elements that start on a line of their own; the first group also after a blank line.
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table"})
# fmt: off
_BLOCKS = _PARAGRAPHS | {
    "address", "article", "aside", "body", "center", "dd", "div", "dl", "dt", "fieldset",
    "figcaption", "figure", "footer", "form", "header", "hr", "html", "li", "main", "nav",
    "ol", "section", "tbody", "tfoot", "thead", "tr", "ul",
}
# fmt: on
_SPACES = re.compile(r"\s+")
_TAG = re.compile(r"<[^>]*>")


def html_to_text(markup: str) -> str:
    """Visible text of ``markup``: scripts and styles dropped, a line break per
    block element, entities unescaped, runs of white space collapsed (except in
    ``<pre>``). Never raises: markup the parser rejects loses its tags by pattern."""
    extractor = _TextExtractor()
    try:
        extractor.feed(markup)
        extractor.close()
    except Exception:  # html.parser still raises AssertionError on some declarations
        text = html.unescape(_TAG.sub(" ", markup))
        return _tidy(_SPACES.sub(" ", text))
    return _tidy(extractor.text())


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self._parts: list[str] = []
        self._hidden = 0
        self._pre = 0

    def text(self) -> str:
        return "".join(self._parts)

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:  # an unknown keyword, as in ``<![foo[ … ]]>``: skip it
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "br":
            self._emit("\n")
        elif tag in _BLOCKS:
            self._break(blank=tag in _PARAGRAPHS)
            if tag == "li":
                self._emit("- ")
        elif tag in ("td", "th") and not self._at_line_start():
            self._emit(" ")
        if tag == "pre":
            self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN:
            self._hidden = max(0, self._hidden - 1)
        elif tag in _BLOCKS:
            self._break(blank=tag in _PARAGRAPHS)
        if tag == "pre":
            self._pre = max(0, self._pre - 1)

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        if not self._pre:
            data = _SPACES.sub(" ", data)
            if self._at_line_start():
                data = data.lstrip(" ")
        self._emit(data)

    def _emit(self, text: str) -> None:
        if text:
            self._parts.append(text)

    def _at_line_start(self) -> bool:
        return not self._parts or self._parts[-1].endswith("\n")

    def _break(self, *, blank: bool) -> None:
        if not self._parts:
            return
        tail = "".join(self._parts[-2:])
        wanted = "\n\n" if blank else "\n"
        if not tail.endswith(wanted):
            self._emit("\n" if tail.endswith("\n") else wanted)
