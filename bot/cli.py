"""`stackup`: run the bot, migrate and back up the database, import and export the catalog,
and the operator's tools: the invite URL, a command sync, a check of the set-up."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import logging
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings, SettingsError, configure_logging, load_settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from db.engine import SessionFactory

log = logging.getLogger("stackup")

EXIT_USAGE = 2
NO_TOKEN_HELP = """\
Stackup is installed and its database is ready ({database}, {tools} tools in the catalog),
but DISCORD_TOKEN is not set, so there is nothing to connect as.

  1. Create an application at https://discord.com/developers/applications and add a bot.
  2. Copy the bot's token and put it in a file named .env here:
         DISCORD_TOKEN=your-token
  3. Invite the bot to your server with the URL `stackup invite-url` prints.
  4. Run `make run` again.

docs/hosting.md walks through it; every setting is listed in docs/settings.md."""


def _prepare_sqlite_folder(settings: Settings) -> None:
    path = settings.sqlite_path
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)


@asynccontextmanager
async def _database(
    settings: Settings, *, migrated: bool = False
) -> AsyncIterator[tuple[AsyncEngine, SessionFactory]]:
    """The engine and sessions for one command; `migrated` refuses a database behind head."""
    from db.bootstrap import require_migrated
    from db.engine import create_engine, create_session_factory

    engine = create_engine(settings.database_url)
    try:
        if migrated:
            await require_migrated(engine)
        yield engine, create_session_factory(engine)
    finally:
        await engine.dispose()


async def _migrate(settings: Settings, revision: str) -> str:
    from db import migrate

    async with _database(settings) as (engine, _sessions):
        await migrate.upgrade(engine, revision)
        return f"database at revision {await migrate.current_revision(engine)}"


async def _import(settings: Settings, paths: Sequence[Path]) -> str:
    from db.catalog_format import load_catalog
    from db.catalog_import import import_catalog, known_slugs

    async with _database(settings, migrated=True) as (_engine, sessions):
        catalog = load_catalog(paths, known_slugs=await known_slugs(sessions))
        report = await import_catalog(sessions, catalog)
    return f"imported {len(catalog.tools)} tools: {report.summary()}"


async def _export(settings: Settings) -> str:
    from db.catalog_import import export_catalog

    async with _database(settings, migrated=True) as (_engine, sessions):
        return await export_catalog(sessions)


async def _stats(settings: Settings) -> str:
    from db.catalog_import import catalog_stats

    async with _database(settings, migrated=True) as (_engine, sessions):
        stats = await catalog_stats(sessions)
    lines = [
        f"tools:          {stats.tools}",
        f"categories:     {stats.categories}",
        f"aliases:        {stats.aliases}",
        f"alternatives:   {stats.alternatives}",
        f"pros and cons:  {stats.pros_cons}",
        f"external stats: {stats.external_stats}",
        f"revision:       {stats.revision}",
    ]
    lines += [f"  {name}: {count}" for name, count in stats.tools_by_top_category.items()]
    return "\n".join(lines)


async def _forget_user(settings: Settings, member_id: int) -> str:
    from bot.render.privacy import forget_user_report
    from bot.services.privacy import PrivacyService

    async with _database(settings, migrated=True) as (_engine, sessions):
        service = PrivacyService(sessions, shard_ids=None, shard_count=1)
        forgotten = await service.forget_member(member_id, guild_id=None)
    return forget_user_report(member_id, forgotten)


def _user_id(text: str) -> int:
    """A Discord user id, for argparse."""
    if not text.isdigit() or not 0 < int(text) < 2**63:
        raise argparse.ArgumentTypeError(f"{text!r} is not a Discord user id")
    return int(text)


async def _run(settings: Settings) -> int:
    import aiohttp
    import discord

    from bot.bot import StackupBot
    from bot.endpoints import apply_endpoints
    from db.bootstrap import prepare_database
    from db.catalog_import import count_tools

    async with _database(settings) as (engine, sessions):
        report = await prepare_database(engine, sessions)
        if report is not None:
            log.info("loaded the shipped catalog: %s", report.summary())
        if settings.discord_token is None:
            tools = await count_tools(sessions)
            print(NO_TOKEN_HELP.format(database=settings.redacted_database_url, tools=tools))
            return EXIT_USAGE
        apply_endpoints(settings)
        async with StackupBot(settings, engine, sessions) as bot:
            try:
                await bot.login(settings.discord_token.get_secret_value())
            except discord.LoginFailure:
                print(
                    "stackup: DISCORD_TOKEN was refused by Discord: check the token.",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            except aiohttp.ClientConnectionError as exc:
                print(
                    f"stackup: cannot reach Discord at {settings.discord_api_base_url}: {exc}",
                    file=sys.stderr,
                )
                return 1
            stop = _close_on_signals(bot)
            try:
                await bot.connect()
            except discord.PrivilegedIntentsRequired:
                print("stackup: Discord refused the gateway intents.", file=sys.stderr)
                return EXIT_USAGE
            finally:
                stop.clear()
        return 0


def _close_on_signals(bot: object) -> set[asyncio.Task[None]]:
    """SIGTERM (docker stop, systemd) and SIGINT close the gateway and the pool cleanly."""
    closing: set[asyncio.Task[None]] = set()
    loop = asyncio.get_running_loop()

    def close() -> None:
        closing.add(asyncio.ensure_future(bot.close()))  # type: ignore[attr-defined]

    for signum in (signal.SIGTERM, signal.SIGINT):
        # Not available on every platform or outside the main thread.
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, close)
    return closing


def _application_id(settings: Settings) -> int:
    """The application id DISCORD_TOKEN carries; raises BadToken saying why there is none."""
    from bot.ops import BadToken, application_id_from_token

    if settings.discord_token is None:
        raise BadToken("DISCORD_TOKEN is not set")
    try:
        return application_id_from_token(settings.discord_token.get_secret_value())
    except BadToken as exc:
        raise BadToken(f"DISCORD_TOKEN is not a bot token: {exc}") from None


def _invite_url(settings: Settings, application_id: int | None) -> int:
    from bot.ops import BadToken
    from bot.permissions import BOT_PERMISSION_NAMES, permission_label
    from bot.permissions import invite_url as url_for

    if application_id is None:
        try:
            application_id = _application_id(settings)
        except BadToken as exc:
            print(
                f"stackup: {exc}; pass --application-id ID (the Developer Portal's "
                "General Information page shows it).",
                file=sys.stderr,
            )
            return EXIT_USAGE
    print(url_for(application_id))
    print("permissions: " + ", ".join(permission_label(name) for name in BOT_PERMISSION_NAMES))
    return 0


def _doctor(settings: Settings, *, connect: bool) -> int:
    from bot.ops import Check, connect_checks, database_checks, token_check

    checks = [Check("ok", "settings", "valid")]
    checks += asyncio.run(database_checks(settings))
    checks.append(token_check(settings))
    for check in checks:
        print(check.line())
    if connect:
        if any(check.failed for check in checks):
            print("✗ discord: not checked: fix the checks above first")
            return 1
        more = asyncio.run(connect_checks(settings))
        for check in more:
            print(check.line())
        checks += more
    return 1 if any(check.failed for check in checks) else 0


def _sync(settings: Settings, guild_id: int | None) -> int:
    import aiohttp
    import discord

    from bot.ops import BadToken, sync_commands
    from db.bootstrap import NotMigrated

    try:
        _application_id(settings)
    except BadToken as exc:
        print(f"stackup: {exc}: sync logs in as the bot.", file=sys.stderr)
        return EXIT_USAGE
    assert settings.discord_token is not None
    server = guild_id or settings.dev_guild_id
    scope = f"copied to server {server}" if server else "globally"
    try:
        synced = asyncio.run(
            sync_commands(settings, settings.discord_token.get_secret_value(), guild_id)
        )
    except discord.LoginFailure:
        print("stackup: DISCORD_TOKEN was refused by Discord: check the token.", file=sys.stderr)
        return EXIT_USAGE
    except NotMigrated:
        print(
            f"stackup: the database at {settings.redacted_database_url} is not at the newest "
            "revision: run `stackup db upgrade` first.",
            file=sys.stderr,
        )
        return 1
    except (aiohttp.ClientError, discord.HTTPException) as exc:
        print(f"stackup: sync failed at {settings.discord_api_base_url}: {exc}", file=sys.stderr)
        return 1
    print(f"synced {synced} application commands ({scope})")
    return 0


def _backup(settings: Settings, target: Path) -> int:
    from bot.ops import backup_sqlite, pg_dump_command

    if settings.database_url.startswith("postgresql"):
        print(pg_dump_command(settings.database_url, target))
        print(
            "# pg_dump asks for the password, or reads PGPASSWORD or ~/.pgpass; "
            "pg_restore --dbname=... FILE restores it."
        )
        return 0
    source = settings.sqlite_path
    if source is None:
        print("stackup: an in-memory database has nothing to back up.", file=sys.stderr)
        return 1
    if not source.exists():
        print(f"stackup: no database at {source}.", file=sys.stderr)
        return 1
    if target.exists():
        print(f"stackup: {target} already exists: back up to a new file.", file=sys.stderr)
        return 1
    try:
        backup_sqlite(source, target)
    except (sqlite3.Error, OSError) as exc:
        print(f"stackup: backup failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print(f"backed up {source} to {target} ({target.stat().st_size:,} bytes)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackup",
        description="Stackup: StackShare-style tool comparisons and advice for Discord.",
        epilog="Settings come from the environment and .env; see docs/settings.md.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="migrate, load the shipped catalog if the database has no tools, and connect",
        description="Migrate the database to the newest revision, load the shipped catalog "
        "when the database has no tools, then connect to Discord with DISCORD_TOKEN.",
    )
    # Off by default: a deployment (container, systemd) missing its token must fail, not
    # serve a simulated server; `make run` turns it on.
    run.add_argument(
        "--playground",
        action="store_true",
        help="without DISCORD_TOKEN, start the playground instead of saying what to set",
    )
    _add_playground_command(commands)

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade", help="apply migrations", description="Apply Alembic migrations to DATABASE_URL."
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")
    backup = db_commands.add_parser(
        "backup",
        help="copy the database to FILE (SQLite), or print the pg_dump command (PostgreSQL)",
        description="SQLite: copy the database to FILE with SQLite's online backup API, safe "
        "while the bot runs. PostgreSQL: print the pg_dump command that does it (no password).",
    )
    backup.add_argument("file", type=Path, metavar="FILE", help="a new file to write")

    _add_operator_commands(commands)
    _add_forget_user(commands)
    return parser


def _add_forget_user(commands: argparse._SubParsersAction) -> None:
    forget = commands.add_parser(
        "forget-user",
        help="delete a user's data in every server (votes, stacks, follows, decisions, ...)",
        description="Delete what Stackup holds about a Discord user in every server at once, as "
        "/stackup forget-me does in one: votes (counts move with them), stacks, follows, "
        "preferences, decisions, recommendations and pros and cons they added. Their advice "
        "posts stay, asked by a former member. Prints the rows removed of each kind.",
    )
    forget.add_argument("user_id", type=_user_id, metavar="ID", help="the user's Discord id")


def _add_playground_command(commands: argparse._SubParsersAction) -> None:
    playground = commands.add_parser(
        "playground",
        help="try Stackup offline: the real bot in a simulated Discord server",
        description="The real bot with the shipped catalog, on a temporary database, in a "
        "simulated Discord server with members and history (simcord). By default a browser "
        "preview on 127.0.0.1; --terminal for a prompt; --script FILE to run a file of the "
        "prompt's lines. docs/playground.md describes it.",
    )
    mode = playground.add_mutually_exclusive_group()
    mode.add_argument(
        "--terminal", action="store_true", help="a prompt taking slash commands as typed in Discord"
    )
    mode.add_argument(
        "--script",
        type=Path,
        metavar="FILE",
        help="run the prompt's lines from FILE, print the answers, exit (1 if a line failed)",
    )
    playground.add_argument(
        "--channel", metavar="NAME", help="the channel or thread the preview shows (general)"
    )
    playground.add_argument(
        "--port", type=int, default=0, help="the preview's port on 127.0.0.1 (any free one)"
    )


def _playground(args: argparse.Namespace) -> int:
    from bot.playground import main as playground

    # Looked up, not imported: simcord builds a client at import, whose warnings the
    # playground quiets first. A deployment installs Stackup without this extra (the image).
    if any(importlib.util.find_spec(name) is None for name in ("rich", "simcord")):
        print(
            "stackup: the playground needs its extra: pip install 'stackup[playground]' "
            "(`make run` installs it).",
            file=sys.stderr,
        )
        return EXIT_USAGE
    return playground(
        terminal=getattr(args, "terminal", False),
        script=getattr(args, "script", None),
        channel=getattr(args, "channel", None),
        port=getattr(args, "port", 0),
    )


def _add_operator_commands(commands: argparse._SubParsersAction) -> None:
    """invite-url, sync and doctor (what a bot owner runs while setting up or checking), and
    the catalog commands."""
    invite = commands.add_parser(
        "invite-url",
        help="print the URL that adds the bot to a server, with the permissions it uses",
        description="Print the OAuth2 URL that adds the bot to a server (scopes bot and "
        "applications.commands) with exactly the permissions Stackup uses, never Administrator. "
        "The application id is read from DISCORD_TOKEN unless given.",
    )
    invite.add_argument("--application-id", type=int, metavar="ID", help="the application's id")

    sync = commands.add_parser(
        "sync",
        help="sync the slash commands with Discord now",
        description="Log in over REST (no gateway) and sync the slash commands now, whatever was "
        "synced before: to the server --guild (or DEV_GUILD_ID) names, else globally.",
    )
    sync.add_argument("--guild", type=int, metavar="ID", help="copy the commands to this server")

    doctor = commands.add_parser(
        "doctor",
        help="check the settings, database, migrations and token",
        description="Check the settings, the database, its migrations and the token's form, "
        "one line each. Exit status: 0 all good, 1 a check failed, 2 bad settings.",
    )
    doctor.add_argument(
        "--connect",
        action="store_true",
        help="also log in to Discord and list the permissions Stackup lacks in each server's "
        "advice forum and digest channel",
    )

    catalog = commands.add_parser(
        "catalog", help="import, export and count the tool catalog", description="The tool catalog."
    )
    catalog_commands = catalog.add_subparsers(
        dest="catalog_command", required=True, metavar="COMMAND"
    )
    imp = catalog_commands.add_parser(
        "import",
        help="upsert tools from YAML files or folders",
        description="Upsert tools by slug from catalog YAML files (or folders of them), all in one "
        "transaction: a file with an error changes nothing. Errors read FILE:LINE: problem.",
    )
    imp.add_argument("files", nargs="+", type=Path, metavar="FILE")
    exp = catalog_commands.add_parser(
        "export",
        help="write the catalog as YAML",
        description="Write the database's catalog in the import format, to FILE or standard output.",
    )
    exp.add_argument("file", nargs="?", type=Path, metavar="FILE")
    catalog_commands.add_parser(
        "stats", help="count tools, categories and more", description="Count the catalog."
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            if args.command == "doctor":
                print(f"✗ settings: {line}")
            else:
                print(f"stackup: bad setting: {line}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)
    if args.command == "playground":
        return _playground(args)
    if args.command == "run" and args.playground and settings.discord_token is None:
        from bot.playground import ONE_LINE

        print(ONE_LINE, flush=True)
        return _playground(args)
    if args.command == "invite-url":
        return _invite_url(settings, args.application_id)
    if args.command == "doctor":
        return _doctor(settings, connect=args.connect)
    if args.command == "sync":
        return _sync(settings, args.guild)
    if args.command == "db" and args.db_command == "backup":
        return _backup(settings, args.file)

    return _database_command(settings, args)


def _database_command(settings: Settings, args: argparse.Namespace) -> int:
    """`run`, `db upgrade`, `forget-user` and `catalog …`: each failure the database or a file
    can cause is one line on stderr and exit status 1, never a traceback."""
    from alembic.util import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from db.bootstrap import NotMigrated
    from db.catalog_format import CatalogError

    try:
        _prepare_sqlite_folder(settings)
        if args.command == "run":
            return asyncio.run(_run(settings))
        if args.command == "db":
            print(asyncio.run(_migrate(settings, args.revision)))
        elif args.command == "forget-user":
            print(asyncio.run(_forget_user(settings, args.user_id)))
        elif args.catalog_command == "import":
            print(asyncio.run(_import(settings, args.files)))
        elif args.catalog_command == "export":
            text = asyncio.run(_export(settings))
            if args.file:
                args.file.write_text(text, encoding="utf-8")
            else:
                sys.stdout.write(text)
        else:
            print(asyncio.run(_stats(settings)))
        return 0
    except CatalogError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        return 1
    except NotMigrated:
        print(
            f"stackup: the database at {settings.redacted_database_url} is not at the newest "
            "revision: run `stackup db upgrade` first.",
            file=sys.stderr,
        )
        return 1
    except CommandError as exc:
        print(f"stackup: migration failed: {exc}", file=sys.stderr)
        return 1
    except (SQLAlchemyError, OSError) as exc:
        log.debug("database or file error", exc_info=True)
        reason = getattr(exc, "orig", None) or exc
        print(
            f"stackup: {reason.__class__.__name__}: {reason} "
            f"(database: {settings.redacted_database_url})",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
