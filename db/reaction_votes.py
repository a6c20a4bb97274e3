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

from sqlalchemy import BigInteger, bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.voting import Option, ReactionEvent, Recount, Step, recount_steps, run_steps, step_for
from db.models import (
    AdvicePost,
    Decision,
    ProCon,
    Recommendation,
    Vote,
    VoteMessage,
    VoteOption,
    VoteTarget,
)
from db.tallies import dialect_insert, move_tally

# Statements take at most this many rows, well under SQLite's and asyncpg's parameter limits.
CHUNK = 400
COUNTED = {
    VoteTarget.PRO_CON: ProCon,
    VoteTarget.RECOMMENDATION: Recommendation,
    VoteTarget.DECISION: Decision,
}


@dataclass(frozen=True)
class VoteMessageInfo:
    message_id: int
    channel_id: int
    guild_id: int
    kind: VoteTarget
    excluded_member_id: int | None
    is_open: bool
    options: Mapping[str, Option]


@dataclass(frozen=True)
class StaleReaction:
    """A reaction a member still shows for a vote they switched away from."""

    channel_id: int
    message_id: int
    emoji: str
    member_id: int
    kind: VoteTarget = VoteTarget.RECOMMENDATION
    target_id: int = 0
    value: int = 0


@dataclass(frozen=True)
class Withdrawn:
    """A vote withdrawn by taking a reaction away on `message_id`. The member may still show
    the reaction on another message listing the same target (a pro on two voting messages):
    a recount of those finds it."""

    kind: VoteTarget
    target_id: int
    member_id: int
    guild_id: int
    message_id: int


@dataclass
class BatchResult:
    applied: int = 0
    ignored: int = 0
    changed_targets: dict[VoteTarget, set[int]] = field(default_factory=lambda: defaultdict(set))
    # Advice posts whose recommendations' votes changed (their rankings need showing again).
    changed_posts: set[int] = field(default_factory=set)
    # Vote messages of this batch listing a target whose votes changed (their counts need
    # showing again), by kind.
    changed_messages: dict[VoteTarget, set[int]] = field(default_factory=lambda: defaultdict(set))
    stale_reactions: list[StaleReaction] = field(default_factory=list)
    withdrawn: list[Withdrawn] = field(default_factory=list)


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
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(ids[start : start + CHUNK]))  # type: ignore[attr-defined]
            .values(is_open=False)
        )


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
    by_kind = _steps_by_key(items, messages, result)
    for kind, keyed in by_kind.items():
        await _apply_kind(session, kind, keyed, now=now, result=result)
    touched = sorted({m for m, info in messages.items() if info.is_open})
    for message_id in touched:
        info = messages[message_id]
        changed = result.changed_targets.get(info.kind, set())
        if any(option.target_id in changed for option in info.options.values()):
            result.changed_messages[info.kind].add(message_id)
    recounted = sorted(
        {item.message_id for item in items if isinstance(item, Recount)} & set(touched)
    )
    for start in range(0, len(touched), CHUNK):
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(touched[start : start + CHUNK]))  # type: ignore[attr-defined]
            .values(last_vote_at=now)
        )
    for start in range(0, len(recounted), CHUNK):
        await session.exec(
            update(VoteMessage)
            .where(VoteMessage.message_id.in_(recounted[start : start + CHUNK]))  # type: ignore[attr-defined]
            .values(reconciled_at=now)
        )
    return result


