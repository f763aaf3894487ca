"""Post text that no UTF-8 encoder takes (lone UTF-16 surrogates from API JSON) is repaired where every post is
built, so that it can be stored, segmented and analysed instead of being lost or failing its batch."""

from __future__ import annotations

import json
from pathlib import Path

from alerting.store import Store
from alerting.store.posts import get_posts, row_to_post, upsert_post
from analysis.analyzer import Analyzer
from tests.test_analyzer import run_cli
from yuqing.config import load_config
from yuqing.model import Post, post_id_for, repair_surrogates

ROOT = Path(__file__).resolve().parent.parent
# what json.loads gives for a Weibo text cut inside an emoji: "…送医\ud83d"
BROKEN = json.loads('"示例县第一中学食堂饭菜发霉，十多名学生呕吐送医\\ud83d"')


def test_lone_halves_become_replacement_characters_and_split_pairs_their_character() -> None:
    assert BROKEN.endswith("\ud83d")
    assert repair_surrogates(BROKEN) == BROKEN[:-1] + "\ufffd"
    assert repair_surrogates("好\ud83d\ude00好\udc00") == "好😀好\ufffd"  # a pair kept as two code points
    clean = "示例县第一中学 😀 ok"
    assert repair_surrogates(clean) is clean
    p = Post(id="1", url="http://127.0.0.1/1", title="标题\ud83d", content=BROKEN, author="网友\udc00",
             published_at_raw="今天\ud83d")
    assert "\ufffd" in p.title and p.content.endswith("\ufffd") and p.author == "网友\ufffd"
    assert p.published_at_raw == "今天\ufffd"
    p.content_hash()  # encodes: would raise on a lone surrogate


def test_a_post_with_a_broken_emoji_is_stored_and_analysed(tmp_path: Path) -> None:
    url = "http://127.0.0.1/weibo/1"
    post = Post(id=post_id_for(url), url=url, content=BROKEN)
    store = Store(f"sqlite:///{tmp_path / 'yuqing.db'}")
    try:
        store.migrate()
        with store.session() as s:
            upsert_post(s, post)
        with store.session() as s:
            (row,) = get_posts(s, [post.id])
            back = row_to_post(row)
    finally:
        store.dispose()
    assert back.content == post.content
    analysis = Analyzer.from_config(load_config(ROOT / "config")).analyze_many([back])[0]
    assert analysis.schools == ["county-no1-high"] and analysis.category != "none"


def test_cli_answers_a_line_with_a_lone_surrogate(config_dir: Path) -> None:
    lines = [json.dumps({"id": "b1", "content": BROKEN}), json.dumps({"id": "b2", "content": "示例县今天下雪了"},
                                                                     ensure_ascii=False)]
    assert "\\ud83d" in lines[0]
    done = run_cli(["--no-events"], "\n".join(lines) + "\n", config_dir)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["id"] for line in done.stdout.splitlines()] == ["b1", "b2"]
