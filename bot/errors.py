"""Domain errors: raised by services and checks, turned into ephemeral replies in one place."""

from __future__ import annotations

from collections.abc import Sequence


class StackupError(Exception):
    """An error whose message is safe and useful to show the member who caused it."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UnknownTool(StackupError):
    def __init__(self, query: str, suggestions: Sequence[str] = ()) -> None:
        self.query = query
        self.suggestions = tuple(suggestions)
        shown = query if len(query) <= 80 else query[:79] + "…"
        text = f"No tool called “{shown}” in the catalog."
        if self.suggestions:
            text += " Did you mean " + ", ".join(f"**{s}**" for s in self.suggestions) + "?"
        super().__init__(text)


class NotAllowed(StackupError):
    pass


class InvalidInput(StackupError):
    pass
