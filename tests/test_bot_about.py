"""The bot under simcord: it starts on a fresh database, syncs its commands, answers /stackup about."""

from __future__ import annotations


async def test_about_reports_version_and_catalog_size(simcord_env):
    guild = simcord_env.create_guild()
    channel = guild.create_text_channel("general")
    member = guild.add_member(simcord_env.create_user("ada"))

    result = await member.slash(channel, "stackup about")

    assert result.ephemeral
    embed = result.response.embeds[0]
    fields = {field.name: field.value for field in embed.fields}
    assert fields["Version"] == "0.1.0"
    assert fields["Catalog"].startswith("303 tools in ")
    assert "Add Stackup to a server" in fields["Links"]
    print(simcord_env.http_requests)
