"""Dependencies point one way: the pure core imports no database or platform SDK, and nothing wires at import."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PURE = ["bot/weeks.py", "bot/replies.py", "bot/incidents.py", "bot/compile.py", "bot/report.py", "bot/render.py",
        "bot/i18n.py", "bot/messages.py", "bot/team.py", "storage/facts.py"]
FORBIDDEN = ("sqlalchemy", "slack_bolt", "slack_sdk", "lark_oapi", "alembic")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_pure_core_imports_no_database_or_platform() -> None:
    for rel in PURE:
        bad = [n for n in _imports(ROOT / rel) if n.split(".")[0] in FORBIDDEN]
        # storage.* is allowed only for the plain facts module
        bad += [n for n in _imports(ROOT / rel) if n.startswith("storage") and n != "storage.facts"]
        assert not bad, f"{rel} imports {bad}"


def test_no_module_level_engine_app_or_environment() -> None:
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "storage").glob("*.py")]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                func = node.value.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in ("create_engine", "App", "Environment", "BackgroundScheduler", "make_engine"), \
                    f"{path.relative_to(ROOT)} builds {name} at import"
