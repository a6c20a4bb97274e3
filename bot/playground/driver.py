"""Runs parsed lines against the playground: as the current member, in the current channel,
through simcord's actors (so permissions, visibility and Discord's rules apply as in Discord).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import discord
from rich.console import Console
from rich.table import Table
from rich.text import Text
from simcord.actors import MemberActor
from simcord.backend.errors import BackendError, SetupError
from simcord.backend.models import Message
from simcord.builders import ChannelHandle
from simcord.results import InteractionResult, to_discord_message

from bot.playground import commands as c
from bot.playground.render import modal_inputs
from bot.playground.session import SETTLE_SECONDS, Playground
from bot.playground.transcript import Transcript
from bot.playground.world import ADMIN, DemoWorld, label

HELP = (
    (
        "/command name:value …",
        "a slash command as typed in Discord; end a value with ? for suggestions",
    ),
    ("as NAME", "act as another member"),
    ("go WHERE", "move to a channel or thread (its name), or to a message's channel (its number)"),
    ("channels", "list the channels and threads"),
    ("react EMOJI [MESSAGE]", "react to a message (its number, or last)"),
    ("unreact EMOJI [MESSAGE]", "take a reaction back"),
    ("click LABEL [MESSAGE]", "press a button (on the newest message that has it)"),
    ("choose OPTION [MESSAGE]", "pick an option in a menu"),
    ("submit field:value …", "fill in and send the form the bot showed you"),
    ("say TEXT", "send a plain message in the current channel"),
    ("wait DURATION", "move the bot's clock (7d, 36h, 90m): idle posts, reminders, digests"),
    ("help [/command]", "this list, or a command's options"),
    ("quit", "leave the playground"),
)


class LineError(Exception):
    """A line that failed: it could not be parsed, or Discord would not let the member do it."""


class Driver:
    def __init__(self, pg: Playground, console: Console, transcript: Transcript) -> None:
        assert pg.world is not None
        self.pg = pg
        self.world: DemoWorld = pg.world
        self.console = console
        self.transcript = transcript
        self.member = ADMIN
        self.channel: ChannelHandle = self.world.general
        self.form: tuple[str, InteractionResult] | None = None
        tree = pg.bot.tree.get_commands(type=discord.AppCommandType.chat_input)
        self.specs = c.specs_from_tree(tree)

    @property
    def actor(self) -> MemberActor:
        return self.world.members[self.member]

    def prompt(self) -> str:
        return f"{self.member} {label(self.channel)}> "

    async def run_line(self, line: str) -> bool:
        """Runs one line; False when it asks to quit. Raises LineError."""
        try:
            command = c.parse_line(line, self.specs)
            if command is None:
                return True
            if isinstance(command, c.Quit):
                return False
            await self._run(command)
        except (c.ParseError, LookupError) as exc:
            raise LineError(str(exc)) from None
        except (SetupError, BackendError) as exc:
            raise LineError(f"Discord would not let {self.member} do that: {exc}") from None
        return True

    async def _run(self, command: c.Command) -> None:
        handlers: dict[type, Callable[..., Awaitable[None]]] = {
            c.Slash: self._slash,
            c.SwitchMember: self._switch,
            c.Go: self._go,
            c.Channels: self._channels,
            c.React: self._react,
            c.Click: self._click,
            c.Choose: self._choose,
            c.Submit: self._submit,
            c.Say: self._say,
            c.Wait: self._wait,
            c.Help: self._help,
        }
        await handlers[type(command)](command)

    # -- slash commands and forms ------------------------------------------------------------

    async def _slash(self, command: c.Slash) -> None:
        spec = self.specs[command.path]
        values: dict[str, object] = {}
        for name, raw in command.options.items():
            option = spec.option(name)
            assert option is not None
            values[name] = raw if name == command.complete else self._value(option, raw)
        actor, channel = self.actor, self.channel
        if command.complete is not None:
            typed = values.pop(command.complete)
            choices = await actor.autocomplete(
                channel, command.path, command.complete, typed, **values
            )
            self.transcript.show_choices(command.complete, choices)
            return
        result = await self._interaction(lambda: actor.slash(channel, command.path, **values))
        self._answered(result)

    def _value(self, option: c.OptionSpec, raw: str) -> object:
        value = c.convert_value(option, raw)
        if not isinstance(value, c.EntityName):
            return value
        if value.kind == "member":
            return self.world.member(value.name)
        if value.kind == "role":
            roles = {name.casefold(): role for name, role in self.world.roles.items()}
            if value.name.casefold() not in roles:
                raise LookupError(f"no role {value.name}: roles are {', '.join(self.world.roles)}")
            return roles[value.name.casefold()]
        return self.world.find_channel(value.name)

    async def _submit(self, command: c.Submit) -> None:
        if self.form is None or self.form[0] != self.member:
            raise LookupError(f"{self.member} has no form open: a command or button opens one")
        _, shown = self.form
        modal = shown.modal or {}
        controls = form_fields(modal)
        # What the form came filled with stays unless the line changes it, as in Discord.
        values = {
            control["custom_id"]: control["value"]
            for control in modal_inputs(modal)
            if control.get("value")
        }
        for key, value in command.values.items():
            custom_id = controls.get(key.casefold())
            if custom_id is None:
                raise LookupError(
                    f"the form has no field {key}: its fields are {', '.join(sorted(set(controls.values())))}"
                )
            values[custom_id] = value
        actor = self.actor
        result = await self._interaction(lambda: actor.submit_modal(shown, values))
        self.form = None
        self._answered(result)

    def _answered(self, result: InteractionResult | None) -> None:
        self.transcript.show_result(result, self.member)
        if result is not None and result.modal is not None:
            self.form = (self.member, result)

    async def _interaction(
        self, act: Callable[[], Awaitable[InteractionResult]]
    ) -> InteractionResult | None:
        """Runs it. simcord stops waiting after a few seconds (so that a debounced edit is
        not waited for); if the bot is still busy then (a loaded machine), wait longer and
        find the interaction's record in the simulated Discord, as the verb would have."""
        backend = self.pg.env.backend
        before = set(backend.interactions)
        try:
            return await act()
        except TimeoutError:
            await self.pg.env.settle(timeout=SETTLE_SECONDS)
            started = [key for key in backend.interactions if key not in before]
            if not started:
                return None
            return InteractionResult(self.pg.env, backend.interactions[max(started)])

    # -- reactions and components -------------------------------------------------------------

    async def _react(self, command: c.React) -> None:
        message = self._discord_message(self.transcript.message(command.message))
        if command.remove:
            await self.actor.unreact(message, command.emoji)
        else:
            await self.actor.react(message, command.emoji)

    async def _click(self, command: c.Click) -> None:
        message, button = self._find_component(command.label, command.message, find_button)
        actor = self.actor
        result = await self._interaction(
            lambda: actor.click(self._discord_message(message), custom_id=button["custom_id"])
        )
        self._answered(result)

    async def _choose(self, command: c.Choose) -> None:
        message, (menu, value) = self._find_component(command.option, command.message, find_option)
        actor = self.actor
        result = await self._interaction(
            lambda: actor.select(
                self._discord_message(message), [value], custom_id=menu["custom_id"]
            )
        )
        self._answered(result)

    def _find_component(self, wanted: str, number: int | None, find: Callable) -> tuple:
        """In the numbered message, or else the newest message that has it."""
        candidates = (
            [self.transcript.message(number)]
            if number is not None
            else self.transcript.newest_first()
        )
        for message in candidates:
            found = find(message.components, wanted)
            if found is not None:
                return message, found
        where = f"message #{number}" if number is not None else "any message shown"
        raise LookupError(f"no “{wanted}” in {where}")

    def _discord_message(self, message: Message) -> discord.Message:
        return to_discord_message(self.pg.env, message)

    # -- members, places, time ----------------------------------------------------------------

    async def _switch(self, command: c.SwitchMember) -> None:
        self.member = self.world.member(command.name).name
        self.console.print(Text(f"You are {self.member} now.", style="dim"))

    async def _go(self, command: c.Go) -> None:
        if c.MESSAGE_REF.match(command.where):
            message = self.transcript.message(c.parse_message_ref(command.where))
            self.channel = self._channel_by_id(message.channel_id)
        else:
            self.channel = self.world.find_channel(command.where)
        self.console.print(Text(f"In {label(self.channel)} now.", style="dim"))

    def _channel_by_id(self, channel_id: int) -> ChannelHandle:
        for channel in self.world.channels():
            if channel.id == channel_id:
                return channel
        raise LookupError("that message is not in a channel of the server (a DM?)")

    async def _channels(self, _command: c.Channels) -> None:
        for channel in self.world.channels():
            marker = "→ " if channel.id == self.channel.id else "  "
            self.console.print(Text(f"{marker}{label(channel)}"))

    async def _say(self, command: c.Say) -> None:
        await self.actor.send(self.channel, command.text)

    async def _wait(self, command: c.Wait) -> None:
        await self.pg.advance(command.seconds)
        now = self.pg.now()
        later = c.describe_duration(command.seconds)
        self.console.print(
            Text(f"⏩ {later} later: {now:%A %d %B %Y, %H:%M} UTC", style="bold yellow")
        )

    async def _help(self, command: c.Help) -> None:
        if command.topic:
            self.console.print(command_help(self.specs, command.topic))
            return
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan")
        table.add_column()
        for usage, what in HELP:
            table.add_row(Text(usage), Text(what))
        self.console.print(table)
        commands = "  ".join(f"/{path}" for path in self.specs)
        self.console.print(Text(f"Commands: {commands}", style="dim"))


