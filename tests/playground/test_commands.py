"""Lines typed at the playground's prompt, parsed (pure): slash commands against specs, the
other commands, durations, option values, and the buttons and menu options a line names."""

from __future__ import annotations

import pytest
from discord import app_commands

from bot.playground.commands import (
    Channels,
    Choose,
    Click,
    CommandSpec,
    EntityName,
    Go,
    Help,
    OptionSpec,
    ParseError,
    Quit,
    React,
    Say,
    Slash,
    Submit,
    SwitchMember,
    Wait,
    convert_value,
    describe_duration,
    parse_duration,
    parse_line,
    specs_from_tree,
)
from bot.playground.driver import find_button, find_option, form_fields

SPECS = {
    "compare": CommandSpec(
        "compare",
        options=(
            OptionSpec("first", required=True, autocomplete=True),
            OptionSpec("second", required=True, autocomplete=True),
            OptionSpec("third", autocomplete=True),
        ),
    ),
    "advice ask": CommandSpec(
        "advice ask",
        options=(
            OptionSpec("title"),
            OptionSpec("question"),
            OptionSpec("tools", autocomplete=True),
            OptionSpec("context"),
        ),
    ),
    "advice close": CommandSpec("advice close", options=(OptionSpec("accepted"),)),
    "stackup about": CommandSpec("stackup about"),
    "stackup setup": CommandSpec(
        "stackup setup",
        options=(
            OptionSpec("advice_forum", kind="channel"),
            OptionSpec("digest_day", kind="integer", choices=(("Monday", 0), ("Tuesday", 1))),
            OptionSpec("idle_days", kind="integer"),
            OptionSpec("stop_digest", kind="boolean"),
            OptionSpec("closer_role", kind="role"),
        ),
    ),
}


def test_slash_options_run_until_the_next_option_of_that_command():
    assert parse_line("/compare first:express second:flask third:koa", SPECS) == Slash(
        "compare", {"first": "express", "second": "flask", "third": "koa"}
    )
    parsed = parse_line(
        "/advice ask title:Flask or Django? question:Which: a REST API for a mobile app "
        "tools:Flask, Django",
        SPECS,
    )
    assert parsed == Slash(
        "advice ask",
        {
            "title": "Flask or Django?",
            "question": "Which: a REST API for a mobile app",
            "tools": "Flask, Django",
        },
    )


def test_subcommands_and_groups_resolve_to_the_longest_known_path():
    assert parse_line("/advice close", SPECS) == Slash("advice close", {})
    assert parse_line("  /Stackup   about ", SPECS) == Slash("stackup about", {})
    with pytest.raises(ParseError, match=r"/advice needs a subcommand: /advice ask, /advice close"):
        parse_line("/advice", SPECS)
    with pytest.raises(ParseError, match="no command /nope"):
        parse_line("/nope x:1", SPECS)


def test_slash_mistakes_say_what_to_type():
    with pytest.raises(ParseError, match=r"/compare needs second:…"):
        parse_line("/compare first:express", SPECS)
    with pytest.raises(ParseError, match="no option “fourth”"):
        parse_line("/compare fourth:x first:a second:b", SPECS)
    with pytest.raises(ParseError, match="expected name:value, not “express”"):
        parse_line("/compare express flask", SPECS)
    with pytest.raises(ParseError, match="first: is given twice"):
        parse_line("/compare first:a first:b second:c", SPECS)
    with pytest.raises(ParseError, match="expected name:value"):
        parse_line("/stackup about now", SPECS)


def test_a_value_ending_in_a_question_mark_asks_for_suggestions():
    assert parse_line("/compare first:fla?", SPECS) == Slash("compare", {"first": "fla"}, "first")
    # Not an autocomplete option: the question mark is part of the title.
    assert parse_line("/advice ask title:Which one?", SPECS) == Slash(
        "advice ask", {"title": "Which one?"}
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("", None),
        ("   # a comment", None),
        ("quit", Quit()),
        ("exit", Quit()),
        ("help", Help()),
        ("help /compare", Help("compare")),
        ("channels", Channels()),
        ("as @bob", SwitchMember("bob")),
        ("go Flask or Django?", Go("Flask or Django?")),
        ("react 👍", React("👍", None)),
        ("react 👍 3", React("👍", 3)),
        ("react 1️⃣ #12", React("1️⃣", 12)),
        ("unreact 👎 last", React("👎", None, remove=True)),
        ("click Ask for advice", Click("Ask for advice", None)),
        ("click Pros & cons 7", Click("Pros & cons", 7)),
        ('click "Page 2"', Click("Page 2", None)),
        ('click "Page 2" last', Click("Page 2", None)),
        ("choose Koa", Choose("Koa", None)),
        (
            "submit title:A form question:Why: because",
            Submit({"title": "A form", "question": "Why: because"}),
        ),
        ("say hello there", Say("hello there")),
        ("wait 7d", Wait(7 * 86400)),
    ],
)
def test_other_commands(line, expected):
    assert parse_line(line, SPECS) == expected


