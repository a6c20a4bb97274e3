"""Pros and cons charts: the picture itself, and the worker process that draws it off the loop."""

from __future__ import annotations

import io
import logging
import os
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from PIL import Image

from bot.charts import (
    ChartBar,
    ChartRenderer,
    ChartSpec,
    ComparisonChartSpec,
    ToolChart,
    _worker_pid,
    render_comparison_png,
    render_pros_cons_png,
)

# The shared renderer's worker lives as long as the module; its tests run on the module's loop.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

EXPRESS = ToolChart(
    "ExpressJS",
    pros=(
        ChartBar("Simple", 381),
        ChartBar("Node.js", 336),
        ChartBar("Javascript", 244),
        ChartBar("High performance", 193),
        ChartBar("Robust routing", 152),
    ),
    cons=(
        ChartBar("Not python", 27),
        ChartBar("Overrated", 17),
        ChartBar("No multithreading", 14),
        ChartBar("Javascript", 9),
        ChartBar("Not fast", 5),
    ),
)
FLASK = ToolChart(
    "Flask",
    pros=(
        ChartBar("For it flexibility", 10),
        ChartBar("Flexibilty and easy to use", 9),
        ChartBar("User friendly", 7),
        ChartBar("Secured", 6),
        ChartBar("Unopinionated", 5),
    ),
    cons=(
        ChartBar("Not JS", 10),
        ChartBar("Context", 7),
        ChartBar("Not fast", 5),
        ChartBar("Don't has many module as in spring", 1),
    ),
)
KOA = ToolChart(
    "Koa",
    pros=(ChartBar("Async/Await", 6), ChartBar("JavaScript", 5), ChartBar("REST API", 1)),
    cons=(),
)
NO_VOTES = ToolChart("Bottle", pros=(), cons=())
SEED_TRIO = ChartSpec("ExpressJS vs Flask vs Koa: pros and cons votes", (EXPRESS, FLASK, KOA))

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
RELEASE_DEADLINE_SECONDS = 30.0


def decoded_size(png: bytes) -> tuple[int, int]:
    assert png.startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(png)) as image:
        image.load()
        assert image.format == "PNG"
        return image.size


def _wait_until_released(release_file: str) -> str:
    """Runs in the worker: it cannot finish before the test creates `release_file`.

    That makes a timeout certain without the test process sleeping; the deadline only keeps a
    broken test from holding the worker forever.
    """
    deadline = time.monotonic() + RELEASE_DEADLINE_SECONDS
    while not os.path.exists(release_file):
        if time.monotonic() > deadline:
            # Not a TimeoutError: the renderer must not mistake this for its own timeout.
            raise RuntimeError(f"{release_file} was never created")
        time.sleep(0.01)
    return "released"


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def renderer() -> AsyncIterator[ChartRenderer]:
    """One warm worker for the module: spawning one and importing matplotlib takes about a second."""
    shared = ChartRenderer(workers=1, timeout_seconds=10.0)
    await shared.start()
    yield shared
    await shared.close()


def test_the_seed_trio_is_a_png_of_a_readable_size() -> None:
    png = render_pros_cons_png(SEED_TRIO)

    width, height = decoded_size(png)
    assert width == 800
    assert 600 < height < 1400
    assert len(png) < 300_000


def test_the_picture_grows_taller_with_each_tool() -> None:
    heights = [
        decoded_size(render_pros_cons_png(ChartSpec("growing", tools)))[1]
        for tools in [(KOA,), (KOA, FLASK), (KOA, FLASK, EXPRESS)]
    ]

    assert heights == sorted(heights)
    assert len(set(heights)) == 3


