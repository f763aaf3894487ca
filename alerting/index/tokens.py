"""Word segmentation for the ``words`` field (exact-word scoring in Elasticsearch, the ``words``
column in FTS5).

The analysis area owns the project's segmenter (``analysis.segment.Segmenter``); ``alerting`` may
not import ``analysis`` (layer contract), so the edges pass its ``cut`` to ``open_index(...,
tokenize=...)``. Without one, this module's ``WordCutter`` is used: jieba's dictionary (via the
fast Rust port rjieba when installed) with the county's own names (schools, aliases, topics,
extra words from the config) kept whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from yuqing.config import Config

Tokenize = Callable[[str], list[str]]


def _base_cut() -> Tokenize:
    try:
        import rjieba

        cut: Tokenize = rjieba.cut
        return cut
    except ImportError:  # pragma: no cover - rjieba is a declared dependency
        import jieba

        jieba.setLogLevel(60)
        return lambda text: jieba.lcut(text, HMM=True)


class WordCutter:
    """jieba words, whitespace dropped, with configured phrases never split."""

    def __init__(self, phrases: Iterable[str] = ()):
        self._cut = _base_cut()
        kept = sorted({p.strip() for p in phrases if p and len(p.strip()) > 1}, key=len, reverse=True)
        self._phrases = re.compile("|".join(re.escape(p) for p in kept)) if kept else None

    @classmethod
    def from_config(cls, cfg: Config) -> WordCutter:
        phrases: list[str] = list(cfg.extra_words)
        for school in cfg.schools:
            phrases.append(school.name)
            phrases.extend(getattr(school, "aliases", []) or [])
        for topic in cfg.topics:
            phrases.extend(getattr(topic, "keywords", []) or [])
        return cls(phrases)

    def __call__(self, text: str) -> list[str]:
        if self._phrases is None:
            return [w for w in self._cut(text) if w.strip()]
        out: list[str] = []
        last = 0
        for m in self._phrases.finditer(text):
            out.extend(w for w in self._cut(text[last : m.start()]) if w.strip())
            out.append(m.group(0))
            last = m.end()
        out.extend(w for w in self._cut(text[last:]) if w.strip())
        return out
