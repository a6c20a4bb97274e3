"""Messages drawn for the terminal (pure): embeds as panels in the embed's colour, inline
fields side by side, mentions and timestamps as a reader sees them, Components V2 layouts,
buttons, menus, forms and suggestions."""

from __future__ import annotations

from rich.console import Console

from bot.playground.render import Names, Shown, choices_view, discord_text, message_view, modal_view

NAMES = Names(users={1: "ada", 2: "bob"}, channels={10: "general"}, roles={20: "Admins"})


def drawn(renderable, width: int = 100) -> str:
    console = Console(width=width, record=True, color_system="truecolor", force_terminal=True)
    console.print(renderable)
    return console.export_text()


def lines_with(text: str, *words: str) -> list[str]:
    return [line for line in text.splitlines() if all(word in line for word in words)]


def test_mentions_and_timestamps_read_as_in_discord():
    text = "<@1> and <@!2> in <#10> (<@&20>), <@99>, <t:1767225600:R>"
    assert discord_text(text, NAMES) == (
        "@ada and @bob in #general (@Admins), @unknown-user, Thu 01 Jan 2026 00:00 UTC"
    )


def test_an_embed_is_a_panel_with_its_title_fields_side_by_side_and_footer():
    embed = {
        "title": "Flask vs Django",
        "description": "Two **Python** frameworks.\nSecond line.",
        "color": 0x5865F2,
        "fields": [
            {"name": "Stacks", "value": "19.3K", "inline": True},
            {"name": "Followers", "value": "16.2K", "inline": True},
            {"name": "Asked by", "value": "<@2>", "inline": False},
        ],
        "footer": {"text": "StackShare, 2025-01-01"},
        "image": {"url": "attachment://stackup-chart.png"},
    }
    shown = Shown(3, "#general", "Stackup", embeds=(embed,), files=("/tmp/x/3-chart.png",))
    text = drawn(message_view(shown, NAMES))
    assert lines_with(text, "#3", "Stackup", "→ #general")
    assert lines_with(text, "│ Flask vs Django")
    # Markdown keeps Discord's line breaks.
    assert lines_with(text, "Two Python frameworks.") and lines_with(text, "Second line.")
    assert lines_with(text, "Stacks", "Followers"), "inline fields share a row"
    assert lines_with(text, "19.3K", "16.2K")
    assert not lines_with(text, "Followers", "Asked by"), "a field not inline has its own row"
    assert lines_with(text, "@bob")
    assert lines_with(text, "StackShare, 2025-01-01")
    assert lines_with(text, "stackup-chart.png")
    assert lines_with(text, "📎 saved /tmp/x/3-chart.png")
    console = Console(width=100, record=True, force_terminal=True, color_system="truecolor")
    console.print(message_view(shown, NAMES))
    assert "38;2;88;101;242" in console.export_text(styles=True), (
        "the border has the embed's colour"
    )


def test_three_inline_fields_to_a_row():
    fields = [{"name": f"F{n}", "value": f"v{n}", "inline": True} for n in range(5)]
    text = drawn(message_view(Shown(1, "#general", "Stackup", embeds=({"fields": fields},)), NAMES))
    assert lines_with(text, "F0", "F1", "F2")
    assert lines_with(text, "F3", "F4") and not lines_with(text, "F2", "F3")


def test_ephemeral_and_edited_messages_say_so():
    text = drawn(
        message_view(Shown(4, "#general", "Stackup", "Only you.", ephemeral_to="bob"), NAMES)
    )
    assert lines_with(text, "#4", "only bob sees this")
    text = drawn(message_view(Shown(4, "🧵 Post in #advice", "Stackup", "x", edited=True), NAMES))
    assert lines_with(text, "#4", "🧵 Post in #advice", "(edited)")


def test_components_v2_and_buttons_are_drawn():
    components = (
        {"type": 10, "content": "<@1> closed it."},
        {
            "type": 17,
            "accent_color": 0x57F287,
            "components": [
                {"type": 10, "content": "## Verdict: Flask\n-# not counted"},
                {"type": 14},
                {"type": 12, "items": [{"media": {"url": "attachment://votes.png"}}]},
            ],
        },
        {
            "type": 1,
            "components": [
                {"type": 2, "label": "Details", "emoji": {"name": "📋"}, "custom_id": "d"},
                {"type": 2, "label": "Gone", "custom_id": "g", "disabled": True},
            ],
        },
        {
            "type": 1,
            "components": [
                {"type": 3, "placeholder": "Pick", "options": [{"label": "A"}, {"label": "B"}]}
            ],
        },
    )
    text = drawn(message_view(Shown(5, "#general", "Stackup", components=components), NAMES))
    assert lines_with(text, "@ada closed it.")
    assert lines_with(text, "Verdict: Flask")
    assert lines_with(text, "not counted") and not lines_with(text, "-#")
    assert lines_with(text, "votes.png")
    assert lines_with(text, "[ 📋 Details ]", "[ Gone ]")
    assert lines_with(text, "▾ Pick:", "A · B")


def test_forms_and_suggestions():
    modal = {
        "title": "Ask for advice",
        "components": [
            {
                "type": 1,
                "components": [{"type": 4, "custom_id": "tools", "label": "Tools", "value": "Koa"}],
            },
        ],
    }
    text = drawn(modal_view(modal))
    assert lines_with(text, "Form: Ask for advice")
    assert lines_with(text, "tools", "Tools", "Koa")
    assert lines_with(text, "submit field:value")
    text = drawn(
        choices_view(
            "first", [{"name": "Flask", "value": "flask"}, {"name": "Koa", "value": "Koa"}]
        )
    )
    assert lines_with(text, "first:", "Flask (flask)", "Koa") and "(Koa)" not in text
    assert "no suggestions" in drawn(choices_view("first", []))
