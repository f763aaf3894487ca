"""Plain text from markup: whitespace normalisation, element text by a tree walk, counts as shown."""

from __future__ import annotations

import re
from typing import Any

from parsel import Selector

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u200b\u3000]+")


def clean_text(text: str) -> str:
    """Whitespace-normalised plain text: runs of spaces collapsed, lines stripped, blank lines dropped."""
    text = _CONTROL.sub("", text.replace("\r\n", "\n"))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


_BLOCK_TAGS = frozenset(
    "p div br li tr td th h1 h2 h3 h4 h5 h6 ul ol table section article blockquote dd dt header footer pre".split()
)
_SKIP_TAGS = frozenset(("script", "style", "noscript", "template"))


def node_text(sel: Selector | None, block_tags: bool = True) -> str:
    """Plain text of an element: block elements and <br> become line breaks; scripts, styles, comments dropped.

    Walks the lxml tree directly: an XPath over text nodes with ancestor tests costs ten times more.
    """
    if sel is None:
        return ""
    root = sel.root
    if isinstance(root, str):
        return clean_text(root)
    parts: list[str] = []
    _walk(root, parts, block_tags)
    return clean_text("".join(parts))


def _walk(el: Any, parts: list[str], block_tags: bool) -> None:
    tag = el.tag if isinstance(el.tag, str) else ""  # comments and processing instructions have no str tag
    if not tag or tag in _SKIP_TAGS:
        return
    block = block_tags and tag in _BLOCK_TAGS
    if block:
        parts.append("\n")
    if el.text:
        parts.append(el.text)
    for child in el:
        _walk(child, parts, block_tags)
        if child.tail:
            parts.append(child.tail)
    if block:
        parts.append("\n")


def to_int(text: str | int | None) -> int | None:
    """A count as shown: '1,234' → 1234, '1.2万' → 12000, '转发' (no number) → None."""
    if text is None:
        return None
    if isinstance(text, int):
        return text
    m = re.search(r"(\d+(?:\.\d+)?)\s*(万|w|千|k)?", text.replace(",", ""), re.I)
    if not m:
        return None
    value = float(m.group(1))
    unit = (m.group(2) or "").lower()
    value *= {"万": 10000, "w": 10000, "千": 1000, "k": 1000}.get(unit, 1)
    return int(value)


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML fragment (feed summaries, Weibo text): <br> and blocks become line breaks."""
    if "<" not in fragment and "&" not in fragment:
        return clean_text(fragment)
    return node_text(Selector(text=f"<div>{fragment}</div>").css("body > div")[0])
