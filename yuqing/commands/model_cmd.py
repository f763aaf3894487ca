"""`yuqing train` and `yuqing evaluate`: the classifier's training and its figures on held-out data."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.table import Table

from yuqing.commands.common import CONFIG_OPTION, get_config
from yuqing.errors import InputError

if TYPE_CHECKING:
    from yuqing.config import Config

FEEDBACK_OPTION = typer.Option(False, "--with-feedback", help="加入审核员的研判结果(复核标签)")
OUT_OPTION = typer.Option(None, "--out", help="模型输出路径(默认:analysis/models/yuqing-clf.skops)")
LIMIT_OPTION = typer.Option(None, "--limit", help="只用部分语料(快速试验)")
DATA_OPTION = typer.Option(None, "--data", help="带标注的 JSONL(text 或 content、category、可选 sensitive)")
MODEL_OPTION = typer.Option(None, "--model", help="模型文件(默认:随项目发布的模型)")

CATEGORY_NAMES = {
    "inquiry": "询问/置疑/诉求",
    "incident": "恶意传播/炒作",
    "fabrication": "捏造/歪曲/诽谤",
    "suggestion": "积极建议",
    "none": "不敏感",
}


def feedback_records(cfg: Config) -> list[dict[str, Any]]:
    """Reviewers' newest verdict per post as plain records (analysis must not import alerting)."""
    from alerting.labels import latest_labels
    from alerting.store import Store
    from alerting.store.tables import PostRow

    store = Store.from_config(cfg)
    try:
        with store.session() as s:
            out = []
            for post_id, label in latest_labels(s).items():
                post = s.get(PostRow, post_id)
                if post is None:
                    continue
                sensitive = bool(label.sensitive)
                out.append(
                    {
                        "title": post.title or "",
                        "content": post.content,
                        "category": label.category if sensitive else "none",
                        "sensitive": sensitive,
                        "source": f"reviewer {label.verdict}",
                    }
                )
            return out
    finally:
        store.dispose()


def print_metrics(console: Console, title: str, m: dict[str, Any]) -> None:
    s, c = m["sensitive"], m["category"]
    console.print(f"\n[bold]{title}[/bold](共 {m['n']} 条)")
    console.print(
        f"敏感识别(阈值 {m['threshold']}):召回率 {_f(s['recall'])},精确率 {_f(s['precision'])},"
        f"Brier 分数 {_f(s['brier'])}"
    )
    table = Table(title="分类指标")
    for col in ("类别", "精确率", "召回率", "F1", "样本数"):
        table.add_column(col)
    for label, row in c["per_class"].items():
        table.add_row(f"{CATEGORY_NAMES.get(label, label)}({label})", _f(row["precision"]), _f(row["recall"]),
                      _f(row["f1"]), str(row["support"]))
    console.print(table)
    console.print(f"类别宏平均 F1:{_f(c['macro_f1'])},准确率:{_f(c['accuracy'])}")
    cm = Table(title="混淆矩阵(行:真实,列:预测)")
    cm.add_column("")
    for label in c["labels"]:
        cm.add_column(label)
    for label, row in zip(c["labels"], c["confusion"], strict=True):
        cm.add_row(label, *(str(v) for v in row))
    console.print(cm)
    rel = Table(title="校准(可靠性分箱)")
    for col in ("区间", "条数", "平均预测", "实际比例"):
        rel.add_column(col)
    for lo, n, pred, obs in s["reliability"]:
        rel.add_row(f"{lo:.1f}–{lo + 0.1:.1f}", str(n), f"{pred:.3f}", f"{obs:.3f}")
    console.print(rel)


def print_attack(console: Console, a: dict[str, Any]) -> None:
    console.print(
        f"\n[bold]COLD 开发集(攻击/辱骂维度,共 {a['n']} 条)[/bold]\n"
        f"攻击识别宏平均 F1:{_f(a['attack_macro_f1'])}(阈值 {a['attack_threshold']}),"
        f"准确率 {_f(a['attack_accuracy'])};整个模型敏感判断宏平均 F1:{_f(a['model_sensitive_macro_f1'])}"
    )


