"""`stackup playground --terminal` driven through a pseudo-terminal as a person would: type a
line, read the screen. A comparison, an advice post with votes, and its close. Every wait is
on the screen's output, never on time."""

from __future__ import annotations

import re

import pexpect

from tests.playground.conftest import START_TIMEOUT, stackup_command

# Colours and styles rich writes between words.
ANSI = r"(?:\x1b\[[0-9;?]*[A-Za-z])*"


def prompt(member: str, where: str) -> str:
    return re.escape(f"{member} {where}> ")


def test_compare_then_an_advice_post_voted_and_closed(playground_env, tmp_path):
    command, *args = stackup_command()
    child = pexpect.spawn(
        command,
        [*args, "playground", "--terminal"],
        cwd=str(tmp_path),
        env=playground_env,
        dimensions=(50, 160),
        encoding="utf-8",
        timeout=120,
    )
    try:
        child.expect(prompt("ada", "#general"), timeout=START_TIMEOUT)
        _compare(child)
        number = _ask_and_recommend(child)
        _vote(child, number)
        _close(child)
        child.sendline("quit")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def _compare(child: pexpect.spawn) -> None:
    child.sendline("/compare first:express second:flask third:koa")
    child.expect("ExpressJS vs Flask vs Koa")
    child.expect(re.escape("[ ⚖️ Pros & cons ]"))
    child.expect(prompt("ada", "#general"))
    child.sendline("/compare first:koa second:expr?")
    child.expect(f"second: {ANSI}ExpressJS")
    child.expect(prompt("ada", "#general"))


def _ask_and_recommend(child: pexpect.spawn) -> str:
    """bob asks, cy recommends Koa; the number the screen shows next to the recommendation."""
    child.sendline("as bob")
    child.expect(prompt("bob", "#general"))
    child.sendline(
        "/advice ask title:Koa or Fastify? question:A small JSON API. tools:Koa, Fastify"
    )
    child.expect("Needs advice on Koa, Fastify")
    child.expect("only bob sees this")
    child.expect(prompt("bob", "#general"))
    child.sendline("go koa or f")
    child.expect(prompt("bob", "🧵 Koa or Fastify?"))
    child.sendline("as cy")
    child.expect(prompt("cy", "🧵 Koa or Fastify?"))
    child.sendline("/advice recommend tool:Koa reason:Tiny, and async all the way.")
    child.expect(rf"#(\d+){ANSI} {ANSI}Stackup{ANSI}{ANSI} → 🧵 Koa or Fastify\? in #advice")
    number = child.match.group(1)
    child.expect("Recommends Koa")
    child.expect(prompt("cy", "🧵 Koa or Fastify?"))
    return number


def _vote(child: pexpect.spawn, number: str) -> None:
    for member in ("ada", "dee"):
        child.sendline(f"as {member}")
        child.expect(prompt(member, "🧵 Koa or Fastify?"))
        child.sendline(f"react 👍 {number}")
        child.expect(prompt(member, "🧵 Koa or Fastify?"))
    # The clock moves on past the ranking's edit interval: the starter shows both votes.
    child.sendline("wait 1m")
    child.expect(re.escape("+2 (👍 2 · 👎 0)"))
    child.expect(prompt("dee", "🧵 Koa or Fastify?"))


def _close(child: pexpect.spawn) -> None:
    child.sendline("/advice close accepted:Koa")
    child.expect("Only the member who asked")  # dee did not ask: told privately
    child.expect(prompt("dee", "🧵 Koa or Fastify?"))
    child.sendline("as bob")
    child.expect(prompt("bob", "🧵 Koa or Fastify?"))
    child.sendline("/advice close accepted:Koa")
    child.expect("Verdict: Koa")
    child.expect(f"chose {ANSI}Koa{ANSI} over Fastify")
    child.expect(prompt("bob", "🧵 Koa or Fastify?"))
