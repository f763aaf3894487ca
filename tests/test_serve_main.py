"""The `yuqing serve` process holds neither the command line nor what only one-shot commands need.

`yuqing serve` execs ``python -m yuqing.serve_main`` (same pid); the schema migration of a new database runs
in a child; report exports import python-docx/openpyxl on first use. What the service process then holds
is checked on the real process (its command line and the shared libraries it maps) and, for pure-Python
packages that leave no trace in /proc, on the same start-up path run in a subprocess.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path

import pytest
import yaml

from alerting.store import Store
from alerting.store.db import HEAD_REVISION
from yuqing.config import load_config
from yuqing.service_status import pid_path

ROOT = Path(__file__).resolve().parent.parent
# Loaded by one-shot commands or by the first report download, never by the service from start.
NOT_IN_SERVICE = ("typer", "rich", "yuqing.cli", "yuqing.commands", "alembic", "mako", "pygments",
                  "openpyxl", "docx", "numpy", "charset_normalizer", "sklearn", "rjieba", "scrapy")


def _quiet(config_dir: Path) -> Path:
    """Every source disabled: the service starts, schedules nothing to crawl, and answers /healthz."""
    path = config_dir / "sources.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    for src in doc["sources"]:
        src["enabled"] = False
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return config_dir


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _healthz(port: int) -> dict[str, object] | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
            return json.loads(r.read())  # type: ignore[no-any-return]
    except OSError:
        return None


@pytest.mark.slow
def test_yuqing_serve_execs_the_lean_service_process_under_the_same_pid(config_dir: Path, tmp_path: Path) -> None:
    _quiet(config_dir)
    port = _free_port()
    out = tmp_path / "serve.out"
    with out.open("wb") as fh:
        proc = subprocess.Popen([sys.executable, "-m", "yuqing.cli", "serve", "--config", str(config_dir),
                                 "--port", str(port)], cwd=ROOT, stdout=fh, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        body = None
        while body is None and time.monotonic() < deadline:
            assert proc.poll() is None, out.read_text(encoding="utf-8")
            time.sleep(0.2)
            body = _healthz(port)
        assert body is not None and body["running"] is True
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().split(b"\0")
        assert b"yuqing.serve_main" in cmdline and b"yuqing.cli" not in cmdline
        cfg = load_config(config_dir)
        assert pid_path(cfg).read_text().strip() == str(proc.pid)
        # Compiled extensions of what only exports and analysis need are not mapped (NumPy came with openpyxl).
        maps = Path(f"/proc/{proc.pid}/maps").read_text()
        for lib in ("numpy", "lxml", "charset_normalizer", "sklearn", "rjieba"):
            assert f"/{lib}/" not in maps, lib
        # A new database was migrated in a child (the service opened it at the head revision).
        assert Store.from_config(cfg, migrate=False).recorded_revisions() == [HEAD_REVISION]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)
    text = out.read_text(encoding="utf-8")
    assert "监测服务已启动" in text and "监测服务已停止。" in text


def test_service_start_up_path_imports_no_cli_migration_or_export_packages(config_dir: Path) -> None:
    """What serve_main.serve builds (migration, scheduler, web app, health), in a fresh interpreter."""
    _quiet(config_dir)
    script = textwrap.dedent(f"""
        import json, sys
        from pathlib import Path
        from yuqing.config import load_config
        from yuqing.serve_main import migrate_in_child
        from yuqing.service import Service
        from yuqing.service_status import collect_status
        from yuqing.web.app import create_app
        import uvicorn

        d = Path({str(config_dir)!r})
        cfg = load_config(d)
        ran = migrate_in_child(cfg, d)
        service = Service.from_config(cfg, d)
        app = create_app(cfg, service.ctx.store)
        collect_status(cfg, service.ctx.store).public_json()
        again = migrate_in_child(cfg, d)
        service.ctx.store.dispose()
        print(json.dumps({{"ran": ran, "again": again, "modules": sorted(sys.modules)}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=120,
                          check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ran"] is True and result["again"] is False  # a child only for a database not at head
    held = [m for m in result["modules"] if m.split(".")[0] in NOT_IN_SERVICE or m.startswith(NOT_IN_SERVICE)]
    assert held == []
    assert Store.from_config(load_config(config_dir), migrate=False).recorded_revisions() == [HEAD_REVISION]


def test_bad_configuration_is_reported_by_the_service_process(config_dir: Path) -> None:
    (config_dir / "county.yaml").write_text("county: [\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "yuqing.cli", "serve", "--config", str(config_dir)],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2  # ConfigError's exit code, as for every other command
    assert done.stderr.startswith("错误: ") and "county.yaml" in done.stderr


def test_second_service_on_the_same_data_folder_is_refused(config_dir: Path) -> None:
    cfg = load_config(config_dir)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    pid_path(cfg).write_text(str(os.getpid()))  # a live process holds the folder
    done = subprocess.run([sys.executable, "-m", "yuqing.serve_main", "--config", str(config_dir), "--no-web"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert f"监测服务已在运行(进程 {os.getpid()})" in done.stderr


def test_importing_accounts_does_not_take_argon2s_memory() -> None:
    """The web UI and the analysis worker import alerting.accounts; an argon2 hash made at import took its
    memory for a moment in both (the worker's first request peaked 60 MB above its steady size, at the
    library's default 64 MiB). A hash now takes the configured 19 MiB, not the default's 64."""
    script = textwrap.dedent("""
        import re
        from pathlib import Path

        def peak_kib():  # this process's own high-water mark (ru_maxrss would include the parent's before exec)
            return int(re.search(r"VmHWM:\\s+(\\d+)", Path("/proc/self/status").read_text()).group(1))

        import alerting.accounts as accounts
        after_import = peak_kib()
        accounts._dummy_hash()  # what the first login of an unknown user name makes
        print(after_import, peak_kib())
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=True)
    after_import, after_hash = (int(v) for v in done.stdout.split())
    assert after_hash - after_import > 15 * 1024  # KiB: the hash's memory came after the import, not with it
    assert after_hash - after_import < 30 * 1024  # and it is the 19 MiB setting, not argon2-cffi's 64 MiB
