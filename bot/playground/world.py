"""The demo server and its history, made by members running the bot's real commands.

Nothing here writes a row: setup, stacks, follows, pros and cons and their votes, and two
advice posts (one closed with a verdict, one open with votes) all go through the bot under
simcord as members would make them, so the demo stays true when the bot changes. The history
spans a few days of the simulated clock, so timestamps, digests and idle closes have a past.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import discord
from simcord.actors import MemberActor
from simcord.builders import ChannelHandle, GuildHandle, RoleHandle
from simcord.env import Env
from simcord.results import InteractionResult

UP, DOWN = "👍", "👎"
DAY = 86400.0
GUILD_NAME = "Stackup playground"
# Members without a role manage nothing; ada has Manage Server (and Manage Threads).
MEMBER_NAMES = ("ada", "bob", "cy", "dee")
ADMIN = "ada"


class WorldError(RuntimeError):
    """A step of the demo's history failed: the bot refused or broke on it."""


@dataclass
class DemoWorld:
    env: Env
    guild: GuildHandle
    general: ChannelHandle
    forum: ChannelHandle
    roles: dict[str, RoleHandle]
    members: dict[str, MemberActor]
    open_post: ChannelHandle | None = None

    def channels(self) -> list[ChannelHandle]:
        """The server's channels, then every thread, oldest first."""
        found = [self.general, self.forum]
        for channel in (self.general, self.forum):
            found.extend(sorted(channel.threads, key=lambda thread: thread.id))
        return found

    def find_channel(self, name: str) -> ChannelHandle:
        """A channel or thread by its name, or the start of it (any case, # optional)."""
        wanted = name.strip().lstrip("#").casefold()
        channels = self.channels()
        exact = [ch for ch in channels if (ch.name or "").casefold() == wanted]
        starting = [ch for ch in channels if (ch.name or "").casefold().startswith(wanted)]
        found = exact or starting
        if len(found) != 1:
            names = ", ".join(label(ch) for ch in found or channels)
            raise LookupError(f"which channel? {names}")
        return found[0]

    def member(self, name: str) -> MemberActor:
        member = self.members.get(name.strip().lstrip("@").casefold())
        if member is None:
            raise LookupError(f"no member {name}: the members are {', '.join(self.members)}")
        return member

    async def run(
        self, who: str, channel: ChannelHandle, command: str, **options: object
    ) -> InteractionResult:
        """A member runs a command; any error the bot reports stops the demo's making."""
        cursor = self.env.error_cursor
        result = await self.members[who].slash(channel, command, **options)
        errors = self.env.errors_since(cursor)
        if errors:
            raise WorldError(f"{who}: /{command} failed: {errors[-1]!r}")
        return result

    async def react(self, who: str, message: discord.Message, emoji: str) -> None:
        await self.members[who].react(message, emoji)


def label(channel: ChannelHandle) -> str:
    return f"🧵 {channel.name}" if channel.is_thread else f"#{channel.name}"


def create_server(env: Env) -> DemoWorld:
    """The server as its owner left it: #general, an #advice forum, four members."""
    guild = env.create_guild(GUILD_NAME)
    general = guild.create_text_channel("general")
    forum = guild.create_forum_channel("advice")
    admins = guild.create_role(
        "Admins", permissions=discord.Permissions(manage_guild=True, manage_threads=True)
    )
    members = {
        name: guild.add_member(env.create_user(name), roles=[admins] if name == ADMIN else [])
        for name in MEMBER_NAMES
    }
    return DemoWorld(env, guild, general, forum, {"Admins": admins}, members)


async def build_world(env: Env, wait: Callable[[float], Awaitable[None]]) -> DemoWorld:
    """The server, then three days of its history; `wait` moves the clock (and runs what
    comes due meanwhile, as the scheduler would)."""
    world = create_server(env)
    await world.run(
        ADMIN,
        world.general,
        "stackup setup",
        advice_forum=world.forum,
        digest_channel=world.general,
    )
    await _stacks_and_follows(world)
    await _pros_and_cons(world)
    await wait(DAY)
    await _closed_post(world)
    await wait(DAY)
    await _open_post(world)
    await wait(DAY / 4)
    return world


