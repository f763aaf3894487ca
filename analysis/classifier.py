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

from analysis.features import TextFeatures, explain_batch
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
        # the features: W[k] = Σ_j stack_coef[k, j] · head_j (rows in CATEGORIES order), for explanations.
        heads = np.vstack([self._category.coef_, self._sensitive.coef_, self._attack.coef_])
        self._class_weights = (self._stack.coef_ @ heads)[self._order]
        # W[k] − W[none] for each sensitive class k: a term's pull towards class k rather than none
        none = CATEGORIES.index("none")
        self._pull = np.ascontiguousarray(
            np.vstack([self._class_weights[k] - self._class_weights[none] for k in range(len(CATEGORIES)) if k != none])
        )

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
        if not texts:
            return {"x": x, "sensitivity": np.zeros(0), "attack": np.zeros(0), "category": np.zeros((0, 5))}
        return self._scores(x)

    def _scores(self, x: Any) -> dict[str, np.ndarray]:
        d_att = self._attack.decision_function(x)
        stacked = np.column_stack(
            [self._category.decision_function(x), self._sensitive.decision_function(x), d_att]
        )
        cat_p = self._stack.predict_proba(stacked)[:, self._order]
        return {
            "x": x,
            "sensitivity": 1.0 - cat_p[:, CATEGORIES.index("none")],
            "attack": 1.0 / (1.0 + np.exp(-d_att)),
            "category": cat_p,
        }

    def predict(
        self, texts: list[str], tokens: list[list[str]] | None = None, explain: int = 8, explain_floor: float = 0.0
    ) -> list[Prediction]:
        """One Prediction per text. ``tokens``: the caller's words for each text (else the segmenter's).

        ``explain``: how many terms per text (0: none). ``explain_floor``: texts whose sensitivity is below it
        get no terms — explanations are a third of the classifier's time, and nobody reads those of posts
        that raise nothing.
        """
        if not texts:
            return []
        s = self.scores(texts, tokens)
        sens, cat_p, x = s["sensitivity"], s["category"], s["x"]
        explanations = None
        if explain:
            contrib = self._contributions(x, cat_p)
            if explain_floor > 0:
                contrib *= np.repeat(sens >= explain_floor, np.diff(x.indptr))
            explanations = explain_batch(self.features, texts, x, contrib, explain)
        probs_all = _batch_probs(sens, cat_p)
        out = []
        for i, (p_sens, row) in enumerate(zip(sens.tolist(), probs_all.tolist(), strict=True)):
            probs = dict(zip(CATEGORIES, row, strict=True))
            if p_sens >= self.threshold:
                category = Category(max(SENSITIVE_CATEGORIES, key=probs.__getitem__))
            else:
                category = Category.none
            terms = explanations[i] if explanations is not None else []
            out.append(Prediction(p_sens, category, probs, terms))
        return out

    def _contributions(self, x: Any, cat_p: np.ndarray) -> np.ndarray:
        """Each stored entry's pull on the log-odds of the post's likeliest sensitive class against none.

        Everything up to the stacker's softmax is linear, so that log-odds is (W[k] − W[none]) · x plus a
        constant, and value × weight is each term's exact share of it. k is the sensitive class the stacker
        finds likeliest, also for posts below the threshold (what would make them alarming).
        """
        none = CATEGORIES.index("none")
        sensitive = np.delete(cat_p, none, axis=1)
        k = np.argmax(sensitive, axis=1)
        rows = np.repeat(k, np.diff(x.indptr))
        return x.data * self._pull.ravel()[rows * self._pull.shape[1] + x.indices]

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
