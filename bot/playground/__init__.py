"""The playground: Stackup without Discord. The real bot with the shipped catalog, on a
temporary SQLite database, connected to simcord's simulated Discord, in a demo server whose
history its members made with the bot's own commands. Three ways in: the browser preview
(default), a terminal prompt, and scripts of the prompt's lines. docs/playground.md has more.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ONE_LINE = (
    "DISCORD_TOKEN is not set, so this is the Stackup playground: the real bot in a simulated "
    "Discord server on this machine. To connect to Discord, set DISCORD_TOKEN in .env "
    "(docs/hosting.md)."
)


def main(
    *, terminal: bool = False, script: Path | None = None, channel: str | None = None, port: int = 0
) -> int:
    """Runs the playground in one of its modes; the exit status. Ctrl-C ends it cleanly."""
    import logging

    from rich.console import Console

    # Before simcord is imported: it builds a probe client at import, and discord.py's
    # warnings about it (and about voice libraries) say nothing about Stackup.
    discord_log = logging.getLogger("discord")
    discord_level = discord_log.level
    discord_log.setLevel(logging.ERROR)
    from bot.playground.world import WorldError

    console = Console(highlight=False)
    try:
        if script is not None:
            from bot.playground.script import run_script

            lines = script.read_text(encoding="utf-8").splitlines()
            return asyncio.run(run_script(script, lines, console))
        if terminal:
            from bot.playground.terminal import run_terminal

            return asyncio.run(run_terminal(console))
        from bot.playground.preview import run_preview

        return asyncio.run(run_preview(console, channel=channel, port=port))
    except KeyboardInterrupt:
        return 0
    except WorldError as exc:
        print(f"stackup: the playground's demo server could not be built: {exc}", file=sys.stderr)
        return 1
    except (OSError, LookupError) as exc:
        print(f"stackup: {exc}", file=sys.stderr)
        return 1
    finally:
        discord_log.setLevel(discord_level)
