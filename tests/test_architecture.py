"""Dependencies point one way: the pure core imports no database or platform SDK, and nothing wires at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_hold() -> None:
    """import-linter's contracts (pyproject.toml): layers, a pure domain, independent adapters, no cycles."""
    lint = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout, done.stdout


def test_no_module_level_engine_app_or_environment() -> None:
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "storage").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in ("create_engine", "App", "Environment", "BackgroundScheduler", "make_engine"), \
                    f"{path.relative_to(ROOT)} builds {name} at import"