async def _stacks_and_follows(world: DemoWorld) -> None:
    stacks = {
        "ada": "Python, Django, PostgreSQL, Redis",
        "bob": "Node.js, ExpressJS, MongoDB",
        "cy": "Flask, PostgreSQL, Docker",
        "dee": "Koa, Redis",
    }
    for who, tools in stacks.items():
        await world.run(who, world.general, "stack add", tools=tools)
    for who, tool in (("bob", "Koa"), ("cy", "Flask"), ("dee", "PostgreSQL")):
        await world.run(who, world.general, "follow", tool=tool)


async def _pros_and_cons(world: DemoWorld) -> None:
    await world.run("cy", world.general, "pros add", tool="Flask", text="Tiny core you can read")
    await world.run("bob", world.general, "cons add", tool="Flask", text="Async is an afterthought")
    await world.run(ADMIN, world.general, "pros vote", tool="Flask")
    voting = _last_bot_message(world, world.general)
    for who, number in (("bob", "1️⃣"), ("dee", "1️⃣"), ("cy", "2️⃣")):
        await world.react(who, voting, number)
    await world.run("dee", world.general, "cons vote", tool="Flask")
    voting = _last_bot_message(world, world.general)
    await world.react("bob", voting, "1️⃣")


async def _closed_post(world: DemoWorld) -> None:
    thread = await _ask(
        world,
        "dee",
        title="Koa or Express for a small API?",
        question="A JSON API for a side project, one developer, a few hundred users.",
        tools="Koa, ExpressJS",
    )
    express = await _recommend(
        world, "bob", thread, "ExpressJS", "Every answer is on Stack Overflow."
    )
    koa = await _recommend(world, "cy", thread, "Koa", "async/await middleware, tiny and modern.")
    for who in ("ada", "bob"):
        await world.react(who, koa, UP)
    await world.react("cy", express, DOWN)
    await world.run("dee", thread, "advice close", accepted="Koa")


async def _open_post(world: DemoWorld) -> None:
    thread = await _ask(
        world,
        "cy",
        title="Which database for a booking app?",
        question="Bookings, invoices and reports; two developers; Flask on the back end.",
        tools="PostgreSQL, MongoDB",
        context="Hosted on one small VM to start with.",
    )
    postgres = await _recommend(
        world, ADMIN, thread, "PostgreSQL", "Relational data, transactions, and reports in SQL."
    )
    mongo = await _recommend(
        world, "bob", thread, "MongoDB", "Flexible documents while the schema settles."
    )
    for who in ("cy", "dee"):
        await world.react(who, postgres, UP)
    await world.react("dee", mongo, DOWN)
    world.open_post = thread


async def _ask(world: DemoWorld, who: str, **options: str) -> ChannelHandle:
    before = {thread.id for thread in world.forum.threads}
    await world.run(who, world.general, "advice ask", **options)
    created = [thread for thread in world.forum.threads if thread.id not in before]
    if len(created) != 1:
        raise WorldError(f"{who}: /advice ask opened no post in #advice")
    return created[0]


async def _recommend(
    world: DemoWorld, who: str, thread: ChannelHandle, tool: str, reason: str
) -> discord.Message:
    """`who` recommends `tool` in the post; the bot's recommendation message."""
    await world.run(who, thread, "advice recommend", tool=tool, reason=reason)
    return _last_bot_message(world, thread)


def _last_bot_message(world: DemoWorld, channel: ChannelHandle) -> discord.Message:
    bot_id = world.env.backend.bot_user.id
    for message in reversed(channel.history()):
        if message.author.id == bot_id:
            return message
    raise WorldError(f"Stackup sent nothing in #{channel.name}")
