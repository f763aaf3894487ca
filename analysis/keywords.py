"""Keyword topics in the grammar monitors write in keywords.yaml.

An expression is one or more clauses separated by ``|``; a topic matches when any clause matches.
Inside a clause, terms are separated by spaces:

- ``word``   any of the plain words (or regexes) must occur — at least one of them, if there are any;
- ``+word``  must occur;
- ``!word``  must not occur;
- ``/re/``   a regular expression, usable wherever a word is (``+/re/``, ``!/re/``).

Words match as substrings of the text (Chinese has no spaces to match words on). Example:
``收费 补课费 资料费 +钱 | 乱收费 强制收费`` matches "补课费要交多少钱" and "乱收费" but not "补课费" alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from analysis.kernels import Automaton
from yuqing.errors import InputError

if TYPE_CHECKING:
    from yuqing.config import Config

# A token is a /regex/ (which may contain | and spaces are not allowed inside) or a run of non-space,
# non-| characters; either may carry a + or ! prefix. Clause separators are bare |.
_TOKEN = re.compile(r"(?P<op>[+!]?)(?:/(?P<re>(?:\\.|[^/\\])+)/|(?P<word>[^\s|/][^\s|]*))|(?P<bar>\|)")


class TopicSyntaxError(ValueError):
    pass


@dataclass
class _Term:
    text: str
    regex: re.Pattern[str] | None = None

    def found(self, text: str, words: set[str] | None = None) -> bool:
        """Whether the term occurs; ``words`` (plain words known to occur) spares the substring search."""
        if self.regex is not None:
            return bool(self.regex.search(text))
        return self.text in words if words is not None else self.text in text


@dataclass
class Clause:
    any_of: list[_Term] = field(default_factory=list)
    must: list[_Term] = field(default_factory=list)
    must_not: list[_Term] = field(default_factory=list)
    # set by compile(): the bits of the plain words of which the clause needs one, None when it can match
    # without them
    vocabulary: int | None = field(default=None, init=False, repr=False, compare=False)

    def compile(self, bit: dict[str, int]) -> None:
        """Bitmasks of the plain words (``bit``: each word's bit), for matching against the bitmask of the
        words found in a text."""
        self._any = _mask(bit, (t.text for t in self.any_of if t.regex is None))
        self._must = _mask(bit, (t.text for t in self.must if t.regex is None))
        self._not = _mask(bit, (t.text for t in self.must_not if t.regex is None))
        # the regexes' bound search methods, called in plain loops (no generator per clause and text)
        self._any_re = [t.regex.search for t in self.any_of if t.regex is not None]
        self._must_re = [t.regex.search for t in self.must if t.regex is not None]
        self._not_re = [t.regex.search for t in self.must_not if t.regex is not None]
        self.vocabulary = (self._any | self._must) if self.needs_words() else None

    def matches_found(self, text: str, found: int) -> bool:
        """``matches`` given the bitmask of plain words that occur in ``text`` (compile() first)."""
        if self.any_of and not found & self._any:
            for search in self._any_re:
                if search(text):
                    break
            else:
                return False
        if found & self._must != self._must:
            return False
        for search in self._must_re:
            if not search(text):
                return False
        if found & self._not:
            return False
        for search in self._not_re:
            if search(text):
                return False
        return True

    def matches(self, text: str, words: set[str] | None = None) -> bool:
        if self.any_of and not any(t.found(text, words) for t in self.any_of):
            return False
        if not all(t.found(text, words) for t in self.must):
            return False
        return not any(t.found(text, words) for t in self.must_not)

    def empty(self) -> bool:
        return not (self.any_of or self.must)

    def needs_words(self) -> bool:
        """Whether the clause can only match a text containing one of its plain words."""
        return bool(self._must or (self._any and not self._any_re))


def _mask(bit: dict[str, int], words: Iterable[str]) -> int:
    out = 0
    for w in words:
        out |= 1 << bit[w]
    return out


def parse(expression: str) -> list[Clause]:
    """Clauses of an expression; raises TopicSyntaxError on an invalid regex or stray text."""
    clauses = [Clause()]
    pos = 0
    for m in _TOKEN.finditer(expression):
        gap = expression[pos : m.start()]
        if gap.strip():
            raise TopicSyntaxError(f"无法解析的关键词表达式片段: {gap.strip()!r}")
        pos = m.end()
        if m.group("bar"):
            clauses.append(Clause())
            continue
        if m.group("re") is not None:
            try:
                term = _Term(m.group("re"), re.compile(m.group("re")))
            except re.error as exc:
                raise TopicSyntaxError(f"正则表达式无效 /{m.group('re')}/: {exc}") from exc
        else:
            term = _Term(m.group("word"))
        {"": clauses[-1].any_of, "+": clauses[-1].must, "!": clauses[-1].must_not}[m.group("op")].append(term)
    if expression[pos:].strip():
        raise TopicSyntaxError(f"无法解析的关键词表达式片段: {expression[pos:].strip()!r}")
    # A clause of exclusions only ("!x") would match nearly everything: it is a typo, not a topic.
    return [c for c in clauses if not c.empty()]


def plain_terms(expression: str) -> list[str]:
    """The positive plain words of an expression (for the segmentation dictionary)."""
    try:
        clauses = parse(expression)
    except TopicSyntaxError:
        return []
    return [t.text for c in clauses for t in (*c.any_of, *c.must) if t.regex is None]


class TopicMatcher:
    """Display names of the topics whose expression matches a text, in config order."""

    def __init__(self, topics: Iterable[tuple[str, str]]) -> None:
        self._topics = []
        for name, expr in topics:
            try:
                self._topics.append((name, parse(expr)))
            except TopicSyntaxError as exc:
                raise InputError(f"专题 {name!r} 的关键词表达式无效: {exc}", where="keywords.yaml") from None
        plain = sorted(
            {t.text for _, cs in self._topics for c in cs for t in (*c.any_of, *c.must, *c.must_not) if not t.regex}
        )
        bit = {w: i for i, w in enumerate(plain)}
        for _, clauses in self._topics:
            for c in clauses:
                c.compile(bit)
        # Words match as substrings: one compiled Aho-Corasick scan (analysis/_match_kernel.pyx) gives the
        # words that occur, overlapping and nested ones included, as one bitmask (bit i: plain[i]).
        self._found = Automaton(plain).found if plain else None
        # A topic whose every clause needs one of its plain words is skipped when none occurs: its
        # vocabulary (the union of the bits) is None when some clause needs none.
        self._compiled: list[tuple[str, list[Clause], int | None]] = []
        for name, clauses in self._topics:
            vocabularies = [c.vocabulary for c in clauses]
            vocabulary: int | None = None
            if all(v is not None for v in vocabularies):
                vocabulary = 0
                for v in vocabularies:
                    vocabulary |= v or 0
            self._compiled.append((name, clauses, vocabulary))

    @classmethod
    def from_config(cls, cfg: Config) -> TopicMatcher:
        return cls((t.name, t.expression) for t in cfg.topics)

    def match(self, text: str) -> list[str]:
        found = self._found(text) if text and self._found is not None else 0
        out = []
        for name, clauses, vocabulary in self._compiled:
            if vocabulary is not None and not found & vocabulary:
                continue
            for c in clauses:
                if c.matches_found(text, found):
                    out.append(name)
                    break
        return out
