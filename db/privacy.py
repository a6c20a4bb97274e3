"""Deleting what Stackup holds, in the caller's transaction: the departures of guilds Stackup
left, every row of a guild once its departure is due, and a member's data when they ask to
be forgotten.

Counters stay equal to their rows: votes go with DELETE ... RETURNING and their targets'
counters (and the pros and cons' tallies) move by exactly what went, through the vote
writer's own statements, so a vote batch running meanwhile never makes a counter drift.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, and_, delete, literal, or_, tuple_, update
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.advice import OPEN
from bot.core.privacy import FORMER_MEMBER_ID, Departure, Forgotten, Posted, Reaction
from bot.core.voting import BatchResult
from db.models import (
    AdvicePost,
    AdvicePostTool,
    CompareDay,
    Comparison,
    ComparisonTool,
    Decision,
    Follow,
    ForgottenReaction,
    GuildDeparture,
    GuildSettings,
    JobRun,
    MemberPreference,
    ProCon,
    Recommendation,
    StackEntry,
    ToolTally,
    Vote,
    VoteMessage,
    VoteOption,
    VoteTarget,
)
from db.reaction_votes import move_counters, move_pro_con_tallies
from db.shards import not_departed, on_shards
from db.tallies import TallyField, dialect_insert, move_tally

CHUNK = 400

# -- departures --------------------------------------------------------------------------------


async def record_departure(session: AsyncSession, guild_id: int, now: datetime) -> Departure:
    """Stackup left the guild now; a departure already recorded keeps its time."""
    await session.exec(
        dialect_insert(session)(GuildDeparture)
        .values(guild_id=guild_id, left_at=now)
        .on_conflict_do_nothing(index_elements=["guild_id"])
    )
    found = await departures(session, shard_ids=None, shard_count=1, guild_id=guild_id)
    return found[0]


async def cancel_departure(session: AsyncSession, guild_id: int) -> bool:
    """Stackup is back in the guild: nothing of it is deleted. Whether it had left."""
    gone = await session.exec(
        delete(GuildDeparture)
        .where(GuildDeparture.guild_id == guild_id)
        .returning(GuildDeparture.guild_id)
    )
    return gone.first() is not None


async def departures(
    session: AsyncSession,
    *,
    shard_ids: Sequence[int] | None,
    shard_count: int,
    guild_id: int | None = None,
) -> list[Departure]:
    """The departures of guilds on these shards (of one guild, if named), oldest first."""
    statement = select(GuildDeparture.guild_id, GuildDeparture.left_at).where(
        on_shards(GuildDeparture.guild_id, shard_ids, shard_count)
    )
    if guild_id is not None:
        statement = statement.where(GuildDeparture.guild_id == guild_id)
    rows = await session.exec(statement.order_by(GuildDeparture.left_at, GuildDeparture.guild_id))
    return [Departure(guild_id, left_at) for guild_id, left_at in rows.all()]


async def undeparted_guilds(
    session: AsyncSession, *, shard_ids: Sequence[int] | None, shard_count: int
) -> list[int]:
    """Guilds on these shards with rows of their own and no departure, in id order: the
    guilds Stackup should be in. Every table `delete_guild_data` deletes by guild counts, so
    a guild whose members only stacked tools, or only compared them, is found too."""
    models = [Vote, VoteMessage, Decision]
    models += [model for _, model in _GUILD_TABLES if model is not GuildDeparture]
    first, *rest = [
        select(model.guild_id).where(
            model.guild_id.is_not(None), on_shards(model.guild_id, shard_ids, shard_count)
        )
        for model in models
    ]
    held = first.union(*rest).subquery()
    rows = await session.exec(
        select(held.c.guild_id).where(not_departed(held.c.guild_id)).order_by(held.c.guild_id)
    )
    return list(rows.all())


# -- votes, with the counters that count them ------------------------------------------------


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


async def drop_votes(session: AsyncSession, *where: Any, tallies_dropped: int | None = None) -> int:
    """Delete the votes matching `where`; their targets' counters and the tallies of the pros
    and cons they were on move back by what went (but the tallies of `tallies_dropped`, a
    guild whose tallies go whole). How many votes went."""
    removed = await session.exec(
        delete(Vote)
        .where(*where)
        .returning(Vote.target_kind, Vote.target_id, Vote.value, Vote.guild_id)
    )
    rows = removed.all()
    steps: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    pro_votes: Counter[tuple[int, int]] = Counter()
    for kind, target_id, value, guild_id in rows:
        steps[kind][target_id][0 if value == 1 else 1] -= 1
        if kind == VoteTarget.PRO_CON.value and guild_id not in (None, tallies_dropped):
            pro_votes[(target_id, guild_id)] -= 1
    for kind, by_target in sorted(steps.items()):
        await move_counters(session, VoteTarget(kind), by_target)
    await move_pro_con_tallies(session, pro_votes)
    return len(rows)


async def _drop_vote_messages(session: AsyncSession, *where: Any) -> tuple[int, int]:
    """Vote messages matching `where`, with their options: (messages, options) deleted."""
    messages = select(VoteMessage.message_id).where(*where)
    options = await session.exec(
        delete(VoteOption).where(VoteOption.message_id.in_(messages))  # type: ignore[attr-defined]
    )
    gone = await session.exec(delete(VoteMessage).where(*where))
    return gone.rowcount, options.rowcount  # type: ignore[attr-defined]


async def _delete(session: AsyncSession, model: Any, *where: Any) -> int:
    gone = await session.exec(delete(model).where(*where))
    return gone.rowcount  # type: ignore[attr-defined]


# -- a guild, once its departure is due --------------------------------------------------------


async def delete_guild_data(
    session: AsyncSession, guild_id: int, *, post_jobs: Sequence[str], kept_job: str
) -> dict[str, int]:
    """Every row of the guild, in rows deleted per table. Job runs scoped to the guild, or to
    one of its posts (`post_jobs`), go too, but those of `kept_job`: the record that this
    deletion ran. Catalog pros and cons the guild's members voted on keep their counters
    equal to the votes left."""
    posts = select(AdvicePost.id).where(AdvicePost.guild_id == guild_id)
    recommendations = select(Recommendation.id).where(Recommendation.post_id.in_(posts))  # type: ignore[attr-defined]
    deleted: dict[str, int] = {}
    deleted["votes"] = await drop_votes(
        session,
        or_(
            Vote.guild_id == guild_id,
            _votes_on(VoteTarget.RECOMMENDATION, recommendations),
            _votes_on(
                VoteTarget.DECISION, select(Decision.id).where(Decision.guild_id == guild_id)
            ),
            _votes_on(VoteTarget.PRO_CON, select(ProCon.id).where(ProCon.guild_id == guild_id)),
        ),
        tallies_dropped=guild_id,
    )
    deleted["vote_messages"], deleted["vote_options"] = await _drop_vote_messages(
        session, VoteMessage.guild_id == guild_id
    )
    deleted["job_runs"] = await _delete(
        session,
        JobRun,
        JobRun.job != kept_job,
        or_(
            and_(JobRun.job.in_(post_jobs), JobRun.scope.in_(posts)),  # type: ignore[attr-defined]
            and_(JobRun.job.not_in(post_jobs), JobRun.scope == guild_id),  # type: ignore[attr-defined]
        ),
    )
    deleted["decisions"] = await _delete(session, Decision, Decision.guild_id == guild_id)
    deleted["recommendations"] = await _delete(
        session,
        Recommendation,
        Recommendation.post_id.in_(posts),  # type: ignore[attr-defined]
    )
    for name, model in _GUILD_TABLES:
        deleted[name] = await _delete(session, model, model.guild_id == guild_id)
    return deleted


def _votes_on(kind: VoteTarget, target_ids: Any) -> Any:
    return and_(Vote.target_kind == kind.value, Vote.target_id.in_(target_ids))  # type: ignore[attr-defined]


# The rest of a guild's rows, children before their parents.
_GUILD_TABLES: tuple[tuple[str, Any], ...] = (
    ("advice_post_tools", AdvicePostTool),
    ("advice_posts", AdvicePost),
    ("pros_cons", ProCon),
    ("stack_entries", StackEntry),
    ("follows", Follow),
    ("member_preferences", MemberPreference),
    ("tool_tallies", ToolTally),
    ("comparison_tools", ComparisonTool),
    ("comparisons", Comparison),
    ("compare_days", CompareDay),
    ("guild_settings", GuildSettings),
    ("guild_departures", GuildDeparture),
)


# -- a member who asked to be forgotten --------------------------------------------------------


class _Scope:
    """A member's rows in one guild, or in every guild (`guild_id` None)."""

    def __init__(self, member_id: int, guild_id: int | None) -> None:
        self.member_id = member_id
        self.guild_id = guild_id

    def of(self, model: Any, member_column: Any = None) -> list[Any]:
        """Conditions on `model`'s rows: the member's (in `member_column`), in the guild."""
        column = model.member_id if member_column is None else member_column
        where = [column == self.member_id]
        if self.guild_id is not None:
            where.append(model.guild_id == self.guild_id)
        return where

    def recommendations(self) -> Any:
        where = [Recommendation.member_id == self.member_id]
        if self.guild_id is not None:
            in_guild = select(AdvicePost.id).where(AdvicePost.guild_id == self.guild_id)
            where.append(Recommendation.post_id.in_(in_guild))  # type: ignore[attr-defined]
        return where


