"""Messages drawn for a terminal with rich: embeds as coloured panels, inline fields side by
side, buttons and menus under them, files as the paths they were saved to.

Pure: a `Shown` message (plain data, as the simulated Discord holds it) in, a renderable out.
Mentions and timestamps are written out with `Names`, as Discord's client would show them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

# Discord shows at most three inline fields in a row.
INLINE_PER_ROW = 3


@dataclass(frozen=True)
class Names:
    users: dict[int, str] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    roles: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Shown:
    """One message as printed: its number, where it is, and what it holds."""

    number: int
    where: str
    author: str
    content: str = ""
    embeds: tuple[dict, ...] = ()
    components: tuple[dict, ...] = ()
    files: tuple[str, ...] = ()
    ephemeral_to: str | None = None  # the member who alone sees it
    edited: bool = False


MENTION = re.compile(r"<(@!?|@&|#)(\d+)>|<t:(-?\d+)(?::([tTdDfFR]))?>")


def discord_text(text: str, names: Names) -> str:
    """Mentions and timestamps as a reader sees them."""

    def written(found: re.Match[str]) -> str:
        kind, number, stamp = found.group(1), found.group(2), found.group(3)
        if stamp is not None:
            moment = datetime.fromtimestamp(int(stamp), UTC)
            return moment.strftime("%a %d %b %Y %H:%M UTC")
        if kind == "#":
            return "#" + names.channels.get(int(number), "unknown-channel")
        if kind == "@&":
            return "@" + names.roles.get(int(number), "unknown-role")
        return "@" + names.users.get(int(number), "unknown-user")

    return MENTION.sub(written, text)


SUBTEXT = re.compile(r"^-# (.+)$", re.MULTILINE)


def markdown(text: str, names: Names) -> Markdown:
    # Discord's small print (`-# `) has no Markdown twin: italics come closest.
    text = SUBTEXT.sub(r"*\1*", discord_text(text, names))
    # Discord breaks lines where the text does; Markdown would join them.
    return Markdown(text.replace("\n", "  \n"))


def message_view(shown: Shown, names: Names) -> RenderableType:
    parts: list[RenderableType] = [_header(shown)]
    if shown.content:
        parts.append(markdown(shown.content, names))
    parts.extend(embed_panel(embed, names) for embed in shown.embeds)
    parts.extend(components_view(shown.components, names))
    parts.extend(Text(f"📎 saved {path}", style="cyan") for path in shown.files)
    return Group(*parts)


def _header(shown: Shown) -> Text:
    header = Text()
    header.append(f"#{shown.number}", style="bold reverse")
    header.append(f" {shown.author}", style="bold")
    header.append(f" → {shown.where}", style="dim")
    if shown.edited:
        header.append("  (edited)", style="yellow")
    if shown.ephemeral_to is not None:
        header.append(f"  only {shown.ephemeral_to} sees this", style="magenta")
    return header


def colour_of(embed: dict) -> str:
    value = embed.get("color")
    return f"#{value:06x}" if isinstance(value, int) else "grey50"


def embed_panel(embed: dict, names: Names) -> Panel:
    parts: list[RenderableType] = []
    author = (embed.get("author") or {}).get("name")
    if author:
        parts.append(Text(author, style="dim"))
    if embed.get("title"):
        parts.append(Text(discord_text(embed["title"], names), style="bold"))
    if embed.get("description"):
        parts.append(markdown(embed["description"], names))
    parts.extend(field_rows(embed.get("fields") or [], names))
    image = (embed.get("image") or {}).get("url")
    if image:
        parts.append(Text(f"🖼  {image.removeprefix('attachment://')}", style="cyan"))
    footer = (embed.get("footer") or {}).get("text")
    if footer:
        parts.append(Text(discord_text(footer, names), style="dim"))
    return Panel(Group(*parts), border_style=colour_of(embed), expand=True, padding=(0, 1))


def field_rows(fields: list[dict], names: Names) -> list[RenderableType]:
    """Runs of inline fields side by side (three to a row), the others one under another."""
    rows: list[RenderableType] = []
    run: list[dict] = []

    def flush() -> None:
        for start in range(0, len(run), INLINE_PER_ROW):
            rows.append(_side_by_side(run[start : start + INLINE_PER_ROW], names))
        run.clear()

    for item in fields:
        if item.get("inline"):
            run.append(item)
            continue
        flush()
        rows.append(_field(item, names))
    flush()
    return rows


def _field(item: dict, names: Names) -> Group:
    return Group(
        Text(discord_text(item.get("name", ""), names), style="bold underline"),
        markdown(item.get("value", ""), names),
    )


def _side_by_side(items: list[dict], names: Names) -> Table:
    grid = Table.grid(expand=True, padding=(0, 2))
    for _ in items:
        grid.add_column(ratio=1)
    grid.add_row(*(_field(item, names) for item in items))
    return grid


def components_view(
    components: tuple[dict, ...] | list[dict], names: Names
) -> list[RenderableType]:
    """Action rows as lines of buttons and menus; Components V2 layouts (containers, text,
    separators, galleries, sections) drawn as what they show."""
    shown: list[RenderableType] = []
    for component in components:
        kind = component.get("type")
        if kind == 1:  # action row
            line = Text()
            for child in component.get("components") or []:
                _control(line, child)
            shown.append(line)
        elif kind == 17:  # container
            inner = components_view(component.get("components") or [], names)
            colour = component.get("accent_color")
            border = f"#{colour:06x}" if isinstance(colour, int) else "grey50"
            shown.append(Panel(Group(*inner), border_style=border, padding=(0, 1)))
        elif kind == 9:  # section: text with a button or thumbnail beside it
            shown.extend(components_view(component.get("components") or [], names))
            accessory = component.get("accessory")
            if accessory:
                shown.extend(components_view([accessory], names))
        else:
            shown.extend(_content_component(component, names))
    return shown


def _content_component(component: dict, names: Names) -> list[RenderableType]:
    kind = component.get("type")
    if kind == 10:  # text display
        return [markdown(component.get("content") or "", names)]
    if kind == 14:  # separator
        return [Rule(style="grey50")]
    if kind == 12:  # media gallery
        return [_media(item.get("media") or {}) for item in component.get("items") or []]
    if kind in (11, 13):  # thumbnail, file
        return [_media(component.get("media") or component.get("file") or {})]
    line = Text()
    _control(line, component)
    return [line] if line else []


def _media(media: dict) -> Text:
    url = str(media.get("url") or "")
    return Text(f"🖼  {url.removeprefix('attachment://')}", style="cyan")


def _control(line: Text, component: dict) -> None:
    kind = component.get("type")
    if kind == 2:  # button
        emoji = (component.get("emoji") or {}).get("name") or ""
        label = " ".join(part for part in (emoji, component.get("label") or "") if part)
        style = "dim strike" if component.get("disabled") else "bold cyan"
        line.append(f"[ {label} ]", style=style)
        if component.get("url"):
            line.append(f" {component['url']}", style="dim")
        line.append(" ")
    elif kind in (3, 5, 6, 7, 8):  # menus
        line.append(f"▾ {component.get('placeholder') or 'Choose'}: ", style="bold cyan")
        options = component.get("options") or []
        line.append(" · ".join(option.get("label", "") for option in options) or "(members)")


def choices_view(option: str, choices: list[dict]) -> Text:
    text = Text(f"{option}: ", style="bold")
    if not choices:
        text.append("no suggestions", style="dim")
    for index, choice in enumerate(choices):
        if index:
            text.append("  ·  ", style="dim")
        text.append(str(choice.get("name")), style="cyan")
        if str(choice.get("value")) != str(choice.get("name")):
            text.append(f" ({choice.get('value')})", style="dim")
    return text


def modal_view(modal: dict) -> Panel:
    """A form: each field's id (what `submit` takes), label and current value."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold cyan")
    grid.add_column()
    grid.add_column(style="dim")
    for control in modal_inputs(modal):
        grid.add_row(control["custom_id"], control.get("label") or "", control.get("value") or "")
    hint = Text("Fill it in with: submit field:value field:value …", style="dim")
    return Panel(Group(grid, hint), title=f"Form: {modal.get('title', '')}", border_style="cyan")


def modal_inputs(modal: dict) -> list[dict]:
    """The text inputs and menus of a modal, in classic rows or in labels."""
    found = []
    for row in modal.get("components") or []:
        children = row.get("components") or ([row["component"]] if row.get("component") else [])
        for child in children:
            if child.get("custom_id"):
                found.append({**child, "label": child.get("label") or row.get("label")})
    return found
