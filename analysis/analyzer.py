"""The Analyzer: one post in, one Analysis out — segment, match schools, classify, severity, topics.

Classification uses the trained model (analysis/classifier.py, a skops file) when one exists, and the
transparent lexicon scorer (analysis/lexicon.py) only when no model file does. Event grouping is not
done here: it needs the store's recent events, so the pipeline runs analysis.events.EventGrouper.
"""

from __future__ import annotations

import gc
import logging
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from analysis.kernels import Automaton
from analysis.keywords import TopicMatcher
from analysis.lexicon import LexiconScorer
from analysis.schools import SchoolMatcher
from analysis.segment import Segmenter
from analysis.severity import post_severities
from yuqing.errors import InputError
from yuqing.model import Analysis, Category, Post, PostKind

if TYPE_CHECKING:
    from yuqing.config import Config

log = logging.getLogger(__name__)


_OWN_WORDS_ONLY = (PostKind.reply, PostKind.comment)


def analysis_text(post: Post) -> str:
    """What a post itself says: a reply or comment is judged on its own words, not on the thread's
    title it carries (the thread is analysed on its own; events tie them together)."""
    return post.content if post.kind in _OWN_WORDS_ONLY else post.text()


def load_classifier(model_path: Path | None) -> Any | None:
    """The trained classifier, or None when no model file exists (and none was asked for by path)."""
    try:
        from analysis.classifier import Classifier
    except ImportError as exc:
        if model_path is not None:
            raise FileNotFoundError(f"无法加载模型 {model_path}: 分类器模块不可用 ({exc})") from exc
        return None
    try:
        return Classifier.load(model_path)
    except FileNotFoundError:
        if model_path is not None:
            raise
        log.warning("no trained model file found; using the lexicon baseline")
        return None
    except (ValueError, KeyError, TypeError, OSError, zipfile.BadZipFile) as exc:
        # A model file that exists but cannot be used is an operator's problem to see, never a silent
        # fallback to the baseline.
        raise InputError(f"模型文件无法使用({type(exc).__name__}: {exc});请重新训练(yuqing train)或指定 --model",
                         where=str(model_path or "默认模型")) from exc


def settle_long_lived() -> None:
    """Move what the process holds now — the model, the dictionaries, the imported libraries, ~160,000
    objects the collector tracks — out of the cyclic collector's reach (``gc.freeze``), after one collection
    so that no garbage is kept. They live as long as the process anyway; but a batch's analyses survive into
    the oldest generation, so every few thousand posts a full collection walked all of them again: ~0.1 s
    each time, 10–30 µs per post at these rates. Objects made later are collected as usual."""
    gc.collect()
    gc.freeze()


