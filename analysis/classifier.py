"""The trained text classifier: calibrated sensitivity, category, and the terms behind the score.

One model file (skops) holds plain values and scikit-learn estimators only:
- ``features``: the state of analysis.features.TextFeatures (hashed char 1–3-grams + word vocabulary);
- ``attack``: a binary logistic regression trained on COLD (offensive language), the attack/abuse facet;
- ``sensitive``: a binary logistic regression trained on the in-domain corpus (+ a COLD sample);
- ``category``: a multinomial logistic regression over the five categories (same data);
- ``stack``: a small multinomial logistic regression fitted on a held-out calibration split over the
  three heads' decision values (5 + 1 + 1). It is the calibration (sensitivity = 1 − P(none)) and the way
  the attack facet feeds the answer; because everything before it is linear, every class score is one
  weight vector over the features, and explanations are per-term contributions.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.explain import Vocabulary, score_kernel
from analysis.features import TextFeatures, tokenize
from analysis.scoring import LinearScorer, Sums
from yuqing.model import Category

FORMAT = 2  # 2: one stacker over the three heads
CATEGORIES: tuple[str, ...] = ("inquiry", "incident", "fabrication", "suggestion", "none")
SENSITIVE_CATEGORIES: tuple[str, ...] = CATEGORIES[:4]

# The only types a model file may contain; anything else is refused before it is loaded.
_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "builtins.", "scipy.sparse.")


def default_model_path() -> Path:
    """The trained default model shipped with the project."""
    return Path(__file__).parent / "models" / "yuqing-clf.skops"


@dataclass
class Prediction:
    sensitivity: float  # calibrated P(needs attention)
    category: Category  # none if not sensitive
    probs: dict[str, float]  # per category; sums to 1
    explanation: list[tuple[str, float]] = field(default_factory=list)  # terms that pushed the score most


class Classifier:
    """Loads a model file and predicts; ``threshold`` is where a text counts as sensitive."""

    def __init__(self, state: dict[str, Any], threshold: float | None = None) -> None:
        if int(state.get("format", 0)) != FORMAT:
            raise ValueError(f"model format {state.get('format')!r} is not {FORMAT}")
        self.state = state
        self.version: str = str(state["version"])
        self.features = TextFeatures.from_state(state["features"])
        self.threshold = float(state.get("threshold", 0.5)) if threshold is None else threshold
        self.attack_threshold = float(state.get("attack_threshold", 0.5))
        self._attack = state["attack"]
        self._sensitive = state["sensitive"]
        self._category = state["category"]
        self._stack = state["stack"]
        self._cat_classes = [str(c) for c in self._category.classes_]
        stack_classes = [str(c) for c in self._stack.classes_]
        self._order = [stack_classes.index(c) for c in CATEGORIES]
        # Everything before the stacker is linear, so each class's stacked score is one weight vector over
        # the features: W[k] = Σ_j stack_coef[k, j] · head_j (rows in CATEGORIES order), plus one intercept.
        heads = np.vstack([self._category.coef_, self._sensitive.coef_, self._attack.coef_])
        head_b = np.concatenate([self._category.intercept_, self._sensitive.intercept_, self._attack.intercept_])
        stack_w = self._stack.coef_[self._order]
        self._class_weights = stack_w @ heads
        class_b = stack_w @ head_b + self._stack.intercept_[self._order]
        # W[k] − W[none] for each sensitive class k: a term's pull towards class k rather than none
        none = CATEGORIES.index("none")  # the last: the sensitive classes come first
        pull = np.vstack([self._class_weights[k] - self._class_weights[none] for k in range(none)])
        # One table for the whole batch: the five class scores and the attack head's decision value.
        self._scorer = LinearScorer(
            self.features,
            np.vstack([self._class_weights, self._attack.coef_]),
            np.concatenate([class_b, self._attack.intercept_]),
            pull,
        )
        self._vocabulary = Vocabulary(self.features.words)
        self._kernel = score_kernel(self._scorer, self._vocabulary, len(CATEGORIES))

    # --- loading ----------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path | None = None, threshold: float | None = None) -> Classifier:
        """Load a model file; FileNotFoundError if absent, ValueError if it holds untrusted types."""
        import skops.io as sio

        path = Path(path) if path is not None else default_model_path()
        if not path.is_file():
            raise FileNotFoundError(f"模型文件不存在: {path}")
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
        if refused:
            raise ValueError(f"模型文件含有不受信任的类型,拒绝加载: {', '.join(refused)}")
        state = sio.load(path, trusted=untrusted)
        return cls(state, threshold=threshold)

    def save(self, path: Path) -> None:
        save_state(self.state, path)

    # --- predicting -------------------------------------------------------------------------------
    def scores(self, texts: list[str], tokens: list[list[str]] | None = None) -> dict[str, np.ndarray]:
        """Raw arrays for a batch: sensitivity, attack probability, category probabilities (n × 5)."""
        return self._scores(self._sums(texts, _tokens_for(texts, tokens), 0)[1])

    def _sums(self, texts: list[str], tokens: list[list[str]], top: int) -> tuple[Any, Sums, np.ndarray, Any]:
        """The compiled pass over a batch: its entries, Sums, and (``top`` > 0) the kernel's pull per text and
        the terms along it."""
        self._scorer.bound_memo()
        batch, c, w, which, terms = self._kernel.judge(texts if isinstance(texts, list) else list(texts),
                                                       tokens if isinstance(tokens, list) else list(tokens), top)
        return batch, self._scorer.sums_of(c, w), which, terms

    def _scores(self, sums: Sums) -> dict[str, np.ndarray]:
        logits, d_att = sums.out[:, : len(CATEGORIES)], sums.out[:, len(CATEGORIES)]
        cat_p = _softmax(logits)
        return {
            "sensitivity": 1.0 - cat_p[:, CATEGORIES.index("none")],
            "attack": 1.0 / (1.0 + np.exp(-d_att)),
            "category": cat_p,
        }

    def reference_scores(self, texts: list[str], tokens: list[list[str]] | None = None) -> dict[str, np.ndarray]:
        """The same arrays the long way — TF-IDF matrix, the three heads, the stacker's predict_proba — to
        check the one-table scorer against scikit-learn (tests, model changes)."""
        x = self.features.transform(texts, tokens)
        if not texts:
            return {"sensitivity": np.zeros(0), "attack": np.zeros(0), "category": np.zeros((0, 5))}
        d_att = self._attack.decision_function(x)
        stacked = np.column_stack(
            [self._category.decision_function(x), self._sensitive.decision_function(x), d_att]
        )
        cat_p = self._stack.predict_proba(stacked)[:, self._order]
        return {
            "sensitivity": 1.0 - cat_p[:, CATEGORIES.index("none")],
            "attack": 1.0 / (1.0 + np.exp(-d_att)),
            "category": cat_p,
        }

    def judge(
        self, texts: list[str], tokens: list[list[str]] | None = None, explain: int = 8, explain_floor: float = 0.0
    ) -> Judgements:
        """The batch's answers as arrays (what the Analyzer needs; ``predict`` wraps them per text).

        ``tokens``: each text's words as cut from it (substrings of the text): a word named in an
        explanation is taken to occur in its text unless normalisation could have changed it.

        ``explain``: how many terms per text (0: none). ``explain_floor``: texts whose sensitivity is below it
        get no terms (nobody reads those of posts that raise nothing).
        """
        toks = _tokens_for(texts, tokens)
        top = explain if len(texts) else 0
        batch, sums, kernel_which, terms = self._sums(texts, toks, top)  # compiled: analysis/_score_kernel.pyx
        s = self._scores(sums)
        sens, cat_p = s["sensitivity"], s["category"]
        probs = _batch_probs(sens, cat_p)
        # the likeliest sensitive class by the rounded probabilities, first on ties (as max() over the dict)
        best = np.argmax(probs[:, : len(SENSITIVE_CATEGORIES)], axis=1) if len(texts) else np.zeros(0, dtype=int)
        flagged = sens >= self.threshold
        codes = np.where(flagged, best, CATEGORIES.index("none"))
        categories = [_CATEGORY_OF[c] for c in codes.tolist()]
        if top:
            # each entry's pull on the log-odds of the post's likeliest sensitive class against none: k is the
            # class the stacker finds likeliest, also for posts below the threshold (what would alarm). The
            # kernel took the largest logit: the same class unless the probabilities tie where the logits do not
            # (rounding) — those texts are explained again along this one.
            which = np.argmax(cat_p[:, : len(SENSITIVE_CATEGORIES)], axis=1).astype(np.int64)
            explanations = terms
            redo = np.flatnonzero(which != kernel_which)
            if len(redo):
                again = self._kernel.explain(batch, redo, which, sums.c_scale, sums.w_scale, explain)
                for row, row_terms in zip(redo.tolist(), again, strict=True):
                    explanations[row] = row_terms
            if explain_floor > 0:  # nobody reads the terms of quiet posts
                for row in np.flatnonzero(sens < explain_floor).tolist():
                    explanations[row] = []
        else:
            explanations = [[] for _ in texts]
        return Judgements(sens, probs, categories, explanations)

    def predict(
        self, texts: list[str], tokens: list[list[str]] | None = None, explain: int = 8, explain_floor: float = 0.0
    ) -> list[Prediction]:
        """One Prediction per text. ``tokens``: the caller's words for each text (else the segmenter's).
        ``explain``, ``explain_floor``: as for ``judge``."""
        if not texts:
            return []
        j = self.judge(texts, tokens, explain, explain_floor)
        return [
            Prediction(p_sens, category, dict(zip(CATEGORIES, row, strict=True)), terms)
            for p_sens, category, row, terms in zip(
                j.sensitivity.tolist(), j.category, j.probs.tolist(), j.explanation, strict=True
            )
        ]

    def top_terms(self, per_class: int = 12) -> dict[str, list[tuple[str, float]]]:
        """The words with the largest weights per category (for the model card); char n-grams are hashed."""
        out: dict[str, list[tuple[str, float]]] = {}
        n_char = self.features.n_char
        words = self.features.words
        for k, cls in enumerate(CATEGORIES):
            w = self._class_weights[k][n_char:]
            best = np.argsort(-w)[:per_class]
            out[cls] = [(words[j], round(float(w[j]), 3)) for j in best]
        return out


@dataclass
class Judgements:
    """A batch's answers: sensitivity (n), per-category probabilities (n × 5, CATEGORIES order, rounded to
    6 places), category (none below the threshold) and explanation terms per text."""

    sensitivity: np.ndarray
    probs: np.ndarray
    category: list[Category]
    explanation: list[list[tuple[str, float]]]


_CATEGORY_OF = [Category(c) for c in CATEGORIES]


def _tokens_for(texts: list[str], tokens: list[list[str]] | None) -> list[list[str]]:
    if tokens is None:
        return [tokenize(t) for t in texts]
    if len(tokens) != len(texts):
        raise ValueError(f"{len(tokens)} token lists for {len(texts)} texts")
    return tokens


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, as scikit-learn's multinomial predict_proba computes it."""
    z = z - z.max(axis=1, keepdims=True) if len(z) else z
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _batch_probs(sens: np.ndarray, cat_p: np.ndarray) -> np.ndarray:
    """Per-category probabilities in CATEGORIES order: P(none) = 1 − sensitivity, and the sensitive mass
    shared by the stacker's odds of the four sensitive classes. Rounded to 6 places; rows sum to 1."""
    none = CATEGORIES.index("none")
    out = cat_p.copy()
    out[:, none] = 0.0
    total = out.sum(axis=1, keepdims=True)
    out = np.where(total > 0, out / np.maximum(total, 1e-300), 0.25) * sens[:, None]
    out[:, none] = 1.0 - sens
    return np.nan_to_num(out.round(6), nan=0.0)


def save_state(state: dict[str, Any], path: Path) -> None:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(state, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
