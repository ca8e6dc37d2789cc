"""A light start: a platform SDK is imported only when that platform is configured, and the commands that
need no platform import none (issue 18, "A light start"; docs/architecture.md).

Each check runs a fresh interpreter, since this test process has every SDK loaded already. The commands
run under `python -X importtime`, which writes one line per module the process imports, whenever it is
imported (https://docs.python.org/3/using/cmdline.html#cmdoption-X): what it never lists was never loaded.
No timings are asserted here; bench/startup.py measures them.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from storage.db import make_engine, upgrade
from tests.conftest import EXAMPLE_TEAM

ZHOUBAO = Path(sys.executable).with_name("zhoubao")
GOLDEN = Path(__file__).parent / "golden" / "report_2024-W26.zh-CN.md"
PLATFORM_SDKS = ("lark_oapi", "slack_bolt", "slack_sdk")
# A subprocess only fails these tests by what it imports or how it ends, never by how long it takes.
DEADLINE = 600
# `import time: <self us> | <cumulative us> | <indent><module>` (the header line names no module).
_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", re.M)


# Commands that read or file a team's weeks build the read side (bot/runtime/store.py: a context and the week's
# reports), not the running bot: none of its jobs, inbox, journal or console session is imported.
READ_SIDE_COMMANDS = ("report", "export", "import", "dashboard")
RUNNING_BOT = ("bot.services.bot", "bot.services.cycle", "bot.services.inbox", "bot.services.journal",
               "bot.services.commands", "bot.adapters.console.workspace", "bot.runtime.composition")


def _database(folder: Path) -> str:
    return f"sqlite:///{folder}/light.db"


def _env(folder: Path, **more: str) -> dict[str, str]:
    """The environment without any deployment variable of the test run, so only `more` configures a platform."""
    settings = ("SLACK_", "FEISHU_", "DATABASE_URL", "TEAM_FILE", "DASHBOARD_", "SPOOL_DIR", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(settings)}
    return {**env, "DATABASE_URL": _database(folder), "TEAM_FILE": str(folder / "team.yaml"),
            "DASHBOARD_SECRET": "light-start", **more}


def _top_packages(importtime: str) -> set[str]:
    return {name.split(".")[0] for name in _IMPORTED.findall(importtime)}


@pytest.fixture
def team_dir(tmp_path: Path) -> Path:
    """The example team and its migrated database (doctor only reads: it would fail on a missing one)."""
    (tmp_path / "team.yaml").write_text(EXAMPLE_TEAM.read_text(encoding="utf-8"), encoding="utf-8")
    engine = make_engine(_database(tmp_path))
    upgrade(engine)
    engine.dispose()
    return tmp_path


@pytest.mark.parametrize("args", [
    ["--help"],
    ["report", "--week", "2024-W26", "--format", "md"],
    ["export", "--from", "2024-W26", "--to", "2024-W26", "--format", "csv"],
    ["import", "--dry-run", str(GOLDEN)],
    ["dashboard", "link", "--as", "zhangwei"],
    ["doctor"],
], ids=["help", "report", "export", "import", "dashboard-link", "doctor"])
def test_a_command_that_needs_no_platform_imports_no_platform_sdk(team_dir: Path, args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-X", "importtime", str(ZHOUBAO), *args], cwd=team_dir,
                          env=_env(team_dir), capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    loaded = _top_packages(done.stderr)
    assert {"typer", "pydantic"} <= loaded  # the import log was read: the command's own imports are in it
    assert not loaded & set(PLATFORM_SDKS), f"zhoubao {' '.join(args)} imported {sorted(loaded & set(PLATFORM_SDKS))}"
    if args[0] in READ_SIDE_COMMANDS:
        modules = set(_IMPORTED.findall(done.stderr))
        assert "bot.services.week_report" in modules or args[0] == "dashboard"
        assert not modules & set(RUNNING_BOT), f"zhoubao {' '.join(args)} imported {sorted(modules & set(RUNNING_BOT))}"
    if args[0] == "dashboard":  # a link is signed from the team file and the secret: no database is opened
        assert "sqlalchemy" not in loaded


# Builds the whole `zhoubao run` process for the configured platform without starting it (so without any
# network: Slack over HTTP with Bolt's token check off, Feishu over HTTP with its bot id given), then says
# which platform was built and which of the SDKs named as arguments this interpreter loaded.
_BUILD = """
import json, sys
from bot.runtime.composition import Overrides, compose
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team

settings = Settings()
runtime = compose(settings, load_team(settings.team_file),
                  overrides=Overrides(feishu_bot_open_id="ou_light_start"))
runtime.bot.engine.dispose()
print(json.dumps({"platform": type(runtime.platform).__name__,
                  "loaded": sorted(m for m in sys.argv[1:] if m in sys.modules)}))
