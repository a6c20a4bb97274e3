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
    return _palette_png(canvas)


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


# ---------------------------------------------------------------- the verdict's votes chart

UP_EMOJI = "👍"
DOWN_EMOJI = "👎"
# Drawn at 800 pixels and shown by Discord at about 400: 9 points are then still 12 pixels.
VOTES_WIDTH_INCHES = 4.0
VOTES_DPI = 200
VOTES_HEADER_INCHES = 0.4
VOTES_ROW_INCHES = 0.3
VOTES_BAR_INCHES = 0.2
VOTES_MARGIN_INCHES = 0.1
VOTES_COUNT_INCHES = 0.32  # beyond the longest bar on each side, for its count
VOTES_ICON_INCHES = 0.22
VOTES_LABEL_LIMIT = 18
VOTES_LABEL_COLUMN_INCHES = 1.5
CHOSEN_BAND_COLOUR = "#e9f5ec"
# A thumb in a unit square, y up: the cuff, then the hand with its raised thumb. Drawn rather
# than typed: matplotlib draws no colour emoji, and hosts seldom have an emoji font at all.
_CUFF = ((0.0, 0.0), (0.22, 0.0), (0.22, 0.58), (0.0, 0.58))
_HAND = (
    (0.3, 0.0),
    (0.3, 0.58),
    (0.46, 0.72),
    (0.5, 0.97),
    (0.6, 1.0),
    (0.67, 0.92),
    (0.64, 0.62),
    (0.93, 0.62),
    (1.0, 0.53),
    (0.9, 0.05),
    (0.82, 0.0),
)


@dataclass(frozen=True)
class VoteRow:
    label: str
    up: int
    down: int
    chosen: bool = False


@dataclass(frozen=True)
class VotesChartSpec:
    """One row per recommendation: its 👎 left of a zero line every row shares, its 👍 right."""

    rows: tuple[VoteRow, ...]
    down_label: str = DOWN_EMOJI
    up_label: str = UP_EMOJI


def render_votes_png(spec: VotesChartSpec) -> bytes:
    """Pure: the PNG bytes. Runs in the worker process."""
    import matplotlib

    if not spec.rows:
        raise ValueError("a votes chart needs at least one row")
    if any(row.up < 0 or row.down < 0 for row in spec.rows):
        raise ValueError("negative vote count: it would point the wrong way")
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        canvas = _draw_votes(spec)
    return _palette_png(canvas)


def _palette_png(canvas: FigureCanvasAgg) -> bytes:
    from PIL import Image

    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba())
    palette = image.convert("RGB").quantize(PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE)
    buffer = io.BytesIO()
    # Light compression: stronger costs more milliseconds than the kilobytes it saves are worth.
    palette.save(buffer, format="PNG", compress_level=1)
    return buffer.getvalue()


