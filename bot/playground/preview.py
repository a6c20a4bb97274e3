"""`stackup playground`: simcord's browser preview of the demo server on 127.0.0.1. Slash
commands with autocomplete, buttons, menus, forms and reactions run the real bot there; the
page switches between the demo's members. It runs until Ctrl-C (or the page's End button).
"""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from bot.playground.session import playground
from bot.playground.world import label


async def run_preview(console: Console, *, channel: str | None = None, port: int = 0) -> int:
    async with playground() as pg:
        world = pg.world
        assert world is not None
        shown = world.find_channel(channel) if channel else world.general
        # Every member may be picked on the page; the first is who it opens as.
        viewers = list(world.members.values())
        async with pg.env.preview(shown, viewers=viewers, layout="channel", port=port) as page:
            console.print(
                Text(f"Playground preview of {label(shown)}, open in a browser:", style="bold")
            )
            # On a line of its own and never wrapped, so it can be copied (or read) whole.
            console.print(page.url, soft_wrap=True, markup=False)
            others = ", ".join(label(ch) for ch in world.channels() if ch.id != shown.id)
            console.print(
                Text(
                    f"The page shows one channel and switches members; "
                    f"--channel NAME shows another ({others}). Ctrl-C stops.",
                    style="dim",
                )
            )
            await page.wait_closed()
    return 0
