"""`zhoubao run` on the console (what `make run` starts) prints the dashboard's address and a sign-in link
for the team's editor; following that link in Chromium shows this week."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import PATIENCE
from tests.web.conftest import shot

ZHOUBAO = Path(sys.executable).with_name("zhoubao")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def console_run(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A real `zhoubao run` after `zhoubao init`, its stdin held open; yields (dashboard address, link)."""
    env = {**os.environ, "PORT": str(_free_port()), "DASHBOARD_SECRET": "test-secret"}
    subprocess.run([str(ZHOUBAO), "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    proc = subprocess.Popen([str(ZHOUBAO), "run"], cwd=tmp_path, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        printed: list[str] = []
        for line in proc.stderr:  # the three lines come first; reading them is the wait
            printed.append(line)
            if line.startswith("Another person:"):
                break
        text = "".join(printed)
        address = re.search(r"^Dashboard: (\S+)$", text, re.M)
        link = re.search(r"^Sign in as 张伟 \(one use, until \d\d:\d\d\): (\S+)$", text, re.M)
        assert address and link, text
        yield address.group(1), link.group(1)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()  # end of input: the console quits
        proc.wait(timeout=PATIENCE)


def test_the_link_make_run_prints_opens_this_week(console_run: tuple[str, str], page: Page) -> None:
    address, link = console_run
    assert link.startswith(address + "signin/link?token=")
    page.goto(link)
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(r"/week$"))
    expect(page.locator("#me")).to_have_text("张伟")
    expect(page.locator("#week-title")).to_contain_text("周报")
    shot(page, "make-run-link")
