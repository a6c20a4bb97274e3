"""Scheduled work on SQLite and PostgreSQL across bot processes that share one database: two
processes, each serving its own shards, close each idle post once between them; overlapping
processes (a misconfiguration, a resharding) still send each reminder, warning, verdict and
digest once.

Each process is the real bot (`StackupBot`, with the real Scheduled and Advice cogs) running
the real sweep, with its own engine. Discord is faked at discord.py's HTTP layer only
(`bot.http.request`): one fake Discord that all processes talk to, recording what each sent.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import discord
import pytest
from sqlmodel import select

from bot.bot import StackupBot
from bot.core.advice import NewPost
from bot.core.schedule import Claim
from bot.services.advice import AdviceService
from cogs._shared.flows import Flows
from cogs.advice.cog import Advice
from cogs.schedule.cog import Scheduled
from db.engine import create_engine, create_session_factory
from db.models import AdvicePost, GuildSettings, JobRun, Tool
from tests.conftest import FakeClock, add_tools, make_settings, rows
from tests.discord_contract import problems_in

T0 = datetime(2026, 11, 23, 10, tzinfo=UTC)
SHARDS = 2
GUILD_ON_0 = 1000 << 22  # (id >> 22) % 2 == 0
GUILD_ON_1 = 1001 << 22
BOT_USER = {"id": "999", "username": "Stackup", "discriminator": "0", "avatar": None, "bot": True}
VERDICT = "so Stackup closed this post"
WARNING = "this post closes"
REMINDER = "Nobody has recommended anything here yet"


def message_text(body: dict[str, Any]) -> str:
    """A message body's text: its content, or a Components V2 message's text displays."""
    texts = [body.get("content") or ""]
    pending = list(body.get("components") or [])
    while pending:
        component = pending.pop(0)
        texts.append(component.get("content") or "")
        pending += component.get("components") or []
    return "\n".join(text for text in texts if text)


@dataclass
class Sent:
    """A request a process made, as discord.py would have sent it."""

    method: str
    path: str
    json: Any


@dataclass
class FakeDiscord:
    """Discord's REST API as far as scheduled work reaches it: messages are posted and edited,
    threads are read and edited (locked, archived). Unknown routes are recorded as such."""

    threads: dict[int, dict[str, Any]] = field(default_factory=dict)
    unexpected: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(5_000_000))

    def add_thread(self, thread_id: int, guild_id: int, parent_id: int) -> None:
        self.threads[thread_id] = {
            "id": str(thread_id),
            "type": 11,
            "guild_id": str(guild_id),
            "parent_id": str(parent_id),
            "owner_id": "42",
            "name": f"Post in {thread_id}",
            "message_count": 1,
            "member_count": 1,
            "rate_limit_per_user": 0,
            "flags": 0,
            "applied_tags": [],
            "thread_metadata": {
                "archived": False,
                "locked": False,
                "auto_archive_duration": 10080,
                "archive_timestamp": T0.isoformat(),
            },
        }

    def _message(self, channel_id: str, body: dict[str, Any], message_id: str) -> dict[str, Any]:
        return {
            "id": message_id,
            "channel_id": channel_id,
            "author": BOT_USER,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "type": 0,
            "flags": 0,
            "timestamp": T0.isoformat(),
            "edited_timestamp": None,
        }

    def answer(self, method: str, path: str, body: Any) -> Any:
        parts = path.strip("/").split("/")
        if parts[0] == "channels" and parts[2:] == ["messages"] and method == "POST":
            return self._message(parts[1], body, str(next(self._ids)))
        if parts[0] == "channels" and parts[2:3] == ["messages"] and method == "PATCH":
            return self._message(parts[1], body, parts[3])
        if parts[0] == "channels" and len(parts) == 2:
            thread = self.threads.get(int(parts[1]))
            if thread is None:
                raise discord.NotFound(SimpleNamespace(status=404, reason="Not Found"), "")
            if method == "GET":
                return thread
            if method == "PATCH":
                for key in ("archived", "locked"):
                    if key in body:
                        thread["thread_metadata"][key] = body[key]
                if "applied_tags" in body:
                    thread["applied_tags"] = body["applied_tags"]
                return thread
        self.unexpected.append(f"{method} {path}")
        raise AssertionError(f"the fake Discord has no {method} {path}")


class Process:
    """One bot process: the real bot with the Scheduled cog (and the Advice cog it announces
    closes through), its own engine, serving some shards, its requests going to `discord_api`."""

    def __init__(
        self, url: str, shard_ids, clock: FakeClock, name: str, discord_api: FakeDiscord
    ) -> None:
        self.engine = (
            create_engine(url, pool_size=10) if "postgresql" in url else create_engine(url)
        )
        settings = make_settings(
            database_url=url,
            shard_count=SHARDS if shard_ids is not None else 1,
            shard_ids=shard_ids,
        )
        self.bot = StackupBot(
            settings, self.engine, create_session_factory(self.engine), clock=clock.now
        )
        # As two processes on two hosts would be named (in one test process they share a pid).
        self.bot.services.schedule.claimer = name
        self.api = discord_api
        self.sent: list[Sent] = []
        self.down = False  # Discord answers this process with 503s
        self.bot.http.request = self._request  # type: ignore[method-assign]

    async def _request(self, route: discord.http.Route, *, files=None, form=None, **kwargs):
        path = route.url[len(route.BASE) :]
        body = kwargs.get("json")
        if body is None and form:
            body = next(
                (json.loads(part["value"]) for part in form if part["name"] == "payload_json"),
                None,
            )
        self.sent.append(Sent(route.method, path, body))
        if self.down:
            raise discord.DiscordServerError(
                SimpleNamespace(status=503, reason="Service Unavailable"), "try later"
            )
        return self.api.answer(route.method, path, body)

    async def start(self) -> None:
        # What setup_hook builds before it loads the cogs (this bot never logs in).
        self.bot.flows = Flows(self.bot)
        await self.bot.add_cog(Advice(self.bot))
        await self.bot.add_cog(Scheduled(self.bot))

    async def sweep(self) -> None:
        """What APScheduler's sweep job runs (its timing is tested in test_schedule.py)."""
        cog = self.bot.get_cog("Scheduled")
        assert isinstance(cog, Scheduled)
        await self.bot.flows.schedule.sweep()

    async def close(self) -> None:
        await self.bot.remove_cog("Scheduled")
        await self.bot.remove_cog("Advice")
        await self.bot.services.votes.wait_idle()
        await self.engine.dispose()

    def posted(self, containing: str) -> list[int]:
        """The channels this process posted a message containing `containing` to, in order."""
        return [
            int(request.path.split("/")[2])
            for request in self.sent
            if request.method == "POST"
            and request.path.endswith("/messages")
            and containing in message_text(request.json or {})
        ]

    def locked(self) -> list[int]:
        return [
            int(request.path.split("/")[2])
            for request in self.sent
            if request.method == "PATCH"
            and request.path.count("/") == 2
            and (request.json or {}).get("locked")
        ]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
