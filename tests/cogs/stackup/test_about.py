"""`/stackup about` through the real bot under simcord, on a database holding the shipped catalog."""

from __future__ import annotations

import importlib.metadata

from db.catalog_import import catalog_stats


async def test_about_reports_version_and_catalog_size(simcord_env, sessions):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(simcord_env.create_user("ada"))

    result = await member.slash(channel, "stackup about")

    assert result.ephemeral
    fields = {field.name: field.value for field in result.response.embeds[0].fields}
    assert fields["Version"] == importlib.metadata.version("stackup")
    stats = await catalog_stats(sessions)
    assert fields["Catalog"].startswith(f"{stats.tools:,} tools in {stats.categories:,} categories")
    assert "Add Stackup to a server" in fields["Links"]
    assert "scope=bot+applications.commands" in fields["Links"]
