"""The renderers of stacks, follows and the news sent to followers: whatever the data, what
they build fits Discord's limits, and user text is shown, never applied."""

from __future__ import annotations

import re

from bot.core.advice import OpenedPost
from bot.core.community import (
    Following,
    MemberStack,
    RankedTool,
    ServerStack,
    StackChange,
    StackTool,
)
from bot.core.comparison import ToolRef
from bot.render.community import (
    advice_news_text,
    following_embed,
    member_stack_embed,
    names_list,
    server_stack_embed,
    stack_change_text,
    thread_mention_texts,
)
from bot.render.compare import total_length

FLASK, DJANGO, KOA = (
    ToolRef(1, "flask", "Flask"),
    ToolRef(2, "django", "Django"),
    ToolRef(3, "koa", "Koa"),
)


def post(**changes) -> OpenedPost:
    values = {
        "post_id": 7,
        "guild_id": 10,
        "channel_id": 11,
        "thread_id": 12,
        "asker_id": 13,
        "title": "Flask or Django?",
        "tools": (FLASK, DJANGO),
        "jump_url": "https://discord.com/channels/10/12",
    }
    values.update(changes)
    return OpenedPost(**values)


def many_tools(count: int, *, categories: int, name_length: int = 100) -> tuple[StackTool, ...]:
    return tuple(
        StackTool(
            ToolRef(n, f"tool-{n}", f"{n:04d}" + "x" * (name_length - 4)),
            f"Category {n % categories:02d} " + "c" * 80,
        )
        for n in range(count)
    )


def assert_fits(embed) -> None:
    assert total_length([embed]) <= 6000
    assert len(embed.fields) <= 25
    assert len(embed.title or "") <= 256 and len(embed.description or "") <= 4096
    for field in embed.fields:
        assert 0 < len(field.name) <= 256 and 0 < len(field.value) <= 1024


def test_names_are_listed_in_bold_with_their_markdown_escaped():
    assert names_list([FLASK]) == "**Flask**"
    assert names_list([FLASK, DJANGO, KOA]) == "**Flask**, **Django** and **Koa**"
    assert names_list([ToolRef(4, "x", "under_score*")]) == r"**under\_score\***"


def test_a_stack_change_says_what_changed_and_what_did_not():
    change = StackChange(changed=(FLASK,), unchanged=(DJANGO, KOA))
    assert stack_change_text(change, adding=True) == (
        "Added to your stack in this server: **Flask**. "
        "Already in your stack: **Django** and **Koa**. See it with `/stack show`."
    )
    assert stack_change_text(StackChange((), (FLASK,)), adding=False) == (
        "Not in your stack: **Flask**. See it with `/stack show`."
    )


def test_a_stack_as_big_as_a_catalog_fits_and_says_how_much_is_left_out():
    tools = many_tools(400, categories=40)
    embed = member_stack_embed(MemberStack(1, 2, tools), "x" * 300, own=False)
    assert_fits(embed)
    shown = sum(len(re.findall(r"\d{4}x", field.value)) for field in embed.fields)
    more = sum(int(n) for field in embed.fields for n in re.findall(r"\+(\d+) more", field.value))
    left_out = int(re.search(r"(\d+) not shown", embed.footer.text)[1])
    assert shown + left_out == 400 and more <= left_out
    assert embed.footer.text.startswith("400 tools in 40 categories")


def test_a_long_category_is_cut_at_a_name_with_a_count_of_the_rest():
    tools = many_tools(30, categories=1, name_length=60)
    embed = member_stack_embed(MemberStack(1, 2, tools), "ada", own=True)
    (field,) = embed.fields
    shown = len(re.findall(r"\d{4}x", field.value))
    assert field.value.endswith(f" · +{30 - shown} more")
    assert len(field.value) <= 1024
    assert embed.footer.text == f"30 tools in 1 category · {30 - shown} not shown"


def test_a_member_name_is_shown_as_written():
    embed = member_stack_embed(MemberStack(1, 2, ()), "**bold** @everyone", own=False)
    assert embed.title == r"\*\*bold\*\* @everyone's stack in this server"
    assert embed.description == r"\*\*bold\*\* @everyone has not added any tools here yet."


def test_the_server_ranking_fits_however_long_the_names():
    ranking = tuple(
        RankedTool(entry, 100 - n) for n, entry in enumerate(many_tools(30, categories=5))
    )
    embed = server_stack_embed(ServerStack(1, ranking, total_tools=45, members=12), "g" * 100)
    assert_fits(embed)
    lines = embed.description.splitlines()
    assert lines[0].startswith("` 1.` **0000") and lines[0].count("· 100 members ·") == 1
    assert embed.footer.text == (
        f"12 members shared their stack · 45 tools in use · top {len(lines)} shown"
        " · add yours with /stack add"
    )


def test_following_says_how_posts_reach_the_member():
    tools = (StackTool(FLASK, "Microframeworks"),)
    assert "you are mentioned in the post" in following_embed(Following(tools, True)).description
    assert "you are not told" in following_embed(Following(tools, False)).description
    assert_fits(following_embed(Following(many_tools(400, categories=40), False)))


def test_the_news_of_a_post_shows_user_text_as_written_and_fits_a_message():
    text = advice_news_text(post(title="**Use** <@&1> now"), "My *server*")
    assert text.startswith(
        r"New advice post on **Flask**, **Django** in **My \*server\***: "
        r"“\*\*Use\*\* <@&1> now” https://discord.com/channels/10/12"
    )
    long_names = tuple(ToolRef(n, f"t{n}", "n" * 100) for n in range(5))
    assert len(advice_news_text(post(title="t" * 100, tools=long_names), "g" * 100)) <= 2000


def test_thread_mentions_are_split_at_2000_characters():
    ids = [10**18 + n for n in range(250)]  # 23 characters a mention: length decides
    messages = thread_mention_texts(post(), ids)
    assert len(messages) == 3
    assert all(len(mentioned) < 100 for _, mentioned in messages)
    assert [member for _, mentioned in messages for member in mentioned] == ids
    for text, mentioned in messages:
        assert len(text) <= 2000
        assert re.findall(r"<@(\d+)>", text) == [str(member) for member in mentioned]
    assert messages[0][0].startswith("New advice post on **Flask**, **Django**.")
    # Long tool names leave less room for mentions, never too little.
    long_names = tuple(ToolRef(n, f"t{n}", "n" * 100) for n in range(5))
    for text, _ in thread_mention_texts(post(tools=long_names), ids):
        assert len(text) <= 2000


def test_thread_mentions_are_split_at_discords_100_users():
    ids = list(range(1, 251))  # short mentions: the 100-user limit decides
    messages = thread_mention_texts(post(), ids)
    assert [len(mentioned) for _, mentioned in messages] == [100, 100, 50]
    assert [member for _, mentioned in messages for member in mentioned] == ids


def test_a_member_is_mentioned_once():
    (message,) = thread_mention_texts(post(), [5, 6, 5])
    assert message[1] == [5, 6]