@pytest.mark.parametrize(
    "line", ["as", "go", "react", "react 👍 third", "click", "wait soon", "say", "dance"]
)
def test_other_mistakes_are_parse_errors(line):
    with pytest.raises(ParseError):
        parse_line(line, SPECS)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("7d", 604800),
        ("36h", 129600),
        ("1d12h", 129600),
        ("90m", 5400),
        ("30s", 30),
        ("2w", 1209600),
        ("1.5h", 5400),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "7", "7 days", "d7", "7x"])
def test_durations_need_a_unit(text):
    with pytest.raises(ParseError):
        parse_duration(text)


def test_durations_described():
    assert describe_duration(7 * 86400) == "1 week"
    assert describe_duration(86400 + 12 * 3600) == "1 day 12 hours"
    assert describe_duration(90 * 60) == "1 hour 30 minutes"


def test_values_typed_as_the_command_declares():
    setup = SPECS["stackup setup"]
    assert convert_value(setup.option("digest_day"), "tuesday") == 1
    assert convert_value(setup.option("digest_day"), "0") == 0
    assert convert_value(setup.option("idle_days"), "10") == 10
    assert convert_value(setup.option("stop_digest"), "yes") is True
    assert convert_value(setup.option("advice_forum"), "#advice") == EntityName("channel", "advice")
    assert convert_value(setup.option("closer_role"), "@Admins") == EntityName("role", "Admins")
    for option, raw in (("digest_day", "Sunday"), ("idle_days", "ten"), ("stop_digest", "maybe")):
        with pytest.raises(ParseError, match=option):
            convert_value(setup.option(option), raw)


def test_specs_come_from_the_command_tree():
    group = app_commands.Group(name="advice", description="Advice posts")

    @group.command(name="close")
    @app_commands.describe(accepted="The tool you chose")
    async def close(interaction, accepted: str | None = None, days: int = 1) -> None:
        """Close this post."""

    @app_commands.command(name="compare")
    @app_commands.choices(level=[app_commands.Choice(name="Short", value=1)])
    async def compare(interaction, first: str, level: app_commands.Choice[int]) -> None:
        """Compare tools."""

    specs = specs_from_tree([group, compare])
    assert list(specs) == ["advice close", "compare"]
    assert specs["advice close"].options == (
        OptionSpec("accepted", "string", False, (), False, "The tool you chose"),
        OptionSpec("days", "integer", False, (), False, "…"),
    )
    assert specs["compare"].description == "Compare tools."
    assert specs["compare"].option("level").choices == (("Short", 1),)
    assert specs["compare"].option("first").required


BUTTONS = [
    {
        "type": 1,
        "components": [
            {"type": 2, "label": "Pros & cons", "custom_id": "pc", "emoji": {"name": "⚖️"}},
            {"type": 2, "label": "Old", "custom_id": "old", "disabled": True},
            {"type": 2, "label": "Docs", "url": "https://example.com", "style": 5},
        ],
    },
    {
        "type": 17,
        "components": [
            {
                "type": 9,
                "components": [{"type": 10, "content": "text"}],
                "accessory": {"type": 2, "label": "Inside", "custom_id": "in"},
            }
        ],
    },
    {
        "type": 1,
        "components": [
            {"type": 3, "custom_id": "menu", "options": [{"label": "Koa", "value": "koa"}]}
        ],
    },
]


def test_buttons_and_menu_options_are_found_as_a_member_names_them():
    assert find_button(BUTTONS, "pros & CONS")["custom_id"] == "pc"
    assert find_button(BUTTONS, "⚖️ Pros & cons")["custom_id"] == "pc"
    assert find_button(BUTTONS, "inside")["custom_id"] == "in"
    assert find_button(BUTTONS, "Old") is None  # disabled
    assert find_button(BUTTONS, "Docs") is None  # a link, not a callback
    menu, value = find_option(BUTTONS, "KOA")
    assert (menu["custom_id"], value) == ("menu", "koa")
    assert find_option(BUTTONS, "Express") is None


def test_form_fields_by_id_or_label():
    modal = {
        "components": [
            {"type": 1, "components": [{"type": 4, "custom_id": "title", "label": "Title"}]},
            {"type": 18, "label": "Tools involved", "component": {"type": 4, "custom_id": "tools"}},
        ]
    }
    assert form_fields(modal) == {
        "title": "title",
        "tools": "tools",
        "tools involved": "tools",
    }
