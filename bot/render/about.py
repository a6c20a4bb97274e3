"""The `/stackup about` card. Pure: data in, embed out."""

from __future__ import annotations

import discord

from bot.permissions import invite_url
from bot.services.catalog import About

BRAND_COLOUR = discord.Colour(0x0690FA)


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