class Analyzer:
    def __init__(
        self,
        cfg: Config,
        segmenter: Segmenter,
        matcher: SchoolMatcher,
        topics: TopicMatcher,
        classifier: Any | None = None,
    ) -> None:
        self.cfg = cfg
        self.segmenter = segmenter
        self.matcher = matcher
        self.topics = topics
        self.classifier = classifier
        self.lexicon = LexiconScorer()
        self._scoped = {s.id: s.scoped_to_county for s in cfg.sources}
        red = sorted({t for t in cfg.red_lines if t})
        # whether any red-line term occurs: one compiled scan (analysis/_match_kernel.pyx), its bitmask tested
        self._red_line = Automaton(red).found if red else None
        th = cfg.alerts.thresholds
        # A post has a severity from the lowest bar any period uses; rules apply the current one.
        self._severity_floor = min(th.sensitivity, th.sensitive_period_sensitivity)
        if classifier is not None:
            name = getattr(classifier, "name", "yuqing-clf")
            version = str(classifier.version)
            self.model = version if version.startswith(name) else f"{name} {version}"
        else:
            self.model = f"lexicon@{self.lexicon.name.split('-', 1)[1]}"

    @classmethod
    def from_config(cls, cfg: Config, model_path: Path | None = None) -> Analyzer:
        classifier = load_classifier(model_path)
        if classifier is not None:
            # A category down to the lowest bar any period alerts at: with the model's own cut, a post
            # between the sensitive-period threshold and it would be 'none', and its event could never
            # raise a warning while the period lasts. The rules apply the bar of the moment.
            th = cfg.alerts.thresholds
            classifier.threshold = min(classifier.threshold, th.sensitivity, th.sensitive_period_sensitivity)
        analyzer = cls(
            cfg,
            Segmenter.from_config(cfg),
            SchoolMatcher.from_config(cfg),
            TopicMatcher.from_config(cfg),
            classifier,
        )
        settle_long_lived()
        return analyzer

    def _classify(
        self, texts: list[str], tokens: list[list[str]] | None
    ) -> tuple[list[float], list[Category], list[list[tuple[str, float]]]]:
        """Sensitivity (clipped to 0–1), category and explanation terms per text."""
        if self.classifier is not None:
            j = self.classifier.judge(texts, tokens)
            return np.clip(j.sensitivity, 0.0, 1.0).tolist(), j.category, j.explanation
        results = [self.lexicon.score(t) for t in texts]
        return (
            [min(1.0, max(0.0, r.sensitivity)) for r in results],
            [r.category for r in results],
            [r.explanation for r in results],
        )

    def analyze(self, post: Post, *, scoped_to_county: bool | None = None) -> Analysis:
        return self._analyze([post], [scoped_to_county])[0]

    def analyze_many(self, posts: list[Post]) -> list[Analysis]:
        """Analyses in the same order; the classifier sees the whole batch at once."""
        return self._analyze(posts, [None] * len(posts))

    def _analyze(self, posts: list[Post], scoped: list[bool | None]) -> list[Analysis]:
        if not posts:
            return []
        texts = [analysis_text(p) for p in posts]
        tokens = self.segmenter.cut_many(texts) if self.classifier is not None else None
        sensitivity, categories, explanations = self._classify(texts, tokens)
        red = self._red_line
        severities = post_severities(
            sensitivity,
            categories,
            lambda i: posts[i].metrics.reach(),
            (lambda i: False) if red is None else (lambda i: red(texts[i]) != 0),
            threshold=self._severity_floor,
        )
        # Each step over the whole batch in turn, not step after step per post: each keeps its tables and
        # patterns in the CPU's caches (interleaved per post, every step ran a third slower).
        own, match = self._scoped, self.matcher.match
        schools = [
            match(text, scoped_to_county=own.get(post.source, False) if scope is None else scope)
            for post, text, scope in zip(posts, texts, scoped, strict=True)
        ]
        sentiments = list(map(self.lexicon.sentiment, texts))
        topics = list(map(self.topics.match, texts))
        model = self.model
        return [
            # Every value is built here within the model's bounds: skip re-validating 10,000 a second.
            _construct_analysis(
                {
                    "id": post.id,
                    "schools": found,
                    "relevant": bool(found),
                    "sensitivity": sens,
                    "category": category,
                    "severity": severity,
                    "sentiment": sentiment,
                    "explanation": terms,
                    "topics": topic,
                    "event_id": None,
                    "model": model,
                }
            )
            for post, found, sens, category, severity, sentiment, terms, topic in zip(
                posts, schools, sensitivity, categories, severities, sentiments, explanations, topics, strict=True
            )
        ]

_ANALYSIS_FIELDS = frozenset(Analysis.model_fields)


def _plain_model(cls: type[Analysis]) -> bool:
    """Whether ``model_construct`` of ``cls`` only sets the fields: no aliases, extras, private attributes or
    post-init (checked once; otherwise _construct_analysis falls back to model_construct)."""
    return (
        not cls.__pydantic_post_init__
        and cls.model_config.get("extra") != "allow"
        and not cls.__private_attributes__
        and all(f.alias is None and f.validation_alias is None for f in cls.model_fields.values())
    )


def _construct_analysis(values: dict[str, Any]) -> Analysis:
    """``Analysis.model_construct(**values)`` with every field given, without its per-field loop (a tenth of
    the per-post cost at 10,000 posts a second): the same instance state pydantic's own method sets."""
    if not _PLAIN:
        return Analysis.model_construct(**values)
    m = Analysis.__new__(Analysis)
    object.__setattr__(m, "__dict__", values)
    object.__setattr__(m, "__pydantic_fields_set__", set(_ANALYSIS_FIELDS))
    object.__setattr__(m, "__pydantic_extra__", None)
    object.__setattr__(m, "__pydantic_private__", None)
    return m


_PLAIN = _plain_model(Analysis)
