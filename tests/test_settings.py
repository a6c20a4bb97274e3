"""Settings: read from the environment and .env, one clear line per bad value, no token leaks."""

from __future__ import annotations

import json
import logging

import pytest

from bot.cli import main
from bot.settings import (
    DEFAULT_DATABASE_URL,
    DISCORD_API_BASE_URL,
    RedactSecrets,
    SettingsError,
    load_settings,
)

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"
VARIABLES = (
    "DISCORD_TOKEN",
    "DATABASE_URL",
    "DISCORD_API_BASE_URL",
    "DISCORD_GATEWAY_URL",
    "OWNER_IDS",
    "SHARD_COUNT",
    "SHARD_IDS",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "GITHUB_TOKEN",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no developer's .env is read


def test_defaults_need_nothing_set():
    settings = load_settings()
    assert settings.discord_token is None
    assert settings.database_url == DEFAULT_DATABASE_URL
    assert settings.discord_api_base_url == DISCORD_API_BASE_URL
    assert settings.owner_ids == frozenset()
    assert settings.shard_count is None and settings.shard_ids is None
    assert settings.log_level == "INFO"
    assert settings.log_format == "text"


def test_values_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("OWNER_IDS", "123456789012345678, 234567890123456789")
    monkeypatch.setenv("SHARD_COUNT", "4")
    monkeypatch.setenv("SHARD_IDS", "2,3")
    monkeypatch.setenv("DEV_GUILD_ID", "345678901234567890")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("DISCORD_API_BASE_URL", "http://127.0.0.1:8080/api/v10/")
    settings = load_settings()
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.owner_ids == {123456789012345678, 234567890123456789}
    assert (settings.shard_count, settings.shard_ids) == (4, (2, 3))
    assert settings.dev_guild_id == 345678901234567890
    assert settings.log_level == "DEBUG"
    assert settings.discord_api_base_url == "http://127.0.0.1:8080/api/v10"


def test_dotenv_file_is_read(tmp_path):
    (tmp_path / ".env").write_text("DATABASE_URL=postgres://bot@db.internal/stackup\n")
    assert load_settings().database_url == "postgresql+asyncpg://bot@db.internal/stackup"


def test_plain_sqlite_url_gets_the_async_driver(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "sqlite:///./data/other.db")
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///./data/other.db"
    assert str(settings.sqlite_path) == "data/other.db"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("SHARD_COUNT", "many", "SHARD_COUNT: Input should be a valid integer"),
        ("SHARD_COUNT", "0", "SHARD_COUNT: Input should be greater than or equal to 1"),
        ("OWNER_IDS", "12,abc", "OWNER_IDS"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL: Input should be"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL: use a sqlite:/// or postgresql:// URL"),
        (
            "DATABASE_URL",
            "postgresql://u:p@h:notaport/db",
            "DATABASE_URL: is not a valid database URL",
        ),
        ("DISCORD_GATEWAY_URL", "http://x", "DISCORD_GATEWAY_URL: must start with ws:// or wss://"),
        ("DEV_GUILD_ID", "-5", "DEV_GUILD_ID: Input should be greater than 0"),
    ],
)
def test_a_bad_value_gets_one_line_naming_the_variable(monkeypatch, variable, value, expected):
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError) as caught:
        load_settings()
    lines = str(caught.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(expected)


def test_shard_ids_must_fit_the_shard_count(monkeypatch):
    monkeypatch.setenv("SHARD_COUNT", "2")
    monkeypatch.setenv("SHARD_IDS", "1,2")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "SHARD_IDS must be between 0 and 1"
    monkeypatch.delenv("SHARD_COUNT")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value) == "SHARD_IDS needs SHARD_COUNT"


def test_blank_values_in_dotenv_mean_unset(tmp_path):
    (tmp_path / ".env").write_text(
        "DISCORD_TOKEN=\nOWNER_IDS=\nSHARD_COUNT=\nSHARD_IDS=\nDEV_GUILD_ID=\nLOG_LEVEL=\n"
    )
    settings = load_settings()
    assert settings.discord_token is None and settings.owner_ids == frozenset()
    assert settings.shard_count is None and settings.dev_guild_id is None
    assert settings.log_level == "INFO"