"""


@pytest.mark.parametrize(("platform", "env", "expected"), [
    ("SlackParts", {"SLACK_BOT_TOKEN": "xoxb-light", "SLACK_SIGNING_SECRET": "s"}, ["slack_bolt", "slack_sdk"]),
    ("FeishuParts", {"FEISHU_APP_ID": "cli_light", "FEISHU_APP_SECRET": "s", "FEISHU_EVENT_MODE": "http",
                     "FEISHU_VERIFICATION_TOKEN": "v", "FEISHU_ENCRYPT_KEY": "k"}, ["lark_oapi"]),
    ("ConsoleParts", {}, []),
], ids=["slack", "feishu", "console"])
def test_a_runtime_imports_only_its_own_platforms_sdk(team_dir: Path, platform: str, env: dict[str, str],
                                                      expected: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", _BUILD, *PLATFORM_SDKS], cwd=team_dir, env=_env(team_dir, **env),
                          capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    built = json.loads(done.stdout.strip().splitlines()[-1])
    assert built == {"platform": platform, "loaded": expected}


# The dashboard's platform sign-in (Authlib's OAuth client over httpx, about 15 MB) is built only when a
# platform sign-in is configured; the one-time link needs none of it.
SIGNIN_STACK = ("authlib", "httpx", "joserfc")


@pytest.mark.parametrize(("env", "expected"), [
    ({}, []),
    ({"DASHBOARD_SLACK_CLIENT_ID": "1.2", "DASHBOARD_SLACK_CLIENT_SECRET": "s"}, list(SIGNIN_STACK)),
], ids=["one-time-link-only", "slack-signin"])
def test_the_dashboard_loads_the_oauth_stack_only_for_a_platform_sign_in(team_dir: Path, env: dict[str, str],
                                                                        expected: list[str]) -> None:
    done = subprocess.run([sys.executable, "-c", _BUILD, *SIGNIN_STACK], cwd=team_dir, env=_env(team_dir, **env),
                          capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"platform": "ConsoleParts", "loaded": expected}


# lark-oapi's package `__init__` imports all of its 10,624 modules (about 174 MB); a Feishu runtime loads
# only the modules it uses (bot/adapters/feishu/sdk.py): the long connection adds lark-oapi's event
# processors and their event models, the HTTP callback not even those.
_LARK_MODULES = """
import json, sys
from bot.runtime.composition import Overrides, compose
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team

settings = Settings()
runtime = compose(settings, load_team(settings.team_file),
                  overrides=Overrides(feishu_bot_open_id="ou_light_start"))
runtime.bot.engine.dispose()
loaded = [m for m in sys.modules if m == "lark_oapi" or m.startswith("lark_oapi.")]
print(json.dumps({"modules": len(loaded), "api": "lark_oapi.api.im.v1.resource" in sys.modules}))
"""


@pytest.mark.parametrize(("mode", "at_most"), [("http", 100), ("ws", 1000)])
def test_a_feishu_runtime_loads_only_the_lark_oapi_modules_it_uses(team_dir: Path, mode: str, at_most: int) -> None:
    env = {"FEISHU_APP_ID": "cli_light", "FEISHU_APP_SECRET": "s", "FEISHU_EVENT_MODE": mode,
           "FEISHU_VERIFICATION_TOKEN": "v", "FEISHU_ENCRYPT_KEY": "k"}
    done = subprocess.run([sys.executable, "-c", _LARK_MODULES], cwd=team_dir, env=_env(team_dir, **env),
                          capture_output=True, text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert 0 < loaded["modules"] <= at_most, loaded
    assert loaded["api"] is False  # the API's request models (im.v1's resource) were not imported


# The `zhoubao` script turns automatic garbage collection off while a command starts, and the command's
# builders turn it back on with what start-up built frozen (bot/runtime/heap.py); bench/startup.py has the
# time it saves. In a fresh interpreter, as the script runs it:
_HEAP = """
import gc, json, sys
from bot.runtime.heap import started, starting
starting()
off = not gc.isenabled()
import bot.runtime.cli  # what every command imports before it is parsed
started()
print(json.dumps({"off_while_starting": off, "on_after": gc.isenabled(), "frozen": gc.get_freeze_count()}))
"""


def test_collection_is_off_while_a_command_starts_and_on_with_start_up_frozen_after(team_dir: Path) -> None:
    done = subprocess.run([sys.executable, "-c", _HEAP], cwd=team_dir, env=_env(team_dir), capture_output=True,
                          text=True, timeout=DEADLINE, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state["off_while_starting"] and state["on_after"]
    assert state["frozen"] > 10_000  # typer, pydantic and the settings' objects are out of every collection


def test_the_zhoubao_script_enters_through_the_start_that_turns_collection_off() -> None:
    script = ZHOUBAO.read_text(encoding="utf-8")
    assert "from bot.runtime.start import main" in script
