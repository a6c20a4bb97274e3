"""Pros and cons vote charts, drawn in a worker process so the bot's event loop keeps running.

matplotlib holds the GIL while it draws, so a thread would stall the loop as surely as drawing
inline would; a separate process does not. Workers are spawned, never forked: forking a process
that runs an asyncio loop and threads copies their locks in whatever state they happen to be in.
Nothing here imports discord or the database, so a worker starts with only what it draws with.
A spawned worker does import the program's main module again, so the entry point that starts the
bot must sit under `if __name__ == "__main__":` (the `stackup` script and bot/cli.py do).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
import multiprocessing
import os
import re
import signal
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.text import Text
    from matplotlib.transforms import Transform

log = logging.getLogger(__name__)

Result = TypeVar("Result")

FIGURE_WIDTH_INCHES = 8.0
DPI = 100
HEADER_INCHES = 0.8
TOOL_BASE_INCHES = 0.9
ROW_INCHES = 0.32
BAR_THICKNESS_INCHES = 0.23
TOOL_NAME_INCHES = 0.4
MARGIN_INCHES = 0.15
LABEL_GAP_INCHES = 0.1
COUNT_GAP_INCHES = 0.05
# Even 28 of the widest glyphs fit in half the width; the cap leaves the bars the other half
# whatever a label's font fallback does.
MAX_LABEL_COLUMN_INCHES = FIGURE_WIDTH_INCHES / 2
LABEL_LIMIT = 28
TOOL_NAME_LIMIT = 60
TITLE_LIMIT = 70
LABEL_POINTS = 9
PRO_COLOUR = "#2b9348"
CON_COLOUR = "#d62828"
TEXT_COLOUR = "#212529"
MUTED_COLOUR = "#6c757d"
# Room beyond the longest bar for its count, as a share of the longest bar.
COUNT_ROOM = 0.2
# A cold worker imports matplotlib and loads fonts before its first task; a slow machine may
# need a few seconds for that, which a chart's own timeout does not allow for.
WARM_UP_TIMEOUT_SECONDS = 30.0
# A palette is plenty for flat bars and anti-aliased text, and makes the PNG a third the size.
PALETTE_COLOURS = 96


@dataclass(frozen=True)
class ChartBar:
    label: str
    value: int


@dataclass(frozen=True)
class ToolChart:
    name: str
    pros: tuple[ChartBar, ...]
    cons: tuple[ChartBar, ...]


@dataclass(frozen=True)
class ChartSpec:
    title: str
    tools: tuple[ToolChart, ...]


def _shorten(text: str, limit: int) -> str:
    """One line at most `limit` characters: a newline in a label would overlap the next bar."""
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[:limit].rstrip() + "…"


def _tool_height_inches(tool: ToolChart) -> float:
    return TOOL_BASE_INCHES + ROW_INCHES * (len(tool.pros) + len(tool.cons))


def render_pros_cons_png(spec: ChartSpec) -> bytes:
    """Pure: the PNG bytes. Runs in the worker process.

    Figure and FigureCanvasAgg rather than pyplot: pyplot keeps every figure in global state
    until it is closed and may pick a GUI backend. matplotlib is imported here, not at the top,
    so the bot process, which only hands specs to workers, never pays for importing it.
    """
    import matplotlib
    from PIL import Image

    if not spec.tools:
        raise ValueError("a chart needs at least one tool")
    for tool in spec.tools:
        if any(bar.value < 0 for bar in tool.pros + tool.cons):
            raise ValueError(f"negative vote count for {tool.name!r}: it would point the wrong way")

    # Unhinted glyphs look as good at this size and draw a quarter faster. rc_context changes
    # a process-wide setting while it lasts, which is fine in a worker that draws one chart
    # at a time.
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        canvas = _draw(spec)
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    palette = image.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    # Light compression: stronger costs more milliseconds than the kilobytes it saves are worth.
    palette.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw(spec: ChartSpec) -> FigureCanvasAgg:
    """The chart drawn on an Agg canvas.

    Bars and texts go straight on the figure, placed in inches, instead of in one Axes per
    tool under tight_layout: each tool still gets its own scale, and the chart draws in half
    the time, because Axes, tick labels and tight_layout measure every text several times.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import Affine2D

    height = HEADER_INCHES + sum(_tool_height_inches(tool) for tool in spec.tools)
    figure = Figure(figsize=(FIGURE_WIDTH_INCHES, height), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    # Inches from the top left corner, the way the layout is read.
    chart = _Chart(figure, Affine2D().scale(1, -1).translate(0, height) + figure.dpi_scale_trans)
    middle = FIGURE_WIDTH_INCHES / 2

    chart.text(middle, 0.3, _shorten(spec.title, TITLE_LIMIT), ha="center", size=13, weight="bold")
    chart.text(middle - 0.08, 0.6, "◀ Cons (votes)", ha="right", color=CON_COLOUR, weight="bold")
    chart.text(middle + 0.08, 0.6, "Pros (votes) ▶", color=PRO_COLOUR, weight="bold")

    # Measuring the labels fills matplotlib's text metrics cache, so drawing them later
    # measures nothing twice.
    labels = [
        [
            chart.text(0, 0, _shorten(bar.label, LABEL_LIMIT), ha="right")
            for bar in tool.pros + tool.cons
        ]
        for tool in spec.tools
    ]
    renderer = canvas.get_renderer()
    widest = max(
        (label.get_window_extent(renderer).width / DPI for row in labels for label in row),
        default=0.0,
    )
    label_right = MARGIN_INCHES + min(widest, MAX_LABEL_COLUMN_INCHES)
    columns = _Columns(
        label_right=label_right,
        bars_left=label_right + LABEL_GAP_INCHES,
        bars_right=FIGURE_WIDTH_INCHES - MARGIN_INCHES,
    )

    top = HEADER_INCHES
    for tool, tool_labels in zip(spec.tools, labels, strict=True):
        chart.text(
            MARGIN_INCHES, top + 0.22, _shorten(tool.name, TOOL_NAME_LIMIT), size=11, weight="bold"
        )
        if tool_labels:
            chart.tool(tool, tool_labels, top + TOOL_NAME_INCHES, columns)
        else:
            chart.text(middle, top + 0.55, "No votes yet", ha="center", size=10, color=MUTED_COLOUR)
        top += _tool_height_inches(tool)

    canvas.draw()
    return canvas


@dataclass(frozen=True)
class _Columns:
    """Where labels end and bars may go, in inches from the left: the same for every tool."""

    label_right: float
    bars_left: float
    bars_right: float


class _Chart:
    """Draws on a figure in inches from its top left corner."""

    def __init__(self, figure: Figure, inches: Transform) -> None:
        self._figure = figure
        self._inches = inches

    def text(self, x: float, y: float, text: str, **style: Any) -> Text:
        style.setdefault("size", LABEL_POINTS)
        style.setdefault("color", TEXT_COLOUR)
        style.setdefault("va", "center")
        # Labels are user text: "$5 a month" must not turn into TeX-like math.
        return self._figure.text(x, y, text, transform=self._inches, parse_math=False, **style)

    def tool(self, tool: ToolChart, labels: list[Text], top: float, columns: _Columns) -> None:
        """Pros to the right of a zero line and cons to its left, so the balance shows at a glance.

        Both sides share one scale, and each reaches only as far as its longest bar plus room
        for the count, so a tool with few cons does not leave half its width empty.
        """
        from matplotlib.lines import Line2D
        from matplotlib.patches import Rectangle

        longest_pro = max((bar.value for bar in tool.pros), default=0)
        longest_con = max((bar.value for bar in tool.cons), default=0)
        room = COUNT_ROOM * max(longest_pro, longest_con, 1)
        span = columns.bars_right - columns.bars_left
        inches_per_vote = span / (longest_pro + longest_con + 2 * room)
        zero = columns.bars_left + (longest_con + room) * inches_per_vote

        rows = [(bar, 1) for bar in tool.pros] + [(bar, -1) for bar in tool.cons]
        # Set half a row apart, the cons read as a group of their own.
        gap = ROW_INCHES / 2 if tool.pros and tool.cons else 0.0
        for index, ((bar, side), label) in enumerate(zip(rows, labels, strict=True)):
            centre = top + ROW_INCHES * (index + 0.5) + (gap if side < 0 else 0.0)
            length = bar.value * inches_per_vote
            self._figure.add_artist(
                Rectangle(
                    (zero if side > 0 else zero - length, centre - BAR_THICKNESS_INCHES / 2),
                    length,
                    BAR_THICKNESS_INCHES,
                    transform=self._inches,
                    facecolor=PRO_COLOUR if side > 0 else CON_COLOUR,
                    linewidth=0,
                )
            )
            label.set_position((columns.label_right, centre))
            count_x = zero + side * (length + COUNT_GAP_INCHES)
            self.text(count_x, centre, f"{bar.value:,}", ha="left" if side > 0 else "right")
        bottom = top + ROW_INCHES * len(rows) + gap
        self._figure.add_artist(
            Line2D([zero, zero], [top, bottom], transform=self._inches, color=TEXT_COLOUR, lw=0.8)
        )


def _worker_pid() -> int:
    return os.getpid()


def _prepare_worker() -> None:
    """Warm the worker up so the first real chart does not pay for imports and font loading.

    The process is the pool's alone, so process-wide settings are fine here. Ctrl-C reaches
    every process in the terminal's group; the bot decides how to shut down, so the worker
    ignores it instead of dying and breaking the pool. A failed warm-up is ignored: raising
    here would break the pool on every attempt, while the real render reports the problem to
    the bot with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # An emoji in a label draws as a box; a warning per chart would only flood the log.
    warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font")
    warm_up = ChartSpec(
        title="warm-up",
        tools=(ToolChart("warm-up", (ChartBar("pro", 1),), (ChartBar("con", 1),)),),
    )
    with contextlib.suppress(Exception):
        render_pros_cons_png(warm_up)


class ChartRenderer:
    """Renders charts in worker processes; a chart that cannot be drawn is None, never an error.

    A chart only decorates a reply, so every rendering problem is logged and answered with None,
    and the caller sends its text without the picture.
    """

    def __init__(self, workers: int = 1, *, timeout_seconds: float = 5.0) -> None:
        if workers < 0:
            raise ValueError("workers must be 0 (charts off) or more")
        self._workers = workers
        self._timeout_seconds = timeout_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._warm_pool: ProcessPoolExecutor | None = None
        self._closed = False

    @property
    def enabled(self) -> bool:
        return self._workers > 0

    async def start(self) -> None:
        """Start the workers and wait for their warm-up, so the first chart a user asks for is fast.

        Without start() the first render starts the pool itself and pays for the warm-up (half
        a second to a second) inside its own timeout. Two overlapping calls only warm up twice,
        which is why there is no lock: an asyncio.Lock would tie the renderer to one event
        loop, and tests share one renderer across many.
        """
        if not self.enabled or self._closed:
            return
        pool = self._ensure_pool()
        if pool is self._warm_pool:
            return
        # The pool spawns a worker per task while none is idle, so one task each starts all.
        pids = await asyncio.gather(
            *(
                self._run(_worker_pid, timeout_seconds=WARM_UP_TIMEOUT_SECONDS)
                for _ in range(self._workers)
            )
        )
        if None not in pids and self._pool is pool:
            self._warm_pool = pool

    async def render(self, spec: ChartSpec) -> bytes | None:
        return await self._run(render_pros_cons_png, spec)

    async def close(self) -> None:
        """Stop the workers; the wait happens in a thread so the loop keeps serving meanwhile.

        Waiting (rather than shutdown(wait=False)) means no worker outlives the bot. Queued
        charts are cancelled, so the wait is at most the one chart each worker is drawing.
        """
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    async def _run(
        self,
        function: Callable[..., Result],
        *args: object,
        timeout_seconds: float | None = None,
    ) -> Result | None:
        """`function(*args)` in a worker, or None with a warning when that does not work out.

        Any picklable module-level function goes, which lets tests submit their own
        (a slow one, one that kills its worker) through the same guards as render().
        """
        if not self.enabled:
            return None
        if self._closed:
            log.warning("A chart was asked for after the renderer closed; sending no chart")
            return None
        timeout = self._timeout_seconds if timeout_seconds is None else timeout_seconds
        pool = self._ensure_pool()
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            # The worker cannot be stopped mid-chart; it finishes, and queued charts follow.
            log.warning("Chart rendering took longer than %g s; sending no chart", timeout)
        except BrokenProcessPool:
            log.warning("A chart worker died; the next chart starts a new one", exc_info=True)
            self._discard(pool)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if task is not None and task.cancelling():
                raise
            # Not our caller being cancelled: close() cancelled the queued chart.
            log.warning("Chart rendering was cancelled because the renderer closed")
        except Exception:
            log.warning("Chart rendering failed; sending no chart", exc_info=True)
        return None

    def _ensure_pool(self) -> ProcessPoolExecutor:
        """The pool, made on first use; no process starts until a task is submitted."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_prepare_worker,
            )
        return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        """Forget a broken pool so the next chart builds a new one; shutting it down cannot block."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)
