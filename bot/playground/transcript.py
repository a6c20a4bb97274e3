"""What the bot says, printed as it happens: every message Stackup sends or edits anywhere
(channels, forum posts, threads, DMs) gets a short number the first time it is shown, and
answers only one member sees are shown marked as such. Files (charts) are saved as they come.

It listens to the simulated Discord itself (simcord's backend announces every public message
it stores), so messages sent by scheduled work or a debounced edit show up too.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from simcord.backend.models import Message
from simcord.env import Env
from simcord.results import InteractionResult, ResponseMessage

from bot.playground.render import Names, Shown, choices_view, message_view, modal_view

LOADING = 1 << 7  # "Stackup is thinking…": shown once the answer replaces it
DM_TYPES = (1, 3)
THREAD_TYPES = (10, 11, 12)


@dataclass
class Entry:
    number: int
    channel_id: int
    message_id: int
    printed: str = ""  # what was last shown, to print an edit only when something changed
    files: tuple[str, ...] = ()


class Transcript:
    def __init__(self, env: Env, console: Console, files: Path) -> None:
        self.env = env
        self.console = console
        self.files = files
        self.entries: dict[int, Entry] = {}
        self.by_number: dict[int, Entry] = {}

    def attach(self) -> None:
        self.env.backend.subscribers.append(self._on_event)

    def detach(self) -> None:
        if self._on_event in self.env.backend.subscribers:
            self.env.backend.subscribers.remove(self._on_event)

    def _on_event(self, event: str, payload: Mapping[str, Any]) -> None:
        if event not in ("MESSAGE_CREATE", "MESSAGE_UPDATE"):
            return
        if int(payload["author"]["id"]) != self.env.backend.bot_user.id:
            return
        if int(payload.get("flags") or 0) & LOADING:
            return
        backend = self.env.backend
        message = backend.messages.get(int(payload["channel_id"]), {}).get(int(payload["id"]))
        if message is not None:
            self.show(message)

    # -- numbering -------------------------------------------------------------------------

    def register(self, message: Message) -> Entry:
        """The message's number, given now if it has none."""
        entry = self.entries.get(message.id)
        if entry is None:
            entry = Entry(len(self.by_number) + 1, message.channel_id, message.id)
            self.entries[message.id] = entry
            self.by_number[entry.number] = entry
        return entry

    def message(self, number: int | None) -> Message:
        """The stored message with that number (None: the last one shown)."""
        if not self.by_number:
            raise LookupError("no message has been shown yet")
        entry = self.by_number.get(number if number is not None else max(self.by_number))
        if entry is None:
            raise LookupError(f"no message #{number}: numbers go from 1 to {len(self.by_number)}")
        found = self.env.backend.messages.get(entry.channel_id, {}).get(entry.message_id)
        if found is None:
            raise LookupError(f"message #{entry.number} was deleted")
        return found

    def newest_first(self) -> Iterator[Message]:
        for number in sorted(self.by_number, reverse=True):
            entry = self.by_number[number]
            found = self.env.backend.messages.get(entry.channel_id, {}).get(entry.message_id)
            if found is not None:
                yield found

    # -- printing --------------------------------------------------------------------------

    def show(self, message: Message, *, ephemeral_to: str | None = None) -> None:
        printed = json.dumps([message.content, message.embeds, message.components], default=str)
        entry = self.entries.get(message.id)
        if entry is not None and entry.printed == printed:
            return
        edited = entry is not None and bool(entry.printed)
        entry = self.register(message)
        entry.printed = printed
        entry.files = self._save_files(entry, message)
        names = self.names()
        shown = Shown(
            number=entry.number,
            where=self.where(message.channel_id),
            author=names.users.get(message.author_id, "?"),
            content=message.content,
            embeds=tuple(message.embeds),
            components=tuple(message.components),
            files=entry.files,
            ephemeral_to=ephemeral_to,
            edited=edited,
        )
        self.console.print(message_view(shown, names))

    def show_result(self, result: InteractionResult | None, member: str) -> None:
        """What an interaction answered: a form, or the messages only `member` sees (public
        ones are printed as they are sent)."""
        if result is None:
            return
        if result.modal is not None:
            self.console.print(modal_view(result.modal))
        answers = [result.response, *result.followups]
        for answer in answers:
            if isinstance(answer, ResponseMessage) and answer.ephemeral:
                stored = self.env.backend.messages.get(answer.channel_id, {}).get(answer.id)
                if stored is not None:
                    self.show(stored, ephemeral_to=member)
        if not result.acknowledged and result.modal is None:
            self.console.print("[red]Stackup did not answer (the interaction failed).[/red]")

    def show_choices(self, option: str, choices: list[dict]) -> None:
        self.console.print(choices_view(option, choices))

    def _save_files(self, entry: Entry, message: Message) -> tuple[str, ...]:
        saved = []
        for attachment in message.attachments:
            data = self.env.backend.cdn.get(attachment.get("url", ""))
            if data is None:
                continue
            path = self.files / f"{entry.number}-{Path(attachment.get('filename', 'file')).name}"
            path.write_bytes(data)
            saved.append(str(path))
        return tuple(saved)

    def names(self) -> Names:
        backend = self.env.backend
        roles = {
            role_id: role.name
            for guild in backend.guilds.values()
            for role_id, role in guild.roles.items()
        }
        return Names(
            users={user_id: user.name for user_id, user in backend.users.items()},
            channels={cid: channel.name or "?" for cid, channel in backend.channels.items()},
            roles=roles,
        )

    def where(self, channel_id: int) -> str:
        backend = self.env.backend
        channel = backend.channels.get(channel_id)
        if channel is None:
            return "a deleted channel"
        if channel.type in DM_TYPES:
            names = [
                backend.users[uid].name for uid in channel.recipient_ids if uid in backend.users
            ]
            return "DM to " + ", ".join(names)
        if channel.type in THREAD_TYPES:
            parent = backend.channels.get(channel.parent_id or 0)
            return f"🧵 {channel.name}" + (f" in #{parent.name}" if parent is not None else "")
        return f"#{channel.name}"
