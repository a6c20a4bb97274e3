"""`stackup`: run the bot, migrate the database, import and export the catalog."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
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
  3. Invite the bot (OAuth2 > URL Generator: scopes "bot" and "applications.commands").
  4. Run `make run` again.

Every setting is listed in the README."""


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stackup",
        description="Stackup: StackShare-style tool comparisons and advice for Discord.",
        epilog="Settings come from the environment and .env; see the README.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser(
        "run",
        help="migrate, load the shipped catalog if the database has no tools, and connect",
        description="Migrate the database to the newest revision, load the shipped catalog "
        "when the database has no tools, then connect to Discord with DISCORD_TOKEN.",
    )

    db = commands.add_parser("db", help="database maintenance", description="Database maintenance.")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser(
        "upgrade", help="apply migrations", description="Apply Alembic migrations to DATABASE_URL."
    )
    upgrade.add_argument("revision", nargs="?", default="head", help="target (default: head)")

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        for line in str(exc).splitlines():
            print(f"stackup: bad setting: {line}", file=sys.stderr)
        return EXIT_USAGE
    configure_logging(settings)

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