def _eval_heading(title: str) -> str:
    """The Chinese heading of one hand-written evaluation set (its card title names the file)."""
    name = title.rsplit("/", 1)[-1].rstrip(")")
    return f"手写评估帖子 {name}(未参与训练)"


def _f(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _load(model: Path | None) -> Any:
    from analysis.classifier import Classifier

    try:
        return Classifier.load(model)
    except FileNotFoundError as exc:
        raise InputError(f"{exc}。请先运行 yuqing train。") from None
    except ValueError as exc:
        raise InputError(str(exc)) from None


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        with_feedback: bool = FEEDBACK_OPTION,
        out: Path | None = OUT_OPTION,
        limit: int | None = LIMIT_OPTION,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """训练分类模型:项目语料 + COLD(如有) + 审核标签(--with-feedback),写出模型和模型卡。"""
        from analysis.classifier import Classifier, default_model_path
        from analysis.training import datasets_root, train_and_write

        console = Console()
        target = out or default_model_path()
        feedback: list[dict[str, Any]] = []
        if with_feedback:
            feedback = feedback_records(get_config(config))
            console.print(f"审核标签:{len(feedback)} 条")
        previous = None
        if target.is_file():
            try:
                previous = Classifier.load(target).state
            except (ValueError, OSError, KeyError):
                previous = None
        root = datasets_root()
        if root is None:
            console.print("[yellow]未找到 ../shared/datasets(COLD),只用项目内语料训练。[/yellow]")
        with console.status("正在训练……"):
            result = train_and_write(target, feedback, datasets=root, limit=limit,
                                     previous=previous if with_feedback else None)
        console.print(f"模型:{result.model_path}(版本 {result.classifier.version})")
        console.print(f"模型卡:{result.card_path}")
        print_metrics(console, "项目语料留出测试集", result.metrics["test"])
        for title, m in result.metrics.get("extra", {}).items():
            print_metrics(console, _eval_heading(title), m)
        if "cold_attack" in result.metrics:
            print_attack(console, result.metrics["cold_attack"])

    @app.command("evaluate")
    def evaluate(
        data: Path | None = DATA_OPTION,
        model: Path | None = MODEL_OPTION,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """评估模型:给定数据,或(默认)项目语料留出集 + COLD 开发集 + 学校匹配测试集。"""
        from analysis import training

        console = Console()
        clf = _load(model)
        console.print(f"模型:{clf.version}")
        if data is not None:
            try:
                examples = training.load_jsonl(data)
            except (OSError, ValueError) as exc:
                raise InputError(f"无法读取评估数据:{exc}") from None
            print_metrics(console, f"评估数据 {data.name}", training.evaluate(clf, examples))
            return
        held = training.prepare_data(datasets=training.datasets_root())
        metrics = training.held_out_metrics(clf, held)
        print_metrics(console, "项目语料留出测试集", metrics["test"])
        for title, m in metrics.get("extra", {}).items():
            print_metrics(console, _eval_heading(title), m)
        if "cold_attack" in metrics:
            print_attack(console, metrics["cold_attack"])
        else:
            console.print("[yellow]未找到 ../shared/datasets,跳过 COLD 开发集。[/yellow]")
        _print_matching(console, config)


def _print_matching(console: Console, config: Path | None) -> None:
    """School matching figures from analysis.schools (when that part has landed)."""
    try:
        from analysis import schools
    except ImportError:
        console.print("[yellow]学校匹配模块尚未就绪,跳过。[/yellow]")
        return
    evaluate_matching = getattr(schools, "evaluate_matching", None)
    if evaluate_matching is None:
        console.print("[yellow]学校匹配评估尚未就绪,跳过。[/yellow]")
        return
    result = evaluate_matching(get_config(config), None)
    console.print(f"\n[bold]学校匹配[/bold]:{result}")
