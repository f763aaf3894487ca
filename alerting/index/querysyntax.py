"""The user's query language, parsed once and rendered by each backend.

    食堂 家长           both words (AND is the default; an explicit AND is allowed)
    "一中 食堂"          a phrase: the characters in this order, punctuation and spaces ignored
    食堂 OR 宿舍         either (OR binds tighter than AND: ``a b OR c`` is a AND (b OR c))
    -招生               without this word (also -"…")

A *word* matches a post whose title or content contains it as a character sequence, after the
text is cut into "standard" tokens (one token per Chinese character, runs of Latin letters and
digits as one lowercase token, punctuation dropped). Both backends implement exactly this on the
same tokens, so they agree on result sets: Elasticsearch with phrase queries on a bigram
(shingle) analysis, FTS5 with phrase queries on bigram and unigram columns built in Python.
Bad syntax raises ``InputError`` with a Chinese message that says what to change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from yuqing.errors import InputError

MAX_QUERY_CHARS = 500
MAX_TERMS = 32

# One Chinese (or other CJK) ideograph, hiragana or emoji is a token of its own, as the standard
# tokenizer (UAX #29) makes them; katakana and hangul runs are words; Latin (and Greek, Cyrillic,
# Roman numeral) letters and digits, half or full width, form runs that may contain an inner "."
# or "'" (3.5, o'clock) or "," between digits (1,000). Checked against the node's own analysis
# in tests/test_index_es.py.
_SINGLE = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3007\u3040-\u309f\u2600-\u27bf\U0001f300-\U0001faff"
_KATAKANA = "\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f"
_HANGUL = "\uac00-\ud7af\u1100-\u11ff\u3130-\u318f"
_ALNUM = ("A-Za-z0-9\u00c0-\u024f\u0370-\u03ff\u0400-\u04ff\u2160-\u2188"
          "\uff10-\uff19\uff21-\uff3a\uff41-\uff5a")
# "_" joins letters and digits (a_b, _x) but is no token on its own.
_WORD = rf"_*[{_ALNUM}][{_ALNUM}_]*"
_TOKEN = re.compile(
    rf"[{_SINGLE}]|[{_KATAKANA}]+|[{_HANGUL}]+|{_WORD}(?:(?:[.'’]{_WORD})|(?:(?<=[0-9]),[0-9]+))*"
)


def std_tokens(text: str) -> list[str]:
    """The standard tokens of ``text``, lowercased (what Elasticsearch's standard tokenizer and
    lowercase filter produce for the texts we index)."""
    return [m.group(0).lower() for m in _TOKEN.finditer(text)]


def bigrams(tokens: list[str]) -> list[str]:
    """Adjacent pairs joined without a separator, like the ``shingle`` filter we configure."""
    return [a + b for a, b in zip(tokens, tokens[1:], strict=False)]


@dataclass(frozen=True)
class Term:
    text: str  # as the user typed it (without quotes)
    tokens: tuple[str, ...]  # its standard tokens; never empty
    phrase: bool = False


@dataclass(frozen=True)
class Clause:
    """Any of ``terms`` (an OR group of one or more); ``negated`` excludes matches instead."""

    terms: tuple[Term, ...]
    negated: bool = False


@dataclass(frozen=True)
class ParsedQuery:
    clauses: tuple[Clause, ...]  # all must hold

    @property
    def positive(self) -> list[Clause]:
        return [c for c in self.clauses if not c.negated]

    @property
    def negative(self) -> list[Clause]:
        return [c for c in self.clauses if c.negated]

    @property
    def empty(self) -> bool:
        return not self.clauses

    def words(self) -> list[str]:
        """The positive terms, for highlighting."""
        return [t.text for c in self.positive for t in c.terms]


@dataclass(frozen=True)
class _Lex:
    kind: str  # "term" | "or"
    text: str = ""
    phrase: bool = False
    negated: bool = False
    pos: int = 0


def _lex(q: str) -> list[_Lex]:
    out: list[_Lex] = []
    i, n = 0, len(q)
    while i < n:
        ch = q[i]
        if ch.isspace():
            i += 1
            continue
        start = i
        if ch in "()（）":
            raise InputError(
                "不支持括号;多个词默认同时满足,用 OR 表示“或”,用 -词 排除", where=f"检索式第 {i + 1} 个字符"
            )
        negated = False
        if ch in "-－":
            negated = True
            i += 1
            if i >= n or q[i].isspace():
                raise InputError("减号后面要紧跟要排除的词,例如 -招生", where=f"检索式第 {start + 1} 个字符")
            ch = q[i]
        if ch in "\"“”":
            close = q.find('"', i + 1) if ch == '"' else _find_any(q, "”\"", i + 1)
            if close < 0:
                raise InputError("引号不成对:短语要用一对双引号括起来", where=f"检索式第 {i + 1} 个字符")
            text = q[i + 1 : close]
            if not text.strip():
                raise InputError("引号中间是空的", where=f"检索式第 {i + 1} 个字符")
            out.append(_Lex("term", text, phrase=True, negated=negated, pos=start))
            i = close + 1
            continue
        j = i
        while j < n and not q[j].isspace() and q[j] not in "\"“”()（）":
            j += 1
        word = q[i:j]
        if not negated and word in ("OR", "|", "或"):
            out.append(_Lex("or", pos=start))
        elif not negated and word == "AND":
            pass  # AND is the default; accept it so that users may write it
        else:
            out.append(_Lex("term", word, negated=negated, pos=start))
        i = j
    return out


def _find_any(q: str, chars: str, start: int) -> int:
    hits = [p for p in (q.find(c, start) for c in chars) if p >= 0]
    return min(hits) if hits else -1


def parse(q: str) -> ParsedQuery:
    """Parse the user's query; an empty or blank query matches everything."""
    if len(q) > MAX_QUERY_CHARS:
        raise InputError(f"检索式太长({len(q)} 字),请控制在 {MAX_QUERY_CHARS} 字以内")
    lexed = _lex(q)
    clauses: list[Clause] = []
    group: list[Term] = []
    group_negated = False
    pending_or = False
    for lx in lexed:
        if lx.kind == "or":
            if not group:
                raise InputError("OR 前面缺少词", where=f"检索式第 {lx.pos + 1} 个字符")
            if pending_or:
                raise InputError("两个 OR 连在一起了", where=f"检索式第 {lx.pos + 1} 个字符")
            if group_negated:
                raise InputError("排除词(-词)不能用 OR 连接", where=f"检索式第 {lx.pos + 1} 个字符")
            pending_or = True
            continue
        tokens = tuple(std_tokens(lx.text))
        if not tokens:
            raise InputError(f"“{lx.text}”里没有可检索的文字或数字", where=f"检索式第 {lx.pos + 1} 个字符")
        term = Term(lx.text, tokens, lx.phrase)
        if pending_or:
            if lx.negated:
                raise InputError("排除词(-词)不能用 OR 连接", where=f"检索式第 {lx.pos + 1} 个字符")
            group.append(term)
            pending_or = False
            continue
        if group:
            clauses.append(Clause(tuple(group), group_negated))
        group, group_negated = [term], lx.negated
    if pending_or:
        raise InputError("OR 后面缺少词")
    if group:
        clauses.append(Clause(tuple(group), group_negated))
    if sum(len(c.terms) for c in clauses) > MAX_TERMS:
        raise InputError(f"检索式中的词太多,最多 {MAX_TERMS} 个")
    parsed = ParsedQuery(tuple(clauses))
    if clauses and not parsed.positive:
        raise InputError("只有排除词:请至少给出一个要查找的词,例如 食堂 -招生")
    return parsed
