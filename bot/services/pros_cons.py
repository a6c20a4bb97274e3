"""Pros and cons use-cases: list what a guild sees, add with a near-duplicate check, vote by
button, lay a list out on voting messages, merge and remove. No Discord here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from bot.core.comparison import Reason, ranked
from bot.core.pros_cons import (
    KIND_WORDS,
    Added,
    Merged,
    ReasonList,
    VoteCast,
    VotingPage,
    check_text,
    most_similar,
    page_count,
    page_of,
    same_text,
)
from bot.core.voting import NUMBERED
from bot.errors import InvalidInput, NotAllowed
from db import pros_cons as queries
from db.engine import SessionFactory
from db.models import ProCon, VoteMessage, VoteTarget
from db.reaction_votes import close_vote_messages, register_vote_message, vote_options
from db.tool_queries import reason_of, tool_refs
from db.types import utcnow
from db.votes import UnknownVoteTarget, cast_vote

GONE = "That pro or con is gone: it was merged or removed."


class ProsConsService:
    def __init__(
        self, session_factory: SessionFactory, *, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._sessions = session_factory
        self._clock = clock

    async def listing(self, tool_id: int, kind: str, *, guild_id: int | None) -> ReasonList:
        async with self._sessions() as session:
            return await self._listing(session, tool_id, kind, guild_id)

    async def _listing(
        self, session: AsyncSession, tool_id: int, kind: str, guild_id: int | None
    ) -> ReasonList:
        tool = (await tool_refs(session, [tool_id])).get(tool_id)
        if tool is None:
            raise InvalidInput("That tool is no longer in the catalog.")
        reasons = ranked(await queries.reasons_seen(session, tool_id, kind, guild_id))
        return ReasonList(tool, kind, tuple(reasons))

    async def add(
        self,
        tool_id: int,
        kind: str,
        text: str,
        *,
        guild_id: int,
        author_id: int,
        anyway: bool = False,
    ) -> Added:
        """Add a member's pro or con to the guild. Unless `anyway`, a close existing one is
        returned as `similar` instead, and nothing is added."""
        text = check_text(text, kind)
        async with self._sessions() as session, session.begin():
            found = await self._listing(session, tool_id, kind, guild_id)
            singular = KIND_WORDS[kind][0]
            same = same_text(text, found.reasons)
            if same is not None and anyway:
                raise InvalidInput(
                    f"{found.tool.name} already has that {singular}: “{same.text}”. "
                    "Vote for it instead."
                )
            similar = None if anyway else most_similar(text, found.reasons)
            if similar is not None:
                return Added(found.tool, kind, None, similar)
            new_id = await queries.add_reason(
                session,
                tool_id=tool_id,
                kind=kind,
                text=text,
                author_id=author_id,
                guild_id=guild_id,
            )
            if new_id is None:
                raise InvalidInput(f"{found.tool.name} already has that {singular}.")
        return Added(found.tool, kind, Reason(id=new_id, text=text))

    async def vote_for(self, reason_id: int, *, guild_id: int, member_id: int) -> VoteCast:
        """A vote cast with a button (not a reaction): it belongs to no voting message."""
        try:
            async with self._sessions() as session, session.begin():
                reason = await self._visible(session, reason_id, guild_id)
                change = await cast_vote(
                    session,
                    kind=VoteTarget.PRO_CON,
                    target_id=reason_id,
                    member_id=member_id,
                    guild_id=guild_id,
                    value=1,
                )
                await session.refresh(reason)
                shown_on = (
                    await queries.open_messages_listing(session, [reason_id], guild_id)
                    if change.changed
                    else []
                )
                return VoteCast(reason_of(reason), change.changed, tuple(shown_on))
        except UnknownVoteTarget:
            # Merged or removed between the read and the vote; the vote rolled back with it.
            raise InvalidInput(GONE) from None

    async def _visible(self, session: AsyncSession, reason_id: int, guild_id: int) -> ProCon:
        reason = await session.get(ProCon, reason_id)
        if reason is None or reason.guild_id not in (None, guild_id):
            raise InvalidInput(GONE)
        return reason

    # -- voting messages -----------------------------------------------------------------

    async def voting_page(self, tool_id: int, kind: str, page: int, *, guild_id: int) -> VotingPage:
        found = await self.listing(tool_id, kind, guild_id=guild_id)
        if not found.reasons:
            plural = KIND_WORDS[kind][1]
            raise InvalidInput(
                f"{found.tool.name} has no {plural} yet: add one with `/{plural} add`."
            )
        page, shown = page_of(found.reasons, page)
        return VotingPage(
            found.tool,
            kind,
            page,
            page_count(len(found.reasons)),
            tuple(zip(NUMBERED, shown, strict=False)),
        )

    async def attach_voting_message(
        self, page: VotingPage, *, guild_id: int, channel_id: int, message_id: int
    ) -> list[int]:
        """The voting message is out: its numbered reactions now count as votes. An earlier
        voting message of the same list (channel, tool, kind, page) closes: one open message
        per list keeps the recounts at start bounded. Returns the closed ones' ids."""
        async with self._sessions() as session, session.begin():
            # Items removed since the page was read are left out; a removal after this waits
            # for it (on PostgreSQL) and then takes this message's options too.
            existing = await queries.hold_reasons(session, [o.target_id for o in page.options])
            earlier = await queries.open_list_messages(
                session,
                channel_id=channel_id,
                tool_id=page.tool.id,
                kind=page.kind,
                page=page.page,
            )
            await register_vote_message(
                session,
                message_id=message_id,
                channel_id=channel_id,
                guild_id=guild_id,
                kind=VoteTarget.PRO_CON,
                options=[o for o in page.options if o.target_id in existing],
                page=page.page,
            )
            await self._close(session, earlier)
        return earlier

    async def voting_messages_listing(self, reason_ids: Sequence[int], guild_id: int) -> list[int]:
        """A guild's open voting messages listing any of these items."""
        async with self._sessions() as session:
            return await queries.open_messages_listing(session, list(reason_ids), guild_id)

    async def close_voting(self, message_ids: Sequence[int]) -> None:
        """Voting messages deleted: their reactions stop counting; votes cast stay."""
        async with self._sessions() as session, session.begin():
            await self._close(session, list(message_ids))

    async def _close(self, session: AsyncSession, message_ids: list[int]) -> None:
        await close_vote_messages(session, message_ids)
        await queries.release_votes_of(session, message_ids)

    async def voting_page_of(self, message_id: int) -> tuple[int, int, VotingPage] | None:
        """A voting message as it should show now: its items, with the counts of this moment
        (items merged or removed since leave their number, so the others keep theirs)."""
        async with self._sessions() as session:
            message = await session.get(VoteMessage, message_id)
            if (
                message is None
                or not message.is_open
                or message.target_kind != VoteTarget.PRO_CON.value
            ):
                return None
            options = await vote_options(session, message_id)
            if not options:
                return None
            reasons = await queries.reason_rows(session, {target for _, target in options})
            if not reasons:
                return None
            first = next(iter(reasons.values()))
            tool = (await tool_refs(session, [first.tool_id])).get(first.tool_id)
            total = len(
                (await self._listing(session, first.tool_id, first.kind, message.guild_id)).reasons
            )
        by_emoji = dict(options)
        items = tuple(
            (emoji, reason_of(reasons[by_emoji[emoji]]))
            for emoji in NUMBERED
            if emoji in by_emoji and by_emoji[emoji] in reasons
        )
        assert tool is not None
        return (
            message.channel_id,
            message.guild_id,
            VotingPage(
                tool,
                first.kind,
                message.page or 1,
                page_count(total),
                items,
            ),
        )

    # -- moderation ----------------------------------------------------------------------

    async def merge(
        self, duplicate_id: int, into_id: int, *, tool_id: int, guild_id: int, kind: str
    ) -> tuple[Merged, list[int]]:
        """Join a duplicate into another item; with the ids of this guild's open voting
        messages whose counts changed."""
        if duplicate_id == into_id:
            raise InvalidInput("Choose two different items: the duplicate, and the one to keep.")
        async with self._sessions() as session, session.begin():
            locked = await queries.lock_reasons(session, [duplicate_id, into_id])
            duplicate = self._own(locked.get(duplicate_id), tool_id, guild_id, kind)
            into = self._visible_among(locked.get(into_id), tool_id, guild_id, kind)
            touched = await queries.open_messages_listing(
                session, [duplicate_id, into_id], guild_id
            )
            gone = duplicate.text
            result = await queries.merge_reasons(session, duplicate=duplicate, into=into)
            await session.refresh(into)
            return Merged(reason_of(into), gone, result.moved, result.dropped), touched

    async def remove(
        self, reason_id: int, *, tool_id: int, guild_id: int, kind: str
    ) -> tuple[str, int, list[int]]:
        """The removed text, how many votes went with it, and the open voting messages of this
        guild that listed it."""
        async with self._sessions() as session, session.begin():
            locked = await queries.lock_reasons(session, [reason_id])
            reason = self._own(locked.get(reason_id), tool_id, guild_id, kind)
            touched = await queries.open_messages_listing(session, [reason_id], guild_id)
            votes = await queries.remove_reason(session, reason)
            return reason.text, votes, touched

    def _visible_among(
        self, reason: ProCon | None, tool_id: int, guild_id: int, kind: str
    ) -> ProCon:
        if reason is None or reason.guild_id not in (None, guild_id):
            raise InvalidInput(GONE)
        if reason.tool_id != tool_id or reason.kind != kind:
            raise InvalidInput(
                f"That is not one of this tool's {KIND_WORDS[kind][1]}: choose from the list."
            )
        return reason

    def _own(self, reason: ProCon | None, tool_id: int, guild_id: int, kind: str) -> ProCon:
        reason = self._visible_among(reason, tool_id, guild_id, kind)
        if reason.guild_id is None:
            raise NotAllowed(
                f"“{reason.text}” comes from the catalog, shared by every server; a server's "
                "moderators change only what their members added. Catalog curation changes "
                "the catalog."
            )
        return reason

    async def search(
        self, tool_id: int, kind: str, *, guild_id: int, query: str
    ) -> list[tuple[int, str]]:
        """(id, label) of the tool's reasons matching `query`, for autocomplete."""
        found = await self.listing(tool_id, kind, guild_id=guild_id)
        wanted = query.casefold().strip()
        matches = (
            [r for r in found.reasons if wanted in r.text.casefold()]
            if wanted
            else list(found.reasons)
        )
        return [(r.id, f"{r.text} ({r.total})") for r in matches]
