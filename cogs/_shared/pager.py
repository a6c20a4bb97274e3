"""The ◀/▶ pair of buttons under a paged answer, shared by every feature that pages.

Each button is a persistent `DynamicItem` whose custom_id names the page it shows (and what
the list is), so it works on messages sent before a restart with nothing kept in memory. A
feature subclasses `PageButton` with its own template, which must capture `page`, and says
how its custom_id is written and what turning to a page does:

    class ReasonsPage(PageButton, template=r"stackup:pc:(?P<page>-?\\d{1,3}):" + IDS):
        def __init__(self, tool_ids, page, **button):
            self.tool_ids = list(tool_ids)
            super().__init__(page, **button)

        def custom_id_for(self, page, direction):
            return f"stackup:pc:{page}:{joined(self.tool_ids)}"

        @classmethod
        async def from_custom_id(cls, interaction, item, match, /):
            return cls(ids(match["ids"]), int(match["page"]))

        async def turn(self, interaction):
            await show_reasons(interaction, self.tool_ids, self.page, edit=True)

    for button in ReasonsPage.pair(tool_ids, page=page, first=0, last=len(pages) - 1):
        view.add_item(button)

The custom_ids stay each feature's own: messages already sent carry them, so changing one
would break their buttons.
"""

from __future__ import annotations

from typing import Any, Self

import discord

from cogs._shared.discord_io import guarded

PREVIOUS = "◀ Previous"
NEXT = "Next ▶"
BACK, FORWARD = "p", "n"


class PageButton(discord.ui.DynamicItem[discord.ui.Button], template=r"(?!)"):
    """One of the pair. The base template matches nothing: only subclasses are registered."""

    def __init__(
        self,
        page: int,
        *,
        direction: str = FORWARD,
        label: str = "Page",
        disabled: bool = False,
    ) -> None:
        self.page = page
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                disabled=disabled,
                custom_id=self.custom_id_for(page, direction),
            )
        )

    def custom_id_for(self, page: int, direction: str) -> str:
        """The custom_id of the button showing `page`; `direction` is `BACK` or `FORWARD`,
        for features whose ids say which of the pair a button is."""
        raise NotImplementedError

    async def turn(self, interaction: discord.Interaction) -> None:
        """Show `self.page`."""
        raise NotImplementedError

    async def callback(self, interaction: discord.Interaction) -> None:
        await guarded(interaction, self.turn(interaction))

    @classmethod
    def pair(
        cls,
        *key: Any,
        page: int,
        first: int,
        last: int,
        labels: tuple[str, str] = (PREVIOUS, NEXT),
    ) -> tuple[Self, Self]:
        """◀ and ▶ around `page` of `first`..`last`, each disabled at its end. `key` is what the
        subclass's constructor takes before the page (the list's tools, kind, …)."""
        return (
            cls(*key, page - 1, direction=BACK, label=labels[0], disabled=page <= first),
            cls(*key, page + 1, direction=FORWARD, label=labels[1], disabled=page >= last),
        )
