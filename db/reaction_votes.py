"""Reaction votes applied in batches: a constant number of statements per batch, however many
events it holds, inside the caller's transaction.

The writes are the race-safe ones of `db/votes.py`, set-wise: new votes are an INSERT that
ignores a conflict on (target, member), withdrawals a DELETE ... RETURNING, switches an UPDATE
guarded by the old value. Counters move by what those statements report they changed, so a
counter always equals its vote rows, and two events for one member never make two rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, or_, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.voting import (
    BatchResult,
    Option,
    ReactionEvent,
    Recount,
    StaleReaction,
    Step,
    VoteMessageInfo,
    VoteTarget,
    Withdrawn,
    recount_steps,
    run_steps,
    step_for,
)
from db.models import (
    AdvicePost,
    Decision,
    ForgottenReaction,
    ProCon,
    Recommendation,
    Vote,
    VoteMessage,
    VoteOption,
)
from db.shards import not_departed, on_shards
from db.tallies import dialect_insert, move_tally

# Statements take at most this many rows, well under SQLite's and asyncpg's parameter limits.
CHUNK = 400
COUNTED = {
    VoteTarget.PRO_CON: ProCon,
    VoteTarget.RECOMMENDATION: Recommendation,
    VoteTarget.DECISION: Decision,
}


async def register_vote_message(
    session: AsyncSession,
    *,
    message_id: int,
    channel_id: int,
    guild_id: int,
    kind: VoteTarget,
    options: Sequence[Option],
    excluded_member_id: int | None = None,
    page: int | None = None,
) -> None:
    session.add(
        VoteMessage(
            message_id=message_id,
            channel_id=channel_id,
            guild_id=guild_id,
            target_kind=kind.value,
            excluded_member_id=excluded_member_id,
            page=page,
        )
    )
    await session.flush()
    session.add_all(
        VoteOption(message_id=message_id, emoji=o.emoji, target_id=o.target_id, value=o.value)
        for o in options
    )
    await session.flush()


async def close_vote_messages(session: AsyncSession, message_ids: Iterable[int]) -> None:
    ids = list(message_ids)
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(chunk))  # type: ignore[attr-defined]
            .values(is_open=False)
        )
        # A closed message is never recounted: the forgotten members it names need not be
        # kept any longer.
        await session.exec(
            delete(ForgottenReaction).where(ForgottenReaction.message_id.in_(chunk))  # type: ignore[attr-defined]
        )


async def forgotten_members(
    session: AsyncSession, message_ids: Iterable[int]
) -> dict[int, frozenset[int]]:
    """The members forgotten while each message was open: recounts leave their votes alone."""
    ids = sorted(set(message_ids))
    found: dict[int, set[int]] = defaultdict(set)
    for start in range(0, len(ids), CHUNK):
        rows = await session.exec(
            select(ForgottenReaction.message_id, ForgottenReaction.member_id).where(
                ForgottenReaction.message_id.in_(ids[start : start + CHUNK])  # type: ignore[attr-defined]
            )
        )
        for message_id, member_id in rows.all():
            found[message_id].add(member_id)
    return {message_id: frozenset(members) for message_id, members in found.items()}


async def load_vote_messages(
    session: AsyncSession, message_ids: Iterable[int], *, lock: bool = False
) -> dict[int, VoteMessageInfo]:
    """`lock`: on PostgreSQL, hold the messages (FOR UPDATE, in id order, so two batches
    cannot deadlock) until the transaction ends: a post closing meanwhile waits for these
    votes, or these votes wait and see it closed. SQLite has one writer at a time anyway."""
    ids = sorted(set(message_ids))
    if lock and session.bind.dialect.name == "postgresql":
        # Locked first, read after: a SELECT ... FOR UPDATE that waited re-checks only the
        # locked rows, and would return options as they were before the writer it waited for
        # (a merge re-pointing them) committed.
        for start in range(0, len(ids), CHUNK):
            await session.exec(
                select(VoteMessage.message_id)
                .where(VoteMessage.message_id.in_(ids[start : start + CHUNK]))  # type: ignore[attr-defined]
                .order_by(VoteMessage.message_id)
                .with_for_update()
            )
    rows = []
    for start in range(0, len(ids), CHUNK):
        statement = (
            select(
                VoteMessage.message_id,
                VoteMessage.channel_id,
                VoteMessage.guild_id,
                VoteMessage.target_kind,
                VoteMessage.excluded_member_id,
                VoteMessage.is_open,
                VoteOption.emoji,
                VoteOption.target_id,
                VoteOption.value,
            )
            .join(VoteOption, VoteOption.message_id == VoteMessage.message_id)
            .where(VoteMessage.message_id.in_(ids[start : start + CHUNK]))  # type: ignore[attr-defined]
        )
        result = await session.exec(statement)
        rows.extend(result.all())
    grouped: dict[int, list] = defaultdict(list)
    for row in rows:
        grouped[row.message_id].append(row)
    return {
        message_id: VoteMessageInfo(
            message_id=message_id,
            channel_id=found[0].channel_id,
            guild_id=found[0].guild_id,
            kind=VoteTarget(found[0].target_kind),
            excluded_member_id=found[0].excluded_member_id,
            is_open=found[0].is_open,
            options={r.emoji: Option(r.emoji, r.target_id, r.value) for r in found},
        )
        for message_id, found in grouped.items()
    }


async def vote_options(session: AsyncSession, message_id: int) -> list[tuple[str, int]]:
    """(emoji, target id) of each of a vote message's options."""
    rows = await session.exec(
        select(VoteOption.emoji, VoteOption.target_id).where(VoteOption.message_id == message_id)
    )
    return [(emoji, target_id) for emoji, target_id in rows.all()]


