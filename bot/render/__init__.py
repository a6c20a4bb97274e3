"""Pure renderers: plain data in, embeds and message arguments out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import discord


@dataclass(frozen=True)
class SnowflakeText:
    """A user for discord.py to send by id. It sends `.id` as it is, and Discord's spec types
    snowflakes as strings: the number a `discord.Object` holds breaks the spec, if not
    Discord, so the text of the id is sent instead."""

    id: str

    @classmethod
    def of(cls, member_id: int) -> SnowflakeText:
        return cls(str(member_id))


def only_pinging(member_ids: Iterable[int]) -> discord.AllowedMentions:
    """A message may ping these members, and nobody else."""
    return discord.AllowedMentions(
        users=[SnowflakeText.of(member_id) for member_id in member_ids],  # type: ignore[misc]
        everyone=False,
        roles=False,
        replied_user=False,
    )
