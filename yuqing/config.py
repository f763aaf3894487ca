"""Configuration: YAML files in one folder, validated by pydantic, with file and line in every problem.

Files (all optional except county.yaml and schools.yaml): county.yaml, schools.yaml, keywords.yaml,
sources.yaml, alerts.yaml, storage.yaml. Each top-level key belongs to exactly one file.
Values may use ``${VAR}`` or ``${VAR:-default}`` to read the environment (for URLs and paths; secrets
are never written in YAML: name the variable or file that holds them).
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from yuqing.errors import ConfigError, ConfigProblem
from yuqing.model import Category, Role, Severity

CONFIG_FILES = ("county.yaml", "schools.yaml", "keywords.yaml", "sources.yaml", "alerts.yaml", "storage.yaml")
SECRET_KEYS = {"password", "passwd", "secret", "cookie", "cookies", "token", "api_key", "apikey"}
SOURCE_TYPES = ("rss", "news_list", "news_search", "tieba", "discuz", "weibo_search", "weibo_page")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


def _check_url(value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValueError(f"不是有效的网址: {value!r}(需要 http:// 或 https:// 开头)")
    return value


WebUrl = Annotated[str, AfterValidator(_check_url)]


# --- county.yaml -------------------------------------------------------------------------------


class County(Strict):
    name: str = Field(description="Official county name, e.g. 示例县")
    short_name: str = Field(default="", description="Short form used in posts, e.g. 示例")
    province: str = Field(default="", description="Province, used to reject same-named schools elsewhere")
    city: str = Field(default="", description="Prefecture-level city")
    townships: list[str] = Field(default_factory=list, description="Townships (乡镇) of the county")
    other_places: list[str] = Field(
        default_factory=list, description="Names of other counties/cities whose same-named schools must be rejected"
    )

    def place_names(self) -> list[str]:
        names = [self.name, *self.townships]
        if self.short_name:
            names.append(self.short_name)
        return [n for n in names if n]


class CrawlerSettings(Strict):
    user_agent: str = Field(description="Honest user agent naming the bureau and a contact")
    obey_robots: bool = Field(default=True, description="Obey robots.txt")
    download_delay: float = Field(default=1.0, ge=0, description="Seconds between requests to one domain")
    concurrency_per_domain: int = Field(default=2, ge=1, le=32, description="Parallel requests per domain")
    autothrottle: bool = Field(default=True, description="Adapt the delay to server latency")
    max_page_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, description="Larger responses are dropped")
    timeout_seconds: int = Field(default=30, ge=1, description="Download timeout")
    retries: int = Field(default=2, ge=0, le=10, description="Retries for 5xx and timeouts only")
    chromium_path: str = Field(
        default="/usr/bin/chromium-headless-shell",
        description="System Chromium for Playwright; Debian's chromium-headless-shell needs about half the memory "
        "of /usr/bin/chromium in headless mode (both work)",
    )
    max_browser_pages: int = Field(default=1, ge=1, description="Bound on open Playwright pages (each costs memory)")
    service_children_mb: int = Field(
        default=410, ge=100,
        description="Memory (MB) `yuqing serve` lets its child processes hold at once: crawls (~110 each), a "
        "crawl with Chromium (~410) and the analysis worker (~300); raise it on a larger server to run crawls "
        "in parallel",
    )


class CountyFile(Strict):
    county: County = Field(description="The county this deployment watches")
    timezone: str = Field(default="Asia/Shanghai", description="Times shown and schedules; storage is UTC")
    retention_days: int = Field(default=180, ge=1, description="Posts older than this are purged")
    crawler: CrawlerSettings = Field(description="Crawler politeness and browser settings")


# --- schools.yaml ------------------------------------------------------------------------------


class School(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable id, lowercase ASCII")
    name: str = Field(min_length=2, description="Official full name")
    aliases: list[str] = Field(default_factory=list, description="Unambiguous other names (count alone)")
    short_forms: list[str] = Field(
        default_factory=list,
        description="Ambiguous short forms such as 一中; count only with county/township context or a scoped source",
    )
    township: str = Field(default="", description="Township the school is in")
    level: Literal["幼儿园", "小学", "初中", "九年一贯制", "高中", "完全中学", "职业学校", "特殊教育", "其他"] = Field(
        default="其他", description="School level"
    )
    monitors: list[str] = Field(default_factory=list, description="Usernames of the monitors responsible")

    def all_names(self) -> list[str]:
        return [self.name, *self.aliases, *self.short_forms]


class SchoolsFile(Strict):
    schools: list[School] = Field(min_length=1, description="Every school the bureau is responsible for")


# --- keywords.yaml -----------------------------------------------------------------------------


class Topic(Strict):
    name: str = Field(description="Display name shown to monitors")
    expression: str = Field(
        description="Keyword grammar: words separated by spaces or |; +word must appear, !word must not, /re/ regex"
    )


class KeywordsFile(Strict):
    topics: list[Topic] = Field(default_factory=list, description="Keyword topics shown as matched topics")
    red_lines: list[str] = Field(
        default_factory=list, description="Terms that raise severity whenever they appear (死亡, 性侵, ...)"
    )
    extra_words: list[str] = Field(default_factory=list, description="Words added to the segmentation dictionary")


# --- sources.yaml ------------------------------------------------------------------------------


class Schedule(Strict):
    interval_minutes: float | None = Field(default=None, gt=0, description="Run every N minutes")
    cron: str | None = Field(default=None, description="Crontab expression (Asia/Shanghai)")
    sensitive_interval_minutes: float | None = Field(
        default=None, gt=0, description="Interval while a sensitive period is active"
    )

    @model_validator(mode="after")
    def _one_trigger(self) -> Schedule:
        if (self.interval_minutes is None) == (self.cron is None):
            raise ValueError("schedule 需要且只能有 interval_minutes 或 cron 之一")
        if self.cron is not None and len(self.cron.split()) != 5:
            raise ValueError(f"cron 表达式应有 5 段: {self.cron!r}")
        return self


class Politeness(Strict):
    obey_robots: bool | None = Field(default=None, description="Override crawler.obey_robots for this source")
    download_delay: float | None = Field(default=None, ge=0, description="Override crawler.download_delay")
    concurrency_per_domain: int | None = Field(
        default=None, ge=1, le=32, description="Override crawler.concurrency_per_domain"
    )
    autothrottle: bool | None = Field(default=None, description="Override crawler.autothrottle")


class Selectors(Strict):
    """Per-site CSS selectors that override automatic extraction when it fails."""

    title: str | None = Field(default=None, description="CSS selector of the title")
    content: str | None = Field(default=None, description="CSS selector of the body text")
    author: str | None = Field(default=None, description="CSS selector of the author name")
    published_at: str | None = Field(default=None, description="CSS selector of the publish time")


class Source(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$", description="Stable id, lowercase ASCII")
    name: str = Field(description="Name shown to people")
    type: Literal["rss", "news_list", "news_search", "tieba", "discuz", "weibo_search", "weibo_page"] = Field(
        description="Source type; picks the spider"
    )
    urls: list[WebUrl] = Field(default_factory=list, description="Start URLs (feeds, list pages, boards)")
    keywords: list[str] = Field(default_factory=list, description="Search terms (news_search, weibo_search)")
    search_url: str | None = Field(
        default=None, description="Search URL template with {q} (and {page}) for keyword sources"
    )
    enabled: bool = Field(default=True, description="Crawl this source")
    scoped_to_county: bool = Field(default=False, description="Everything here is about our county")
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(interval_minutes=60), description="When the service crawls it"
    )
    max_pages: int = Field(default=50, ge=1, description="Bound on list/search pages followed per run")
    max_depth: int = Field(default=2, ge=0, description="Link depth followed from the start URLs")
    max_age_days: int = Field(default=30, ge=1, description="Older posts are not collected")
    follow: list[str] = Field(default_factory=list, description="Regexes of links to follow to articles")
    paginate: str | None = Field(default=None, description="CSS selector of the next-page link")
    selectors: Selectors = Field(default_factory=Selectors, description="Overrides when extraction fails")
    politeness: Politeness = Field(default_factory=Politeness, description="Explicit politeness overrides")
    revisit_minutes: float | None = Field(default=None, gt=0, description="Revisit tracked threads this often")
    cookie_env: str | None = Field(default=None, description="Environment variable holding a login cookie")
    cookie_file: str | None = Field(default=None, description="File (outside the repo) holding a login cookie")
    health_zero_runs: int = Field(default=3, ge=1, description="Zero-post runs in a row before a health warning")
    options: dict[str, Any] = Field(default_factory=dict, description="Type-specific extras")

    @field_validator("search_url")
    @classmethod
    def _search_url(cls, value: str | None) -> str | None:
        if value is not None:
            _check_url(value.replace("{q}", "q").replace("{page}", "1"))
            if "{q}" not in value:
                raise ValueError("search_url 必须包含 {q} 占位符")
        return value

    @model_validator(mode="after")
    def _needs(self) -> Source:
        if self.type in ("news_search", "weibo_search"):
            if not self.keywords:
                raise ValueError(f"{self.type} 类型的来源需要 keywords")
            if not self.search_url and not self.urls:
                raise ValueError(f"{self.type} 类型的来源需要 search_url")
        elif not self.urls:
            raise ValueError(f"{self.type} 类型的来源需要至少一个 urls")
        return self


class SourcesFile(Strict):
    sources: list[Source] = Field(default_factory=list, description="Places to watch")


# --- alerts.yaml -------------------------------------------------------------------------------


class RecipientGroup(Strict):
    name: str = Field(description="Group id, e.g. working_group, leaders, admin")
    emails: list[str] = Field(min_length=1, description="E-mail addresses of the group")
    apprise_urls_env: str | None = Field(
        default=None, description="Environment variable with Apprise URLs (WeCom/DingTalk/Feishu webhooks)"
    )

    @field_validator("emails")
    @classmethod
    def _emails(cls, value: list[str]) -> list[str]:
        for e in value:
            if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", e):
                raise ValueError(f"不是有效的邮箱地址: {e!r}")
        return value


class Smtp(Strict):
    host: str = Field(default="127.0.0.1", description="SMTP server")
    port: int = Field(default=8025, ge=1, le=65535, description="SMTP port")
    security: Literal["none", "starttls", "ssl"] = Field(default="none", description="Transport security")
    username: str | None = Field(default=None, description="SMTP user name, when the server needs a login")
    password_env: str | None = Field(default=None, description="Environment variable holding the SMTP password")
    password_file: str | None = Field(default=None, description="File holding the SMTP password")
    sender: str = Field(default="yuqing@localhost", description="From address")
    timeout_seconds: float = Field(default=20.0, gt=0, description="SMTP connection timeout")
    ca_file: str | None = Field(
        default=None, description="CA certificate (PEM) to trust for starttls/ssl; empty means the system store"
    )

    def password(self) -> str | None:
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return Path(self.password_file).read_text(encoding="utf-8").strip()
        return None


class Thresholds(Strict):
    sensitivity: float = Field(
        default=0.23, ge=0, le=1,
        description="Analyses at or above this raise warnings; keep it at the model's alert threshold "
        "(analysis/models/MODEL_CARD.md: chosen on validation folds for sensitive recall 0.97)",
    )
    sensitive_period_sensitivity: float = Field(
        default=0.15, ge=0, le=1, description="The lower threshold while a sensitive period is active"
    )
    immediate_severity: Severity = Field(default=Severity.III, description="This severity or worse mails at once")
    escalation_growth: float = Field(default=2.0, gt=1, description="Re-alert when posts or reach grow this much")
    ack_minutes: int = Field(default=60, ge=1, description="High-severity warning unacknowledged this long escalates")


class SensitivePeriod(Strict):
    name: str = Field(description="Name such as 中考 or 开学")
    start: date = Field(description="First day (Asia/Shanghai)")
    end: date = Field(description="Last day, inclusive")

    @model_validator(mode="after")
    def _order(self) -> SensitivePeriod:
        if self.end < self.start:
            raise ValueError(f"敏感时段 {self.name} 的结束日期早于开始日期")
        return self


class DutyMember(Strict):
    username: str = Field(description="Account name of the person on duty")
    email: str = Field(description="Where reminders and escalations go")


class Deadlines(Strict):
    """Hours to respond per category; inquiry means the end of the same day."""

    inquiry: Literal["same_day"] = Field(default="same_day", description="Inquiries: reply the same day")
    incident_hours: float = Field(default=4, gt=0, description="Hours to publish the facts")
    fabrication_hours: float = Field(default=24, gt=0, description="Hours to clarify and refer")
    suggestion_hours: float = Field(default=72, gt=0, description="Hours to adopt and reply")
    none_hours: float = Field(default=72, gt=0, description="Hours for anything else")


class AlertsFile(Strict):
    recipients: list[RecipientGroup] = Field(min_length=1, description="Named groups of recipients")
    immediate_to: list[str] = Field(
        default_factory=lambda: ["working_group"], description="Groups mailed at once for serious warnings"
    )
    digest_to: list[str] = Field(default_factory=lambda: ["working_group"], description="Groups getting digests")
    admin_to: list[str] = Field(default_factory=lambda: ["admin"], description="Groups told of source health")
    thresholds: Thresholds = Field(default_factory=Thresholds, description="When warnings and alerts happen")
    smtp: Smtp = Field(default_factory=Smtp, description="Outgoing mail server")
    digest_hourly: bool = Field(default=True, description="Send an hourly digest of new warnings")
    digest_daily_at: str = Field(default="07:30", pattern=r"^\d{2}:\d{2}$", description="Morning brief time")
    duty_roster: list[DutyMember] = Field(default_factory=list, description="Escalation order for reminders")
    sensitive_periods: list[SensitivePeriod] = Field(
        default_factory=list, description="敏感时段: shorter intervals and a lower threshold"
    )
    deadlines: Deadlines = Field(default_factory=Deadlines, description="Response deadlines per category")
    base_url: str = Field(default="http://127.0.0.1:8000", description="Public URL of the web UI, for links")
    users: dict[Role, list[str]] = Field(default_factory=dict, description="Usernames per role (accounts via CLI)")


# --- storage.yaml ------------------------------------------------------------------------------


class StorageFile(Strict):
    data_dir: str = Field(default="data", description="Folder for the database, evidence, mail sink, logs")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means sqlite in data_dir")
    index_url: str = Field(default="", description="sqlite:///… for FTS5 or http(s)://… for Elasticsearch")
    es_api_key_env: str | None = Field(default=None, description="Environment variable with an Elasticsearch API key")
    es_username: str | None = Field(default=None, description="Elasticsearch user (with es_password_env)")
    es_password_env: str | None = Field(default=None, description="Environment variable with the ES password")
    es_ca_certs: str | None = Field(default=None, description="CA certificate file for an https cluster")
    es_index_prefix: str = Field(
        default="yuqing-posts", pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="Elasticsearch alias and template name; monthly indices are <prefix>-YYYY.MM",
    )
    crawl_state_dir: str = Field(default="", description="Scrapy JOBDIR root; empty means data_dir/crawl")


# --- the whole ---------------------------------------------------------------------------------


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    root: Path
    county: County
    timezone: str = "Asia/Shanghai"
    retention_days: int = 180
    crawler: CrawlerSettings
    schools: list[School]
    topics: list[Topic] = Field(default_factory=list)
    red_lines: list[str] = Field(default_factory=list)
    extra_words: list[str] = Field(default_factory=list)
    sources: list[Source] = Field(default_factory=list)
    alerts: AlertsFile
    storage: StorageFile

    # -- derived paths and lookups -----------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        p = Path(self.storage.data_dir)
        return p if p.is_absolute() else (self.root.parent / p).resolve()

    @property
    def database_url(self) -> str:
        return self.storage.database_url or f"sqlite:///{self.data_dir / 'yuqing.db'}"

    @property
    def index_url(self) -> str:
        return self.storage.index_url or f"sqlite:///{self.data_dir / 'index.db'}"

    @property
    def crawl_state_dir(self) -> Path:
        return Path(self.storage.crawl_state_dir) if self.storage.crawl_state_dir else self.data_dir / "crawl"

    def school(self, school_id: str) -> School:
        for s in self.schools:
            if s.id == school_id:
                return s
        raise KeyError(school_id)

    def source(self, source_id: str) -> Source:
        for s in self.sources:
            if s.id == source_id:
                return s
        raise KeyError(source_id)

    def recipients(self, groups: list[str]) -> list[str]:
        out: list[str] = []
        for g in self.alerts.recipients:
            if g.name in groups:
                out.extend(e for e in g.emails if e not in out)
        return out

    def active_period(self, today: date | datetime) -> SensitivePeriod | None:
        day = today.date() if isinstance(today, datetime) else today
        for p in self.alerts.sensitive_periods:
            if p.start <= day <= p.end:
                return p
        return None


# --- loading with line numbers -----------------------------------------------------------------

_ENV = re.compile(r"\$\{([A-Z_][A-Z0-9_]*)(?::-([^}]*))?\}")


class _LineLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (a classic silent YAML mistake)."""


