"""Embeds and texts for pros and cons: the voting message, the near-duplicate question and the
answers to adding, voting, merging and removing. Pure: plain data in, embeds and strings out.

Ten reasons of at most 100 characters, with their counts, stay far below Discord's limits
(4096 characters of description, 6000 over a message's embeds)."""

from __future__ import annotations

import discord

from bot.core.comparison import Reason, format_count
from bot.core.pros_cons import KIND_WORDS, Added, Merged, VoteCast, VotingPage
from bot.render.about import BRAND_COLOUR
from bot.render.compare import TITLE, clip, imported_sources, reason_line

HOW_TO_VOTE = "React with an item's number to vote for it; remove your reaction to withdraw."


def quoted(reason: Reason) -> str:
    """“Flexibility and easy to use” (9): the text and the count everyone sees."""
    return f"“{reason.text}” ({format_count(reason.total)})"


def voting_embed(page: VotingPage) -> discord.Embed:
    plural = KIND_WORDS[page.kind][1]
    title = f"{page.tool.name}: {plural}"
    if page.pages > 1:
        title += f" (page {page.page} of {page.pages})"
    lines = [f"{emoji} {reason_line(reason, 100)}" for emoji, reason in page.items]
    embed = discord.Embed(
        title=clip(title, TITLE),
        description="\n".join(lines) or "Every item here was merged or removed.",
        colour=BRAND_COLOUR,
    )
    footer = HOW_TO_VOTE
    sources = imported_sources(reason for _, reason in page.items)
    if sources:
        footer += f"\nCounts: members' votes + {sources}"
    embed.set_footer(text=clip(footer, 2048))
    return embed


def similar_question(added: Added) -> str:
    assert added.similar is not None
    singular = KIND_WORDS[added.kind][0]
    return (
        f"Similar: {quoted(added.similar.reason)} is already a {singular} of "
        f"{added.tool.name}. Vote for that one, or add yours anyway?"
    )


def added_text(added: Added) -> str:
    assert added.reason is not None
    singular, plural = KIND_WORDS[added.kind]
    return (
        f"Added the {singular} “{added.reason.text}” to {added.tool.name} in this server. "
        f"Members vote for it on `/{plural} vote`."
    )


def vote_text(cast: VoteCast) -> str:
    if not cast.changed:
        return f"You already vote for {quoted(cast.reason)}."
    return f"Voted for {quoted(cast.reason)}."


def merged_text(merged: Merged) -> str:
    voters = f"{merged.moved} vote{'s' if merged.moved != 1 else ''} moved"
    if merged.dropped:
        voters += f", {merged.dropped} of members who had voted for both counted once"
    return f"Merged “{clip(merged.gone, 100)}” into {quoted(merged.kept)}: {voters}."


def removed_text(text: str, votes: int) -> str:
    return f"Removed “{clip(text, 100)}” and its {votes} vote{'s' if votes != 1 else ''}."