def command_help(specs: dict[str, c.CommandSpec], topic: str) -> Table | Text:
    spec = specs.get(topic.strip().lstrip("/").casefold())
    if spec is None:
        return Text(f"no command /{topic}: type help for the list", style="red")
    table = Table(title=Text(f"/{spec.path}: {spec.description}"), title_justify="left", box=None)
    table.add_column("option", style="bold cyan")
    table.add_column("")
    for option in spec.options:
        what = option.description + (" (required)" if option.required else "")
        if option.choices:
            what += ": " + ", ".join(name for name, _ in option.choices)
        table.add_row(Text(f"{option.name}:"), Text(what))
    return table


def form_fields(modal: dict) -> dict[str, str]:
    """A form's fields by custom id and by label (both lower case), to their custom ids."""
    found = {}
    for control in modal_inputs(modal):
        found[control["custom_id"].casefold()] = control["custom_id"]
        if control.get("label"):
            found[control["label"].casefold()] = control["custom_id"]
    return found


def _walk(rows: list[dict]) -> list[dict]:
    found = []
    for row in rows:
        found.append(row)
        for key in ("components", "accessory"):
            child = row.get(key)
            if isinstance(child, list):
                found.extend(_walk(child))
            elif isinstance(child, dict):
                found.extend(_walk([child]))
    return found


def find_button(rows: list[dict], wanted: str) -> dict | None:
    """An enabled button whose label (with or without its emoji) is `wanted`, any case."""
    target = wanted.strip().casefold()
    for component in _walk(rows):
        if (
            component.get("type") != 2
            or component.get("disabled")
            or not component.get("custom_id")
        ):
            continue
        text = (component.get("label") or "").casefold()
        emoji = ((component.get("emoji") or {}).get("name") or "").casefold()
        if target in (text, emoji, f"{emoji} {text}".strip()):
            return component
    return None


def find_option(rows: list[dict], wanted: str) -> tuple[dict, str] | None:
    """A menu holding an option labelled (or valued) `wanted`, and that option's value."""
    target = wanted.strip().casefold()
    for component in _walk(rows):
        if component.get("type") != 3 or component.get("disabled"):
            continue
        for option in component.get("options") or []:
            if target in (
                str(option.get("label", "")).casefold(),
                str(option.get("value", "")).casefold(),
            ):
                return component, option["value"]
    return None