async def forget_member(
    session: AsyncSession, member_id: int, *, guild_id: int | None
) -> Forgotten:
    """Delete a member's votes, stack, follows, preferences, decisions, recommendations and
    the pros and cons they added (with other members' votes on those), in one guild or every
    one; their advice posts stay, asked by a former member."""
    scope = _Scope(member_id, guild_id)
    await _forget_reactions(session, scope)
    reactions = await _reactions_of(session, scope)
    votes_moved = await _votes_moved(session, scope)
    recommended_in = await session.exec(
        select(Recommendation.post_id).where(*scope.recommendations()).distinct()
    )
    posts_changed = set(recommended_in.all())
    votes = await drop_votes(session, *scope.of(Vote))
    on_theirs, messages = await _drop_votes_on_their_items(session, scope)
    kept = await _former_member_posts(session, scope)
    posts_changed.update(post_id for post_id, status in kept if status == OPEN)
    await _drop_reasons_they_wrote(session, scope)
    recommendations = await _delete(session, Recommendation, *scope.recommendations())
    decisions = await _delete(session, Decision, *scope.of(Decision))
    pros_cons = await _delete(session, ProCon, *scope.of(ProCon, ProCon.author_id))
    return Forgotten(
        votes=votes,
        stack_entries=await _drop_with_tallies(session, StackEntry, "stacks", scope),
        follows=await _drop_with_tallies(session, Follow, "followers", scope),
        preferences=await _delete(session, MemberPreference, *scope.of(MemberPreference)),
        decisions=decisions,
        recommendations=recommendations,
        pros_cons=pros_cons,
        votes_on_their_items=on_theirs,
        vote_messages=len(messages),
        advice_posts_kept=len(kept),
        posts_changed=tuple(await _open_posts(session, posts_changed)),
        reactions=tuple(reactions),
        messages=tuple(messages),
        votes_moved=votes_moved,
    )


