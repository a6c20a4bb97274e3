"""`make pictures`: the README's pictures, taken from the bot's own output. The playground's
demo server, a few more steps by its members, then simcord's browser preview of each answer,
screenshotted by headless Chromium (Debian's `chromium`). Nothing is drawn by hand: the
only change to a screenshot is trimming the empty page below the last message.

    python -m bot.playground.pictures docs/pictures

Without Chromium it prints why and exits 0, so `make pictures` is skipped, not failed.
"""

from __future__ import annotations

import asyncio
import shutil
import sys
import tempfile
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from simcord.builders import ChannelHandle

from bot.playground.session import Playground, playground
from bot.playground.world import UP, DemoWorld

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Flags that keep headless Chromium off the network (this machine has none) and quiet.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # The page draws after its script has fetched the session: give it virtual time to.
    "--virtual-time-budget=10000",
)
WIDTH = 1000  # a desktop client's message column, with the preview's side bar


@dataclass(frozen=True)
class Picture:
    name: str
    what: str
    height: int
    layout: str  # "message": the channel's newest message; "channel": its history


def chromium() -> str | None:
    return next((found for name in CHROMIUM_NAMES if (found := shutil.which(name))), None)


async def _compare(pg: Playground, world: DemoWorld) -> ChannelHandle:
    await world.run("bob", world.general, "compare", first="express", second="flask", third="koa")
    return world.general


async def _advice_post(pg: Playground, world: DemoWorld) -> ChannelHandle:
    assert world.open_post is not None
    return world.open_post


async def _verdict(pg: Playground, world: DemoWorld) -> ChannelHandle:
    """A post with three recommendations, voted on and closed: the verdict draws its chart
    from three recommendations on."""
    await world.run(
        "ada",
        world.general,
        "advice ask",
        title="Flask, Django or FastAPI for a REST API?",
        question="Team of three, a REST API for a mobile app, Python only.",
        tools="Flask, Django, FastAPI",
    )
    thread = sorted(world.forum.threads, key=lambda t: t.id)[-1]
    recommendations = {
        "bob": ("Flask", "Small and explicit; we shipped two APIs with it."),
        "cy": ("Django", "Batteries included: admin, ORM, auth."),
        "dee": ("FastAPI", "Typed, async, docs for free."),
    }
    messages = {}
    for who, (tool, reason) in recommendations.items():
        await world.run(who, thread, "advice recommend", tool=tool, reason=reason)
        messages[tool] = thread.history()[-1]
    for who, tool in (("cy", "Flask"), ("dee", "Flask"), ("ada", "FastAPI"), ("bob", "FastAPI")):
        await world.react(who, messages[tool], UP)
    await world.react("bob", messages["Django"], "👎")
    await world.run("ada", thread, "advice close", accepted="Flask")
    return thread


async def _digest(pg: Playground, world: DemoWorld) -> ChannelHandle:
    await pg.advance(7 * 86400)
    return world.general


SCENES: tuple[tuple[Picture, Callable[[Playground, DemoWorld], Awaitable[ChannelHandle]]], ...] = (
    (Picture("compare", "/compare express flask koa", 3200, "message"), _compare),
    (Picture("advice-post", "an open advice post", 1000, "channel"), _advice_post),
    (Picture("verdict", "a verdict with its chart", 1200, "message"), _verdict),
    (Picture("digest", "the weekly digest", 1300, "message"), _digest),
)


async def take(folder: Path, browser: str, only: Sequence[str] = ()) -> list[Path]:
    """Takes every picture (or those named in `only`) into `folder`, an absolute path to a
    folder that exists."""
    taken = []
    async with playground() as pg:
        world = pg.world
        assert world is not None
        for picture, scene in SCENES:
            if only and picture.name not in only:
                continue
            channel = await scene(pg, world)
            await pg.settle()
            path = folder / f"{picture.name}.png"
            await _screenshot(pg, world, channel, picture, path, browser)
            await asyncio.to_thread(_trim, path)
            print(f"{path}: {picture.what}")
            taken.append(path)
    return taken


async def _screenshot(
    pg: Playground,
    world: DemoWorld,
    channel: ChannelHandle,
    picture: Picture,
    path: Path,
    browser: str,
) -> None:
    viewer = world.member("ada")
    with tempfile.TemporaryDirectory(prefix="stackup-chromium-") as profile:
        async with pg.env.preview(
            channel,
            viewers=[viewer],
            layout=picture.layout,  # type: ignore[arg-type]
            display="fixed",
            width=WIDTH,
            height=picture.height,
        ) as preview:
            process = await asyncio.create_subprocess_exec(
                browser,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{picture.height}",
                f"--screenshot={path}",
                preview.url,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            if await process.wait() != 0 or not await asyncio.to_thread(path.is_file):
                raise RuntimeError(f"{browser} took no screenshot of {picture.what}")


def _trim(path: Path) -> None:
    """Cuts the rows below the last drawn one: the page's empty background."""
    from PIL import Image, ImageChops

    with Image.open(path) as image:
        rgb = image.convert("RGB")
    # The preview's own chrome (side bar, header) reaches the bottom; the message column's
    # background is what is left once the first pixel's colour is taken away from it.
    column = rgb.crop((WIDTH // 3, 0, WIDTH, rgb.height))
    background = Image.new(
        "RGB", column.size, column.getpixel((column.width - 1, column.height - 1))
    )
    box = ImageChops.difference(column, background).getbbox()
    if box is not None:
        rgb.crop((0, 0, rgb.width, min(rgb.height, box[3] + 16))).save(path, optimize=True)


def main(argv: list[str]) -> int:
    """`python -m bot.playground.pictures [FOLDER [NAME...]]`."""
    folder = (Path(argv[0]) if argv else Path("docs/pictures")).resolve()
    browser = chromium()
    if browser is None:
        print("make pictures: skipped: no Chromium on this machine (Debian: apt install chromium).")
        return 0
    folder.mkdir(parents=True, exist_ok=True)
    asyncio.run(take(folder, browser, argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
