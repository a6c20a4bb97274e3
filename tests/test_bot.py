"""The real bot under simcord: command sync, the error handler, autocomplete, restarts."""

from __future__ import annotations

import logging

import discord
import pytest
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import tool_choices
from bot.bot import UNEXPECTED_ERROR, StackupBot
from bot.errors import UnknownTool
from bot.services.catalog import resolve_or_raise
from tests.conftest import write_bottle_catalog

# Every command Stackup registers, as synced to Discord.
SHIPPED_COMMANDS = {
    "stackup",
    "advice",
    "compare",
    "tool",
    "alternatives",
    "pros",
    "cons",
    "decision",
    "stack",
    "follow",
    "unfollow",
    "following",
}


class Probe(commands.Cog):
    """Commands that exist only in these tests, to drive the bot's shared machinery."""

    def __init__(self, bot: StackupBot) -> None:
        self.bot = bot

    @app_commands.command(name="pick")
    async def pick(self, interaction: discord.Interaction, tool: str) -> None:
        """Resolve a tool name."""
        entry = resolve_or_raise(await self.bot.fresh_catalog_index(), tool)
        await interaction.response.send_message(f"{entry.name} ({entry.slug})", ephemeral=True)

    @pick.autocomplete("tool")
    async def pick_tool(self, interaction: discord.Interaction, current: str):
        return tool_choices(self.bot.catalog_index_now(), current)

    @app_commands.command(name="crash")
    async def crash(self, interaction: discord.Interaction) -> None:
        """Fail unexpectedly."""
        raise RuntimeError("database exploded")

    @app_commands.command(name="reply-then-fail")
    async def reply_then_fail(self, interaction: discord.Interaction) -> None:
        """Answer, then fail with a domain error."""
        await interaction.response.send_message("Working on it")
        raise UnknownTool("expresss", ["ExpressJS"])

    @app_commands.command(name="slow-crash")
    async def slow_crash(self, interaction: discord.Interaction, public: bool = False) -> None:
        """Defer, then fail with a domain error."""
        await interaction.response.defer(ephemeral=not public, thinking=True)
        raise UnknownTool("expresss", ["ExpressJS"])


async def build_bot(settings, engine, sessions) -> StackupBot:
    bot = StackupBot(settings, engine, sessions)
    await bot.add_cog(Probe(bot))
    return bot


@pytest.fixture
async def simcord_bot(settings, engine, sessions):
    return await build_bot(settings, engine, sessions)


@pytest.fixture
def world(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(simcord_env.create_user("grace"))
    return channel, member


async def test_names_resolve_through_the_bot(simcord_env, world):
    channel, member = world
    result = await member.slash(channel, "pick", tool="Koa.js")
    assert result.response.content == "Koa (koa)"


async def test_unknown_tool_gets_an_ephemeral_answer_with_suggestions(simcord_env, world):
    channel, member = world
    result = await member.slash(channel, "pick", tool="sql")
    assert result.ephemeral
    assert result.response.content.startswith("No tool called “sql” in the catalog. Did you mean ")
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)


async def test_user_text_in_errors_cannot_ping(simcord_env, world):
    channel, member = world
    result = await member.slash(channel, "pick", tool="@everyone")
    assert "@everyone" in result.response.content
    callback = [r for r in simcord_env.http_requests if r.path.endswith("/callback")][-1]
    assert callback.json["data"]["allowed_mentions"] == {"parse": []}
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)


async def test_domain_error_after_an_ephemeral_defer_replaces_the_thinking_message(
    simcord_env, world
):
    channel, member = world
    result = await member.slash(channel, "slow-crash")
    assert result.ephemeral
    assert result.response.content.startswith("No tool called “expresss”")
    callbacks = [r.json["type"] for r in simcord_env.http_requests if r.path.endswith("/callback")]
    assert callbacks == [5]
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)


async def test_domain_error_after_a_public_defer_replaces_the_thinking_message(
    simcord_env, world, caplog
):
    channel, member = world
    with caplog.at_level(logging.WARNING, logger="bot.bot"):
        result = await member.slash(channel, "slow-crash", public=True)
    assert result.response.content.startswith("No tool called “expresss”")
    assert not result.response.flags.loading
    assert "error shown publicly after a public deferral" in caplog.text
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)


async def test_domain_error_after_a_reply_comes_as_an_ephemeral_followup(simcord_env, world):
    channel, member = world
    result = await member.slash(channel, "reply-then-fail")
    assert result.response.content == "Working on it"
    assert [(m.content, m.ephemeral) for m in result.followups] == [
        ("No tool called “expresss” in the catalog. Did you mean **ExpressJS**?", True)
    ]
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)


