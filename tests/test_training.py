"""Training is reproducible, splits hold groups apart, and the train/evaluate commands work end to end."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from analysis import training
from analysis.classifier import Classifier
from analysis.data.generate_corpus import generate
from tests.conftest import shared_path
from yuqing.cli import app

TODAY = date(2026, 11, 30)
SMALL = {"char_bits": 14}  # fewer hashed columns: the same procedure, fitted in a fraction of the time


def test_corpus_is_large_balanced_and_regenerates_identically() -> None:
    rows = [json.loads(line) for line in (training.CORPUS_DIR / "in_domain.jsonl").open(encoding="utf-8")]
    assert len(rows) >= 2000
    cats = {r["category"] for r in rows}
    assert cats == {"inquiry", "incident", "fabrication", "suggestion", "none"}
    # every category in every register: the register does not give the label away
    pairs = {(r["category"], r["register"]) for r in rows}
    assert len(pairs) == 5 * 4
    assert all(r["sensitive"] == (r["category"] != "none") for r in rows)
    # the committed file is what the seeded generator writes
    assert generate(len(rows)) == rows


def test_length_and_form_do_not_give_the_category_away() -> None:
    """Headlines, one-liners and long letters occur in every category, at similar rates."""
    rows = [json.loads(line) for line in (training.CORPUS_DIR / "in_domain.jsonl").open(encoding="utf-8")]
    for cat in ("inquiry", "incident", "fabrication", "suggestion", "none"):
        lengths = [len(r["text"]) for r in rows if r["category"] == cat]
        short = sum(n < 30 for n in lengths) / len(lengths)
        long = sum(n > 250 for n in lengths) / len(lengths)
        assert 0.1 <= short <= 0.3 and 0.02 <= long <= 0.1, (cat, short, long)
        kinds = {r["group"].split("-")[1] for r in rows if r["category"] == cat}
        assert {"headline", "short"} <= kinds, cat
        letters = [r for r in rows if r["category"] == cat and r["register"] == "message_board"]
        assert sum(len(r["text"]) > 250 for r in letters) >= 20, cat


def test_handwritten_evaluation_sets_cover_the_registers() -> None:
    sets = training.eval_sets()
    assert len(sets) >= 2 and sum(len(e) for e in sets.values()) >= 130
    corpus = {e.text for e in training.load_jsonl(training.CORPUS_DIR / "in_domain.jsonl")}
    for examples in sets.values():
        assert not corpus & {e.text for e in examples}  # never trained on
        for cat in ("inquiry", "incident", "fabrication", "suggestion", "none"):
            assert len({e.register for e in examples if e.category == cat}) >= 3, cat


def test_recall_threshold_is_the_highest_cut_reaching_the_target() -> None:
    import numpy as np

    p = np.array([0.9, 0.8, 0.45, 0.3, 0.1, 0.6, 0.2, 0.05])
    y = np.array([1, 1, 1, 1, 1, 0, 0, 0])
    assert training.recall_threshold(p, y, 0.8) == 0.3  # 4 of 5 positives at ≥ 0.30
    assert training.recall_threshold(p, y, 0.6) == 0.45
    assert training.recall_threshold(p, y, 1.0) == 0.1
    assert training.recall_threshold(p, np.zeros(8, dtype=int), 0.97) == 0.5


def test_split_keeps_groups_apart() -> None:
    examples = training.load_jsonl(training.CORPUS_DIR / "in_domain.jsonl")
    train, calib, test = training.split_by_group(examples)
    groups = [{e.group for e in part} for part in (train, calib, test)]
    assert not (groups[0] & groups[1]) and not (groups[0] & groups[2]) and not (groups[1] & groups[2])
    assert len(train) + len(calib) + len(test) == len(examples)
    assert {e.category for e in test} == {"inquiry", "incident", "fabrication", "suggestion", "none"}


def test_training_is_reproducible_on_a_subset() -> None:
    runs = []
    for _ in range(2):
        data = training.prepare_data(datasets=None, limit=400)
        state = training.fit(data, today=TODAY, **SMALL)
        clf = Classifier(state)
        runs.append((state["version"], data.data_hash(), training.strip_private(training.evaluate(clf, data.test))))
    assert runs[0] == runs[1]
    assert runs[0][0] == f"yuqing-clf 2026.11.30-{runs[0][1][:8]}"
    # the alert threshold comes from the cross-validated pool, never from the test split
    cv = state["data"]["cross_validation"]
    assert state["threshold"] == cv["threshold"] and 0.05 <= cv["threshold"] <= 0.5
    assert cv["posts"] == len(data.train) + len(data.calib) and cv["recall"] >= cv["target_recall"]
    data.test = data.test[:5]  # whatever the test split holds, the threshold is the same
    assert training.fit(data, today=TODAY, **SMALL)["threshold"] == state["threshold"]


def test_train_with_feedback_writes_model_and_card_with_changes(tmp_path: Path) -> None:
    out = tmp_path / "m.skops"
    first = training.train_and_write(out, datasets=None, limit=300, today=TODAY, **SMALL)
    assert out.is_file() and first.card_path == tmp_path / "m.md"
    feedback = [
        {"title": "", "content": "城东中学晚自习强制收费每月三百元，请问教育局有没有依据？", "category": "inquiry",
         "sensitive": True},
        {"content": "城东中学运动会开幕了，孩子跑了第一名", "category": "none", "sensitive": False},
    ]
    second = training.train_and_write(out, feedback, datasets=None, limit=300, today=TODAY,
                                      previous=Classifier.load(out).state, **SMALL)
    card = second.card_path.read_text(encoding="utf-8")
    assert "## Changes since the previous model" in card
    assert "reviewer_labels | 0 | 2" in card
    assert "reviewer-labels" in card  # the feedback's hash is part of the data
    assert second.classifier.version != first.classifier.version


def test_evaluate_command_on_a_tiny_file(tmp_path: Path) -> None:
    data = tmp_path / "tiny.jsonl"
    rows = [
        {"text": "建议学校门口增设接送等候区，安排志愿者疏导交通，保障孩子安全。", "category": "suggestion"},
        {"content": "学校举行秋季运动会，同学们奋勇争先。", "category": "none", "sensitive": False},
        {"text": "请问教育局：学校补课每人收八百元，双减以后还允许这样收费吗？请答复。", "category": "inquiry"},
    ]
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "--data", str(data)])
    assert result.exit_code == 0, result.output
    assert "类别宏平均 F1" in result.output and "混淆矩阵" in result.output and "共 3 条" in result.output


def test_evaluate_command_rejects_bad_lines(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"text": "x", "category": "weird"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["evaluate", "--data", str(data)])
    assert result.exit_code != 0
    assert "未知类别" in str(result.exception) or "未知类别" in result.output


@pytest.mark.shared
def test_train_command_with_cold_subset(tmp_path: Path) -> None:
    shared_path("datasets", "cold", "train.csv")
    out = tmp_path / "cold.skops"
    result = CliRunner().invoke(app, ["train", "--out", str(out), "--limit", "300"])
    assert result.exit_code == 0, result.output
    assert "COLD 开发集" in result.output
    state = Classifier.load(out).state
    assert any(name == "train.csv" for name in state["data"]["files"])
    assert state["metrics"]["cold_attack"]["n"] == 300


def test_train_with_feedback_reads_reviewers_labels_from_the_store(cfg, config_dir: Path, tmp_path: Path) -> None:
    from datetime import datetime, timezone

    from alerting.labels import record_verdict
    from alerting.store import Store
    from alerting.store.posts import upsert_post
    from yuqing.model import Post, post_id_for

    url = "https://bbs.example.cn/thread-1.html"
    post = Post(id=post_id_for(url), url=url, title="城东中学晚自习收费",
                content="晚自习每月收三百元，有没有依据？请教育局答复。")
    store = Store.from_config(cfg)
    try:
        with store.session() as s:
            upsert_post(s, post)
            s.flush()
            record_verdict(s, [post.id], warning_id=None, verdict="corrected", category="inquiry", actor="审核员",
                           at=datetime(2026, 11, 30, tzinfo=timezone.utc))
    finally:
        store.dispose()
    out = tmp_path / "fb.skops"
    result = CliRunner().invoke(
        app, ["train", "--with-feedback", "--out", str(out), "--limit", "200", "--config", str(config_dir)],
        env={"YUQING_DATASETS": str(tmp_path / "no-datasets")},
    )
    assert result.exit_code == 0, result.output
    assert "审核标签:1 条" in result.output and "只用项目内语料" in result.output
    state = Classifier.load(out).state
    assert state["data"]["counts"]["reviewer_labels"] == 1
