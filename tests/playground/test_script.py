"""`stackup playground --script`: the README's walkthrough runs start to end, printing what a
user would read; a line that fails stops the script with exit status 1; Stackup's logged
errors count as failures; the temporary folder is gone afterwards."""

from __future__ import annotations

import io
import logging
import re
import subprocess
from pathlib import Path

import pytest
from rich.console import Console

from bot.playground.driver import LineError
from bot.playground.script import _run_lines
from bot.playground.session import ErrorLog
from tests.playground.conftest import START_TIMEOUT, WALKTHROUGH, stackup_command


def run_script(path: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*stackup_command(), "playground", "--script", str(path)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
        check=False,
    )


def test_the_walkthrough_shows_comparisons_an_advice_post_its_verdict_and_a_week_later(
    playground_env, tmp_path
):
    done = run_script(WALKTHROUGH, playground_env, tmp_path)
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert "Traceback" not in done.stderr and "ERROR" not in done.stderr
    # Nothing of discord.py's start-up chatter (intents, voice libraries) before the server.
    assert "WARNING" not in done.stderr and out.startswith("Server “Stackup playground”")
    # The compare answer, its chart button, and the tool card.
    assert "ExpressJS vs Flask vs Koa" in out
    assert "[ 📊 Chart ]" in out
    assert re.search(r"#\d+ Stackup → #general\n.*\n│ Flask +│", out), "the /tool card"
    # The advice post: opened in the forum, a follower told by DM, recommended, voted, closed.
    assert "Stackup → 🧵 Flask or FastAPI for a small API? in #advice" in out
    assert "Needs advice on Flask, FastAPI" in out
    assert "Stackup → DM to cy" in out
    assert "Recommends Flask" in out and "Recommends FastAPI" in out
    assert "Verdict: Flask" in out
    assert "@bob chose Flask over FastAPI" in out
    assert re.search(r"1 Flask · \+2 \(👍 2 · 👎 0\)", out), "ada's and dee's votes counted"
    # A week later: the digest, then the demo's idle post warned and closed.
    assert "⏩ 1 week later" in out
    assert "Stackup weekly digest" in out
    assert "this post closes" in out
    assert "nothing happened here for 7 days, so Stackup closed this post" in out
    assert "Verdict: PostgreSQL" in out
    charts = re.findall(r"📎 saved (\S+\.png)", out)
    assert charts, "charts are saved as PNG files"
    assert not any(Path(chart).exists() for chart in charts), "the temporary folder is removed"


def test_a_line_that_fails_stops_the_script_with_status_1(playground_env, tmp_path):
    script = tmp_path / "broken.play"
    script.write_text("/tool name:koa\n/compare first:express\n/tool name:flask\n")
    done = run_script(script, playground_env, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"{script}:2: /compare needs second:…" in done.stdout
    assert "/tool name:koa" in done.stdout and "/tool name:flask" not in done.stdout


class Lines:
    """A driver that fails on the lines it is told to."""

    def __init__(self, failing: str) -> None:
        self.failing = failing
        self.ran: list[str] = []

    def prompt(self) -> str:
        return "ada #general> "

    async def run_line(self, line: str) -> bool:
        if line == self.failing:
            raise LineError("no such thing")
        self.ran.append(line)
        return line != "quit"


async def test_comments_are_shown_and_quit_or_a_failure_ends_the_run(tmp_path):
    console = Console(record=True, width=100)
    driver = Lines(failing="boom")
    lines = ["# says hello", "", "one", "boom", "two"]
    assert await _run_lines(lines, driver, console, tmp_path / "x.play") is True
    assert driver.ran == ["one"]
    text = console.export_text()
    assert "# says hello" in text and "› ada #general> one" in text
    assert f"{tmp_path / 'x.play'}:4: no such thing" in text

    driver = Lines(failing="never")
    assert await _run_lines(["one", "quit", "two"], driver, console, tmp_path / "x.play") is False
    assert driver.ran == ["one", "quit"]


@pytest.mark.logs_errors("failed")
def test_the_error_log_keeps_stackups_errors_only():
    errors = ErrorLog()
    root = logging.getLogger()
    root.addHandler(errors)
    try:
        for name, level in (
            ("bot.bot", logging.ERROR),
            ("cogs.advice.flows", logging.CRITICAL),
            ("db.votes", logging.ERROR),
            ("asyncio", logging.ERROR),
            ("cogs.votes", logging.WARNING),
            ("discord.client", logging.ERROR),
        ):
            logging.getLogger(name).log(level, "failed")
    finally:
        root.removeHandler(errors)
    assert [r.name for r in errors.records] == [
        "bot.bot",
        "cogs.advice.flows",
        "db.votes",
        "asyncio",
    ]


async def test_every_body_the_walkthrough_sends_is_one_discord_accepts(tmp_path):
    """The walkthrough in this process: the demo server's history and every line of the
    walkthrough send bodies that match Discord's spec and limits (the subprocess tests above
    read what a user sees; they cannot see the requests)."""
    from bot.playground.session import playground
    from bot.playground.terminal import start
    from tests.discord_contract import problems_in

    console = Console(file=io.StringIO(), width=120)
    lines = WALKTHROUGH.read_text(encoding="utf-8").splitlines()
    async with playground() as pg:
        transcript, driver = start(pg, console)
        try:
            failed = await _run_lines(lines, driver, console, WALKTHROUGH)
            await pg.settle()
        finally:
            transcript.detach()
        requests = list(pg.env.http_requests)
        assert not failed and not pg.errors.records, console.file.getvalue()
    assert len(requests) > 50
    assert problems_in(requests) == []
