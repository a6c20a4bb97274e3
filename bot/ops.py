"""What the operator commands do: `stackup invite-url`, `sync`, `db backup` and `doctor`.

`bot/cli.py` parses the arguments and turns results into exit codes; this module does the work.
Only `sync` and `doctor --connect` talk to Discord, and then over REST only: the bot logs in
(`GET /users/@me`, the application) and never opens the gateway.
"""

from __future__ import annotations

import base64
import binascii
import shlex
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bot.settings import Settings

if TYPE_CHECKING:
    import discord

    from db.models import GuildSettings

# --- the token -----------------------------------------------------------------------------


class BadToken(ValueError):
    """DISCORD_TOKEN is not shaped like a bot token; the message says why (never the token)."""


def application_id_from_token(token: str) -> int:
    """A bot token is three dot-separated parts; the first is the bot's user id (which is its
    application's id) in base64."""
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(parts):
        raise BadToken("a bot token is three parts separated by dots")
    first = parts[0].replace("+", "-").replace("/", "_")
    try:
        decoded = base64.b64decode(first + "=" * (-len(first) % 4), altchars=b"-_", validate=True)
        text = decoded.decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        raise BadToken("its first part is not base64") from None
    if not (text.isascii() and text.isdigit()) or int(text) <= 0:
        raise BadToken("its first part does not decode to an application id")
    return int(text)


# --- db backup -----------------------------------------------------------------------------


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a live SQLite database page by page with SQLite's online backup API: consistent
    even while the bot writes. Blocking: call it outside any event loop."""
    reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
        finally:
            writer.close()
    finally:
        reader.close()


def pg_dump_command(database_url: str, target: Path) -> str:
    """The `pg_dump` line that backs up DATABASE_URL's database, without its password."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    words = ["pg_dump", "--format=custom"]
    if url.host:
        words.append(f"--host={url.host}")
    if url.port:
        words.append(f"--port={url.port}")
    if url.username:
        words.append(f"--username={url.username}")
    if url.database:
        words.append(f"--dbname={url.database}")
    words.append(f"--file={target}")
    return shlex.join(words)


# --- doctor --------------------------------------------------------------------------------

Status = Literal["ok", "fail", "note"]
MARKS = {"ok": "✓", "fail": "✗", "note": "ℹ"}


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    detail: str

    @property
    def failed(self) -> bool:
        return self.status == "fail"

    def line(self) -> str:
        return f"{MARKS[self.status]} {self.name}: {self.detail}"


def _pending_migrations(current: str | None) -> list[str]:
    from alembic.script import ScriptDirectory

    from db import migrate

    scripts = ScriptDirectory.from_config(migrate.alembic_config())
    pending = reversed(list(scripts.iterate_revisions("head", current or "base")))
    return [f"{s.revision} ({(s.doc or '').splitlines()[0].split(':')[0]})" for s in pending]


async def database_checks(settings: Settings) -> list[Check]:
    """The database is there, answers, is at the newest migration; how many tools it has.
    Creates nothing: a missing SQLite file is reported, not made."""
    from db import migrate
    from db.catalog_import import count_tools
    from db.engine import create_engine, create_session_factory

    where = settings.redacted_database_url
    path = settings.sqlite_path
    if path is not None and not path.exists():
        return [
            Check(
                "fail",
                "database",
                f"no database file at {path}: run `stackup db upgrade` "
                "(or `make run`, which also loads the catalog)",
            )
        ]
    engine = create_engine(settings.database_url)
    try:
        try:
            current = await migrate.current_revision(engine)
        except Exception as exc:  # any failure to connect is the finding
            reason = getattr(exc, "orig", None) or exc
            return [
                Check("fail", "database", f"cannot open {where}: {type(reason).__name__}: {reason}")
            ]
        checks = [Check("ok", "database", f"reachable ({where})")]
        head = migrate.head_revision()
        if current != head:
            try:
                pending = ", ".join(_pending_migrations(current))
                detail = f"at {current or 'no revision'}; not applied: {pending}"
            except Exception:  # a revision this Stackup does not know
                detail = (
                    f"at {current}, which this version of Stackup does not know (newest: {head})"
                )
            checks.append(Check("fail", "migrations", f"{detail}: run `stackup db upgrade`"))
            return checks
        checks.append(Check("ok", "migrations", f"at the newest revision ({head})"))
        tools = await count_tools(create_session_factory(engine))
        checks.append(
            Check("ok", "catalog", f"{tools} tools")
            if tools
            else Check("note", "catalog", "no tools yet: `stackup run` loads the shipped catalog")
        )
        return checks
    finally:
        await engine.dispose()


