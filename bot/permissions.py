"""The Discord permissions Stackup uses, named once: the `/stackup setup` notes check them in
the channels a server chose, and the invite URL (`stackup invite-url`, `/stackup about`) asks
for all of them. Never Administrator."""

from __future__ import annotations

import discord

# What Stackup needs in the advice forum, and what each lets it do.
FORUM_NEEDS = {
    "view_channel": "see the forum",
    "send_messages": "open posts",
    "send_messages_in_threads": "post recommendations and verdicts",
    "embed_links": "show embeds",
    "attach_files": "attach verdict charts",
    "add_reactions": "add 👍 and 👎 to recommendations",
    "read_message_history": "count votes",
    "manage_threads": "lock and archive closed posts",
}
# What it would like there: it works without these, with less.
FORUM_WANTS = {
    "manage_channels": "create tags for tools and the Solved tag",
    "manage_messages": "remove a member's old reaction when they switch their vote",
}
# Without an advice forum, advice posts are public threads in the channel they were asked in.
THREAD_NEEDS = {
    "create_public_threads": "open advice posts as threads where there is no advice forum",
}
DIGEST_NEEDS = {
    "view_channel": "see the digest channel",
    "send_messages": "send the weekly digest",
    "embed_links": "show the digest",
    "attach_files": "attach the digest's chart",
}

# Every permission above, each once, in the order named.
BOT_PERMISSION_NAMES = tuple(
    dict.fromkeys(
        name for uses in (FORUM_NEEDS, FORUM_WANTS, THREAD_NEEDS, DIGEST_NEEDS) for name in uses
    )
)
BOT_PERMISSIONS = discord.Permissions(**dict.fromkeys(BOT_PERMISSION_NAMES, True))
INVITE_SCOPES = ("bot", "applications.commands")


def permission_label(name: str) -> str:
    """`send_messages_in_threads` as Discord's client shows it (near enough): Send Messages In
    Threads."""
    return name.replace("_", " ").title()


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id, permissions=BOT_PERMISSIONS, scopes=INVITE_SCOPES
    )
