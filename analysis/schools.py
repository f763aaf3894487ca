"""Which of our schools a text is about: official names, aliases and ambiguous short forms.

Rules (the monitors' own reading of a post):
- an official name or an alias counts on its own;
- a short form ("一中", "县一中", "实验小学") counts only when the text also names our county or one of
  its townships, or the post comes from a source scoped to the county;
- any name attached to another place ("邻县一中", "河西县实验小学", "我市一中") is that place's school and
  is rejected, whether the place is listed in county.other_places or just looks like one (…县/市/区/镇/乡);
- a short form that is part of a longer word is not a school: "第一中学" (some school's full name),
  "十一中", "初二中午", "周一中午", "统一中考".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from analysis.kernels import Automaton, join_cjk_spaces

if TYPE_CHECKING:
    from yuqing.config import Config

_PLACE_SUFFIX = "县市区镇乡"
# A place right before a name: up to four characters and a place suffix, e.g. 河西县, 我市, 江南市.
_PLACE_BEFORE = re.compile(rf"([\u4e00-\u9fff]{{1,4}}?[{_PLACE_SUFFIX}])$")
# Deictic stems that, before the county's own suffix, mean our county: 本县一中, 我县二中, 全县.
_OUR_DEICTIC = ("", "本", "我", "全", "该", "咱", "此", "这个", "我们", "咱们")
# Characters that end a phrase: the place word starts after the last of them ("都去县一中" is 县一中).
_FUNCTION = set("的地得了着过是在去到从往向和与跟及或都也还就才又再很说听看把被让给对为于有没不这那个些里")
# A short form right after one of these is part of a longer word (第一中学, 十一中, 初二中午, 周一中午).
_BAD_BEFORE = set("第十百千万零〇两几初高周统唯其之每任同期单届0123456789０１２３４５６７８９")
# …or right before one of these (中午, 中旬, 中心, 中国, 中医, 中等, 中年, 中秋, 中奖, 中外, 中华, 中毒).
_BAD_AFTER = set("午旬间途心央国医药等性年秋奖介外华共断毒")
_BAD_AFTER_WORDS = ("全会",)  # 二中全会
# Spaces inside a Chinese name ("示例 县第一中学") are layout, not separators: a run of whitespace between two
# CJK characters is dropped (analysis._match_kernel.join_cjk_spaces).


@dataclass(frozen=True)
class _Name:
    surface: str
    school_id: str
    kind: str  # "name" | "alias" | "short"


class SchoolMatcher:
    def __init__(
        self,
        names: list[_Name],
        our_places: list[str],
        other_places: list[str],
        county_suffix: str = "县",
    ) -> None:
        self.county_suffix = county_suffix
        by_surface: dict[str, _Name] = {}
        rank = {"name": 0, "alias": 1, "short": 2}
        for n in names:
            # A surface listed both as alias and short form counts alone (the stronger kind wins).
            old = by_surface.get(n.surface)
            if old is None or rank[n.kind] < rank[old.kind]:
                by_surface[n.surface] = n
        self._names = by_surface
        surfaces = sorted(by_surface, key=len, reverse=True)
        # Leftmost-longest, non-overlapping: what a regex alternation of the surfaces, longest first, finds
        # (one compiled scan, ~4 times faster than re.finditer, one tuple per name found)
        self._scan = Automaton(surfaces).spans if surfaces else None
        self._surfaces = [by_surface[s] for s in surfaces]
        self.our_places = [p for p in our_places if p]
        self.other_places = [p for p in other_places if p]
        self._ours = tuple(self.our_places)  # for str.startswith/endswith, which take a tuple
        # names that say themselves they are ours (示例县一中, 东山镇中学): no place before them can claim them
        self._self_placed = {s for s in by_surface if s.startswith(self._ours)} if self._ours else set()
        ours = Automaton(sorted(self.our_places, key=len, reverse=True))
        self._ours_found, self._ours_spans = ours.found, ours.spans
        others = sorted(self.other_places, key=len, reverse=True)
        self._others_spans = Automaton(others).spans if others else None

    @classmethod
    def from_config(cls, cfg: Config) -> SchoolMatcher:
        names: list[_Name] = []
        for s in cfg.schools:
            names.append(_Name(s.name, s.id, "name"))
            names.extend(_Name(a, s.id, "alias") for a in s.aliases if a)
            names.extend(_Name(a, s.id, "short") for a in s.short_forms if a)
        c = cfg.county
        ours = [c.name, c.short_name, *c.townships]
        return cls(names, ours, list(c.other_places), county_suffix=c.name[-1:] or "县")

    # -- matching ---------------------------------------------------------------------------------

    def _is_ours(self, place: str) -> bool:
        if self._ours and place.endswith(self._ours):
            return True
        cut = max((i for i, ch in enumerate(place) if ch in _FUNCTION), default=-1)
        stem, suffix = place[cut + 1 : -1], place[-1]
        # "县一中" alone, 本县, 我县: our county; 我市, 全市: the city, not ours
        return suffix == self.county_suffix and stem in _OUR_DEICTIC

    def _other_spans(self, text: str) -> list[tuple[int, int]]:
        if self._others_spans is None:
            return []
        return [(a, b) for a, b, _ in self._others_spans(text)]

    def _attached_elsewhere(self, text: str, start: int, end: int, surface: str, others: list[tuple[int, int]]) -> bool:
        """The name belongs to another place: a listed other place touches or overlaps it, or a
        place-like word (…县/市/区/镇/乡) that is not ours stands right before it."""
        for a, b in others:
            if a < end and b >= start and a <= start:
                return True
        if surface in self._self_placed:
            return False  # the name itself says it is ours (示例县一中, 东山镇中学)
        before = text[max(0, start - 6) : start]
        if surface[0] in _PLACE_SUFFIX:  # 县一中 in 邻县一中: the suffix belongs to the place before
            before += surface[0]
        if not before or before[-1] not in _PLACE_SUFFIX:  # the pattern ends in one: spare the regex
            return False
        m = _PLACE_BEFORE.search(before)
        if m is None:
            return False
        return not self._is_ours(m.group(1)) and not (self._ours and before.endswith(self._ours))

    def _short_form_ok(self, text: str, start: int, end: int) -> bool:
        if start > 0 and text[start - 1] in _BAD_BEFORE:
            return False
        if end < len(text) and text[end] in _BAD_AFTER:
            return False
        return not text.startswith(_BAD_AFTER_WORDS, end)

    def _has_context(self, text: str, others: list[tuple[int, int]]) -> bool:
        if not others:  # then any occurrence counts
            return self._ours_found(text) != 0
        for start, _, _ in self._ours_spans(text):
            # "示例" inside another listed place name is not context.
            if not any(a <= start < b for a, b in others):
                return True
        return False

    def match(self, text: str, *, scoped_to_county: bool = False) -> list[str]:
        """Ids of our schools the text is about, in order of first mention."""
        if self._scan is None or not text:
            return []
        text = join_cjk_spaces(text)
        others: list[tuple[int, int]] | None = None  # spans of other places, found once a name is
        context: bool | None = None
        out: list[str] = []
        surfaces = self._surfaces
        for start, end, k in self._scan(text):
            name = surfaces[k]
            if name.school_id in out:
                continue
            if others is None:
                others = self._other_spans(text)
            if self._attached_elsewhere(text, start, end, name.surface, others):
                continue
            if name.kind == "short":
                if not self._short_form_ok(text, start, end):
                    continue
                if not scoped_to_county:
                    if context is None:
                        context = self._has_context(text, others)
                    if not context:
                        continue
            out.append(name.school_id)
        return out


# --- evaluation on a labelled set ---------------------------------------------------------------


MATCHING_DATA = Path(__file__).parent / "data" / "matching"


def default_matching_paths() -> list[Path]:
    """The shipped labelled sets: the development set and the held-out set (analysis/data/matching)."""
    return [MATCHING_DATA / "matching.jsonl", MATCHING_DATA / "holdout.jsonl"]


@dataclass
class MatchingReport:
    precision: float
    recall: float
    n: int
    errors: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        text = f"精确率 {self.precision:.3f},召回率 {self.recall:.3f}(共 {self.n} 句,判错 {len(self.errors)} 句)"
        for e in self.errors[:5]:
            text += f"\n  第 {e['line']} 行: {e['text']} 应为 {e['expected']},实为 {e['got']}"
        return text


def evaluate_matching(cfg: Config, path: Path | None = None) -> MatchingReport:
    """Micro precision and recall over (sentence, school) pairs of a JSON Lines file with
    ``{"text": str, "schools": [ids], "scoped": bool (optional)}`` per line; without a path, over the
    shipped sets together (their labels are for the sample county in config/)."""
    matcher = SchoolMatcher.from_config(cfg)
    tp = fp = fn = n = 0
    errors: list[dict[str, Any]] = []
    lines: list[tuple[int, str]] = []
    for p in [Path(path)] if path is not None else default_matching_paths():
        lines.extend(enumerate(p.read_text(encoding="utf-8").splitlines(), 1))
    for lineno, line in lines:
        if not line.strip():
            continue
        item = json.loads(line)
        n += 1
        expected = set(item.get("schools", []))
        got = matcher.match(item["text"], scoped_to_county=bool(item.get("scoped", False)))
        found = set(got)
        tp += len(found & expected)
        fp += len(found - expected)
        fn += len(expected - found)
        if found != expected:
            errors.append({"line": lineno, "text": item["text"], "expected": sorted(expected), "got": got,
                           "scoped": bool(item.get("scoped", False))})
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return MatchingReport(precision, recall, n, errors)
