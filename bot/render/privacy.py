"""What `/stackup forget-me` asks and answers, and what `stackup forget-user` prints. Pure:
plain data in, text out."""

from __future__ import annotations

from bot.core.privacy import FORMER_MEMBER, Forgotten

# Each kind of row, as one and as many.
KIND_NAMES = {
    "votes": ("vote", "votes"),
    "stack_entries": ("tool in a stack", "tools in stacks"),
    "follows": ("followed tool", "followed tools"),
    "preferences": ("preference", "preferences"),
    "decisions": ("decision", "decisions"),
    "recommendations": ("recommendation", "recommendations"),
    "pros_cons": ("pro or con added", "pros and cons added"),
    "votes_on_their_items": ("vote of others on those", "votes of others on those"),
    "vote_messages": ("vote message", "vote messages"),
}

FORGET_QUESTION = (
    "Forget everything Stackup holds about you in this server? Your votes (every count moves "
    "with them), your stack, follows, preferences, decisions, recommendations and the pros and "
    "cons you added are deleted, with other members' votes on those. Your advice posts stay, "
    f"shown as asked by {FORMER_MEMBER}. This cannot be undone."
)
FORGET_CANCELLED = "Nothing was deleted: Stackup keeps your data in this server as it was."
STAYS_IN_DISCORD = (
    "What stays in Discord: the messages you wrote and your other reactions are yours to delete."
)


def _count(kind: str, count: int) -> str:
    one, many = KIND_NAMES[kind]
    return f"{count} {one if count == 1 else many}"


def removed_lines(forgotten: Forgotten) -> list[str]:
    """One line per kind of row, zeros included: the member sees what was looked for."""
    return [_count(kind, count) for kind, count in forgotten.removed.items()]


def forgotten_message(forgotten: Forgotten) -> str:
    """The answer once a member is forgotten in a server."""
    lines = [
        f"Stackup forgot you in this server: {forgotten.total} rows removed.",
        *(f"• {line}" for line in removed_lines(forgotten)),
    ]
    kept = forgotten.advice_posts_kept
    if kept:
        posts = "advice post stays" if kept == 1 else f"{kept} advice posts stay"
        lines.append(f"Your {posts}, asked by {FORMER_MEMBER}.")
    if forgotten.messages:
        lines.append(
            f"Stackup is deleting its {_plural(len(forgotten.messages), 'message')} that showed "
            "your recommendations and decisions."
        )
    if forgotten.reactions:
        lines.append(
            f"Stackup is taking away your {_plural(len(forgotten.reactions), 'reaction')} on its "
            "open vote messages; any it cannot take away no longer count."
        )
    lines.append(STAYS_IN_DISCORD)
    return "\n".join(lines)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def left_in_discord_message(left: int) -> str:
    """Some of Stackup's messages or the member's reactions could not be removed (no Manage
    Messages, Discord failed)."""
    return (
        f"{_plural(left, 'message or reaction')} could not be removed from Discord. Your "
        "reactions there no longer count as votes, but stay visible: remove them yourself if "
        "you want them gone."
    )


def forget_user_report(member_id: int, forgotten: Forgotten) -> str:
    """What `stackup forget-user` prints: rows removed across every server."""
    width = max(len(KIND_NAMES[kind][1]) for kind in forgotten.removed)
    lines = [f"forgot user {member_id} in every server: {forgotten.total} rows removed"]
    lines += [
        f"  {KIND_NAMES[kind][1] + ':':<{width + 1}} {count}"
        for kind, count in forgotten.removed.items()
    ]
    lines.append(f"  advice posts kept, asked by {FORMER_MEMBER}: {forgotten.advice_posts_kept}")
    if forgotten.messages:
        lines.append(
            f"  {_plural(len(forgotten.messages), 'message')} of Stackup's still show their "
            "recommendations and decisions in Discord: a moderator can delete them"
        )
    if forgotten.reactions:
        lines.append(
            f"  {_plural(len(forgotten.reactions), 'reaction')} of theirs are still on open vote "
            "messages: they no longer count, but stay visible until they (or a moderator) "
            "remove them"
        )
    return "\n".join(lines)