async def open_vote_messages(
    session: AsyncSession, *, shard_ids: Sequence[int] | None, shard_count: int
) -> list[tuple[int, int]]:
    """(channel, message) of every open vote message in guilds on these shards."""
    statement = select(VoteMessage.channel_id, VoteMessage.message_id).where(VoteMessage.is_open)
    statement = statement.where(
        on_shards(VoteMessage.guild_id, shard_ids, shard_count), not_departed(VoteMessage.guild_id)
    )
    rows = await session.exec(statement.order_by(VoteMessage.message_id))
    return [(channel_id, message_id) for channel_id, message_id in rows.all()]


async def vote_messages_to_repair(
    session: AsyncSession,
    *,
    shard_ids: Sequence[int] | None,
    shard_count: int,
    voted_since: datetime,
    limit: int,
) -> list[tuple[int, int]]:
    """(channel, message) of open vote messages in guilds on these shards voted on since
    `voted_since` and since their last recount, the latest voted first."""
    rows = await session.exec(
        select(VoteMessage.channel_id, VoteMessage.message_id)
        .where(
            VoteMessage.is_open,
            VoteMessage.last_vote_at >= voted_since,  # type: ignore[operator]
            or_(
                VoteMessage.reconciled_at.is_(None),  # type: ignore[union-attr]
                VoteMessage.last_vote_at > VoteMessage.reconciled_at,  # type: ignore[operator]
            ),
            on_shards(VoteMessage.guild_id, shard_ids, shard_count),
            not_departed(VoteMessage.guild_id),
        )
        .order_by(VoteMessage.last_vote_at.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    return [(channel_id, message_id) for channel_id, message_id in rows.all()]


def _pairs(session: AsyncSession, pairs: Sequence[tuple[int, int]]) -> Any:
    """(target_id, member_id) among `pairs`. On PostgreSQL as two array parameters unnested
    together: a literal list of pairs costs it more to plan (40 ms for 400) than to run, and
    every batch size would be planned anew."""
    if session.bind.dialect.name != "postgresql":
        return tuple_(Vote.target_id, Vote.member_id).in_(pairs)
    targets = bindparam("pair_targets", [t for t, _ in pairs], type_=ARRAY(BigInteger))
    members = bindparam("pair_members", [m for _, m in pairs], type_=ARRAY(BigInteger))
    return tuple_(Vote.target_id, Vote.member_id).in_(
        select(func.unnest(targets), func.unnest(members))
    )


async def current_votes(
    session: AsyncSession,
    kind: VoteTarget,
    pairs: set[tuple[int, int]],
    whole_messages: set[int] = frozenset(),  # type: ignore[assignment]
) -> dict[tuple[int, int], tuple[int, int | None]]:
    """Votes held now, as (value, owning message): for the (target, member) pairs, and every
    vote the `whole_messages` own."""
    held: dict[tuple[int, int], tuple[int, int | None]] = {}
    columns = (Vote.target_id, Vote.member_id, Vote.value, Vote.message_id)
    wanted = sorted(pairs)
    for start in range(0, len(wanted), CHUNK):
        result = await session.exec(
            select(*columns).where(
                Vote.target_kind == kind.value,
                _pairs(session, wanted[start : start + CHUNK]),
            )
        )
        held.update({(t, m): (v, o) for t, m, v, o in result.all()})
    owners = sorted(whole_messages)
    for start in range(0, len(owners), CHUNK):
        result = await session.exec(
            select(*columns).where(
                Vote.target_kind == kind.value,
                Vote.message_id.in_(owners[start : start + CHUNK]),  # type: ignore[union-attr]
            )
        )
        held.update({(t, m): (v, o) for t, m, v, o in result.all()})
    return held


def _steps_by_key(
    items: Sequence[ReactionEvent | Recount],
    messages: Mapping[int, VoteMessageInfo],
    result: BatchResult,
) -> dict[VoteTarget, dict[tuple, list[tuple[int, object, VoteMessageInfo]]]]:
    """Each item as (arrival number, step, message) under its (target, member) key; a recount
    stays whole under ("recount", message id) until the votes it compares with are read."""
    steps: dict[VoteTarget, dict[tuple, list]] = defaultdict(lambda: defaultdict(list))
    for seq, item in enumerate(items):
        message = messages.get(item.message_id)
        if message is None or not message.is_open:
            result.ignored += 1
            continue
        if isinstance(item, Recount):
            steps[message.kind][("recount", item.message_id)].append((seq, item, message))
            result.applied += 1
            continue
        option = message.options.get(item.emoji)
        if option is None or item.member_id == message.excluded_member_id:
            result.ignored += 1
            continue
        steps[message.kind][(option.target_id, item.member_id)].append(
            (seq, step_for(item, option), message)
        )
        result.applied += 1
    return steps


async def apply_vote_batch(
    session: AsyncSession, items: Sequence[ReactionEvent | Recount], *, now: datetime
) -> BatchResult:
    """Apply reaction events and recounts, in arrival order, inside the caller's transaction."""
    result = BatchResult()
    messages = await load_vote_messages(session, (item.message_id for item in items), lock=True)
    touched = sorted({m for m, info in messages.items() if info.is_open})
    # Written first: on SQLite the first write opens the transaction and takes the one
    # writer's lock, so a forget cannot commit between the reads below and this batch's
    # writes (on PostgreSQL the messages' locks above do that).
    for start in range(0, len(touched), CHUNK):
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(touched[start : start + CHUNK]))  # type: ignore[attr-defined]
            .values(last_vote_at=now)
        )
    by_kind = _steps_by_key(items, messages, result)
    # Read once the messages are held: a member forgotten before this batch's recounts are
    # written is left out of them, however long ago their reactions were read.
    recounted = sorted({item.message_id for item in items if isinstance(item, Recount)})
    forgotten = await forgotten_members(session, recounted)
    for kind, keyed in by_kind.items():
        await _apply_kind(session, kind, keyed, forgotten, now=now, result=result)
    for message_id in touched:
        info = messages[message_id]
        changed = result.changed_targets.get(info.kind, set())
        if any(option.target_id in changed for option in info.options.values()):
            result.changed_messages[info.kind].add(message_id)
    recounted = sorted(set(recounted) & set(touched))
    for start in range(0, len(recounted), CHUNK):
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(recounted[start : start + CHUNK]))  # type: ignore[attr-defined]
            .values(reconciled_at=now)
        )
    return result


