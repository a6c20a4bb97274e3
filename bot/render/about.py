"""The `/stackup about` card. Pure: data in, embed out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import discord

from bot.core.advice import GuildConfig
from bot.core.schedule import WEEKDAYS, digest_schedule_of
from bot.services.catalog import About

BRAND_COLOUR = discord.Colour(0x0690FA)
BOT_PERMISSIONS = discord.Permissions(
    view_channel=True,
    send_messages=True,
    send_messages_in_threads=True,
    create_public_threads=True,
    manage_threads=True,
    embed_links=True,
    attach_files=True,
    read_message_history=True,
    add_reactions=True,
)


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=BOT_PERMISSIONS, scopes=("bot", "applications.commands")
    )


def about_embed(about: About) -> discord.Embed:
    catalog = about.catalog
    embed = discord.Embed(
        title="Stackup",
        description=(
            "Side-by-side comparisons of developer tools, advice posts and votes, "
            "StackShare-style, inside your server."
        ),
        colour=BRAND_COLOUR,
    )
    embed.add_field(name="Version", value=about.version, inline=True)
    embed.add_field(name="Servers", value=f"{about.guilds:,}", inline=True)
    embed.add_field(
        name="Catalog",
        value=(
            f"{catalog.tools:,} tools in {catalog.categories:,} categories\n"
            f"{catalog.aliases:,} aliases, {catalog.alternatives:,} alternative links\n"
            f"{catalog.pros_cons:,} pros and cons, {catalog.external_stats:,} external figures"
        ),
        inline=False,
    )
    if catalog.tools_by_top_category:
        embed.add_field(
            name="By area",
            value="\n".join(
                f"{name}: {count:,}" for name, count in catalog.tools_by_top_category.items()
            ),
            inline=False,
        )
    links = ["[StackShare](https://stackshare.io) (imported figures, labelled where shown)"]
    if about.application_id:
        links.insert(0, f"[Add Stackup to a server]({invite_url(about.application_id)})")
    embed.add_field(name="Links", value="\n".join(links), inline=False)
    embed.set_footer(text=f"Catalog revision {catalog.revision}")
    return embed


def digest_schedule_text(config: GuildConfig, next_digest: datetime | None) -> str:
    if not config.digest_channel_id:
        return "off: choose a digest channel to get one"
    schedule = digest_schedule_of(config)
    day = WEEKDAYS[schedule.day]
    text = f"<#{config.digest_channel_id}>, {day}s at {schedule.hour:02d}:00 ({config.timezone})"
    if next_digest is not None:
        text += f"\nNext: <t:{int(next_digest.timestamp())}:F>"
    return text


def settings_embed(
    config: GuildConfig, notes: Sequence[str] = (), *, next_digest: datetime | None = None
) -> discord.Embed:
    """A server's Stackup settings, with what Stackup lacks to use them."""
    embed = discord.Embed(title="Stackup settings for this server", colour=BRAND_COLOUR)
    forum = (
        f"<#{config.advice_forum_id}>"
        if config.advice_forum_id
        else "none: threads in the channel asked in"
    )
    embed.add_field(name="Advice forum", value=forum, inline=False)
    embed.add_field(
        name="Weekly digest", value=digest_schedule_text(config, next_digest), inline=False
    )
    embed.add_field(name="Idle posts close after", value=f"{config.idle_days} days", inline=True)
    if notes:
        embed.add_field(name="Permissions", value="\n".join(notes)[:1024], inline=False)
    return embed
