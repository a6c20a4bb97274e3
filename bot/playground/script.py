"""`stackup playground --script FILE`: the prompt's lines read from a file (one a line, `#`
comments), the answers printed, then exit: 0 if every line ran and Stackup logged no error.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.text import Text

from bot.playground.driver import Driver, LineError
from bot.playground.session import playground
from bot.playground.terminal import start


async def run_script(path: Path, lines: list[str], console: Console) -> int:
    """Runs `lines` (read from `path`, named in errors); the exit status."""
    async with playground() as pg:
        transcript, driver = start(pg, console)
        try:
            failed = await _run_lines(lines, driver, console, path)
            await pg.settle()
        finally:
            transcript.detach()
        errors = list(pg.errors.records)
    for record in errors:
        console.print(
            Text(f"Stackup logged an error: {record.name}: {record.getMessage()}", style="red")
        )
    return 1 if failed or errors else 0


async def _run_lines(lines: list[str], driver: Driver, console: Console, path: Path) -> bool:
    """Runs the lines in order; True if one failed (the rest are not run)."""
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text:
            continue
        if text.startswith("#"):
            console.print(Text(text, style="dim italic"))
            continue
        console.print(Text(f"› {driver.prompt()}{text}", style="bold green"))
        try:
            if not await driver.run_line(text):
                return False
        except LineError as exc:
            console.print(Text(f"{path}:{number}: {exc}", style="bold red"))
            return True
    return False
