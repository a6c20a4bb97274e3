"""The verdict's votes chart, drawn for real: one bar pair per recommendation on one scale,
wide enough to read at the width Discord shows it."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.charts import VOTES_DPI, VOTES_WIDTH_INCHES, VoteRow, VotesChartSpec, render_votes_png


def test_a_votes_chart_is_a_png_as_wide_as_planned_and_grows_with_its_rows():
    three = VotesChartSpec(
        rows=(
            VoteRow("Flask", 3, 0, chosen=True),
            VoteRow("FastAPI", 2, 1),
            VoteRow("Django", 1, 1),
        )
    )
    ten = VotesChartSpec(rows=tuple(VoteRow(f"Tool {n}", n, 10 - n) for n in range(10)))
    small = Image.open(io.BytesIO(render_votes_png(three)))
    tall = Image.open(io.BytesIO(render_votes_png(ten)))
    assert small.format == "PNG"
    assert small.width == tall.width == VOTES_WIDTH_INCHES * VOTES_DPI
    assert small.height < tall.height
    # Shown at about 400 pixels wide, ten rows still fit a preview without a scroll.
    assert tall.height * 400 / tall.width < 400


# An emoji in a label draws as a box (the worker silences that warning; here it is expected).
@pytest.mark.filterwarnings("ignore:Glyph .* missing from font")
def test_a_votes_chart_draws_whatever_members_wrote_and_no_votes_at_all():
    rows = (
        VoteRow("$5 a month " + "x" * 200, 0, 0),
        VoteRow("line\nbreak 👍", 1_000_000, 0),
        VoteRow("", 0, 7),
    )
    assert render_votes_png(VotesChartSpec(rows=rows)).startswith(b"\x89PNG")
    assert render_votes_png(VotesChartSpec(rows=rows, up_label="up", down_label="down"))


@pytest.mark.parametrize("rows", [(), (VoteRow("Flask", -1, 0),), (VoteRow("Flask", 0, -2),)])
def test_a_votes_chart_refuses_no_rows_and_negative_counts(rows):
    with pytest.raises(ValueError):
        render_votes_png(VotesChartSpec(rows=rows))


async def test_the_renderer_draws_a_votes_chart_in_its_worker(chart_renderer):
    png = await chart_renderer.render_votes(VotesChartSpec(rows=(VoteRow("Flask", 1, 0),)))
    assert png is not None and png.startswith(b"\x89PNG")
