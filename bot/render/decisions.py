"""The `/decision` message: who chose what over what, why, and its 👍 as counted. Pure: plain
data in, an embed out, edited as votes come in."""

from __future__ import annotations

import discord

from bot.core.decisions import DecisionLine
from bot.render.about import BRAND_COLOUR
from bot.render.compare import FIELD_VALUE, clip, one_line

AUTHOR_NAME = 256
TOOL_NAME = 100
DECISION_FOOTER = "👍 if you agree · one vote per member · not on your own decision"


def decision_embed(decision: DecisionLine, author_name: str) -> discord.Embed:
    over = ", ".join(f"**{clip(one_line(tool.name), TOOL_NAME)}**" for tool in decision.over)
    sentence = f"chose **{clip(one_line(decision.chosen.name), TOOL_NAME)}**"
    if over:
        sentence += f" over {over}"
    embed = discord.Embed(description=sentence, colour=BRAND_COLOUR, timestamp=decision.created_at)
    embed.set_author(name=clip(one_line(author_name), AUTHOR_NAME) or "A member")
    embed.add_field(name="Why", value=clip(decision.reason, FIELD_VALUE) or "—", inline=False)
    embed.add_field(name="Votes", value=f"👍 {decision.up}", inline=False)
    embed.set_footer(text=DECISION_FOOTER)
    return embed