async def _forget_reactions(session: AsyncSession, scope: _Scope) -> None:
    """Recounts of every open vote message in scope leave the member out from now on: their
    reactions may stay in Discord (no Manage Messages to take them away, a recount that read
    them just before), and must never count again. The forget's first write: on SQLite it
    takes the one writer's lock, on PostgreSQL it holds the messages (for key share, in id
    order) against a vote batch, so a batch's recount is written either before the forget,
    its votes going with the rest, or after, leaving the member out."""
    messages = select(VoteMessage.message_id, literal(scope.member_id, BigInteger)).where(
        VoteMessage.is_open.is_(True)  # type: ignore[attr-defined]
    )
    if scope.guild_id is not None:
        messages = messages.where(VoteMessage.guild_id == scope.guild_id)
    await session.exec(
        dialect_insert(session)(ForgottenReaction)
        .from_select(["message_id", "member_id"], messages.order_by(VoteMessage.message_id))
        .on_conflict_do_nothing(index_elements=["message_id", "member_id"])
    )


async def _votes_moved(session: AsyncSession, scope: _Scope) -> BatchResult:
    """What the member's votes are counted in, read before they go, as a vote batch reports
    it: the targets, the open advice posts ranking them, and the open vote messages (in the
    guild) listing them."""
    moved = BatchResult()
    found = await session.exec(
        select(Vote.target_kind, Vote.target_id).where(*scope.of(Vote)).distinct()
    )
    for kind, target_id in found.all():
        moved.changed_targets[VoteTarget(kind)].add(target_id)
    posts: set[int] = set()
    for chunk in _chunks(moved.changed_targets.get(VoteTarget.RECOMMENDATION, ())):
        ranked_in = await session.exec(
            select(Recommendation.post_id).where(Recommendation.id.in_(chunk)).distinct()  # type: ignore[union-attr]
        )
        posts.update(ranked_in.all())
    moved.changed_posts = set(await _open_posts(session, posts))
    in_guild = [] if scope.guild_id is None else [VoteMessage.guild_id == scope.guild_id]
    for kind, targets in moved.changed_targets.items():
        for chunk in _chunks(targets):
            listing = await session.exec(
                select(VoteOption.message_id)
                .join(VoteMessage, VoteMessage.message_id == VoteOption.message_id)
                .where(
                    *in_guild,
                    VoteMessage.target_kind == kind.value,
                    VoteMessage.is_open.is_(True),  # type: ignore[attr-defined]
                    VoteOption.target_id.in_(chunk),  # type: ignore[attr-defined]
                )
                .distinct()
            )
            moved.changed_messages[kind].update(listing.all())
    return moved


