"""`make pictures`: screenshots of the bot's own answers in simcord's preview, by headless
Chromium; skipped, saying why, where there is no Chromium."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from PIL import Image

from bot.playground import pictures
from tests.playground.conftest import REPO, START_TIMEOUT


def test_without_chromium_make_pictures_is_skipped_with_the_reason(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr(pictures.shutil, "which", lambda name: None)
    assert pictures.main([str(tmp_path / "pictures")]) == 0
    assert capsys.readouterr().out == (
        "make pictures: skipped: no Chromium on this machine (Debian: apt install chromium).\n"
    )
    assert not (tmp_path / "pictures").exists()


def test_every_readme_picture_is_one_make_pictures_takes():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = {picture.name for picture, _ in pictures.SCENES}
    linked = set(re.findall(r"\]\(docs/pictures/([\w-]+)\.png\)", readme))
    assert linked == shown


@pytest.mark.skipif(pictures.chromium() is None, reason="no Chromium on this machine")
def test_make_pictures_screenshots_the_compare_answer(playground_env, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "bot.playground.pictures", str(tmp_path), "compare"],
        env=playground_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"{tmp_path / 'compare.png'}: /compare express flask koa\n"
    with Image.open(tmp_path / "compare.png") as image:
        assert image.format == "PNG"
        assert image.width == pictures.WIDTH
        # Trimmed to the answer, and not to nothing: the page drew the message.
        assert 300 < image.height < 3200
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 100
