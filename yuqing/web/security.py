"""Sessions, CSRF tokens, login rate limiting and the security headers of every response.

The session is a signed cookie (itsdangerous): the user name, a CSRF token and a fingerprint of the
password hash, so that changing a password ends every session of that user. The cookie is
HttpOnly, SameSite=Lax, and Secure whenever the request came over https.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from yuqing.config import Config

SESSION_COOKIE = "yuqing_session"
SESSION_MAX_AGE = 12 * 3600  # a working day; then log in again
SECRET_ENV = "YUQING_SECRET_KEY"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Following a link to the original post must not tell the site where our reviewers work.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def load_secret(cfg: Config) -> str:
    """From the environment, else a random key kept (0600) in the data folder across restarts."""
    env = os.environ.get(SECRET_ENV)
    if env:
        return env
    path = Path(cfg.data_dir) / "web-secret.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(key)
    try:
        # Several workers may start at once: the first link wins, the others read its key.
        os.link(tmp, path)
    except FileExistsError:
        key = path.read_text(encoding="utf-8").strip()
    finally:
        tmp.unlink()
    return key


def password_fingerprint(password_hash: str) -> str:
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass
class SessionData:
    csrf: str
    username: str | None = None
    fingerprint: str = ""


class SessionCodec:
    def __init__(self, secret: str):
        self._s = URLSafeTimedSerializer(secret, salt="yuqing-session")

    def load(self, cookie: str | None) -> SessionData | None:
        if not cookie:
            return None
        try:
            data = self._s.loads(cookie, max_age=SESSION_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("c"), str):
            return None
        return SessionData(csrf=data["c"], username=data.get("u"), fingerprint=data.get("h", ""))

    def dump(self, s: SessionData) -> str:
        return self._s.dumps({"c": s.csrf, "u": s.username, "h": s.fingerprint})


def new_csrf() -> str:
    return secrets.token_urlsafe(24)


def csrf_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


@dataclass
class LoginLimiter:
    """At most ``per_user`` failed logins per (IP, user name) and ``per_ip`` per IP in ``window`` seconds.

    Kept in memory: one UI process per deployment; a restart forgets, which is acceptable for slowing
    down password guessing (argon2 makes each guess slow as well).
    """

    per_user: int = 5
    per_ip: int = 20
    window: float = 300.0
    _fails: dict[tuple[str, str], deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._fails.setdefault(key, deque())
        while q and q[0] <= now - self.window:
            q.popleft()
        return q

    def retry_after(self, ip: str, username: str, now: float | None = None) -> int:
        """Seconds until another attempt is allowed; 0 when allowed now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = []
            for key, limit in (((ip, username.lower()), self.per_user), ((ip, ""), self.per_ip)):
                q = self._recent(key, now)
                if len(q) >= limit:
                    waits.append(int(q[0] + self.window - now) + 1)
            return max(waits, default=0)

    def failed(self, ip: str, username: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._fails) > 10000:  # bounded memory under a spray of user names
                self._fails.clear()
            self._recent((ip, username.lower()), now).append(now)
            self._recent((ip, ""), now).append(now)

    def succeeded(self, ip: str, username: str) -> None:
        with self._lock:
            self._fails.pop((ip, username.lower()), None)