def token_check(settings: Settings) -> Check:
    if settings.discord_token is None:
        return Check("fail", "token", "DISCORD_TOKEN is not set (see docs/hosting.md)")
    try:
        application_id = application_id_from_token(settings.discord_token.get_secret_value())
    except BadToken as exc:
        return Check("fail", "token", f"DISCORD_TOKEN is not a bot token: {exc}")
    return Check("ok", "token", f"well formed (application {application_id})")


async def connect_checks(settings: Settings) -> list[Check]:
    """Log in over REST and, for every server's advice forum and digest channel, list the
    permissions Stackup lacks there. No gateway connection."""
    import aiohttp
    import discord
    from sqlmodel import select

    from bot.endpoints import apply_endpoints
    from db.engine import create_engine, create_session_factory
    from db.models import GuildSettings

    assert settings.discord_token is not None
    engine = create_engine(settings.database_url)
    try:
        async with create_session_factory(engine)() as session:
            configured = list((await session.exec(select(GuildSettings))).all())
    finally:
        await engine.dispose()

    apply_endpoints(settings)
    async with discord.Client(intents=discord.Intents.default()) as client:
        try:
            await client.login(settings.discord_token.get_secret_value())
        except discord.LoginFailure:
            return [Check("fail", "discord", "DISCORD_TOKEN was refused: check the token")]
        except (aiohttp.ClientError, discord.HTTPException) as exc:
            where = settings.discord_api_base_url
            return [Check("fail", "discord", f"cannot reach Discord at {where}: {exc}")]
        assert client.user is not None
        checks = [Check("ok", "discord", f"logged in as {client.user} ({client.user.id})")]
        if not configured:
            checks.append(Check("note", "servers", "no server has run `/stackup setup` yet"))
        for row in configured:
            checks += await _guild_checks(client, client.user.id, row)
        return checks


async def _guild_checks(client: discord.Client, bot_id: int, row: GuildSettings) -> list[Check]:
    import discord

    from bot.permissions import DIGEST_NEEDS, FORUM_NEEDS, FORUM_WANTS, permission_label

    guild_id = row.guild_id
    try:
        guild = await client.fetch_guild(guild_id)
        me = await guild.fetch_member(bot_id)
        channels = {channel.id: channel for channel in await guild.fetch_channels()}
    except discord.NotFound:
        return [Check("note", f"server {guild_id}", "Stackup is not in this server any more")]
    except discord.HTTPException as exc:
        return [Check("fail", f"server {guild_id}", f"cannot read the server: {exc}")]

    checks: list[Check] = []
    uses: Sequence[tuple[str, int | None, dict[str, str], dict[str, str]]] = (
        ("advice forum", row.advice_forum_id, FORUM_NEEDS, FORUM_WANTS),
        ("digest channel", row.digest_channel_id, DIGEST_NEEDS, {}),
    )
    for what, channel_id, needs, wants in uses:
        if not channel_id:
            continue
        channel = channels.get(channel_id)
        name = f"{guild.name}: {what}"
        if channel is None:
            checks.append(Check("fail", name, f"channel {channel_id} is gone: run /stackup setup"))
            continue
        granted = channel.permissions_for(me)
        missing = [permission_label(p) for p in needs if not getattr(granted, p)]
        lacking = [
            f"{permission_label(p)} ({why})" for p, why in wants.items() if not getattr(granted, p)
        ]
        name = f"{guild.name}: {what} #{channel.name}"
        if missing:
            checks.append(Check("fail", name, "missing " + ", ".join(missing)))
        else:
            checks.append(Check("ok", name, "every permission Stackup needs"))
        if lacking:
            checks.append(Check("note", name, "would like " + ", ".join(lacking)))
    return checks


# --- sync ----------------------------------------------------------------------------------


async def sync_commands(settings: Settings, token: str, guild_id: int | None) -> int:
    """Log in over REST, load the real cogs and sync their commands now (to `guild_id`'s server
    or DEV_GUILD_ID's, else globally), whatever was synced before; no gateway. Returns how
    many were synced. Raises discord.LoginFailure, discord.HTTPException, aiohttp errors."""
    from bot.bot import StackupBot
    from bot.endpoints import apply_endpoints
    from db.bootstrap import require_migrated
    from db.engine import create_engine, create_session_factory

    update: dict[str, object] = {"chart_workers": 0, "github_stats": False}
    if guild_id is not None:
        update["dev_guild_id"] = guild_id
    settings = settings.model_copy(update=update)
    engine = create_engine(settings.database_url)
    try:
        await require_migrated(engine)
        apply_endpoints(settings)
        async with StackupBot(settings, engine, create_session_factory(engine)) as bot:
            bot.sync_on_setup = False
            await bot.login(token)  # runs setup_hook: the cogs load, their commands are added
            synced = await bot.sync_commands(force=True)
            assert synced is not None
            return synced
    finally:
        await engine.dispose()
