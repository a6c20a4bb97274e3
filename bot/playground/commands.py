"""Lines typed at the playground's prompt (or read from a script) turned into commands.

Pure: a slash command is parsed against plain specs read once from the bot's command tree, so
the parser knows every option the bot declares and nothing is hard-coded here. Values that name
members, channels or roles stay names (`EntityName`) until the session looks them up.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from discord import app_commands


class ParseError(ValueError):
    """A line the playground cannot run; the message says what to type instead."""


# -- what the bot declares -------------------------------------------------------------------


@dataclass(frozen=True)
class OptionSpec:
    name: str
    # AppCommandOptionType's name: string, integer, number, boolean, user, channel, role,
    # mentionable, attachment.
    kind: str = "string"
    required: bool = False
    choices: tuple[tuple[str, str | int | float], ...] = ()
    autocomplete: bool = False
    description: str = ""


@dataclass(frozen=True)
class CommandSpec:
    path: str
    description: str = ""
    options: tuple[OptionSpec, ...] = ()

    def option(self, name: str) -> OptionSpec | None:
        return next((o for o in self.options if o.name == name), None)


def specs_from_tree(commands: Iterable[app_commands.Command | app_commands.Group]) -> dict:
    """Every runnable slash command by its full path ("advice ask"), from `bot.tree`'s
    top-level chat-input commands."""
    from discord import app_commands

    found: dict[str, CommandSpec] = {}
    stack = list(commands)
    while stack:
        command = stack.pop()
        if isinstance(command, app_commands.Group):
            stack.extend(command.commands)
            continue
        options = tuple(
            OptionSpec(
                name=p.name,
                kind=p.type.name,
                required=p.required,
                choices=tuple((c.name, c.value) for c in p.choices),
                autocomplete=p.autocomplete,
                description=p.description,
            )
            for p in command.parameters
        )
        found[command.qualified_name] = CommandSpec(
            command.qualified_name, command.description, options
        )
    return dict(sorted(found.items()))


# -- what a line asks for --------------------------------------------------------------------


@dataclass(frozen=True)
class Slash:
    path: str
    options: dict[str, str] = field(default_factory=dict)
    # The option whose value ended in "?": show the bot's autocomplete instead of running.
    complete: str | None = None


@dataclass(frozen=True)
class SwitchMember:
    name: str


@dataclass(frozen=True)
class Go:
    where: str


@dataclass(frozen=True)
class React:
    emoji: str
    message: int | None  # None: the last message
    remove: bool = False


@dataclass(frozen=True)
class Click:
    label: str
    message: int | None


@dataclass(frozen=True)
class Choose:
    option: str
    message: int | None


@dataclass(frozen=True)
class Submit:
    values: dict[str, str]


@dataclass(frozen=True)
class Say:
    text: str


@dataclass(frozen=True)
class Wait:
    seconds: float


@dataclass(frozen=True)
class Help:
    topic: str = ""


@dataclass(frozen=True)
class Channels:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Command = (
    Slash
    | SwitchMember
    | Go
    | React
    | Click
    | Choose
    | Submit
    | Say
    | Wait
    | Help
    | Channels
    | Quit
)


@dataclass(frozen=True)
class EntityName:
    """A member, channel or role named in an option, looked up by the session."""

    kind: str
    name: str


# -- parsing ---------------------------------------------------------------------------------


def parse_line(line: str, specs: Mapping[str, CommandSpec]) -> Command | None:
    """The command a line asks for; None for a blank line or a `#` comment."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    if text.startswith("/"):
        return parse_slash(text, specs)
    word, _, rest = text.partition(" ")
    rest = rest.strip()
    word = word.casefold()
    if word in ("quit", "exit"):
        return Quit()
    if word in ("help", "?"):
        return Help(rest.lstrip("/"))
    if word == "channels":
        return Channels()
    if word in ("react", "unreact"):
        return _parse_react(rest, remove=word == "unreact")
    if word in ("click", "choose"):
        return _parse_pick(word, rest)
    return _parse_other(word, rest, specs)


def _parse_other(word: str, rest: str, specs: Mapping[str, CommandSpec]) -> Command:
    if word == "as":
        if not rest:
            raise ParseError("as whom? For example: as bob")
        return SwitchMember(rest.lstrip("@"))
    if word == "go":
        if not rest:
            raise ParseError("go where? A channel or thread name, or a message number")
        return Go(rest)
    if word == "wait":
        return Wait(parse_duration(rest))
    if word == "say":
        if not rest:
            raise ParseError("say what?")
        return Say(rest)
    if word == "submit":
        return Submit(split_options(rest, None))
    raise ParseError(f"unknown command “{word}”: type help for the list")


MESSAGE_REF = re.compile(r"^(?:#?(\d+)|last)$", re.IGNORECASE)


def parse_message_ref(text: str) -> int | None:
    """A message number as printed (`3` or `#3`), or `last` (None)."""
    found = MESSAGE_REF.match(text.strip())
    if found is None:
        raise ParseError(f"“{text}” is not a message: use the number shown next to it, or last")
    return int(found.group(1)) if found.group(1) else None


