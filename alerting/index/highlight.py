"""Highlight fragments computed in Python (the FTS5 backend; Elasticsearch highlights itself).

Matches are found on the same standard tokens the query matched on, so what is marked is what
made the post match. The output is safe HTML: the text is escaped, only <em> tags are added.
"""

from __future__ import annotations

import html

from alerting.index.querysyntax import _TOKEN, Term

FRAGMENT_CHARS = 60
MAX_FRAGMENTS = 3


def match_spans(text: str, terms: list[Term]) -> list[tuple[int, int]]:
    """Character spans of ``text`` where any term's token sequence occurs, merged and sorted."""
    toks = [(m.start(), m.end(), m.group(0).lower()) for m in _TOKEN.finditer(text)]
    words = [t[2] for t in toks]
    spans: list[tuple[int, int]] = []
    for term in terms:
        seq = list(term.tokens)
        k = len(seq)
        for i in range(len(words) - k + 1):
            if words[i : i + k] == seq:
                spans.append((toks[i][0], toks[i + k - 1][1]))
    spans.sort()
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def whole(text: str, terms: list[Term]) -> list[str]:
    """The whole field highlighted (titles), or nothing when it has no match."""
    spans = match_spans(text, terms)
    if not spans:
        return []
    parts, pos = [], 0
    for a, b in spans:
        parts.append(html.escape(text[pos:a]) + "<em>" + html.escape(text[a:b]) + "</em>")
        pos = b
    return ["".join(parts) + html.escape(text[pos:])]


def fragments(text: str, terms: list[Term], size: int = FRAGMENT_CHARS, limit: int = MAX_FRAGMENTS) -> list[str]:
    spans = match_spans(text, terms)
    out: list[str] = []
    i = 0
    while i < len(spans) and len(out) < limit:
        start = max(0, spans[i][0] - size // 3)
        end = min(len(text), start + size)
        parts: list[str] = []
        pos = start
        while i < len(spans) and spans[i][0] < end:
            a, b = spans[i]
            b = max(b, a)
            parts.append(html.escape(text[pos:a]))
            parts.append("<em>" + html.escape(text[a:b]) + "</em>")
            pos = b
            end = max(end, b)
            i += 1
        parts.append(html.escape(text[pos:end]))
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        out.append(prefix + "".join(parts).strip() + suffix)
    return out