def fake_discord() -> FakeDiscord:
    return FakeDiscord()


@pytest.fixture
async def start_processes(db, clock, fake_discord):
    """Starts processes on the test's database; each one's requests are checked against
    Discord's spec and limits at the end, and none may reach a route the fake lacks."""
    url = db.kw["bind"].url.render_as_string(hide_password=False)
    started: list[Process] = []

    async def start(*shards: list[int] | None) -> list[Process]:
        processes = [
            Process(url, shard_ids, clock, f"host-{len(started) + n}:1", fake_discord)
            for n, shard_ids in enumerate(shards)
        ]
        for process in processes:
            await process.start()
        started.extend(processes)
        return processes

    yield start
    for process in started:
        await process.close()
    assert fake_discord.unexpected == []
    problems = problems_in([request for process in started for request in process.sent])
    assert not problems, "bodies Discord would refuse:\n" + "\n".join(problems)


async def open_posts(db, clock, fake_discord, guild_id: int, count: int) -> list[int]:
    """Advice posts in one guild, opened now (as the Advice cog records them), each with its
    thread on the fake Discord."""
    tools = await rows(db, select(Tool).order_by(Tool.id))
    if not tools:
        async with db() as session, session.begin():
            tools = await add_tools(session, "flask", "django")
    advice = AdviceService(db, clock=clock.now)
    ids = []
    for n in range(count):
        thread_id = guild_id + 100 + n
        summary = await advice.open_post(
            NewPost(
                guild_id=guild_id,
                channel_id=guild_id + 1,
                thread_id=thread_id,
                starter_message_id=guild_id + 200 + n,
                asker_id=42,
                title=f"Post {n}",
                question="Which one?",
                context="",
                tool_ids=[tool.id for tool in tools],
            )
        )
        fake_discord.add_thread(thread_id, guild_id, guild_id + 1)
        ids.append(summary.id)
    return ids