def test_a_tool_without_votes_still_gets_its_place() -> None:
    alone = decoded_size(render_pros_cons_png(ChartSpec("nothing yet", (NO_VOTES,))))
    with_koa = decoded_size(render_pros_cons_png(ChartSpec("one empty", (KOA, NO_VOTES))))
    koa_only = decoded_size(render_pros_cons_png(ChartSpec("koa", (KOA,))))

    assert alone == (800, 170)
    assert with_koa[1] == koa_only[1] + 90


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_long_and_awkward_labels_render() -> None:
    awkward = ToolChart(
        "A tool name far longer than anything a catalog would hold, " * 3,
        pros=(
            ChartBar("x" * 100, 3),
            ChartBar("W" * 100, 2),
            ChartBar("Costs $5 a month, or $$ with \\frac{a}{b} and ^_ in it", 1),
        ),
        cons=(ChartBar("two\nlines\tand tabs", 0), ChartBar("日本語 and emoji 🙂", 0)),
    )

    png = render_pros_cons_png(ChartSpec("$ " * 100, (awkward,)))

    assert decoded_size(png)[0] == 800


def test_five_tools_with_five_pros_and_five_cons_render() -> None:
    tools = tuple(
        ToolChart(
            f"Tool {number}",
            pros=tuple(ChartBar(f"pro {rank} of tool {number}", 500 - rank) for rank in range(5)),
            cons=tuple(ChartBar(f"con {rank} of tool {number}", 50 - rank) for rank in range(5)),
        )
        for number in range(5)
    )

    png = render_pros_cons_png(ChartSpec("five tools", tools))

    width, height = decoded_size(png)
    assert (width, height) == (800, round(100 * (0.8 + 5 * (0.9 + 0.32 * 10))))
    assert len(png) < 300_000


@pytest.mark.parametrize(
    "spec",
    [
        ChartSpec("no tools", ()),
        ChartSpec("negative", (ToolChart("Minus", (ChartBar("less than none", -1),), ()),)),
    ],
    ids=["no tools", "negative count"],
)
def test_a_chart_that_cannot_be_right_is_refused(spec: ChartSpec) -> None:
    with pytest.raises(ValueError):
        render_pros_cons_png(spec)


def _top(tool: ToolChart, count: int) -> ToolChart:
    return ToolChart(tool.name, tool.pros[:count], tool.cons[:count])


def _compared(tools: tuple[ToolChart, ...]) -> ComparisonChartSpec:
    longest = max((bar.value for t in tools for bar in (*t.pros, *t.cons)), default=1)
    return ComparisonChartSpec("StackShare votes on top pros and cons", tools, scale=longest)


# Discord shows an embed's picture in at most about 400 x 300 pixels: a picture narrower than
# 4:3 is shrunk by its height, and its text with it.
READABLE_ASPECT = 1.2


@pytest.mark.parametrize(
    ("tools", "per_side"),
    [(1, 5), (2, 4), (3, 3), (4, 2), (5, 1)],
    ids=["one tool", "two", "three", "four", "five"],
)
def test_the_comparison_chart_stays_wide_enough_to_read(tools: int, per_side: int) -> None:
    # As many bars a side as the compare renderer gives that many tools.
    drawn = tuple(_top(tool, per_side) for tool in (EXPRESS, FLASK, KOA, EXPRESS, FLASK)[:tools])

    width, height = decoded_size(render_comparison_png(_compared(drawn)))

    assert width == 800
    assert width / height >= READABLE_ASPECT
    assert height >= 300


def test_the_seed_trio_comparison_chart_is_small() -> None:
    png = render_comparison_png(_compared((_top(EXPRESS, 3), _top(FLASK, 3), KOA)))

    assert decoded_size(png) == (800, 657)
    assert len(png) < 100_000


@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_long_and_wide_labels_fit_their_column() -> None:
    awkward = ToolChart(
        "A tool name far longer than anything a catalog would hold, " * 3,
        pros=(ChartBar("W" * 100, 3), ChartBar("日本語 and emoji 🙂 " * 5, 2)),
        cons=(ChartBar("Costs $5 a month, or $$ with \\frac{a}{b}", 0),),
    )

    assert decoded_size(render_comparison_png(_compared((awkward, NO_VOTES))))[0] == 800


@pytest.mark.parametrize(
    "spec",
    [
        ComparisonChartSpec("no tools", (), scale=1),
        ComparisonChartSpec("short scale", (KOA,), scale=5),
        ComparisonChartSpec("negative", (ToolChart("M", (ChartBar("less", -1),), ()),), scale=1),
    ],
    ids=["no tools", "scale below the longest bar", "negative count"],
)
def test_a_comparison_chart_that_cannot_be_right_is_refused(spec: ComparisonChartSpec) -> None:
    with pytest.raises(ValueError):
        render_comparison_png(spec)