def _draw_votes(spec: VotesChartSpec) -> FigureCanvasAgg:
    """Labels in a column on the left, then one scale for every row: what a bar's length
    means is the same all the way down, so the rows compare at a glance."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import Affine2D

    rows = spec.rows
    height = VOTES_HEADER_INCHES + VOTES_ROW_INCHES * len(rows) + VOTES_MARGIN_INCHES
    figure = Figure(figsize=(VOTES_WIDTH_INCHES, height), dpi=VOTES_DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    inches = Affine2D().scale(1, -1).translate(0, height) + figure.dpi_scale_trans
    labels = [
        _votes_text(figure, inches, 0, 0, _shorten(row.label, VOTES_LABEL_LIMIT), ha="right")
        for row in rows
    ]
    renderer = canvas.get_renderer()
    widest = max(label.get_window_extent(renderer).width / VOTES_DPI for label in labels)
    label_right = VOTES_MARGIN_INCHES + min(widest, VOTES_LABEL_COLUMN_INCHES)
    bars_left = label_right + VOTES_MARGIN_INCHES + VOTES_COUNT_INCHES
    span = VOTES_WIDTH_INCHES - VOTES_MARGIN_INCHES - VOTES_COUNT_INCHES - bars_left
    most_down = max(row.down for row in rows)
    per_vote = span / max(most_down + max(row.up for row in rows), 1)
    zero = bars_left + most_down * per_vote

    _votes_header(figure, inches, spec, zero)
    for index, (row, label) in enumerate(zip(rows, labels, strict=True)):
        centre = VOTES_HEADER_INCHES + VOTES_ROW_INCHES * (index + 0.5)
        label.set_position((label_right, centre))
        if row.chosen:
            label.set_fontweight("bold")
        _votes_row(figure, inches, row, centre, zero, per_vote)
    _votes_zero_line(figure, inches, zero, height - VOTES_MARGIN_INCHES)
    canvas.draw()
    return canvas


def _votes_text(
    figure: Figure, inches: Transform, x: float, y: float, text: str, **style: Any
) -> Text:
    style.setdefault("size", LABEL_POINTS)
    style.setdefault("color", TEXT_COLOUR)
    style.setdefault("va", "center")
    # Labels are user text: "$5 a month" must not turn into TeX-like math.
    return figure.text(x, y, text, transform=inches, parse_math=False, **style)


def _votes_header(figure: Figure, inches: Transform, spec: VotesChartSpec, zero: float) -> None:
    """👎 just left of the zero line and 👍 just right of it, over the bars they name."""
    middle = VOTES_HEADER_INCHES / 2
    gap = VOTES_MARGIN_INCHES / 2
    for label, side, colour in ((spec.down_label, -1, CON_COLOUR), (spec.up_label, 1, PRO_COLOUR)):
        x = zero + side * gap if side > 0 else zero - gap - VOTES_ICON_INCHES
        if label in (UP_EMOJI, DOWN_EMOJI):
            _thumb(figure, inches, x, middle, up=label == UP_EMOJI, colour=colour)
        else:
            ha = "left" if side > 0 else "right"
            _votes_text(figure, inches, zero + side * gap, middle, label, ha=ha, color=colour)


def _thumb(
    figure: Figure, inches: Transform, left: float, middle: float, *, up: bool, colour: str
) -> None:
    from matplotlib.patches import Polygon

    size = VOTES_ICON_INCHES
    bottom = middle + size / 2
    for shape in (_CUFF, _HAND):
        points = [(left + u * size, bottom - (v if up else 1 - v) * size) for u, v in shape]
        figure.add_artist(
            Polygon(points, closed=True, transform=inches, facecolor=colour, linewidth=0)
        )


def _votes_row(
    figure: Figure, inches: Transform, row: VoteRow, centre: float, zero: float, per_vote: float
) -> None:
    from matplotlib.patches import Rectangle

    if row.chosen:
        band = (VOTES_MARGIN_INCHES / 2, centre - VOTES_ROW_INCHES / 2)
        width = VOTES_WIDTH_INCHES - VOTES_MARGIN_INCHES
        figure.add_artist(
            Rectangle(
                band,
                width,
                VOTES_ROW_INCHES,
                transform=inches,
                facecolor=CHOSEN_BAND_COLOUR,
                linewidth=0,
            )
        )
    for count, side, colour in ((row.down, -1, CON_COLOUR), (row.up, 1, PRO_COLOUR)):
        length = count * per_vote
        left = zero if side > 0 else zero - length
        figure.add_artist(
            Rectangle(
                (left, centre - VOTES_BAR_INCHES / 2),
                length,
                VOTES_BAR_INCHES,
                transform=inches,
                facecolor=colour,
                linewidth=0,
            )
        )
        x = zero + side * (length + COUNT_GAP_INCHES)
        _votes_text(figure, inches, x, centre, f"{count:,}", ha="left" if side > 0 else "right")


def _votes_zero_line(figure: Figure, inches: Transform, zero: float, bottom: float) -> None:
    from matplotlib.lines import Line2D

    top = VOTES_HEADER_INCHES
    figure.add_artist(
        Line2D([zero, zero], [top, bottom], transform=inches, color=TEXT_COLOUR, lw=0.8)
    )


# ---------------------------------------------------------------- the comparison's chart

# Drawn 800 pixels wide and shown by Discord in about 400 x 300: 4 inches at 200 dpi, so a
# point here is about what it reads as there.
COMPARE_WIDTH_INCHES = 4.0
COMPARE_DPI = 200
COMPARE_MARGIN_INCHES = 0.12
COMPARE_GAP_INCHES = 0.22
COMPARE_HEADER_INCHES = 0.27
COMPARE_TOOL_INCHES = 0.23
COMPARE_ROW_INCHES = 0.245
COMPARE_TOOL_GAP_INCHES = 0.04
COMPARE_BAR_INCHES = 0.065
COMPARE_LABEL_POINTS = 8.5
COMPARE_LABEL_LIMIT = 26
TRACK_COLOUR = "#e9ecef"


@dataclass(frozen=True)
class ComparisonChartSpec(ChartSpec):
    """Tools' pros and cons on one scale: a bar `scale` votes long fills its column, whichever
    tool it belongs to, so 381 votes and 10 never draw the same bar."""

    scale: int


@dataclass(frozen=True)
class _Ink:
    """Draws on a figure in inches from its top left corner."""

    figure: Figure
    inches: Transform

    def text(self, x: float, y: float, text: str, **style: Any) -> Text:
        style.setdefault("size", COMPARE_LABEL_POINTS)
        style.setdefault("color", TEXT_COLOUR)
        style.setdefault("va", "center")
        # Labels are user text: "$5 a month" must not turn into TeX-like math.
        return self.figure.text(x, y, text, transform=self.inches, parse_math=False, **style)


def render_comparison_png(spec: ComparisonChartSpec) -> bytes:
    """Pure: the PNG bytes. Runs in the worker process."""
    import matplotlib

    if not spec.tools:
        raise ValueError("a chart needs at least one tool")
    values = [bar.value for tool in spec.tools for bar in tool.pros + tool.cons]
    if any(value < 0 for value in values):
        raise ValueError("negative vote count: a bar cannot be shorter than none")
    if spec.scale < max(values, default=0) or spec.scale < 1:
        raise ValueError("the scale must reach the longest bar")
    with matplotlib.rc_context({"text.hinting": "no_hinting"}):
        canvas = _draw_comparison(spec)
    return _palette_png(canvas)


def _comparison_rows(tool: ToolChart) -> int:
    return max(len(tool.pros), len(tool.cons), 1)


def _comparison_height_inches(spec: ChartSpec) -> float:
    return COMPARE_HEADER_INCHES + sum(
        COMPARE_TOOL_INCHES + COMPARE_ROW_INCHES * _comparison_rows(tool) + COMPARE_TOOL_GAP_INCHES
        for tool in spec.tools
    )


def _draw_comparison(spec: ComparisonChartSpec) -> FigureCanvasAgg:
    """Pros in the left column and cons in the right, a block per tool; each row is a label
    with its count, over a bar on a grey track the scale's length, so a short bar shows how
    far it is from the longest one."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.transforms import Affine2D

    height = _comparison_height_inches(spec)
    figure = Figure(figsize=(COMPARE_WIDTH_INCHES, height), dpi=COMPARE_DPI, facecolor="white")
    canvas = FigureCanvasAgg(figure)
    chart = _Ink(figure, Affine2D().scale(1, -1).translate(0, height) + figure.dpi_scale_trans)
    column = (COMPARE_WIDTH_INCHES - 2 * COMPARE_MARGIN_INCHES - COMPARE_GAP_INCHES) / 2
    lefts = (COMPARE_MARGIN_INCHES, COMPARE_MARGIN_INCHES + column + COMPARE_GAP_INCHES)
    headers = (("Top pros", PRO_COLOUR), ("Top cons", CON_COLOUR))
    for left, (title, colour) in zip(lefts, headers, strict=True):
        chart.text(left, COMPARE_HEADER_INCHES / 2, title, size=9.5, weight="bold", color=colour)
    renderer = canvas.get_renderer()
    top = COMPARE_HEADER_INCHES
    for tool in spec.tools:
        _comparison_tool(chart, renderer, tool, top, lefts, column, spec.scale)
        top += COMPARE_TOOL_INCHES + COMPARE_ROW_INCHES * _comparison_rows(tool)
        top += COMPARE_TOOL_GAP_INCHES
    canvas.draw()
    return canvas


