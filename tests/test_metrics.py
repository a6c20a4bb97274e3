"""Prometheus metrics through the real bot under simcord: with METRICS_PORT set the bot serves
its own registry over HTTP (commands, scheduled runs, 429s, vote queue, gateway latency);
without it nothing is served."""

from __future__ import annotations

import asyncio
import logging
import threading
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families
from simcord.env import Env

from bot.bot import StackupBot
from bot.core.voting import ReactionEvent
from bot.errors import NotAllowed
from bot.settings import SettingsError, load_settings
from tests.cogs.schedule.test_schedule import fire
from tests.conftest import last_error, make_settings, sqlite_url

ABSENT_OWNER_ID = 111_111_111_111_111_111


@pytest.fixture
def settings(database_path):
    # Port 0: the system picks a free one, so parallel test workers cannot collide.
    return make_settings(
        database_url=sqlite_url(database_path), metrics_port=0, owner_ids=[ABSENT_OWNER_ID]
    )


@pytest.fixture
async def simcord_bot(settings, engine, sessions, chart_renderer):
    bot = StackupBot(settings, engine, sessions, charts=chart_renderer)
    yield bot
    # simcord detaches the bot without closing it: stop the server its setup_hook started.
    await asyncio.to_thread(bot.metrics.close)


def _scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(bot) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    assert bot.metrics.port, "metrics are not served"
    return await asyncio.to_thread(_scrape, bot.metrics.port)


def _member(simcord_env, name: str):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    return channel, guild.add_member(simcord_env.create_user(name))


async def test_the_bot_serves_its_metrics_over_http(simcord_env, simcord_bot):
    channel, member = _member(simcord_env, "ada")

    await member.slash(channel, "stackup about")
    refused = await member.slash(channel, "stackup status")
    assert refused.ephemeral
    assert isinstance(last_error(simcord_env), NotAllowed)
    await fire(simcord_env, "sweep")

    figures = await scrape(simcord_bot)

    about = (("command", "stackup about"), ("outcome", "ok"))
    status = (("command", "stackup status"), ("outcome", "rejected"))
    assert figures[("stackup_commands_total", about)] == 1
    assert figures[("stackup_commands_total", status)] == 1
    assert not any(
        name == "stackup_commands_total" and ("outcome", "failed") in labels
        for name, labels in figures
    )
    assert figures[("stackup_command_seconds_count", (("command", "stackup about"),))] == 1
    assert figures[("stackup_command_seconds_sum", (("command", "stackup about"),))] >= 0
    runs = (("job", "sweep"), ("outcome", "ok"))
    assert figures[("stackup_scheduled_runs_total", runs)] == 1
    assert figures[("stackup_vote_events_total", ())] == 0
    assert figures[("stackup_vote_queue_depth", ())] == 0
    assert figures[("stackup_rest_429_total", ())] == 0
    assert ("stackup_gateway_latency_seconds", (("shard", "0"),)) in figures


async def test_discords_rate_limit_warnings_are_counted(simcord_env, simcord_bot):
    # What discord.py logs for each 429 it receives (discord/http.py), then retries.
    logging.getLogger("discord.http").warning(
        "We are being rate limited. %s %s responded with 429. Retrying in %.2f seconds.",
        "POST",
        "https://discord.com/api/v10/channels/1/messages",
        0.5,
    )
    logging.getLogger("discord.http").warning("Global rate limit has been hit. Retrying in 0.50")

    figures = await scrape(simcord_bot)

    assert figures[("stackup_rest_429_total", ())] == 1


async def test_vote_events_and_the_queue_are_read_when_scraped(simcord_env, simcord_bot):
    votes = simcord_bot.services.votes
    # Events for a message being recounted wait behind the recount: queued, not written.
    votes.begin_recount(42)
    for member_id in (1, 2, 3):
        votes.submit(ReactionEvent(message_id=42, member_id=member_id, emoji="👍", added=True))

    figures = await scrape(simcord_bot)

    votes.abort_recount(42)  # the events go to the writer (message 42 has no votes: ignored)
    await votes.wait_idle()
    assert figures[("stackup_vote_events_total", ())] == 3
    assert figures[("stackup_vote_queue_depth", ())] == 3
    assert (await scrape(simcord_bot))[("stackup_vote_queue_depth", ())] == 0


def _serving_threads() -> list[threading.Thread]:
    return [
        thread
        for thread in threading.enumerate()
        if getattr(getattr(thread, "_target", None), "__name__", None) == "serve_forever"
    ]


async def test_without_metrics_port_nothing_is_served(database_path, engine, sessions):
    before = _serving_threads()
    bot = StackupBot(make_settings(database_url=sqlite_url(database_path)), engine, sessions)
    assert bot.settings.metrics_port is None
    env = Env(bot)
    await env.start()
    try:
        channel, member = _member(env, "ada")
        await member.slash(channel, "stackup about")
        assert bot.metrics.port is None
        assert _serving_threads() == before
        # Still counted, for whoever reads the registry in process.
        assert bot.metrics.registry.get_sample_value(
            "stackup_commands_total", {"command": "stackup about", "outcome": "ok"}
        )
    finally:
        await env.shutdown()


async def test_closing_the_bot_stops_serving(database_path, engine, sessions):
    bot = StackupBot(
        make_settings(database_url=sqlite_url(database_path), metrics_port=0), engine, sessions
    )
    env = Env(bot)
    await env.start()
    try:
        port = bot.metrics.port
        assert port
        assert ("stackup_rest_429_total", ()) in await scrape(bot)
        await bot.close()
    finally:
        await env.shutdown()
    assert bot.metrics.port is None
    with pytest.raises(OSError):
        await asyncio.to_thread(_scrape, port)


def test_metrics_settings():
    assert load_settings(_env_file=None).metrics_port is None
    chosen = load_settings(_env_file=None, metrics_port="9108", metrics_host=" 0.0.0.0 ")
    assert (chosen.metrics_port, chosen.metrics_host) == (9108, "0.0.0.0")
    with pytest.raises(SettingsError, match="METRICS_PORT"):
        load_settings(_env_file=None, metrics_port=70000)
    with pytest.raises(SettingsError, match="METRICS_HOST"):
        load_settings(_env_file=None, metrics_host="  ")