@in_module_loop
async def test_the_comparison_chart_is_drawn_in_the_worker(renderer: ChartRenderer) -> None:
    spec = _compared((_top(EXPRESS, 3), _top(FLASK, 3), KOA))

    png = await renderer.render_comparison(spec)

    assert png is not None
    assert decoded_size(png) == decoded_size(render_comparison_png(spec))


@in_module_loop
async def test_the_renderer_draws_in_another_process(renderer: ChartRenderer) -> None:
    png = await renderer.render(SEED_TRIO)
    worker = await renderer._run(_worker_pid)

    assert png is not None
    assert decoded_size(png) == decoded_size(render_pros_cons_png(SEED_TRIO))
    assert worker is not None
    assert worker != os.getpid()


@in_module_loop
async def test_start_twice_keeps_the_same_worker(renderer: ChartRenderer) -> None:
    before = await renderer._run(_worker_pid)
    await renderer.start()
    after = await renderer._run(_worker_pid)

    assert before is not None
    assert before == after


@in_module_loop
@pytest.mark.parametrize(
    "spec",
    [
        ChartSpec("no tools", ()),
        ChartSpec(
            "a label that cannot be pickled",
            (ToolChart("Lambda", (ChartBar(lambda: "pro", 1),), ()),),  # type: ignore[arg-type]
        ),
    ],
    ids=["worker raises", "not picklable"],
)
async def test_a_failing_chart_is_none_and_a_warning(
    renderer: ChartRenderer, spec: ChartSpec, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.charts"):
        png = await renderer.render(spec)

    assert png is None
    warnings = [record for record in caplog.records if record.name == "bot.charts"]
    assert [record.levelno for record in warnings] == [logging.WARNING]
    assert "failed" in warnings[0].getMessage()
    assert warnings[0].exc_info is not None
    assert await renderer.render(SEED_TRIO) is not None


@in_module_loop
async def test_a_slow_chart_times_out_and_the_worker_carries_on(
    renderer: ChartRenderer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    release_file = tmp_path / "release"

    with caplog.at_level(logging.WARNING, logger="bot.charts"):
        result = await renderer._run(_wait_until_released, str(release_file), timeout_seconds=0.05)
    release_file.touch()

    assert result is None
    assert any("longer than 0.05 s" in record.getMessage() for record in caplog.records)
    assert await renderer._run(_wait_until_released, str(release_file)) == "released"


async def test_no_workers_means_no_charts() -> None:
    renderer = ChartRenderer(workers=0)

    await renderer.start()
    assert renderer.enabled is False
    assert await renderer.render(SEED_TRIO) is None
    await renderer.close()


async def test_a_closed_renderer_answers_none(caplog: pytest.LogCaptureFixture) -> None:
    renderer = ChartRenderer(workers=1)
    await renderer.start()
    assert await renderer._run(_worker_pid) is not None

    await renderer.close()
    await renderer.close()

    with caplog.at_level(logging.WARNING, logger="bot.charts"):
        png = await renderer.render(SEED_TRIO)
        await renderer.start()

    assert png is None
    assert any("after the renderer closed" in record.getMessage() for record in caplog.records)
    assert renderer._pool is None


async def test_a_dead_worker_is_replaced_on_the_next_chart(
    caplog: pytest.LogCaptureFixture,
) -> None:
    renderer = ChartRenderer(workers=1)
    try:
        first = await renderer._run(_worker_pid)
        with caplog.at_level(logging.WARNING, logger="bot.charts"):
            killed = await renderer._run(os._exit, 3)
        second = await renderer._run(_worker_pid)
        png = await renderer.render(SEED_TRIO)
    finally:
        await renderer.close()

    assert first is not None
    assert killed is None
    assert any("worker died" in record.getMessage() for record in caplog.records)
    assert second is not None
    assert second != first
    assert png is not None
    assert png.startswith(PNG_SIGNATURE)
