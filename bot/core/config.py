"""Typed configuration: config.toml validated by one pydantic model per section.

A bad file stops start-up with one message naming the file, the line and the field
(`ConfigError`), so a secretary editing config.toml by hand sees exactly what to fix. No
message shows a secret: the gateway token and the alert webhook's key are blanked out
(`secret_strings`, `redact`; the logs use the same two).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.core.toml_lines import line_of

ENDPOINT_ENV = "WECHATY_PUPPET_SERVICE_ENDPOINT"
TOKEN_ENV = "WECHATY_PUPPET_SERVICE_TOKEN"
ALERT_WEBHOOK_ENV = "CHAMBER_ALERTS_WEBHOOK_URL"  # a WeCom robot URL carries its key: a secret
# The console's address inside a container differs from the file's (docker-compose.yml).
WEB_LISTEN_ENV, WEB_PUBLIC_URL_ENV = "CHAMBER_WEB_LISTEN", "CHAMBER_WEB_PUBLIC_URL"
REDACTED = "***"
SHORTEST_URL_KEY = 6  # a shorter query value (`debug=1`) is a setting, not a key


def secret_strings(token: object, webhook_url: object) -> list[str]:
    """What no message may show: the gateway token, and what follows the host in the alert
    webhook's URL (a WeCom robot's `?key=…`, a key in the path), its query values one by one,
    a password in it. Non-strings (a mistyped setting) hide nothing."""
    secrets = [token] if isinstance(token, str) and token else []
    if isinstance(webhook_url, str):
        authority, after = _split_after_host(webhook_url)
        if "@" in authority:
            secrets.append(authority.rsplit("@", 1)[0])  # user:password
        if len(after) > 1:
            secrets.append(after)
        query = after.partition("?")[2].partition("#")[0]
        secrets += [value for part in query.split("&")
                    if len(value := part.partition("=")[2]) >= SHORTEST_URL_KEY]
    # bytes are logged as b'...': a non-ASCII secret shows as \x escapes there
    secrets += [repr(secret.encode())[2:-1] for secret in secrets if not secret.isascii()]
    return secrets


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(set(secrets), key=len, reverse=True):  # a key inside a longer secret
        if secret:
            text = text.replace(secret, REDACTED)
    return text


def _split_after_host(url: str) -> tuple[str, str]:
    """('user:pw@host:port', '/path?query#fragment'), with or without a scheme."""
    rest = url.split("://", 1)[-1]
    cut = min((at for at in map(rest.find, "/?#") if at >= 0), default=len(rest))
    return rest[:cut], rest[cut:]


class Section(BaseModel):
    # A misspelt key is a mistake to report, not a setting to ignore silently.
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeneralSettings(Section):
    timezone: str = "Asia/Shanghai"
    log_level: str = "INFO"

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown timezone {value!r}, e.g. 'Asia/Shanghai'") from error
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class GatewaySettings(Section):
    """Where the Wechaty puppet-service gateway is. Empty endpoint: the built-in simulator."""

    endpoint: str = ""
    token: str = ""
    rpc_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    # The gateway is pinged (ding) after this much silence; no dong within ding_timeout
    # means it is hung. 10 + 10 keeps detection under the 30 s the bot promises.
    idle_ding_seconds: Annotated[float, Field(gt=0)] = 10.0
    ding_timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    reconnect_min_seconds: Annotated[float, Field(gt=0)] = 1.0
    reconnect_max_seconds: Annotated[float, Field(gt=0)] = 60.0

    @field_validator("endpoint")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        if value and (":" not in value or not value.rsplit(":", 1)[1].isdecimal()):
            raise ValueError(f"expected host:port, e.g. '127.0.0.1:8788', got {value!r}")
        return value


class GroupSettings(Section):
    """A group the bot serves, by WeChat id, or by topic until its id is known."""

    id: str = ""
    topic: str = ""

    @model_validator(mode="after")
    def _id_or_topic(self) -> GroupSettings:
        if not self.id and not self.topic:
            raise ValueError("a group needs an id (e.g. '12345678@chatroom') or a topic")
        return self


class RoleSettings(Section):
    """People are identified by WeChat id, never by display name."""

    secretaries: list[str] = []
    admins: list[str] = []


class FaqEntry(Section):
    key: str
    keywords: Annotated[list[str], Field(min_length=1)]
    answer: Annotated[str, Field(min_length=1)]


class FaqSettings(Section):
    # The same answer is not repeated in a group within this many seconds
    # (unless the asker @-mentions the bot).
    cooldown_seconds: Annotated[float, Field(ge=0)] = 300.0
    combined_keywords: list[str] = []
    combined_title: str = "联系方式："
    entries: list[FaqEntry] = []


class SendingSettings(Section):
    """The outbox's limits. Defaults follow the 'safe mode' that keeps accounts unrestricted."""

    rate_limit: bool = True
    messages_per_minute: Annotated[float, Field(gt=0)] = 40.0
    per_chat_interval_seconds: Annotated[float, Field(ge=0)] = 3.0
    jitter_seconds: Annotated[float, Field(ge=0)] = 2.0
    max_attempts: Annotated[int, Field(ge=1)] = 4
    retry_base_seconds: Annotated[float, Field(ge=0)] = 1.0
    max_text_length: Annotated[int, Field(gt=0)] = 2000
    # Answers to members (not secretaries or admins) are limited, so a flood in the group
    # cannot hold up the secretariat's work; one that waited longer than this is dropped.
    member_replies_per_minute: Annotated[int, Field(ge=1)] = 10  # to one member
    all_member_replies_per_minute: Annotated[int, Field(ge=1)] = 60  # to all of them
    member_reply_expires_seconds: Annotated[float, Field(gt=0)] = 30.0