async def _drop_reasons_they_wrote(session: AsyncSession, scope: _Scope) -> None:
    """A post closed accepting one of their recommendations left the asker a decision that
    copied its reason: those words were the member's and go; the choice stays the asker's."""
    theirs = select(Recommendation.post_id, Recommendation.tool_id, Recommendation.reason).where(
        *scope.recommendations()
    )
    await session.exec(
        update(Decision)
        .where(
            Decision.reason != "",
            tuple_(Decision.advice_post_id, Decision.chosen_tool_id, Decision.reason).in_(theirs),
        )
        .values(reason="")
    )


async def _drop_votes_on_their_items(
    session: AsyncSession, scope: _Scope
) -> tuple[int, list[Posted]]:
    """Other members' votes on the member's recommendations, decisions, pros and cons go,
    and those items stop taking votes: the votes deleted, and the vote messages."""
    recommendations = select(Recommendation.id).where(*scope.recommendations())
    decisions = select(Decision.id).where(*scope.of(Decision))
    pros_cons = select(ProCon.id).where(*scope.of(ProCon, ProCon.author_id))
    votes = await drop_votes(
        session,
        or_(
            _votes_on(VoteTarget.RECOMMENDATION, recommendations),
            _votes_on(VoteTarget.DECISION, decisions),
            _votes_on(VoteTarget.PRO_CON, pros_cons),
        ),
    )
    recommendation_messages = select(Recommendation.message_id).where(*scope.recommendations())
    decision_messages = select(Decision.message_id).where(*scope.of(Decision))
    theirs = or_(
        VoteMessage.message_id.in_(recommendation_messages),  # type: ignore[attr-defined]
        VoteMessage.message_id.in_(decision_messages),  # type: ignore[attr-defined]
    )
    found = await session.exec(
        select(VoteMessage.channel_id, VoteMessage.message_id)
        .where(theirs)
        .order_by(VoteMessage.message_id)
    )
    messages = [Posted(channel_id, message_id) for channel_id, message_id in found.all()]
    await _drop_vote_messages(session, theirs)
    # A pro or con of theirs leaves the lists that show it; the lists stay.
    await _delete(
        session,
        VoteOption,
        VoteOption.target_id.in_(pros_cons),  # type: ignore[attr-defined]
        _on_pro_con_lists(),
    )
    return votes, messages


def _on_pro_con_lists() -> Any:
    lists = select(VoteMessage.message_id).where(
        VoteMessage.target_kind == VoteTarget.PRO_CON.value
    )
    return VoteOption.message_id.in_(lists)  # type: ignore[attr-defined]


async def _former_member_posts(session: AsyncSession, scope: _Scope) -> list[tuple[int, str]]:
    """The member's advice posts stay, asked by a former member: (post, status) of each."""
    kept = await session.exec(
        update(AdvicePost)
        .where(*scope.of(AdvicePost, AdvicePost.asker_id))
        .values(asker_id=FORMER_MEMBER_ID)
        .returning(AdvicePost.id, AdvicePost.status)
    )
    return [(post_id, status) for post_id, status in kept.all()]


async def _open_posts(session: AsyncSession, post_ids: Iterable[int]) -> list[int]:
    found: list[int] = []
    for chunk in _chunks(post_ids):
        rows = await session.exec(
            select(AdvicePost.id).where(AdvicePost.id.in_(chunk), AdvicePost.status == OPEN)  # type: ignore[union-attr]
        )
        found.extend(rows.all())
    return found


async def _drop_with_tallies(
    session: AsyncSession, model: Any, field: TallyField, scope: _Scope
) -> int:
    """Stack entries or follows of the member, each moving its tool's tally back."""
    removed = await session.exec(
        delete(model).where(*scope.of(model)).returning(model.tool_id, model.guild_id)
    )
    by_tool = Counter(removed.all())
    for (tool_id, guild_id), count in sorted(by_tool.items()):
        await move_tally(session, tool_id=tool_id, guild_id=guild_id, field=field, step=-count)
    return by_tool.total()


async def _reactions_of(session: AsyncSession, scope: _Scope) -> list[Reaction]:
    """The member's reactions that cast their votes on open vote messages: the message that
    owns the vote, or every open one listing its target when no message owns it."""
    rows = await session.exec(
        select(VoteMessage.channel_id, VoteMessage.message_id, VoteOption.emoji)
        .join(VoteOption, VoteOption.message_id == VoteMessage.message_id)
        .join(
            Vote,
            and_(
                Vote.target_kind == VoteMessage.target_kind,
                Vote.target_id == VoteOption.target_id,
                Vote.value == VoteOption.value,
                or_(Vote.message_id.is_(None), Vote.message_id == VoteMessage.message_id),  # type: ignore[union-attr]
            ),
        )
        .where(*scope.of(Vote), VoteMessage.is_open.is_(True))  # type: ignore[attr-defined]
        .order_by(VoteMessage.message_id, VoteOption.emoji)
        .distinct()
    )
    return [Reaction(channel_id, message_id, emoji) for channel_id, message_id, emoji in rows.all()]