async def threads_of(db, post_ids: list[int]) -> list[int]:
    posts = await rows(db, select(AdvicePost).where(AdvicePost.id.in_(post_ids)))  # type: ignore[union-attr]
    by_id = {post.id: post.thread_id for post in posts}
    return [by_id[post_id] for post_id in post_ids]


async def sweep_all(processes: list[Process]) -> None:
    """Every process's sweep at once, as their timers may well fire together."""
    await asyncio.gather(*(process.sweep() for process in processes))


async def test_two_processes_on_their_own_shards_close_each_guilds_posts_once(
    db, clock, fake_discord, start_processes
):
    on_0 = await open_posts(db, clock, fake_discord, GUILD_ON_0, 4)
    on_1 = await open_posts(db, clock, fake_discord, GUILD_ON_1, 4)
    first, second = await start_processes([0], [1])
    assert [p.post_id for p in await first.bot.services.schedule.open_posts()] == on_0
    assert [p.post_id for p in await second.bot.services.schedule.open_posts()] == on_1
    threads_0, threads_1 = await threads_of(db, on_0), await threads_of(db, on_1)

    # A day before the close, each asker is warned, once, by the process serving the guild.
    clock.advance(days=6)
    await sweep_all([first, second])
    assert (sorted(first.posted(WARNING)), sorted(second.posted(WARNING))) == (threads_0, threads_1)
    clock.advance(days=1, seconds=1)
    await sweep_all([first, second])
    # Each process closed its own guild's posts, each once: verdict sent, thread locked.
    assert (sorted(first.posted(VERDICT)), sorted(second.posted(VERDICT))) == (threads_0, threads_1)
    assert (sorted(first.locked()), sorted(second.locked())) == (threads_0, threads_1)
    posts = await rows(db, select(AdvicePost).order_by(AdvicePost.id))
    assert [(p.status, p.closed_at) for p in posts] == [("closed", clock.now())] * 8
    assert all(p.verdict_posted_at == clock.now() for p in posts)
    assert all(fake_discord.threads[t]["thread_metadata"]["locked"] for t in threads_0 + threads_1)
    # Swept again: nothing left to close, nothing more said to Discord.
    before = len(first.sent), len(second.sent)
    await sweep_all([first, second])
    assert (len(first.sent), len(second.sent)) == before