async def _apply_kind(
    session: AsyncSession,
    kind: VoteTarget,
    keyed: Mapping[tuple, list[tuple[int, object, VoteMessageInfo]]],
    *,
    now: datetime,
    result: BatchResult,
) -> None:
    recounts = [entry for key, entries in keyed.items() if key[0] == "recount" for entry in entries]
    pairs = {key for key in keyed if key[0] != "recount"}
    owners = {message.message_id for *_, message in recounts}
    held = await current_votes(session, kind, pairs, owners)

    ordered: dict[tuple[int, int], list[tuple[int, Step, VoteMessageInfo]]] = defaultdict(list)
    for key, entries in keyed.items():
        if key[0] != "recount":
            ordered[key].extend(entries)  # type: ignore[arg-type]
    for seq, recount, message in recounts:
        assert isinstance(recount, Recount)
        targets = {o.target_id for o in message.options.values()}
        voters = {
            m for (t, m), (_, owner) in held.items() if t in targets and owner == recount.message_id
        } | {m for (t, m) in ordered if t in targets}
        reactors = {
            emoji: frozenset(members - {message.excluded_member_id})
            for emoji, members in recount.reactors.items()
        }
        steps = recount_steps(message.options.values(), reactors, voters, recount.message_id)
        for key, step in steps.items():
            ordered[key].append((seq, step, message))
    for entries in ordered.values():
        entries.sort(key=lambda entry: entry[0])

    deletes: list[tuple[int, int]] = []
    inserts: list[dict] = []
    switches: dict[int, list[tuple[int, int]]] = {1: [], -1: []}
    guild_of: dict[tuple[int, int], int] = {}
    for key, entries in ordered.items():
        value, owner = held.get(key, (None, None))
        outcome = run_steps(value, (step for _, step, _ in entries), owner)
        message = entries[-1][2]
        guild_of[key] = message.guild_id
        for stale in outcome.stale_values:
            for option in message.options.values():
                if option.target_id == key[0] and option.value == stale:
                    result.stale_reactions.append(
                        StaleReaction(
                            message.channel_id,
                            message.message_id,
                            option.emoji,
                            key[1],
                            kind=kind,
                            target_id=key[0],
                            value=stale,
                        )
                    )
        if outcome.before == outcome.after:
            continue
        if outcome.after is None:
            deletes.append(key)
            if any(step.action == "clear" for _, step, _ in entries):
                result.withdrawn.append(
                    Withdrawn(kind, key[0], key[1], message.guild_id, message.message_id)
                )
        elif outcome.before is None:
            inserts.append(
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
            switches[outcome.after].append(key)

    # (target) -> [up delta, down delta]; (tool, guild) -> votes tally delta for pros/cons.
    moved: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    appeared: dict[tuple[int, int], int] = defaultdict(int)

    touched: set[int] = set()

    def count(target_id: int, value: int, step: int) -> None:
        moved[target_id][0 if value == 1 else 1] += step
        touched.add(target_id)

    for start in range(0, len(deletes), CHUNK):
        removed = await session.exec(
            delete(Vote)
            .where(
                Vote.target_kind == kind.value,
                _pairs(session, deletes[start : start + CHUNK]),
            )
            .returning(Vote.target_id, Vote.value, Vote.guild_id)
        )
        for target_id, value, guild_id in removed.all():
            count(target_id, value, -1)
            if guild_id is not None:
                appeared[(target_id, guild_id)] -= 1
    if inserts:
        # One statement with the rows as parameters: compiled once and cached, where a
        # multi-row VALUES is compiled anew for every batch.
        table = Vote.__table__  # type: ignore[attr-defined]
        statement = (
            dialect_insert(session)(table)
            .on_conflict_do_nothing(index_elements=["target_kind", "target_id", "member_id"])
            .returning(table.c.target_id, table.c.value, table.c.guild_id)
        )
        connection = await session.connection()
        added = await connection.execute(statement, inserts)
        for target_id, value, guild_id in added.all():
            count(target_id, value, +1)
            appeared[(target_id, guild_id)] += 1
    for value, keys in switches.items():
        for start in range(0, len(keys), CHUNK):
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
                count(target_id, -value, -1)
                count(target_id, value, +1)

    if not touched:
        return
    if any(up or down for up, down in moved.values()):
        await _move_counters(session, kind, moved)
    result.changed_targets[kind].update(touched)
    if kind is VoteTarget.PRO_CON:
        await _move_pro_con_tallies(session, appeared)
    if kind is VoteTarget.RECOMMENDATION:
        posts = await session.exec(
            update(AdvicePost)
            .where(
                AdvicePost.id.in_(  # type: ignore[union-attr]
                    select(Recommendation.post_id).where(
                        Recommendation.id.in_(sorted(touched))  # type: ignore[union-attr]
                    )
                )
            )
            .values(last_activity_at=now)
            .returning(AdvicePost.id)
        )
        result.changed_posts.update(posts.scalars().all())


async def _move_counters(
    session: AsyncSession, kind: VoteTarget, moved: Mapping[int, list[int]]
) -> None:
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


async def _move_pro_con_tallies(
    session: AsyncSession, appeared: Mapping[tuple[int, int], int]
) -> None:
    steps = {key: step for key, step in appeared.items() if step}
    if not steps:
        return
    owners = await session.exec(
        select(ProCon.id, ProCon.tool_id).where(
            ProCon.id.in_(sorted({target for target, _ in steps}))  # type: ignore[union-attr]
        )
    )
    tool_of = dict(owners.all())
    by_tool: dict[tuple[int, int], int] = defaultdict(int)
    for (target, guild_id), step in steps.items():
        if target in tool_of:  # a pro or con deleted meanwhile has no tool to count for
            by_tool[(tool_of[target], guild_id)] += step
    for (tool_id, guild_id), step in sorted(by_tool.items()):
        if step:
            await move_tally(session, tool_id=tool_id, guild_id=guild_id, field="votes", step=step)