class AnnouncementSettings(Section):
    """Scheduled announcements: what the admins hear about them."""

    # After each scheduled run, one private line to each admin: which post, which run, how many
    # parts reached how many groups. Not an alert: never sent to the alert webhook.
    receipts: bool = True


CONGRATULATION_KINDS = ("鲜花", "掌声", "点赞", "红包", "表情", "文字")


class CongratulationSettings(Section):
    """What counts as a congratulation, by kind: words, WeChat smiley codes ([强]) and emoji."""

    window_hours: Annotated[float, Field(gt=0)] = 72.0
    auto_thanks: bool = False  # post the thank-you when a window closes
    kinds: dict[str, list[str]] = {}

    @field_validator("kinds")
    @classmethod
    def _known_kinds(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        unknown = set(value) - set(CONGRATULATION_KINDS)
        if unknown:
            raise ValueError(f"unknown kind(s) {sorted(unknown)}; use {'、'.join(CONGRATULATION_KINDS)}")
        return value


class StorageSettings(Section):
    """Paths; relative ones are taken from the directory of config.toml."""

    data_dir: str = "data"
    posts_dir: str = "announcements"


class AlertSettings(Section):
    """Alerts outside WeChat (which may be the thing that is down): a webhook. Off when empty."""

    webhook_url: str = ""
    # "wecom": a WeCom (企业微信) group robot; "json": {"event", "state", "message", "at", "bot"}.
    format: Literal["wecom", "json"] = "wecom"
    # The gateway unreachable or hung this long (counted from when the bot notices) is an alert.
    hung_after_seconds: Annotated[float, Field(gt=0)] = 60.0
    name: str = ""  # how alerts name this bot; empty: "chamber-bot@<host name>"
    timeout_seconds: Annotated[float, Field(gt=0)] = 10.0
    max_attempts: Annotated[int, Field(ge=1)] = 4  # 1 s, 2 s, 4 s ... between attempts

    @field_validator("webhook_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            authority, after = _split_after_host(value)
            shown = authority.rsplit("@", 1)[-1] + ("/…" if after else "")  # the key stays hidden
            raise ValueError(f"expected an http(s):// URL, e.g. 'https://{shown}', got {shown!r}")
        return value


class WebSettings(Section):
    """The web console (bot/web): served by the bot itself. Sign-in is by a one-time link that
    a secretary or admin asks for in WeChat (#后台); there are no passwords."""

    enabled: bool = True
    # host:port to listen on. Keep 127.0.0.1 and put an HTTPS reverse proxy in front (README);
    # port 0 takes a free port (the tests).
    listen: str = "127.0.0.1:8080"
    # What the one-time links point at, e.g. "https://bot.example.org"; empty: http://<listen>.
    public_url: str = ""

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.rpartition(":")
        if not host or not port.isdecimal() or int(port) > 65535:
            raise ValueError(f"expected host:port, e.g. '127.0.0.1:8080', got {value!r}")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"expected an http(s):// URL, e.g. 'https://bot.example.org', "
                             f"got {value!r}")
        return value.rstrip("/")

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


class Settings(Section):
    general: GeneralSettings = GeneralSettings()
    gateway: GatewaySettings = GatewaySettings()
    groups: Annotated[list[GroupSettings], Field(min_length=1)]
    roles: RoleSettings = RoleSettings()
    faq: FaqSettings = FaqSettings()
    announcements: AnnouncementSettings = AnnouncementSettings()
    congratulations: CongratulationSettings = CongratulationSettings()
    sending: SendingSettings = SendingSettings()
    storage: StorageSettings = StorageSettings()
    alerts: AlertSettings = AlertSettings()
    web: WebSettings = WebSettings()

    # Where config.toml was read from: relative paths in it start there.
    base_dir: Path = Path(".")

    @property
    def group_names(self) -> dict[str, str]:
        """Group id -> topic, of the groups configured with both: what people read."""
        return {group.id: group.topic for group in self.groups if group.id and group.topic}

    @property
    def uses_simulator(self) -> bool:
        return not self.gateway.endpoint

    @property
    def data_dir(self) -> Path:
        return self.base_dir / self.storage.data_dir

    @property
    def posts_dir(self) -> Path:
        return self.base_dir / self.storage.posts_dir


class ConfigError(Exception):
    """A configuration problem, worded for the person who edits config.toml."""


def load_settings(path: Path, environ: dict[str, str] | None = None) -> Settings:
    """Read, validate and return the settings; the gateway's and the alert webhook's env
    variables override the file."""
    env = os.environ if environ is None else environ
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{path}: cannot read the file ({error.strerror})") from None
    except UnicodeDecodeError as error:  # e.g. saved as GBK by a Windows editor
        line = path.read_bytes()[: error.start].count(b"\n") + 1
        raise ConfigError(f"{path}, line {line}: not UTF-8 text; save the file as UTF-8 "
                          "(请用 UTF-8 编码保存该文件)") from None
    try:
        raw: dict[str, Any] = tomllib.loads(text)
    except ValueError as error:  # TOMLDecodeError; or a number of over 4,300 digits (int())
        # tomllib's message already ends with "(at line N, column M)".
        raise ConfigError(f"{path}: not valid TOML: {error}") from None

    gateway = raw.setdefault("gateway", {})
    if isinstance(gateway, dict):
        if env.get(ENDPOINT_ENV):
            gateway["endpoint"] = env[ENDPOINT_ENV]
        if env.get(TOKEN_ENV):
            gateway["token"] = env[TOKEN_ENV]
    if env.get(ALERT_WEBHOOK_ENV):
        alerts = raw.setdefault("alerts", {})
        if isinstance(alerts, dict):
            alerts["webhook_url"] = env[ALERT_WEBHOOK_ENV]
    for variable, key in ((WEB_LISTEN_ENV, "listen"), (WEB_PUBLIC_URL_ENV, "public_url")):
        web = raw.setdefault("web", {})
        if env.get(variable) and isinstance(web, dict):
            web[key] = env[variable]

    raw["base_dir"] = path.resolve().parent
    try:
        return Settings.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        location = tuple(first["loc"])
        field = ".".join(str(part) for part in location)
        line = line_of(text, location)
        alerts = raw.get("alerts")
        secrets = secret_strings(gateway.get("token") if isinstance(gateway, dict) else None,
                                 alerts.get("webhook_url") if isinstance(alerts, dict) else None)
        message = redact(str(first["msg"]), secrets)  # whatever a validator echoes
        raise ConfigError(f"{path}, line {line}, field '{field}': {message}") from None