async def test_processes_that_overlap_still_close_each_post_once(
    db, clock, fake_discord, start_processes
):
    ids = await open_posts(db, clock, fake_discord, GUILD_ON_0, 10)
    # A misconfiguration (or a resharding) has three processes serving every guild.
    processes = await start_processes(None, None, None)
    threads = await threads_of(db, ids)

    clock.advance(days=6)
    await sweep_all(processes)
    assert sorted(t for p in processes for t in p.posted(WARNING)) == threads
    clock.advance(days=2)
    await sweep_all(processes)
    assert sorted(t for p in processes for t in p.posted(VERDICT)) == threads
    assert sorted(t for p in processes for t in p.locked()) == threads
    assert await rows(db, select(AdvicePost.status)) == ["closed"] * 10


async def test_a_post_active_again_is_not_closed(db, clock, fake_discord, start_processes):
    (post_id,) = await open_posts(db, clock, fake_discord, GUILD_ON_0, 1)
    (thread_id,) = await threads_of(db, [post_id])
    (process,) = await start_processes([0])
    clock.advance(days=6)
    await process.sweep()
    assert process.posted(WARNING) == [thread_id]
    # The thread's members talk again (what the cog's on_message writes).
    clock.advance(hours=1)
    await process.bot.services.schedule.note_activity(thread_id)
    clock.advance(days=1, seconds=1)
    await process.sweep()
    # A close that had read the post as due before the activity finds it active now.
    assert await process.bot.services.advice.close_idle(post_id) is None
    assert await rows(db, select(AdvicePost.status)) == ["open"]
    assert process.posted(VERDICT) == [] and process.locked() == []
    # Without the activity, it would have closed.
    async with db() as session, session.begin():
        post = await session.get(AdvicePost, post_id)
        post.last_activity_at = clock.current - timedelta(days=7, hours=1)
    await process.sweep()
    assert await rows(db, select(AdvicePost.status)) == ["closed"]
    assert process.posted(VERDICT) == [thread_id] and process.locked() == [thread_id]


async def test_an_unwarned_post_is_not_closed(db, clock, fake_discord, start_processes):
    (post_id,) = await open_posts(db, clock, fake_discord, GUILD_ON_0, 1)
    (thread_id,) = await threads_of(db, [post_id])
    (process,) = await start_processes([0])
    clock.advance(days=30)
    assert await process.bot.services.advice.close_idle(post_id) is None
    # Long overdue, the sweep warns first (the reminder is moot by now); no close yet.
    await process.sweep()
    assert process.posted(WARNING) == [thread_id]
    assert process.posted(REMINDER) == [] and process.posted(VERDICT) == []
    assert await rows(db, select(AdvicePost.status)) == ["open"]


async def test_a_reminder_is_sent_once_however_many_processes_sweep(
    db, clock, fake_discord, start_processes
):
    (post_id,) = await open_posts(db, clock, fake_discord, GUILD_ON_0, 1)
    (thread_id,) = await threads_of(db, [post_id])
    processes = await start_processes(None, None, None)
    clock.advance(hours=49)
    await sweep_all(processes)
    assert [t for p in processes for t in p.posted(REMINDER)] == [thread_id]
    (post,) = await rows(db, select(AdvicePost))
    assert post.reminder_sent_at == clock.now()
    await sweep_all(processes)
    assert [t for p in processes for t in p.posted(REMINDER)] == [thread_id]


async def test_a_reminder_that_failed_is_released_and_sent_by_another_process(
    db, clock, fake_discord, start_processes
):
    (post_id,) = await open_posts(db, clock, fake_discord, GUILD_ON_0, 1)
    (thread_id,) = await threads_of(db, [post_id])
    first, second = await start_processes(None, None)
    clock.advance(hours=49)
    first.down = True  # Discord answers it 503: the claim is given back
    await first.sweep()
    assert first.posted(REMINDER) == [thread_id]  # tried, and failed
    assert (await rows(db, select(AdvicePost.reminder_sent_at))) == [None]
    await second.sweep()
    assert second.posted(REMINDER) == [thread_id]
    first.down = False
    await sweep_all([first, second])
    assert first.posted(REMINDER) + second.posted(REMINDER) == [thread_id, thread_id]


