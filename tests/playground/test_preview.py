"""`stackup playground` (the default): simcord's browser preview on 127.0.0.1, its URL printed;
the page answers with HTML; Ctrl-C ends it cleanly."""

from __future__ import annotations

import urllib.request

import pexpect

from tests.playground.conftest import START_TIMEOUT, stackup_command


def test_the_preview_serves_its_page_until_ctrl_c(playground_env, tmp_path):
    command, *args = stackup_command()
    child = pexpect.spawn(
        command,
        [*args, "playground"],
        cwd=str(tmp_path),
        env=playground_env,
        dimensions=(50, 160),
        encoding="utf-8",
        timeout=120,
    )
    try:
        child.expect(r"http://127\.0\.0\.1:\d+/#[A-Za-z0-9_-]+", timeout=START_TIMEOUT)
        url = child.after
        child.expect("Ctrl-C stops")
        with urllib.request.urlopen(url, timeout=60) as response:
            status = response.status
            kind = response.headers.get_content_type()
            page = response.read().decode()
        child.sendintr()
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert status == 200
    assert kind == "text/html"
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert child.exitstatus == 0
