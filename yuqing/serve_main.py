"""The long-running `yuqing serve` process, without the command line around it.

`yuqing serve` parses its options in the typer CLI and then replaces itself (``os.execv``, same pid) with
``python -m yuqing.serve_main``: a process that runs for months should not hold what only a one-shot
command needs — typer, rich and the imports of every command module. For the same reason the schema
migration, when the database is not at the head revision yet, runs in a short-lived child: Alembic, Mako
and Pygments never enter the service's memory. See docs/deployment.md (Memory).

    python -m yuqing.serve_main --config DIR [--host H] [--port P] [--no-web]
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from yuqing.errors import InputError, YuqingError

if TYPE_CHECKING:
    from yuqing.config import Config


class MigrationFailed(YuqingError):
    def __init__(self, code: int) -> None:
        super().__init__(f"数据库结构升级失败(子进程退出码 {code}),请查看上面的错误信息")


def command(config_dir: Path, host: str, port: int, web: bool) -> list[str]:
    """The argv of the lean service process (what `yuqing serve` execs)."""
    return [sys.executable, "-m", "yuqing.serve_main", "--config", str(config_dir), "--host", host,
            "--port", str(port), "--web" if web else "--no-web"]


def exec_serve(config_dir: Path, host: str, port: int, web: bool) -> None:
    """Replace this process (the CLI) by the lean service process; the pid stays the same, so systemd,
    the pid file and whoever started `yuqing serve` keep talking to the real service. Never returns."""
    sys.stdout.flush()
    sys.stderr.flush()
    argv = command(config_dir, host, port, web)
    os.execv(argv[0], argv)


def migrate_in_child(cfg: Config, config_dir: Path) -> bool:
    """Bring the schema to the head revision in a child process, unless it is there already.

    Returns whether a child ran. An up-to-date database (every start but the first after an install or an
    upgrade) is recognised from its alembic_version row, as Store.migrate does, without a child.
    """
    from alerting.store import Store
    from alerting.store.db import HEAD_REVISION

    store = Store(cfg.database_url)
    try:
        if store.recorded_revisions() == [HEAD_REVISION]:
            return False
    finally:
        store.dispose()
    code = subprocess.call([sys.executable, "-m", "yuqing.serve_main", "--migrate", "--config", str(config_dir)])
    if code != 0:
        raise MigrationFailed(code)
    return True


def serve(cfg: Config, config_dir: Path, host: str, port: int, web: bool) -> None:
    """Scheduler in background threads; the web UI (or a wait for SIGTERM) in the main thread."""
    from yuqing.service import Service
    from yuqing.service_budget import limit_malloc_arenas
    from yuqing.service_log import setup_logging
    from yuqing.service_status import collect_status, service_pid

    if (pid := service_pid(cfg)) is not None:
        raise InputError(f"监测服务已在运行(进程 {pid}),同一数据目录只能运行一个", "serve")
    limit_malloc_arenas()  # before any thread starts; the crawl and analysis children inherit it
    migrate_in_child(cfg, config_dir)
    log_path = setup_logging(cfg.data_dir, cfg.timezone)
    log = logging.getLogger("yuqing.service")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("event=signal signal=%s", signal.Signals(signum).name)
        stop.set()

    # Installed before uvicorn: it captures SIGTERM/SIGINT while it runs and re-raises them to these
    # handlers after its own clean shutdown, so the scheduler always gets its turn to stop.
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service = Service.from_config(cfg, config_dir)
    service.start()
    print(f"监测服务已启动,日志: {log_path}", flush=True)
    try:
        if web:
            import uvicorn

            from yuqing.web.app import create_app

            app = create_app(cfg, service.ctx.store)
            app.state.service_health = lambda: collect_status(
                cfg, service.ctx.store, scheduler=service.scheduler).public_json()
            print(f"网页端: http://{host}:{port}/  健康检查: http://{host}:{port}/healthz", flush=True)
            server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_config=None, log_level="warning",
                                                   proxy_headers=True))
            server.run()
        else:
            stop.wait()
    finally:
        service.stop()
    print("监测服务已停止。", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m yuqing.serve_main", description="yuqing serve 的服务进程")
    ap.add_argument("--config", type=Path, required=True, help="配置目录")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000)
    ap.add_argument("--web", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--migrate", action="store_true", help="只升级数据库结构后退出(服务启动时在子进程中运行)")
    args = ap.parse_args(argv)
    from yuqing.config import load_config

    try:
        cfg = load_config(args.config)
        if args.migrate:
            from alerting.store import Store

            Store.from_config(cfg).dispose()  # migrates under Store's inter-process lock
        else:
            serve(cfg, args.config.resolve(), args.host, args.port, args.web)
    except YuqingError as exc:
        red, reset = ("\x1b[31m", "\x1b[0m") if sys.stderr.isatty() else ("", "")
        print(f"{red}错误: {exc}{reset}", file=sys.stderr, flush=True)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