def digest_senders(processes: list[Process], channel_id: int, since: int = 0) -> list[Process]:
    """Which processes posted to the digest channel (in their requests from `since` on), once
    per message."""
    return [
        process
        for process in processes
        for request in process.sent[since:]
        if request.method == "POST" and request.path == f"/channels/{channel_id}/messages"
    ]


async def test_a_digest_week_is_sent_once_and_a_lost_claim_is_taken_over(
    db, clock, fake_discord, start_processes
):
    channel = 7
    # Something to tell every week: a post left open (it has a month before it closes).
    await open_posts(db, clock, fake_discord, GUILD_ON_0, 1)
    async with db() as session, session.begin():
        session.add(
            GuildSettings(
                guild_id=GUILD_ON_0, digest_channel_id=channel, digest_set_at=T0, idle_days=30
            )
        )
    on_0, on_1, *overlapping = await start_processes([0], [1], None, None)
    (schedule,) = await on_0.bot.services.schedule.digest_schedules()
    assert await on_1.bot.services.schedule.digest_schedules() == []  # not on its shards
    everyone = [on_0, on_1, *overlapping]

    # Three processes serving the guild (and one not) sweep at the moment: one digest.
    moment = schedule.next_moment(T0)
    clock.set(moment + timedelta(minutes=1))
    await sweep_all(everyone)
    (sender,) = digest_senders(everyone, channel)
    assert sender is not on_1
    (run,) = await rows(db, select(JobRun))
    assert (run.claimed_by, run.period) == (sender.bot.services.schedule.claimer, "2026-11-30")
    assert run.outcome.startswith("sent as message ")

    # Next week on_0 claims the digest and dies before finishing: the others hold off, then,
    # once the claim is stale, one of them takes it over and sends it, once.
    week = schedule.next_moment(moment)
    clock.set(week + timedelta(minutes=1))
    assert await on_0.bot.services.schedule.claim_digest(schedule, week) is Claim.CLAIMED
    await on_0.close()
    requests_before = {process: len(process.sent) for process in overlapping}

    def sent_since() -> list[Process]:
        return [
            sender
            for process in overlapping
            for sender in digest_senders([process], channel, requests_before[process])
        ]

    await sweep_all(overlapping)
    assert sent_since() == []
    clock.advance(minutes=31)
    await sweep_all(overlapping)
    (taker,) = sent_since()
    clock.advance(hours=2)
    await sweep_all(overlapping)
    assert sent_since() == [taker]
    assert await on_1.bot.services.schedule.claim_digest(schedule, week) is Claim.DONE
    runs = await rows(db, select(JobRun).order_by(JobRun.id))
    assert [(r.period, r.claimed_by) for r in runs] == [
        ("2026-11-30", sender.bot.services.schedule.claimer),
        ("2026-12-07", taker.bot.services.schedule.claimer),
    ]
    assert runs[1].outcome.startswith("sent as message ")


async def test_a_verdict_that_failed_is_announced_once_by_overlapping_sweeps(
    db, clock, fake_discord, start_processes
):
    ids = await open_posts(db, clock, fake_discord, GUILD_ON_0, 3)
    threads = await threads_of(db, ids)
    closer, *others = await start_processes(None, None, None)
    clock.advance(days=6)
    await closer.sweep()
    clock.advance(days=1, seconds=1)
    closer.down = True  # closes the posts, but Discord refuses the verdicts (503)
    await closer.sweep()
    assert sorted(closer.posted(VERDICT)) == threads
    assert await rows(db, select(AdvicePost.verdict_posted_at)) == [None] * 3
    # Within the last few minutes the closer may still be announcing: nobody else does.
    await sweep_all(others)
    assert [t for p in others for t in p.posted(VERDICT)] == []
    clock.advance(minutes=10)
    await sweep_all(others)
    assert sorted(t for p in others for t in p.posted(VERDICT)) == threads