def _comparison_tool(
    chart: _Ink,
    renderer: Any,
    tool: ToolChart,
    top: float,
    lefts: tuple[float, float],
    column: float,
    scale: int,
) -> None:
    """The tool's name across both columns, then its pros and its cons side by side."""
    from matplotlib.lines import Line2D

    right = COMPARE_WIDTH_INCHES - COMPARE_MARGIN_INCHES
    chart.figure.add_artist(
        Line2D([lefts[0], right], [top, top], transform=chart.inches, color=TRACK_COLOUR, lw=1)
    )
    name = _shorten(tool.name, TOOL_NAME_LIMIT)
    chart.text(lefts[0], top + COMPARE_TOOL_INCHES / 2 + 0.01, name, size=9.5, weight="bold")
    rows_top = top + COMPARE_TOOL_INCHES
    for left, bars, colour, kind in (
        (lefts[0], tool.pros, PRO_COLOUR, "pros"),
        (lefts[1], tool.cons, CON_COLOUR, "cons"),
    ):
        if not bars:
            middle = rows_top + COMPARE_ROW_INCHES * 0.35
            chart.text(left, middle, f"No {kind} yet", color=MUTED_COLOUR)
        for index, bar in enumerate(bars):
            row_top = rows_top + COMPARE_ROW_INCHES * index
            _comparison_row(chart, renderer, bar, row_top, left, column, scale, colour)