@pytest.mark.logs_errors.with_args(RuntimeError)
async def test_unexpected_errors_are_logged_and_answered_politely(simcord_env, world, caplog):
    channel, member = world
    with caplog.at_level(logging.ERROR, logger="bot.bot"):
        result = await member.slash(channel, "crash")
    assert result.ephemeral
    assert result.response.content == UNEXPECTED_ERROR
    assert "database exploded" not in result.response.content
    assert "command /crash failed" in caplog.text and "database exploded" in caplog.text
    assert isinstance(simcord_env.errors[-1].original, RuntimeError)


async def test_autocomplete_offers_catalog_tools(simcord_env, world):
    channel, member = world
    choices = await member.autocomplete(channel, "pick", "tool", "expr")
    assert choices[0] == {"name": "ExpressJS", "value": "expressjs"}
    assert len(await member.autocomplete(channel, "pick", "tool", "")) == 25


async def test_commands_sync_once_and_not_again_after_a_restart(
    simcord_env, world, settings, engine, sessions
):
    channel, member = world
    syncs = [
        r for r in simcord_env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert len(syncs) == 1
    assert {c["name"] for c in syncs[0].json} == SHIPPED_COMMANDS | {
        "pick",
        "crash",
        "slow-crash",
        "reply-then-fail",
    }

    # A restart is a new process: a new bot on the same database.
    await simcord_env.restart_bot(await build_bot(settings, engine, sessions))
    syncs = [
        r for r in simcord_env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert len(syncs) == 1
    result = await member.slash(channel, "stackup about")
    assert result.response.embeds[0].title == "Stackup"


async def test_default_intents_only(simcord_env):
    intents = simcord_env.bot.intents
    assert intents == discord.Intents.default()
    assert not (intents.message_content or intents.members or intents.presences)


async def test_a_changed_command_tree_is_synced_again(
    simcord_env, world, settings, engine, sessions
):
    plain = StackupBot(settings, engine, sessions)
    await simcord_env.restart_bot(plain)
    syncs = [
        r for r in simcord_env.http_requests if r.method == "PUT" and r.path.endswith("/commands")
    ]
    assert len(syncs) == 2
    assert {c["name"] for c in syncs[-1].json} == SHIPPED_COMMANDS


async def test_a_catalog_import_elsewhere_reaches_the_running_bot(
    simcord_env, world, settings, engine, sessions, tmp_path
):
    from db.catalog_format import load_catalog
    from db.catalog_import import import_catalog

    fresh = StackupBot(settings, engine, sessions, index_freshness_seconds=0)
    await fresh.add_cog(Probe(fresh))
    await simcord_env.restart_bot(fresh)
    channel, member = world
    result = await member.slash(channel, "pick", tool="Bottle")
    assert result.response.content.startswith("No tool called “Bottle”")
    assert isinstance(simcord_env.errors[-1].original, UnknownTool)

    await import_catalog(sessions, load_catalog([write_bottle_catalog(tmp_path / "bottle.yaml")]))

    # Autocomplete never waits for the database: the first keystroke after the import starts
    # a refresh in the background, the next one sees the new tool.
    await member.autocomplete(channel, "pick", "tool", "bott")
    choices = await member.autocomplete(channel, "pick", "tool", "bottl")
    assert choices[0] == {"name": "Bottle", "value": "bottle"}
    result = await member.slash(channel, "pick", tool="bottle")
    assert result.response.content == "Bottle (bottle)"


async def test_dev_guild_gets_the_commands_instead_of_everyone(
    simcord_env, settings, engine, sessions
):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("dev")
    member = guild.add_member(simcord_env.create_user("lin"))
    dev_settings = settings.model_copy(update={"dev_guild_id": guild.id})

    await simcord_env.restart_bot(StackupBot(dev_settings, engine, sessions))

    guild_syncs = [
        r
        for r in simcord_env.http_requests
        if r.method == "PUT" and r.path.endswith(f"/guilds/{guild.id}/commands")
    ]
    assert len(guild_syncs) == 1
    assert {c["name"] for c in guild_syncs[0].json} == SHIPPED_COMMANDS
    result = await member.slash(channel, "stackup about")
    assert result.response.embeds[0].title == "Stackup"


def test_shard_settings_reach_the_bot(engine, sessions):
    from tests.conftest import make_settings

    bot = StackupBot(
        make_settings(shard_count=4, shard_ids=(2, 3), owner_ids="1,2"), engine, sessions
    )
    assert (bot.shard_count, bot.shard_ids) == (4, [2, 3])
    assert bot.owner_ids == {1, 2}


async def test_every_cog_loads_and_no_two_commands_share_a_name(settings, engine, sessions):
    from bot.bot import cog_extensions
    from cogs._shared.flows import Flows

    bot = StackupBot(settings, engine, sessions)
    bot.flows = Flows(bot)  # as setup_hook builds it before loading the cogs
    for extension in cog_extensions():
        # A second command with a taken name raises CommandAlreadyRegistered here.
        await bot.load_extension(extension)
    names = [command.name for command in bot.tree.get_commands()]
    assert len(names) == len(set(names))
    assert {"stackup", "compare", "tool", "alternatives"} <= set(names)
