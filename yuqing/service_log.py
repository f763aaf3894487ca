"""Structured logs for the unattended service: JSON lines in data_dir/logs with rotation, and stderr.

Messages themselves are ``event=… key=value`` pairs, so a line reads well in journalctl and parses
with one split; the file adds time (Asia/Shanghai), level and logger as JSON fields.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

LOG_FILE = "yuqing.log"
MAX_BYTES = 10 * 1024 * 1024
BACKUPS = 10  # 100 MB at most, weeks of history at a normal rate


class JsonLines(logging.Formatter):
    def __init__(self, tz: ZoneInfo) -> None:
        super().__init__()
        self.tz = tz

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(data_dir: Path, timezone: str, level: int = logging.INFO) -> Path:
    """Send the root logger to a rotating JSON-lines file and to stderr; return the file's path."""
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / LOG_FILE
    root = logging.getLogger()
    for h in list(root.handlers):
        if getattr(h, "_yuqing", False):
            root.removeHandler(h)
            h.close()
    to_file = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8")
    to_file.setFormatter(JsonLines(ZoneInfo(timezone)))
    to_err = logging.StreamHandler()
    to_err.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    for h in (to_file, to_err):
        setattr(h, "_yuqing", True)  # noqa: B010 - marks our handlers so a second setup replaces them
        root.addHandler(h)
    root.setLevel(level)
    # APScheduler logs every job start at INFO; keep its warnings (misfires, max instances) only.
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Context impl SQLiteImpl" on every migrate check
    return path