def _construct_mapping(loader: yaml.SafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"重复的键 {key!r}(第一次出现在第 {seen[key]} 行)", key_node.start_mark
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)  # type: ignore[no-untyped-call]


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _expand_env(value: Any, missing: list[str]) -> Any:
    if isinstance(value, str):

        def repl(m: re.Match[str]) -> str:
            var, default = m.group(1), m.group(2)
            if var in os.environ:
                return os.environ[var]
            if default is not None:
                return default
            missing.append(var)
            return m.group(0)

        return _ENV.sub(repl, value)
    if isinstance(value, list):
        return [_expand_env(v, missing) for v in value]
    if isinstance(value, dict):
        return {k: _expand_env(v, missing) for k, v in value.items()}
    return value


def _line_of(node: yaml.Node | None, loc: tuple[int | str, ...]) -> int | None:
    """Follow a pydantic error location through the YAML node tree to a 1-based line."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == part:
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            if nxt is None:
                return line
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line


_MESSAGES = {
    "missing": "缺少必填字段",
    "extra_forbidden": "未知字段(拼写错误?)",
    "string_type": "应为文本",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为映射(键: 值)",
    "model_type": "应为映射(键: 值)",
    "string_pattern_mismatch": "格式不对(只能用小写字母、数字、- 和 _)",
    "too_short": "不能为空",
    "string_too_short": "太短",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "date_type": "应为日期 YYYY-MM-DD",
}


def _message(err: Any) -> str:
    kind = err["type"]
    if kind in ("value_error", "assertion_error"):
        msg = str(err["msg"])
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind == "literal_error":
        return f"取值无效 {err.get('input')!r},允许: {err['ctx'].get('expected', '')}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return f"取值超出范围: {err['msg']}"
    if kind == "enum":
        return f"取值无效 {err.get('input')!r},允许: {err['ctx'].get('expected', '')}"
    base = _MESSAGES.get(kind)
    return base if base else str(err["msg"])


def _secret_problems(data: Any, fname: str, node: yaml.Node | None, path: tuple[Any, ...] = ()) -> list[ConfigProblem]:
    """Secrets must never live in YAML; report the key, never its value."""
    out: list[ConfigProblem] = []
    if isinstance(data, dict):
        for k, v in data.items():
            key = str(k).lower()
            if key in SECRET_KEYS and v not in (None, ""):
                out.append(
                    ConfigProblem(
                        fname,
                        _line_of(node, (*path, k)),
                        ".".join(map(str, (*path, k))),
                        f"配置文件中不能写密钥或密码({k});请改用 {k}_env(环境变量名)或 {k}_file(仓库外的文件)",
                    )
                )
            else:
                out.extend(_secret_problems(v, fname, node, (*path, k)))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out.extend(_secret_problems(v, fname, node, (*path, i)))
    return out


_FILE_MODELS: dict[str, type[BaseModel]] = {
    "county.yaml": CountyFile,
    "schools.yaml": SchoolsFile,
    "keywords.yaml": KeywordsFile,
    "sources.yaml": SourcesFile,
    "alerts.yaml": AlertsFile,
    "storage.yaml": StorageFile,
}
_REQUIRED = ("county.yaml", "schools.yaml", "alerts.yaml")


def load_config(root: str | Path = "config") -> Config:
    """Load and validate every file in ``root``; raise ConfigError listing every problem found."""
    root = Path(root).resolve()
    problems: list[ConfigProblem] = []
    parts: dict[str, BaseModel] = {}
    nodes: dict[str, yaml.Node | None] = {}
    if not root.is_dir():
        raise ConfigError([ConfigProblem(str(root), None, "", "配置目录不存在")])
    for fname, model in _FILE_MODELS.items():
        path = root / fname
        shown = str(path)
        if not path.exists():
            if fname in _REQUIRED:
                problems.append(ConfigProblem(shown, None, "", "缺少必需的配置文件"))
            continue
        text = path.read_text(encoding="utf-8")
        try:
            node = yaml.compose(text, Loader=_LineLoader)
            raw = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - _LineLoader is a SafeLoader
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc)
            problems.append(ConfigProblem(shown, line, "", f"YAML 语法错误: {problem}"))
            continue
        nodes[fname] = node
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            problems.append(ConfigProblem(shown, 1, "", "文件顶层应为映射(键: 值)"))
            continue
        secret = _secret_problems(raw, shown, node)
        problems.extend(secret)
        missing_env: list[str] = []
        data = _expand_env(raw, missing_env)
        for var in sorted(set(missing_env)):
            problems.append(ConfigProblem(shown, None, "", f"环境变量 {var} 未设置(且没有默认值)"))
        try:
            parts[fname] = model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(err["loc"])
                problems.append(
                    ConfigProblem(shown, _line_of(node, loc), ".".join(map(str, loc)), _message(err))
                )
    if not problems:
        problems.extend(_cross_checks(root, parts, nodes))
    if problems:
        raise ConfigError(problems)
    county = parts["county.yaml"]
    assert isinstance(county, CountyFile)
    schools = parts["schools.yaml"]
    assert isinstance(schools, SchoolsFile)
    keywords = parts.get("keywords.yaml") or KeywordsFile()
    assert isinstance(keywords, KeywordsFile)
    sources = parts.get("sources.yaml") or SourcesFile()
    assert isinstance(sources, SourcesFile)
    alerts = parts["alerts.yaml"]
    assert isinstance(alerts, AlertsFile)
    storage = parts.get("storage.yaml") or StorageFile()
    assert isinstance(storage, StorageFile)
    return Config(
        root=root,
        county=county.county,
        timezone=county.timezone,
        retention_days=county.retention_days,
        crawler=county.crawler,
        schools=schools.schools,
        topics=keywords.topics,
        red_lines=keywords.red_lines,
        extra_words=keywords.extra_words,
        sources=sources.sources,
        alerts=alerts,
        storage=storage,
    )


def _dupes(items: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...], tuple[Any, ...]]]:
    seen: dict[str, tuple[Any, ...]] = {}
    out = []
    for value, loc in items:
        if value in seen:
            out.append((value, loc, seen[value]))
        else:
            seen[value] = loc
    return out


def _cross_checks(
    root: Path, parts: dict[str, BaseModel], nodes: dict[str, yaml.Node | None]
) -> list[ConfigProblem]:
    out: list[ConfigProblem] = []
    schools = parts["schools.yaml"]
    assert isinstance(schools, SchoolsFile)
    sfile = str(root / "schools.yaml")
    snode = nodes.get("schools.yaml")
    for field in ("id", "name"):
        items = [(getattr(s, field), ("schools", i, field)) for i, s in enumerate(schools.schools)]
        for value, loc, first in _dupes(items):
            out.append(
                ConfigProblem(
                    sfile, _line_of(snode, loc), ".".join(map(str, loc)),
                    f"学校{'编号' if field == 'id' else '名称'}重复: {value!r}(与第 {_line_of(snode, first)} 行相同)",
                )
            )
    sources = parts.get("sources.yaml")
    if isinstance(sources, SourcesFile):
        items = [(s.id, ("sources", i, "id")) for i, s in enumerate(sources.sources)]
        for value, loc, first in _dupes(items):
            out.append(
                ConfigProblem(
                    str(root / "sources.yaml"), _line_of(nodes.get("sources.yaml"), loc), ".".join(map(str, loc)),
                    f"来源编号重复: {value!r}(与第 {_line_of(nodes.get('sources.yaml'), first)} 行相同)",
                )
            )
    alerts = parts["alerts.yaml"]
    assert isinstance(alerts, AlertsFile)
    groups = {g.name for g in alerts.recipients}
    afile = str(root / "alerts.yaml")
    for key in ("immediate_to", "digest_to", "admin_to"):
        for i, g in enumerate(getattr(alerts, key)):
            if g not in groups:
                out.append(
                    ConfigProblem(afile, _line_of(nodes.get("alerts.yaml"), (key, i)), f"{key}.{i}",
                                  f"未定义的收件人组 {g!r}(已定义: {', '.join(sorted(groups))})")
                )
    keywords = parts.get("keywords.yaml")
    if isinstance(keywords, KeywordsFile):
        for i, t in enumerate(keywords.topics):
            for m in re.finditer(r"/(.+?)/", t.expression):
                try:
                    re.compile(m.group(1))
                except re.error as exc:
                    out.append(
                        ConfigProblem(str(root / "keywords.yaml"),
                                      _line_of(nodes.get("keywords.yaml"), ("topics", i, "expression")),
                                      f"topics.{i}.expression", f"正则表达式无效 /{m.group(1)}/: {exc}")
                    )
    return out


def category_deadline_hours(cfg: Config, category: Category) -> float | None:
    """Hours allowed for a category; None for inquiry, whose deadline is the end of the same day."""
    d = cfg.alerts.deadlines
    return {
        Category.inquiry: None,
        Category.incident: d.incident_hours,
        Category.fabrication: d.fabrication_hours,
        Category.suggestion: d.suggestion_hours,
        Category.none: d.none_hours,
    }[category]
