"""Runtime settings: read once at start from the environment and `.env`, then passed in."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/stackup.db"
DISCORD_API_BASE_URL = "https://discord.com/api/v10"
DISCORD_GATEWAY_URL = "wss://gateway.discord.gg"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]


def _split_ids(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Every setting Stackup reads; docs/settings.md lists them with their defaults."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # `SHARD_COUNT=` in a .env means "not set", not "invalid".
        env_ignore_empty=True,
    )

    discord_token: SecretStr | None = None
    database_url: str = DEFAULT_DATABASE_URL
    discord_api_base_url: str = DISCORD_API_BASE_URL
    discord_gateway_url: str = DISCORD_GATEWAY_URL
    owner_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: Annotated[tuple[int, ...] | None, NoDecode] = None
    dev_guild_id: int | None = Field(default=None, gt=0)
    log_level: LogLevel = "INFO"
    # `json`: one JSON object a line (time, level, logger, message, exception) for collectors.
    log_format: LogFormat = "text"
    # Worker processes rendering charts off the event loop; 0 sends comparisons without one.
    chart_workers: int = Field(default=1, ge=0, le=8)
    # An advice post's live ranking is edited at most this often, however fast votes come.
    ranking_edit_seconds: float = Field(default=5.0, ge=0.5, le=300)
    # Per member and guild: pros, cons, decisions and advice posts added a minute...
    rate_additions_per_minute: int = Field(default=5, ge=1, le=1000)
    # ...and changes to stacks, follows, votes by button and moderation, a minute.
    rate_changes_per_minute: int = Field(default=20, ge=1, le=1000)
    # Scheduled work: the sweep that catches any deadline without a timer, and the repair of
    # vote messages that had votes since their last recount.
    sweep_minutes: int = Field(default=10, ge=1, le=1440)
    vote_repair_minutes: int = Field(default=5, ge=1, le=1440)
    # Reads of reaction users by recounts, a second, across every process of the bot: after a
    # deploy they all recount at once, and Discord allows a bot 50 requests a second in all.
    # 10 leaves the other 40 to answers, posts and edits; a recount is 2 reads or more.
    recount_fetches_per_second: int = Field(default=10, ge=1, le=50)
    # GitHub stars and forks of catalog tools: refetched once they are this old. Without a
    # token GitHub allows 60 requests an hour, so a refresh spreads over hours; with one, 5000.
    github_stats: bool = True
    github_token: SecretStr | None = None
    github_api_url: str = "https://api.github.com"
    stats_refresh_hours: int = Field(default=24, ge=1, le=24 * 30)
    # Prometheus metrics at http://METRICS_HOST:METRICS_PORT/metrics; unset serves none, and 0
    # takes any free port (logged).
    metrics_port: int | None = Field(default=None, ge=0, le=65535)
    metrics_host: str = "127.0.0.1"

    @field_validator("discord_token", "github_token", mode="before")
    @classmethod
    def _blank_token_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("owner_ids", "shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return _split_ids(value)

    @field_validator("owner_ids", mode="after")
    @classmethod
    def _positive_ids(cls, value: frozenset[int]) -> frozenset[int]:
        if any(member_id <= 0 for member_id in value):
            raise ValueError("Discord ids are positive numbers")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        """Accept the URLs hosting providers hand out and pick the async driver for them."""
        value = value.strip()
        for prefix, replacement in (
            ("postgres://", "postgresql+asyncpg://"),
            ("postgresql://", "postgresql+asyncpg://"),
            ("sqlite://", "sqlite+aiosqlite://"),
        ):
            if value.startswith(prefix):
                value = replacement + value[len(prefix) :]
                break
        if not value.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite://")):
            raise ValueError("use a sqlite:/// or postgresql:// URL")
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            make_url(value).port  # noqa: B018 - parsing the port is what can fail
        except (ArgumentError, ValueError):
            raise ValueError("is not a valid database URL") from None
        return value

    @field_validator("discord_api_base_url", "github_api_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    @field_validator("metrics_host")
    @classmethod
    def _host_given(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must name an address to listen on, e.g. 127.0.0.1")
        return value

    @field_validator("discord_gateway_url")
    @classmethod
    def _as_given(cls, value: str) -> str:
        # Dialled as given (a proxy may tell /gateway from /gateway/): see bot/endpoints.py.
        return value.strip()

    @field_validator("discord_api_base_url", "github_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("discord_gateway_url")
    @classmethod
    def _ws_url(cls, value: str) -> str:
        if not value.startswith(("ws://", "wss://")):
            raise ValueError("must start with ws:// or wss://")
        return value

    @model_validator(mode="after")
    def _shards_fit(self) -> Settings:
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("SHARD_IDS needs SHARD_COUNT")
            if any(not 0 <= shard < self.shard_count for shard in self.shard_ids):
                raise ValueError(f"SHARD_IDS must be between 0 and {self.shard_count - 1}")
        return self

    @property
    def sqlite_path(self) -> Path | None:
        """The database file, when the URL names one (to create its folder)."""
        prefix = "sqlite+aiosqlite:///"
        if self.database_url.startswith(prefix):
            rest = self.database_url[len(prefix) :].split("?", 1)[0]
            if rest and rest != ":memory:":
                return Path(rest)
        return None

    @property
    def redacted_database_url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.database_url).render_as_string(hide_password=True)


class SettingsError(Exception):
    """Bad settings, one line a variable, with no secret value in the text."""


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            variable = "_".join(str(step) for step in error["loc"]).upper()
            # A cross-field check has no location; its message starts with the variable.
            lines.append(f"{variable}: {message}" if variable else message)
        raise SettingsError("\n".join(lines)) from None


class RedactSecrets(logging.Filter):
    """Replaces secrets in every log record, including exception text, with [redacted]."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self.secrets = [secret for secret in secrets if secret]

    def _scrub(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        message = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.msg = self._scrub(message)
        record.args = None
        if record.exc_text:
            record.exc_text = self._scrub(record.exc_text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = self._scrub(record.stack_info)
        return True


LOG_HANDLER_NAME = "stackup"


def log_formatter(log_format: LogFormat) -> logging.Formatter:
    """Readable lines, or one JSON object a line: time, level, logger, message and, when
    there is one, the exception's traceback as `exception`."""
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        return JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            datefmt="%Y-%m-%dT%H:%M:%S%z",
            rename_fields={
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "exc_info": "exception",
            },
        )
    return logging.Formatter(
        "%(asctime)s %(levelname)-8s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S"
    )


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(log_formatter(settings.log_format))
    secrets = [
        secret.get_secret_value()
        for secret in (settings.discord_token, settings.github_token)
        if secret is not None
    ]
    handler.addFilter(RedactSecrets(secrets))
    handler.set_name(LOG_HANDLER_NAME)
    root = logging.getLogger()
    # Configured again (a second run in one process) replaces Stackup's own handler only;
    # handlers others installed (a host application's, pytest's) stay.
    root.handlers[:] = [h for h in root.handlers if h.get_name() != LOG_HANDLER_NAME]
    root.addHandler(handler)
    root.setLevel(settings.log_level)
    # Alembic narrates every connection at INFO; Stackup logs the revision itself.
    logging.getLogger("alembic").setLevel(max(logging.WARNING, root.level))
