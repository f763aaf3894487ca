"""`yuqing parse --type TYPE FILE`: what a page object extracts from a saved page or API response.

How a monitor or developer checks a source whose layout changed: save the page, run this, read the posts.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Annotated, Any

import typer

from yuqing.commands.common import CONFIG_OPTION, get_config


def _options(pairs: list[str]) -> dict[str, Any]:
    """KEY=VALUE pairs; VALUE as JSON when it parses (true, 3, ["a"]), a dotted KEY nests (selectors.content)."""
    from yuqing.errors import InputError

    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key:
            raise InputError(f"选项格式应为 KEY=VALUE: {pair!r}", where="--option")
        try:
            value: Any = json.loads(raw)
        except ValueError:
            value = raw
        *parents, leaf = key.split(".")
        target = options
        for name in parents:
            target = target.setdefault(name, {})
        target[leaf] = value
    return options


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse(
        file: Annotated[Path, typer.Argument(help="保存的页面或接口响应文件")],
        type_: Annotated[str, typer.Option("--type", "-t", help="页面类型,如 news、feed、tieba、discuz、weibo")],
        url: Annotated[str | None, typer.Option(help="页面原始网址(相对链接据此补全;默认 file://)")] = None,
        source: Annotated[str | None, typer.Option(help="来源 id:使用该来源配置的选择器等选项")] = None,
        content_type: Annotated[str, typer.Option(help="响应头 Content-Type(可带 charset)")] = "",
        option: Annotated[list[str] | None, typer.Option("--option", "-o", help="页面选项 KEY=VALUE,可重复")] = None,
        links: Annotated[bool, typer.Option("--links", help="同时输出要继续抓取的链接")] = False,
        crawled_at: Annotated[datetime | None, typer.Option(help="抓取时间(UTC),用于相对时间")] = None,
        config: Path | None = CONFIG_OPTION,
    ) -> None:
        """按页面类型解析保存的页面,以 JSON Lines 输出帖子(--links 时也输出链接)。"""
        from crawler.pages import PageInput, ParseError, page_for, page_options

        if not file.is_file():
            typer.secho(f"错误: 文件不存在: {file}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1)
        options: dict[str, Any] = {}
        if source:
            found = next((s for s in get_config(config).sources if s.id == source), None)
            if found is None:
                typer.secho(f"错误: 配置中没有来源 {source}", fg=typer.colors.RED, err=True)
                raise typer.Exit(1)
            options = page_options(found)
        options.update(_options(option or []))
        when = crawled_at.replace(tzinfo=crawled_at.tzinfo or timezone.utc) if crawled_at else None
        page = PageInput(
            url=url or file.resolve().as_uri(),
            body=file.read_bytes(),
            headers={"Content-Type": content_type} if content_type else {},
            source=source or "",
            crawled_at=when,
            options=options,
        )
        parser = page_for(type_, page)
        try:
            posts = parser.posts()
            found_links = parser.links()  # list pages report a redesign from links()
        except ParseError as exc:
            typer.secho(f"错误: {file}: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        for post in posts:
            typer.echo(post.model_dump_json())
        for link in found_links if links else []:
            record = {"link": link.url, "kind": link.kind, "title": link.title, "meta": link.meta}
            typer.echo(json.dumps(record, ensure_ascii=False, default=str))
        typer.secho(f"{file}: {len(posts)} 条帖子" + (f",{len(found_links)} 个链接" if links else ""), err=True)
