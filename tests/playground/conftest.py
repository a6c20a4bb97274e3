"""How the playground's own tests start it: the installed `stackup` command (or `python -m
bot.cli`), in a folder of their own (no developer's .env), without a token."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WALKTHROUGH = REPO / "docs" / "walkthrough.play"
# Starting takes a migration, the catalog's import and the demo's history: seconds on a quiet
# machine, more on a busy one. Waits are on output; this only bounds a hang.
START_TIMEOUT = 600


def stackup_command() -> list[str]:
    script = Path(sys.executable).with_name("stackup")
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]


@pytest.fixture
def playground_env(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key != "DISCORD_TOKEN"}
    env.update({"COLUMNS": "160", "LINES": "50", "TERM": "xterm-256color", "PYTHONUNBUFFERED": "1"})
    # The project on the path even where it is not installed (`python -m bot.cli`).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env
