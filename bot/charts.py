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
HEADER_HEIGHT_INCHES = 0.75
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
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    if not spec.tools:
        raise ValueError("a chart needs at least one tool")
    for tool in spec.tools:
        if any(bar.value < 0 for bar in tool.pros + tool.cons):
            raise ValueError(f"negative vote count for {tool.name!r}: it would point the wrong way")

    heights = [_tool_height_inches(tool) for tool in spec.tools]
    figure_height = HEADER_HEIGHT_INCHES + sum(heights)
    figure = Figure(figsize=(FIGURE_WIDTH_INCHES, figure_height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.subplots(
        len(spec.tools), 1, squeeze=False, gridspec_kw={"height_ratios": heights}
    )[:, 0]
    for ax, tool in zip(axes, spec.tools, strict=True):
        _draw_tool(ax, tool)

    # tight_layout ignores figure-level text, so the header gets a strip of its own.
    header_share = HEADER_HEIGHT_INCHES / figure_height
    figure.tight_layout(rect=(0, 0, 1, 1 - header_share), h_pad=1.2)
    figure.text(
        0.5,
        1 - 0.3 / figure_height,
        _shorten(spec.title, TITLE_LIMIT),
        ha="center",
        va="center",
        fontsize=13,
        fontweight="bold",
        parse_math=False,
    )
    figure.legend(
        handles=[
            Patch(color=CON_COLOUR, label="◀ Cons (votes)"),
            Patch(color=PRO_COLOUR, label="Pros (votes) ▶"),
        ],
        loc="center",
        bbox_to_anchor=(0.5, 1 - 0.58 / figure_height),
        ncols=2,
        frameon=False,
        fontsize=9,
        handlelength=1.2,
    )

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", facecolor="white")
    return buffer.getvalue()


def _draw_tool(ax: Axes, tool: ToolChart) -> None:
    """Pros to the right and cons to the left of one zero line, so the balance shows at a glance."""
    ax.set_title(
        _shorten(tool.name, TOOL_NAME_LIMIT),
        loc="left",
        fontsize=11,
        fontweight="bold",
        parse_math=False,
    )
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xticks([])
    if not tool.pros and not tool.cons:
        ax.set_yticks([])
        ax.text(
            0.5,
            0.5,
            "No votes yet",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=10,
            color=MUTED_COLOUR,
        )
        return

    bars = tool.pros + tool.cons
    positions = [
        *range(len(tool.pros)),
        *(len(tool.pros) + GROUP_GAP + i for i in range(len(tool.cons))),
    ]
    values = [bar.value for bar in tool.pros] + [-bar.value for bar in tool.cons]
    colours = [PRO_COLOUR] * len(tool.pros) + [CON_COLOUR] * len(tool.cons)
    container = ax.barh(positions, values, height=0.72, color=colours)
    ax.bar_label(container, labels=[f"{bar.value:,}" for bar in bars], padding=3, fontsize=9)
    ax.set_yticks(
        positions, [_shorten(bar.label, LABEL_LIMIT) for bar in bars], fontsize=9, parse_math=False
    )
    ax.tick_params(axis="y", length=0)
    ax.axvline(0, color="#343a40", linewidth=0.8)
    # The same reach both ways keeps the zero line in the middle of every tool's chart.
    reach = max(max((bar.value for bar in bars), default=0), 1) * (1 + COUNT_ROOM)
    ax.set_xlim(-reach, reach)
    ax.set_ylim(positions[-1] + 0.6, -0.6)


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
