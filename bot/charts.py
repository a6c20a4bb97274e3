"""Pros and cons vote charts, drawn in a worker process so the bot's event loop keeps running.

matplotlib holds the GIL while it draws, so a thread would stall the loop as surely as drawing
inline would; a separate process does not. Workers are spawned, never forked: forking a process
that runs an asyncio loop and threads copies their locks in whatever state they happen to be in.
Nothing here imports discord or the database, so a worker starts with only what it draws with.
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
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

Result = TypeVar("Result")

FIGURE_WIDTH_INCHES = 8.0
TOOL_HEIGHT_INCHES = 0.9
BAR_HEIGHT_INCHES = 0.32
HEADER_HEIGHT_INCHES = 0.8
TOOL_TITLE_INCHES = 0.4
TOOL_GAP_INCHES = 0.2
MARGIN_INCHES = 0.15
LABEL_GAP_INCHES = 0.08
COUNT_GAP_INCHES = 0.04
LABEL_POINTS = 9
DPI = 100
LABEL_LIMIT = 28
TOOL_NAME_LIMIT = 60
TITLE_LIMIT = 80
PRO_COLOUR = "#2b9348"
CON_COLOUR = "#d62828"
MUTED_COLOUR = "#6c757d"
# Room beyond the longest bar for its count, as a share of the longest bar.
COUNT_ROOM = 0.2
# Blank space between the last pro and the first con, in bar slots.
GROUP_GAP = 0.5


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
    return TOOL_HEIGHT_INCHES + BAR_HEIGHT_INCHES * (len(tool.pros) + len(tool.cons))


def render_pros_cons_png(spec: ChartSpec) -> bytes:
    """Pure: the PNG bytes. Runs in the worker process.

    Figure and FigureCanvasAgg rather than pyplot: pyplot keeps every figure in global state
    until closed and may pick a GUI backend. matplotlib is imported here, not at the top, so
    the bot process, which only hands specs to workers, never pays for importing it.

    The layout is computed here in inches instead of with tight_layout, and texts stand in for
    tick labels: tight_layout and tick labels measure every text several times, which tripled
    the time of a five-tool chart.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties

    if not spec.tools:
        raise ValueError("a chart needs at least one tool")
    for tool in spec.tools:
        if any(bar.value < 0 for bar in tool.pros + tool.cons):
            raise ValueError(f"negative vote count for {tool.name!r}: it would point the wrong way")

    figure_height = HEADER_HEIGHT_INCHES + sum(_tool_height_inches(tool) for tool in spec.tools)
    figure = Figure(figsize=(FIGURE_WIDTH_INCHES, figure_height), dpi=DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    labels = [
        [_shorten(bar.label, LABEL_LIMIT) for bar in tool.pros + tool.cons] for tool in spec.tools
    ]
    renderer = canvas.get_renderer()
    label_font = FontProperties(size=LABEL_POINTS)
    widest_label = max(
        (
            renderer.get_text_width_height_descent(label, label_font, ismath=False)[0]
            for tool_labels in labels
            for label in tool_labels
        ),
        default=0.0,
    )

    def from_top(inches: float) -> float:
        return 1 - inches / figure_height

    figure.text(
        0.5,
        from_top(0.3),
        _shorten(spec.title, TITLE_LIMIT),
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        parse_math=False,
    )
    figure.text(
        0.495,
        from_top(0.58),
        "◀ Cons (votes)",
        ha="right",
        va="center",
        fontsize=9,
        color=CON_COLOUR,
        fontweight="bold",
    )
    figure.text(
        0.505,
        from_top(0.58),
        "Pros (votes) ▶",
        ha="left",
        va="center",
        fontsize=9,
        color=PRO_COLOUR,
        fontweight="bold",
    )

    margin = MARGIN_INCHES / FIGURE_WIDTH_INCHES
    axes_left = margin + (widest_label / DPI + LABEL_GAP_INCHES) / FIGURE_WIDTH_INCHES
    top = HEADER_HEIGHT_INCHES
    for tool, tool_labels in zip(spec.tools, labels, strict=True):
        height = _tool_height_inches(tool)
        figure.text(
            margin,
            from_top(top + 0.22),
            _shorten(tool.name, TOOL_NAME_LIMIT),
            ha="left",
            va="center",
            fontsize=11,
            fontweight="bold",
            parse_math=False,
        )
        bars_top = top + TOOL_TITLE_INCHES
        bars_height = height - TOOL_TITLE_INCHES - TOOL_GAP_INCHES
        if tool_labels:
            ax = figure.add_axes(
                (
                    axes_left,
                    from_top(bars_top + bars_height),
                    1 - margin - axes_left,
                    bars_height / figure_height,
                )
            )
            _draw_tool(ax, tool, tool_labels)
        else:
            figure.text(
                0.5,
                from_top(bars_top + bars_height / 2),
                "No votes yet",
                ha="center",
                va="center",
                fontsize=10,
                color=MUTED_COLOUR,
            )
        top += height

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _draw_tool(ax: Axes, tool: ToolChart, labels: list[str]) -> None:
    """Pros to the right and cons to the left of one zero line, so the balance shows at a glance."""
    from matplotlib.transforms import ScaledTranslation, blended_transform_factory

    ax.set_axis_off()
    bars = tool.pros + tool.cons
    positions = [
        *range(len(tool.pros)),
        *(len(tool.pros) + GROUP_GAP + i for i in range(len(tool.cons))),
    ]
    values = [bar.value for bar in tool.pros] + [-bar.value for bar in tool.cons]
    colours = [PRO_COLOUR] * len(tool.pros) + [CON_COLOUR] * len(tool.cons)
    ax.barh(positions, values, height=0.72, color=colours)
    ax.axvline(0, color="#343a40", linewidth=0.8)

    # Each side reaches its longest bar plus room for the count, on one scale for both sides.
    longest = max(max(bar.value for bar in bars), 1)
    room = COUNT_ROOM * longest
    ax.set_xlim(
        -(max((bar.value for bar in tool.cons), default=0) + room),
        max((bar.value for bar in tool.pros), default=0) + room,
    )
    ax.set_ylim(positions[-1] + 0.6, -0.6)

    figure = ax.get_figure()
    points = figure.dpi_scale_trans
    beside_axes = blended_transform_factory(ax.transAxes, ax.transData) + ScaledTranslation(
        -LABEL_GAP_INCHES, 0, points
    )
    right_of_bar = ax.transData + ScaledTranslation(COUNT_GAP_INCHES, 0, points)
    left_of_bar = ax.transData + ScaledTranslation(-COUNT_GAP_INCHES, 0, points)
    for position, value, label in zip(positions, values, labels, strict=True):
        ax.text(
            0,
            position,
            label,
            transform=beside_axes,
            ha="right",
            va="center",
            fontsize=LABEL_POINTS,
            parse_math=False,
        )
        ax.text(
            value,
            position,
            f"{abs(value):,}",
            transform=right_of_bar if value >= 0 else left_of_bar,
            ha="left" if value >= 0 else "right",
            va="center",
            fontsize=LABEL_POINTS,
        )


def _worker_pid() -> int:
    return os.getpid()


def _prepare_worker() -> None:
    """Warm the worker up so the first real chart does not pay for imports and font loading.

    Ctrl-C reaches every process in the terminal's group; the bot decides how to shut down, so
    the worker ignores it instead of dying and breaking the pool. A failed warm-up is ignored:
    raising here would break the pool on every attempt, while the real render reports the
    problem to the bot with a traceback.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
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
        self._start_lock = asyncio.Lock()

    @property
    def enabled(self) -> bool:
        return self._workers > 0

    async def start(self) -> None:
        """Start the workers and wait for their warm-up, so the first chart a user asks for is fast.

        Without start() the first render starts the pool itself and pays the warm-up (about a
        second) inside its own timeout.
        """
        if not self.enabled:
            return
        async with self._start_lock:
            if self._closed or (self._pool is not None and self._pool is self._warm_pool):
                return
            pool = self._ensure_pool()
            loop = asyncio.get_running_loop()
            # The pool spawns a worker per task while none is idle, so one task each starts all.
            try:
                await asyncio.gather(
                    *(loop.run_in_executor(pool, _worker_pid) for _ in range(self._workers))
                )
            except Exception:
                log.warning(
                    "Chart workers failed to start; the next chart will retry", exc_info=True
                )
                self._discard(pool)
                return
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
        if not self.enabled or self._closed:
            return None
        timeout = self._timeout_seconds if timeout_seconds is None else timeout_seconds
        pool = self._ensure_pool()
        try:
            future = asyncio.get_running_loop().run_in_executor(pool, function, *args)
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            # The worker cannot be stopped mid-chart; it finishes, and queued charts follow.
            log.warning("Chart rendering took longer than %.1f s; sending no chart", timeout)
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