@dataclass
class _Writes:
    """What one kind's batch changes of the vote rows, by (target, member)."""

    deletes: list[tuple[int, int]] = field(default_factory=list)
    inserts: list[dict] = field(default_factory=list)
    # By the value the vote switches to.
    switches: dict[int, list[tuple[int, int]]] = field(default_factory=lambda: {1: [], -1: []})


@dataclass
class _Moves:
    """What the writes report they changed, so that counters move by exactly that."""

    # (target) -> [up delta, down delta]
    moved: dict[int, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    # (target, guild) -> votes tally delta, for pros/cons
    appeared: dict[tuple[int, int], int] = field(default_factory=lambda: defaultdict(int))
    touched: set[int] = field(default_factory=set)

    def count(self, target_id: int, value: int, step: int) -> None:
        self.moved[target_id][0 if value == 1 else 1] += step
        self.touched.add(target_id)


async def _apply_kind(
    session: AsyncSession,
    kind: VoteTarget,
    keyed: Mapping[tuple, list[tuple[int, object, VoteMessageInfo]]],
    forgotten: Mapping[int, frozenset[int]],
    *,
    now: datetime,
    result: BatchResult,
) -> None:
    """One kind's events and recounts: read the votes they concern, run each member's steps in
    arrival order, write the differences set-wise, then move what counts the votes."""
    recounts = [entry for key, entries in keyed.items() if key[0] == "recount" for entry in entries]
    pairs = {key for key in keyed if key[0] != "recount"}
    owners = {message.message_id for *_, message in recounts}
    held = await current_votes(session, kind, pairs, owners)
    ordered = _ordered_steps(keyed, recounts, held, forgotten)
    writes = _plan_writes(kind, ordered, held, now=now, result=result)
    moves = _Moves()
    await _delete_votes(session, kind, writes.deletes, moves)
    await _insert_votes(session, writes.inserts, moves)
    await _switch_votes(session, kind, writes.switches, moves, now=now)
    await _follow_moves(session, kind, moves, now=now, result=result)


def _ordered_steps(
    keyed: Mapping[tuple, list[tuple[int, object, VoteMessageInfo]]],
    recounts: Sequence[tuple[int, object, VoteMessageInfo]],
    held: Mapping[tuple[int, int], tuple[int, int | None]],
    forgotten: Mapping[int, frozenset[int]],
) -> dict[tuple[int, int], list[tuple[int, Step, VoteMessageInfo]]]:
    """Each (target, member)'s steps in arrival order: its events', and each recount's that
    lists the target. A recount's voters are the members holding a vote its message owns and
    those with a step already (an event of this batch, or an earlier recount). Members
    forgotten while the message was open are left out of its recounts, reactions and votes
    alike: their reactions there may predate the forget, so only their live events count."""
    ordered: dict[tuple[int, int], list[tuple[int, Step, VoteMessageInfo]]] = defaultdict(list)
    for key, entries in keyed.items():
        if key[0] != "recount":
            ordered[key].extend(entries)  # type: ignore[arg-type]
    for seq, recount, message in recounts:
        assert isinstance(recount, Recount)
        targets = {o.target_id for o in message.options.values()}
        gone = forgotten.get(recount.message_id, frozenset())
        left_out = {message.excluded_member_id, *gone}
        voters = {
            m for (t, m), (_, owner) in held.items() if t in targets and owner == recount.message_id
        } | {m for (t, m) in ordered if t in targets}
        reactors = {
            emoji: frozenset(members - left_out) for emoji, members in recount.reactors.items()
        }
        steps = recount_steps(message.options.values(), reactors, voters - gone, recount.message_id)
        for key, step in steps.items():
            ordered[key].append((seq, step, message))
    for entries in ordered.values():
        entries.sort(key=lambda entry: entry[0])
    return ordered


def _plan_writes(
    kind: VoteTarget,
    ordered: Mapping[tuple[int, int], list[tuple[int, Step, VoteMessageInfo]]],
    held: Mapping[tuple[int, int], tuple[int, int | None]],
    *,
    now: datetime,
    result: BatchResult,
) -> _Writes:
    """Each (target, member)'s outcome as a row to delete, insert or switch. Reactions left
    behind by a switch, and votes withdrawn by taking a reaction away, go to `result`."""
    writes = _Writes()
    for key, entries in ordered.items():
        value, owner = held.get(key, (None, None))
        outcome = run_steps(value, (step for _, step, _ in entries), owner)
        message = entries[-1][2]
        result.stale_reactions.extend(_stale_reactions(kind, key, message, outcome.stale_values))
        if outcome.before == outcome.after:
            continue
        if outcome.after is None:
            writes.deletes.append(key)
            if any(step.action == "clear" for _, step, _ in entries):
                result.withdrawn.append(
                    Withdrawn(kind, key[0], key[1], message.guild_id, message.message_id)
                )
        elif outcome.before is None:
            writes.inserts.append(
                {
                    "target_kind": kind.value,
                    "target_id": key[0],
                    "member_id": key[1],
                    "guild_id": message.guild_id,
                    "value": outcome.after,
                    "message_id": outcome.owner,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        else:
            # A switch keeps the vote's owner: only recommendations have -1 options, and each
            # has one message.
            writes.switches[outcome.after].append(key)
    return writes


def _stale_reactions(
    kind: VoteTarget, key: tuple[int, int], message: VoteMessageInfo, stale_values: Iterable[int]
) -> list[StaleReaction]:
    target_id, member_id = key
    return [
        StaleReaction(
            message.channel_id,
            message.message_id,
            option.emoji,
            member_id,
            kind=kind,
            target_id=target_id,
            value=stale,
        )
        for stale in stale_values
        for option in message.options.values()
        if option.target_id == target_id and option.value == stale
    ]


async def _delete_votes(
    session: AsyncSession, kind: VoteTarget, keys: Sequence[tuple[int, int]], moves: _Moves
) -> None:
    for start in range(0, len(keys), CHUNK):
        removed = await session.exec(
            delete(Vote)
            .where(
                Vote.target_kind == kind.value,
                _pairs(session, keys[start : start + CHUNK]),
            )
            .returning(Vote.target_id, Vote.value, Vote.guild_id)
        )
        for target_id, value, guild_id in removed.all():
            moves.count(target_id, value, -1)
            if guild_id is not None:
                moves.appeared[(target_id, guild_id)] -= 1


async def _insert_votes(session: AsyncSession, rows: Sequence[dict], moves: _Moves) -> None:
    if not rows:
        return
    # One statement with the rows as parameters: compiled once and cached, where a multi-row
    # VALUES is compiled anew for every batch.
    table = Vote.__table__  # type: ignore[attr-defined]
    statement = (
        dialect_insert(session)(table)
        .on_conflict_do_nothing(index_elements=["target_kind", "target_id", "member_id"])
        .returning(table.c.target_id, table.c.value, table.c.guild_id)
    )
    connection = await session.connection()
    added = await connection.execute(statement, rows)
    for target_id, value, guild_id in added.all():
        moves.count(target_id, value, +1)
        moves.appeared[(target_id, guild_id)] += 1


async def _switch_votes(
    session: AsyncSession,
    kind: VoteTarget,
    switches: Mapping[int, Sequence[tuple[int, int]]],
    moves: _Moves,
    *,
    now: datetime,
) -> None:
    for value, keys in switches.items():
        for start in range(0, len(keys), CHUNK):
            # Guarded by the old value: a vote changed meanwhile is not switched twice.
            switched = await session.exec(
                update(Vote)
                .where(
                    Vote.target_kind == kind.value,
                    Vote.value == -value,
                    _pairs(session, keys[start : start + CHUNK]),
                )
                .values(value=value, updated_at=now)
                .returning(Vote.target_id)
            )
            for (target_id,) in switched.all():
                moves.count(target_id, -value, -1)
                moves.count(target_id, value, +1)


async def _follow_moves(
    session: AsyncSession, kind: VoteTarget, moves: _Moves, *, now: datetime, result: BatchResult
) -> None:
    """Counters, pros/cons' tallies and recommendations' posts follow the rows written."""
    if not moves.touched:
        return
    if any(up or down for up, down in moves.moved.values()):
        await move_counters(session, kind, moves.moved)
    result.changed_targets[kind].update(moves.touched)
    if kind is VoteTarget.PRO_CON:
        await move_pro_con_tallies(session, moves.appeared)
    if kind is VoteTarget.RECOMMENDATION:
        posts = await session.exec(
            update(AdvicePost)
            .where(
                AdvicePost.id.in_(  # type: ignore[union-attr]
                    select(Recommendation.post_id).where(
                        Recommendation.id.in_(sorted(moves.touched))  # type: ignore[union-attr]
                    )
                )
            )
            .values(last_activity_at=now)
            .returning(AdvicePost.id)
        )
        result.changed_posts.update(posts.scalars().all())


async def move_counters(
    session: AsyncSession, kind: VoteTarget, moved: Mapping[int, list[int]]
) -> None:
    """Move each target's up and down counters by its [up, down] step, in id order: two
    writers never wait on each other in a circle. Targets with no step are left alone."""
    table = COUNTED[kind].__table__  # type: ignore[attr-defined]
    has_down = "down_count" in table.c
    values = {"up_count": table.c.up_count + bindparam("up_step")}
    if has_down:
        values["down_count"] = table.c.down_count + bindparam("down_step")
    statement = update(table).where(table.c.id == bindparam("target")).values(values)
    rows = [
        {"target": target, "up_step": up, "down_step": down}
        for target, (up, down) in sorted(moved.items())
        if up or down
    ]
    connection = await session.connection()
    await connection.execute(statement, rows)


async def move_pro_con_tallies(
    session: AsyncSession, appeared: Mapping[tuple[int, int], int]
) -> None:
    """Move the votes tally of each pro or con's tool, in each guild, by the step its votes
    took there: (pro/con, guild) -> step."""
    steps = {key: step for key, step in appeared.items() if step}
    if not steps:
        return
    targets = sorted({target for target, _ in steps})
    tool_of: dict[int, int] = {}
    for start in range(0, len(targets), CHUNK):
        owners = await session.exec(
            select(ProCon.id, ProCon.tool_id).where(
                ProCon.id.in_(targets[start : start + CHUNK])  # type: ignore[union-attr]
            )
        )
        tool_of.update(owners.all())
    by_tool: dict[tuple[int, int], int] = defaultdict(int)
    for (target, guild_id), step in steps.items():
        if target in tool_of:  # a pro or con deleted meanwhile has no tool to count for
            by_tool[(tool_of[target], guild_id)] += step
    for (tool_id, guild_id), step in sorted(by_tool.items()):
        if step:
            await move_tally(session, tool_id=tool_id, guild_id=guild_id, field="votes", step=step)
