"""The user-facing error types. Messages are Simplified Chinese and say what and where."""

from __future__ import annotations

from dataclasses import dataclass


class YuqingError(Exception):
    """Base of every error that reaches a user; the edges render ``str(err)`` and exit non-zero."""

    exit_code = 1


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int | None
    where: str
    message: str

    def __str__(self) -> str:
        place = f"{self.file}:{self.line}" if self.line else self.file
        where = f" [{self.where}]" if self.where else ""
        return f"{place}{where}: {self.message}"


class ConfigError(YuqingError):
    exit_code = 2

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ParseError(YuqingError):
    """A page or API response that a page object cannot turn into posts."""

    def __init__(self, url: str, reason: str, stat: str = "parse/failed"):
        self.url = url
        self.reason = reason
        self.stat = stat
        super().__init__(f"无法解析页面 {url}: {reason}")


class LoginExpiredError(ParseError):
    """The platform answered that our login (cookie) is no longer valid."""

    def __init__(self, url: str, reason: str = "登录已失效(Cookie 过期)"):
        super().__init__(url, reason, stat="login_expired")


class InputError(YuqingError):
    """Bad input from a user or a file: a line of JSON, a form field, a query."""

    def __init__(self, message: str, where: str = ""):
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class TransitionError(YuqingError):
    """A workflow transition that the state machine or the user's role does not allow."""


class NotFoundError(YuqingError):
    pass


class PermissionDeniedError(YuqingError):
    pass