def _comparison_row(
    chart: _Ink,
    renderer: Any,
    bar: ChartBar,
    top: float,
    left: float,
    column: float,
    scale: int,
    colour: str,
) -> None:
    from matplotlib.patches import Rectangle

    middle = top + COMPARE_ROW_INCHES * 0.35
    count = chart.text(left + column, middle, f"{bar.value:,}", ha="right")
    room = column - count.get_window_extent(renderer).width / COMPARE_DPI - 0.06
    label = chart.text(left, middle, "")
    _fit_label(label, renderer, bar.label, room)
    bar_top = top + COMPARE_ROW_INCHES * 0.62
    for length, fill in ((column, TRACK_COLOUR), (column * bar.value / scale, colour)):
        chart.figure.add_artist(
            Rectangle(
                (left, bar_top),
                length,
                COMPARE_BAR_INCHES,
                transform=chart.inches,
                facecolor=fill,
                linewidth=0,
            )
        )


def _fit_label(label: Text, renderer: Any, text: str, room: float) -> None:
    """The label, shortened until it leaves its count room: wide glyphs (W, CJK) take more
    than the character limit allows for."""
    limit = COMPARE_LABEL_LIMIT
    while True:
        label.set_text(_shorten(text, limit))
        if limit <= 4 or label.get_window_extent(renderer).width / COMPARE_DPI <= room:
            return
        limit -= 2


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

    async def render_votes(self, spec: VotesChartSpec) -> bytes | None:
        return await self._run(render_votes_png, spec)

    async def render_comparison(self, spec: ComparisonChartSpec) -> bytes | None:
        return await self._run(render_comparison_png, spec)

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