def _split_ref(text: str) -> tuple[str, int | None]:
    """`label [message]`: a trailing number or `last` is the message, unless the label is quoted."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1], None
    head, _, tail = text.rpartition(" ")
    if head and MESSAGE_REF.match(tail):
        head = head.strip()
        if len(head) >= 2 and head[0] == head[-1] == '"':
            head = head[1:-1]
        return head, parse_message_ref(tail)
    return text, None


def _parse_react(rest: str, *, remove: bool) -> React:
    emoji, _, ref = rest.partition(" ")
    if not emoji:
        raise ParseError("react with what? For example: react 👍 3")
    return React(emoji, parse_message_ref(ref) if ref.strip() else None, remove=remove)


def _parse_pick(word: str, rest: str) -> Click | Choose:
    label, ref = _split_ref(rest)
    if not label:
        raise ParseError(f"{word} what? For example: {word} Pros & cons")
    return Click(label, ref) if word == "click" else Choose(label, ref)


def parse_slash(text: str, specs: Mapping[str, CommandSpec]) -> Slash:
    """`/advice ask title:… tools:Flask, Django`: the longest known command path, then its
    options; a value runs until the next `name:` of an option of that command."""
    words = text[1:].split()
    if not words:
        raise ParseError("a slash command needs a name: type help for the list")
    for length in range(min(3, len(words)), 0, -1):
        path = " ".join(words[:length]).casefold()
        if path in specs:
            break
    else:
        raise ParseError(_unknown_command(words, specs))
    rest = _after_words(text[1:], length)
    spec = specs[path]
    options = split_options(rest, [o.name for o in spec.options])
    complete = None
    for name, value in options.items():
        option = spec.option(name)
        if option is not None and option.autocomplete and value.endswith("?"):
            complete = name
            options[name] = value[:-1]
    if complete is None:
        missing = [o.name for o in spec.options if o.required and o.name not in options]
        if missing:
            raise ParseError(f"/{path} needs {', '.join(f'{m}:…' for m in missing)}")
    return Slash(path, options, complete)


def _after_words(text: str, count: int) -> str:
    skipped = re.match(rf"\s*(?:\S+\s*){{{count}}}", text)
    return text[skipped.end() :] if skipped else ""


def _unknown_command(words: list[str], specs: Mapping[str, CommandSpec]) -> str:
    first = words[0].casefold()
    under = [path for path in specs if path.split()[0] == first]
    if under:
        return f"/{first} needs a subcommand: " + ", ".join(f"/{p}" for p in under)
    return f"no command /{words[0]}: type help for the list"


OPTION_NAME = r"[a-z0-9_-]+"


def split_options(text: str, names: list[str] | None) -> dict[str, str]:
    """`a:1 b:two words` into {"a": "1", "b": "two words"}. With `names`, only those start an
    option (so a value may hold `word:`); without, any `word:` after a space does."""
    text = text.strip()
    if not text:
        return {}
    if names is None:
        pattern = re.compile(rf"(?:^|(?<=\s))({OPTION_NAME}):", re.IGNORECASE)
    else:
        alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
        pattern = re.compile(rf"(?:^|(?<=\s))({alternatives or '(?!)'}):", re.IGNORECASE)
    starts = list(pattern.finditer(text))
    if not starts or starts[0].start() != 0:
        head = text.split()[0]
        known = f" (options: {', '.join(names)})" if names else ""
        if names is not None and ":" in head:
            raise ParseError(f"no option “{head.split(':')[0]}”{known}")
        raise ParseError(f"expected name:value, not “{head}”{known}")
    options: dict[str, str] = {}
    for index, start in enumerate(starts):
        end = starts[index + 1].start() if index + 1 < len(starts) else len(text)
        name = start.group(1).casefold()
        if name in options:
            raise ParseError(f"{name}: is given twice")
        options[name] = text[start.end() : end].strip()
    return options


UNITS = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([wdhms])", re.IGNORECASE)


def parse_duration(text: str) -> float:
    """`7d`, `36h`, `1d12h`, `90m`, `30s`, `2w` in seconds."""
    compact = text.replace(" ", "")
    parts = DURATION.findall(compact)
    if not compact or "".join(n + u for n, u in parts) != compact:
        raise ParseError(f"wait how long? For example: wait 7d, wait 36h, wait 90m (not “{text}”)")
    return sum(float(number) * UNITS[unit.casefold()] for number, unit in parts)


def describe_duration(seconds: float) -> str:
    """`1 day 12 hours`, as a person would say how long passed."""
    parts = []
    left = round(seconds)
    for name, size in (
        ("week", UNITS["w"]),
        ("day", UNITS["d"]),
        ("hour", UNITS["h"]),
        ("minute", UNITS["m"]),
        ("second", 1),
    ):
        count, left = divmod(left, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts) or "no time"


ENTITY_KINDS = {"user": "member", "mentionable": "member", "channel": "channel", "role": "role"}
TRUE_WORDS = {"true", "yes", "y", "on", "1"}
FALSE_WORDS = {"false", "no", "n", "off", "0"}


def convert_value(option: OptionSpec, raw: str) -> str | int | float | bool | EntityName:
    """An option's typed value from its text, as Discord's client would send it."""
    if option.choices:
        for name, value in option.choices:
            if raw.casefold() in (name.casefold(), str(value).casefold()):
                return value
        names = ", ".join(name for name, _ in option.choices)
        raise ParseError(f"{option.name}: choose one of {names}")
    if option.kind in ENTITY_KINDS:
        return EntityName(ENTITY_KINDS[option.kind], raw.lstrip("@#").strip())
    if option.kind == "boolean":
        if raw.casefold() in TRUE_WORDS | FALSE_WORDS:
            return raw.casefold() in TRUE_WORDS
        raise ParseError(f"{option.name}: true or false, not “{raw}”")
    if option.kind in ("integer", "number"):
        try:
            return int(raw) if option.kind == "integer" else float(raw)
        except ValueError:
            raise ParseError(f"{option.name}: a number, not “{raw}”") from None
    if option.kind == "attachment":
        raise ParseError(f"{option.name}: files cannot be attached in the playground")
    return raw