def test_cli_reports_bad_settings_without_traceback_or_token(monkeypatch, capsys):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("SHARD_COUNT", "lots")
    assert main(["catalog", "stats"]) == 2
    captured = capsys.readouterr()
    assert (
        captured.err
        == "stackup: bad setting: SHARD_COUNT: Input should be a valid integer, unable to parse string as an integer\n"
    )
    assert TOKEN not in captured.out + captured.err


def test_token_is_hidden_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    settings = load_settings()
    assert TOKEN not in repr(settings) and TOKEN not in str(settings.model_dump())


@pytest.mark.logs_errors("failed")
def test_token_is_redacted_from_log_lines_and_tracebacks(caplog):
    logger = logging.getLogger("stackup.test")
    handler = caplog.handler
    handler.addFilter(RedactSecrets([TOKEN]))
    try:
        logger.warning("connecting with %s", TOKEN)
        try:
            raise RuntimeError(f"login refused for {TOKEN}")
        except RuntimeError:
            logger.exception("failed")
    finally:
        handler.removeFilter(handler.filters[-1])
    assert TOKEN not in caplog.text
    assert "connecting with [redacted]" in caplog.text
    assert "login refused for [redacted]" in caplog.text


def test_configured_logging_never_prints_the_token(monkeypatch, capsys):
    from bot.settings import configure_logging

    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging(load_settings())
        logging.getLogger("discord.http").error("request with Bot %s failed", TOKEN)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    err = capsys.readouterr().err
    assert "request with Bot [redacted] failed" in err
    assert TOKEN not in err


GITHUB_TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"


def _log_with_configured_logging(monkeypatch, capsys, log_format: str) -> str:
    from bot.settings import configure_logging

    monkeypatch.setenv("DISCORD_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("LOG_FORMAT", log_format)
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging(load_settings())
        logging.getLogger("discord.http").warning("request with Bot %s failed", TOKEN)
        try:
            raise RuntimeError(f"login refused for {TOKEN} and {GITHUB_TOKEN}")
        except RuntimeError:
            logging.getLogger("bot.services.github_api").exception("github said %s", GITHUB_TOKEN)
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    return capsys.readouterr().err


def test_log_format_is_read_and_checked(monkeypatch):
    monkeypatch.setenv("LOG_FORMAT", "JSON")
    assert load_settings().log_format == "json"
    monkeypatch.setenv("LOG_FORMAT", "xml")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert str(caught.value).startswith("LOG_FORMAT: Input should be")


@pytest.mark.logs_errors("github said")
def test_json_logs_are_one_object_a_line_with_the_fields(monkeypatch, capsys):
    err = _log_with_configured_logging(monkeypatch, capsys, "json")
    lines = [json.loads(line) for line in err.splitlines()]
    assert len(lines) == 2
    warning, error = lines
    for line in lines:
        assert {"time", "level", "logger", "message"} <= line.keys()
    assert (warning["level"], warning["logger"]) == ("WARNING", "discord.http")
    assert warning["message"] == "request with Bot [redacted] failed"
    assert "exception" not in warning
    assert (error["level"], error["logger"]) == ("ERROR", "bot.services.github_api")
    assert error["message"] == "github said [redacted]"
    assert error["exception"].startswith("Traceback (most recent call last):")
    assert "RuntimeError: login refused for [redacted] and [redacted]" in error["exception"]


@pytest.mark.logs_errors("github said")
@pytest.mark.parametrize("log_format", ["text", "json"])
def test_no_log_format_prints_a_token(monkeypatch, capsys, log_format):
    err = _log_with_configured_logging(monkeypatch, capsys, log_format)
    assert "[redacted]" in err
    assert TOKEN not in err and GITHUB_TOKEN not in err
