"""`stackup playground --terminal`: a prompt that takes slash commands as typed in Discord,
and shows what Stackup answers, drawn with rich, as it happens."""

from __future__ import annotations

import asyncio
import queue
import sys
import threading

from rich.console import Console
from rich.text import Text

from bot.playground.driver import Driver, LineError
from bot.playground.session import Playground, playground
from bot.playground.transcript import Transcript
from bot.playground.world import ADMIN, label


def start(pg: Playground, console: Console) -> tuple[Transcript, Driver]:
    """The transcript listening and the driver ready, after the demo is introduced."""
    transcript = Transcript(pg.env, console, pg.files)
    driver = Driver(pg, console, transcript)
    introduce(pg, console, transcript)
    transcript.attach()
    return transcript, driver


def introduce(pg: Playground, console: Console, transcript: Transcript) -> None:
    """Who is here, where things are, and numbers for the messages worth voting on."""
    world = pg.world
    assert world is not None
    members = ", ".join(
        f"{name} (Manage Server)" if name == ADMIN else name for name in world.members
    )
    console.print(
        Text(f"Server “{world.guild.name}”, {pg.now():%A %d %B %Y, %H:%M} UTC", style="bold")
    )
    console.print(Text(f"Members: {members}. You are {ADMIN}, in #general."))
    threads = [label(thread) for thread in world.forum.threads]
    console.print(Text(f"Channels: #general, #advice (forum: {', '.join(threads)})"))
    bot_id = pg.env.backend.bot_user.id
    for name, channel in (("Open advice post", world.open_post), ("#general", world.general)):
        if channel is None:
            continue
        numbered = []
        for message in channel.history():
            stored = pg.env.backend.messages[channel.id][message.id]
            if message.author.id == bot_id and message.embeds:
                entry = transcript.register(stored)
                numbered.append(f"#{entry.number} {message.embeds[0].title}")
        console.print(Text(f"{name}: " + "; ".join(numbered), style="dim"))
    console.print(Text("Type help for what you can do, quit to leave.", style="dim"))


class LineReader:
    """input() in a daemon thread: the bot keeps running while a line is typed (messages it
    sends meanwhile are printed), and a half-typed line does not keep the process alive."""

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._prompts: queue.Queue[str] = queue.Queue()
        self._answer: asyncio.Future[str | None] | None = None
        if sys.stdin.isatty():
            import readline  # noqa: F401 - line editing and history for input()
        threading.Thread(target=self._read, daemon=True, name="playground-input").start()

    def _read(self) -> None:
        while True:
            prompt = self._prompts.get()
            try:
                line: str | None = input(prompt)
            except EOFError:
                line = None
            self._loop.call_soon_threadsafe(self._deliver, line)
            if line is None:
                return

    def _deliver(self, line: str | None) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_result(line)

    async def read(self, prompt: str) -> str | None:
        """The next line, or None at the end of input (Ctrl-D)."""
        self._answer = self._loop.create_future()
        self._prompts.put(prompt)
        return await self._answer


async def run_terminal(console: Console) -> int:
    async with playground() as pg:
        transcript, driver = start(pg, console)
        reader = LineReader()
        try:
            while (line := await reader.read(driver.prompt())) is not None:
                try:
                    if not await driver.run_line(line):
                        break
                except LineError as exc:
                    console.print(Text(str(exc), style="red"))
                except Exception:
                    # A playground bug: shown, and the session goes on.
                    console.print_exception()
        finally:
            transcript.detach()
    return 0
