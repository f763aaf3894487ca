"""Word segmentation: jieba with a user dictionary generated from the config, behind one class.

Two interchangeable backends give identical words: ``jieba`` (the reference, pure Python) and
``rjieba`` (jieba-rs, the same algorithm and dictionary in Rust, ~25x faster). Parity holds because
(1) HMM is fixed off: jieba's HMM guesses for unknown words are where the two disagree, and school
names and topic words come from the user dictionary anyway; (2) both get the same user words with the
same explicit frequencies, and both count dictionary totals the same way (jieba adds a re-added word's
frequency to its total without removing the old one; jieba-rs replaces it, so we correct jieba).

``cut`` drops whitespace-only tokens (they carry nothing for matching, features or the index);
otherwise it is exactly ``jieba.lcut(text, HMM=False)`` with the user dictionary.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from yuqing.config import Config

Backend = Literal["jieba", "rjieba", "auto"]
HMM = False
# Frequency given to configured words: high enough that jieba keeps a name whole against its parts,
# but of the order of ordinary common words so neighbouring words still segment as usual.
USER_WORD_FREQ = 2000
# jieba (and jieba-rs) cut every whitespace character, or a "\r\n", into a token of its own
_SPACE_TOKEN = re.compile(r"\r\n|\s")


def user_words(cfg: Config) -> list[str]:
    """Words of the county that must stay whole: school names, aliases, short forms, places, topic and
    red-line terms, extra words. Ordered and deduplicated so that the dictionary is reproducible."""
    from analysis.keywords import plain_terms

    words: list[str] = [cfg.county.name, cfg.county.short_name, *cfg.county.townships, *cfg.county.other_places]
    for school in cfg.schools:
        words.extend(school.all_names())
    for topic in cfg.topics:
        words.extend(plain_terms(topic.expression))
    words.extend(cfg.red_lines)
    words.extend(cfg.extra_words)
    seen: set[str] = set()
    out: list[str] = []
    for w in words:
        w = w.strip()
        # jieba only keeps runs of Han/alphanumerics as one token; single characters need no entry.
        if len(w) > 1 and w not in seen and not any(c.isspace() for c in w):
            seen.add(w)
            out.append(w)
    return out


def _jieba_cut(words: list[str]) -> Callable[[str], list[str]]:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    tok = jieba.Tokenizer()
    tok.initialize()
    for w in words:
        old = tok.FREQ.get(w, 0)
        tok.add_word(w, USER_WORD_FREQ)
        tok.total -= old  # count like jieba-rs: a re-added word replaces its old frequency
    lcut = tok.lcut
    return lambda text: lcut(text, HMM=HMM)


def _rjieba_cut(words: list[str]) -> Callable[[str], list[str]]:
    import rjieba

    jb = rjieba.Jieba()
    for w in words:
        jb.add_word(w, USER_WORD_FREQ, None)
    cut = jb.cut
    return lambda text: cut(text, HMM)


class Segmenter:
    """jieba words with the county's dictionary; ``backend`` picks the implementation, not the result."""

    def __init__(self, words: Iterable[str] = (), backend: Backend = "auto") -> None:
        self.words = list(words)
        if backend == "auto":
            try:
                import rjieba  # noqa: F401

                backend = "rjieba"
            except ImportError:  # pragma: no cover - rjieba is a declared dependency
                backend = "jieba"
        if backend not in ("jieba", "rjieba"):
            raise ValueError(f"unknown segmentation backend {backend!r}")
        self.backend: str = backend
        self._cut = _rjieba_cut(self.words) if backend == "rjieba" else _jieba_cut(self.words)

    @classmethod
    def from_config(cls, cfg: Config, backend: Backend = "auto") -> Segmenter:
        return cls(user_words(cfg), backend)

    def cut(self, text: str) -> list[str]:
        words = self._cut(text)
        blanks = len(text) - sum(map(len, text.split()))  # whitespace characters: split() runs in C
        if not blanks:
            return words
        # mostly one kind ("\n" after a title, or spaces): spare the regex scan
        spaces = ["\n"] * blanks if text.count("\n") == blanks else None
        if spaces is None:
            spaces = [" "] * blanks if text.count(" ") == blanks else _SPACE_TOKEN.findall(text)
        if spaces:
            # The whitespace tokens are the text's whitespace: removed by value (a scan in C each, for the
            # few there are), instead of testing each of a post's hundred-odd words in Python.
            try:
                for space in spaces:
                    words.remove(space)
            except ValueError:  # cut otherwise than expected: test every word
                return [w for w in self._cut(text) if not w.isspace()]
        return words

    def cut_many(self, texts: list[str]) -> list[list[str]]:
        return list(map(self.cut, texts))
