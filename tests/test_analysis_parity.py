"""The analysis gives the same answers after the throughput work: outputs frozen from the implementation of
2026-11-30 before the one-table classifier (d594696, with its explanation-naming bug fixed), on 300
demo-corpus posts and 100 bench posts; written for model 9af41047 first, then again for d8263745.

The frozen file belongs to one model file (its sha256 is in the header; the test fails when they differ):
when the shipped model is retrained, regenerate it with ``.venv/bin/python tests/test_analysis_parity.py``
*from a tree whose analysis code is known good* — the model-independent checks in test_classifier.py keep the
fast scorer honest meanwhile.

Explanations: the stop list (analysis.explain.explain_stopped) is the one intended difference. The file keeps
each post's top 40 terms of the old implementation, so the expected top 8 are the first 8 of those that the
stop list lets through.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "expected" / "analysis_parity.jsonl"
WIDE = 40  # explanation terms kept per post in the frozen file


def parity_posts() -> list[Any]:
    """Every sensitive demo post and evenly spaced others (300), then 100 of bench/'s 200-character posts."""
    from yuqing.config import load_config
    from yuqing.demo.content import build_corpus, corpus_posts, scale_posts

    cfg = load_config(ROOT / "config")
    posts = corpus_posts(build_corpus(cfg, now=datetime(2026, 11, 24, 2, tzinfo=timezone.utc)))
    sensitive = [p for p in posts if p.extra["truth"]["category"] != "none"]
    calm = [p for p in posts if p.extra["truth"]["category"] == "none"]
    step = len(calm) / (300 - len(sensitive))
    chosen = sensitive + [calm[int(i * step)] for i in range(300 - len(sensitive))]
    return chosen + scale_posts(100, length=200)


def model_path() -> Path:
    """The shipped model, or YUQING_PARITY_MODEL (a copy of the model the file was written with, to check
    code changes while the shipped model is being retrained)."""
    from analysis.classifier import default_model_path

    return Path(os.environ.get("YUQING_PARITY_MODEL") or default_model_path())


def model_sha() -> str:
    return hashlib.sha256(model_path().read_bytes()).hexdigest()


def current_outputs() -> list[dict[str, Any]]:
    from analysis.analyzer import Analyzer, analysis_text
    from yuqing.config import load_config

    cfg = load_config(ROOT / "config")
    analyzer = Analyzer.from_config(cfg, model_path=model_path())
    # The frozen categories are at the model's own cut: since 8fa889e the Analyzer lowers it to the lowest
    # configured alert bar (the sensitive-period one), an intended change that test_analyzer.py checks.
    analyzer.classifier.threshold = float(analyzer.classifier.state.get("threshold", 0.5))
    posts = parity_posts()
    analyses = analyzer.analyze_many(posts)
    texts = [analysis_text(p) for p in posts]
    wide = analyzer.classifier.predict(texts, analyzer.segmenter.cut_many(texts), explain=WIDE)
    out = []
    for a, w in zip(analyses, wide, strict=True):
        row = a.model_dump(mode="json", include={"id", "schools", "relevant", "sensitivity", "category",
                                                "severity", "sentiment", "topics", "model"})
        row["explanation"] = [[t, v] for t, v in a.explanation]
        row["wide"] = [[t, v] for t, v in w.explanation]
        row["probs"] = w.probs
        out.append(row)
    return out


def write_expected() -> None:
    rows = current_outputs()
    with EXPECTED.open("w", encoding="utf-8") as f:
        f.write(json.dumps({"model_sha256": model_sha(), "posts": len(rows)}) + "\n")
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def _expected() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    lines = EXPECTED.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def test_analyses_equal_the_frozen_ones() -> None:
    from analysis.explain import explain_stopped

    header, expected = _expected()
    # A retrained model must come with a regenerated file: a skip here would let the check lapse unseen.
    assert header["model_sha256"] == model_sha(), (
        "the shipped model changed since tests/expected/analysis_parity.jsonl was written; regenerate it with "
        "`.venv/bin/python tests/test_analysis_parity.py` from known-good analysis code (see the module doc)")
    got = current_outputs()
    assert len(got) == len(expected) == header["posts"]
    for g, e in zip(got, expected, strict=True):
        assert g["id"] == e["id"]
        for key in ("schools", "relevant", "category", "severity", "topics", "model"):
            assert g[key] == e[key], (key, g["id"])
        for key in ("sensitivity", "sentiment"):
            assert g[key] == pytest.approx(e[key], abs=1e-6), (key, g["id"])
        assert g["probs"] == pytest.approx(e["probs"], abs=1e-6), g["id"]
        kept = [[t, v] for t, v in e["wide"] if not explain_stopped(t)]
        assert [t for t, _ in g["explanation"]] == [t for t, _ in kept[:8]], g["id"]
        assert [v for _, v in g["explanation"]] == pytest.approx([v for _, v in kept[:8]], abs=1e-4), g["id"]


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    write_expected()
    print(f"wrote {EXPECTED}")


def _reference_explanations(clf: Any, texts: list[str], tokens: list[list[str]], top: int) -> list[list[str]]:
    """Explanation terms the slow, obvious way — TF-IDF matrix, per-entry shares, each entry named from its
    offset in the row — for any model (the fast path in analysis/explain.py must give the same)."""
    import numpy as np

    from analysis.explain import EXPLAIN_SHARE, _shown

    x = clf.features.transform(texts, tokens)
    cat_p = clf.reference_scores(texts, tokens)["category"]
    weights = clf._class_weights
    out = []
    for r, text in enumerate(texts):
        k = int(np.argmax(cat_p[r, :4]))
        lo, hi = x.indptr[r], x.indptr[r + 1]
        cols, vals = x.indices[lo:hi], x.data[lo:hi]
        shares = vals * (weights[k][cols] - weights[4][cols])
        floor = shares.max() * EXPLAIN_SHARE if len(shares) else 0.0
        n_chars = [max(len(text) - n + 1, 0) for n in range(1, clf.features.char_n + 1)]
        terms: dict[str, float] = {}
        for offset, (col, share) in enumerate(zip(cols.tolist(), shares.tolist(), strict=True)):
            if not (share > 0 and share >= floor):
                continue
            if col >= clf.features.n_char:
                term = clf.features.words[col - clf.features.n_char]
                if term not in text.lower():
                    continue
            else:
                n, start = 1, offset
                while start >= n_chars[n - 1]:
                    start -= n_chars[n - 1]
                    n += 1
                term = text[start : start + n]
            if term in terms:
                terms[term] += share
            elif _shown(term):
                terms[term] = share
        best = sorted(terms.items(), key=lambda kv: kv[1], reverse=True)[:top]
        out.append([t for t, _ in best])
    return out


def test_fast_explanations_equal_the_obvious_ones() -> None:
    """On the shipped model, whichever it is (or YUQING_PARITY_MODEL): the batch explainer names the same
    terms as the slow one."""
    from analysis.analyzer import Analyzer, analysis_text
    from yuqing.config import load_config

    analyzer = Analyzer.from_config(load_config(ROOT / "config"), model_path=model_path())
    posts = parity_posts()
    texts = [analysis_text(p) for p in posts] + ["", "ＡＢＣ１２３ HELLO 全角", "🙂😡 emoji 帖子𠀀𠀁"]
    tokens = analyzer.segmenter.cut_many(texts)
    got = [[t for t, _ in p.explanation] for p in analyzer.classifier.predict(texts, tokens, explain=12)]
    assert got == _reference_explanations(analyzer.classifier, texts, tokens, 12)
