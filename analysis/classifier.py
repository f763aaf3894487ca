"""The trained text classifier: calibrated sensitivity, category, and the terms behind the score.

One model file (skops) holds plain values and scikit-learn estimators only:
- ``features``: the state of analysis.features.TextFeatures (hashed char 1–3-grams + word vocabulary);
- ``attack``: a binary logistic regression trained on COLD (offensive language), the attack/abuse facet;
- ``sensitive``: a binary logistic regression trained on the in-domain corpus (+ a COLD sample);
- ``category``: a multinomial logistic regression over the five categories (same data);
- ``stack_sensitive`` / ``stack_category``: small logistic regressions fitted on a held-out calibration
  split over the heads' decision values. They are the Platt calibration and the way the attack facet
  feeds both answers, and because everything before them is linear, the final sensitivity logit is still
  one linear function of the features: explanations are exact per-term contributions.
"""

from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from analysis.features import TextFeatures, explain_row
from yuqing.model import Category

FORMAT = 1
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
        self._stack_s = state["stack_sensitive"]
        self._stack_c = state["stack_category"]
        self._cat_classes = [str(c) for c in self._category.classes_]
        self._stack_c_classes = [str(c) for c in self._stack_c.classes_]
        # the final sensitivity logit as one weight vector over the features (for explanations)
        a_s, a_t = (float(v) for v in self._stack_s.coef_[0])
        self._explain_weights = a_s * self._sensitive.coef_[0] + a_t * self._attack.coef_[0]

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
        x = self.features.transform(texts, tokens)
        return self._scores(x)

    def _scores(self, x: Any) -> dict[str, np.ndarray]:
        d_att = self._attack.decision_function(x)
        d_sen = self._sensitive.decision_function(x)
        d_cat = self._category.decision_function(x)
        sens = self._stack_s.predict_proba(np.column_stack([d_sen, d_att]))[:, 1]
        cat_p = self._stack_c.predict_proba(np.column_stack([d_cat, d_att]))
        # reorder the stacker's columns to CATEGORIES
        order = [self._stack_c_classes.index(c) for c in CATEGORIES]
        return {
            "x": x,
            "sensitivity": sens,
            "attack": 1.0 / (1.0 + np.exp(-d_att)),
            "category": cat_p[:, order],
        }

    def predict(self, texts: list[str], tokens: list[list[str]] | None = None, explain: int = 8) -> list[Prediction]:
        """One Prediction per text. ``tokens``: the caller's words for each text (else rjieba's)."""
        if not texts:
            return []
        s = self.scores(texts, tokens)
        sens, cat_p, x = s["sensitivity"], s["category"], s["x"]
        out = []
        for i, text in enumerate(texts):
            p_sens = float(sens[i])
            probs = _category_probs(p_sens, cat_p[i])
            if p_sens >= self.threshold:
                category = Category(max(SENSITIVE_CATEGORIES, key=lambda c: probs[c]))
            else:
                category = Category.none
            terms = explain_row(self.features, x[i], self._explain_weights, text, top=explain) if explain else []
            out.append(Prediction(p_sens, category, probs, terms))
        return out

    def top_terms(self, per_class: int = 12) -> dict[str, list[tuple[str, float]]]:
        """The words with the largest weights per category (for the model card); char n-grams are hashed."""
        out: dict[str, list[tuple[str, float]]] = {}
        n_char = self.features.n_char
        words = self.features.words
        for k, cls in enumerate(self._cat_classes):
            w = self._category.coef_[k][n_char:]
            best = np.argsort(-w)[:per_class]
            out[cls] = [(words[j], round(float(w[j]), 3)) for j in best]
        w = self._explain_weights[n_char:]
        best = np.argsort(-w)[:per_class]
        out["敏感度"] = [(words[j], round(float(w[j]), 3)) for j in best]
        return out


def _category_probs(p_sens: float, cat_row: np.ndarray) -> dict[str, float]:
    """P(none) = 1 − sensitivity; the sensitive mass is shared by the category head's odds."""
    sensitive = np.asarray(cat_row[:4], dtype=float)
    total = float(sensitive.sum())
    shares = sensitive / total if total > 0 else np.full(4, 0.25)
    probs = {c: round(p_sens * float(v), 6) for c, v in zip(SENSITIVE_CATEGORIES, shares, strict=True)}
    probs["none"] = round(1.0 - p_sens, 6)
    if any(math.isnan(v) for v in probs.values()):  # pragma: no cover - defensive: never emit NaN
        return {c: (1.0 if c == "none" else 0.0) for c in CATEGORIES}
    return probs


def save_state(state: dict[str, Any], path: Path) -> None:
    import skops.io as sio

    path.parent.mkdir(parents=True, exist_ok=True)
    sio.dump(state, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
