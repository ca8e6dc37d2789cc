"""Every shell block the documents mark as runnable runs, as written, in a scratch folder.

A block is runnable when the line before its fence is `<!-- runnable -->` (invisible on GitHub):

    <!-- runnable -->
    ```sh
    zhoubao init
    ```

It runs under `bash -euo pipefail` with the installed `zhoubao` first on PATH, none of the developer's own
settings in the environment, and a free PORT. Blocks that need Docker, systemd or a platform account stay
unmarked; everything a reader can run on a laptop should be marked.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PATIENCE

ROOT = Path(__file__).resolve().parent.parent
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MARKER = "<!-- runnable -->"
_BLOCK = re.compile(r"^" + re.escape(MARKER) + r"\n```(?:sh|bash|shell)\n(.*?)^```$", re.M | re.S)


def runnable_blocks() -> list[tuple[str, str]]:
    """(where, script) for every marked block, `where` as `file:line`."""
    found = []
    for doc in DOCUMENTS:
        text = doc.read_text(encoding="utf-8")
        for m in _BLOCK.finditer(text):
            found.append((f"{doc.relative_to(ROOT)}:{text.count(chr(10), 0, m.start()) + 1}", m.group(1)))
    return found


def test_the_marker_finds_the_blocks_and_only_shell_ones() -> None:
    wheres = [w.split(":")[0] for w, _ in runnable_blocks()]
    assert "README.md" in wheres and "docs/deploy.md" in wheres
    for doc in DOCUMENTS:
        for line in re.findall(r"^" + re.escape(MARKER) + r"\n(.*)$", doc.read_text(encoding="utf-8"), re.M):
            assert line in ("```sh", "```bash", "```shell"), f"{doc.name}: {MARKER} before {line!r}"


@pytest.mark.parametrize(("where", "script"), runnable_blocks(), ids=[w for w, _ in runnable_blocks()])
def test_a_runnable_block_runs(where: str, script: str, fresh: Path) -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    # A hang bound only: each block starts the CLI a few times, and at load 40 on two cores three starts took
    # over 10 minutes (slow, not wrong).
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=fresh, env=env, capture_output=True,
                          text=True, timeout=15 * PATIENCE)
    assert done.returncode == 0, f"{where} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    assert "Traceback" not in done.stderr, done.stderr
