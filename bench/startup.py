"""What starting `zhoubao` costs: wall time and peak RSS per command, against importing its four libraries.

    .venv/bin/python -m bench.startup            # --repeat N (default 5)

Target (issue 18, "A light start"): `zhoubao --help`, `zhoubao report --week … --format md`,
`zhoubao dashboard link --as …` and `zhoubao run` on the console (until the weekly prompt is printed) each
take at most 2× the time of `python -c "import typer, sqlalchemy, jinja2, pydantic_settings"` and peak at
most 100 MB RSS; a Slack `zhoubao run` does not have `lark_oapi` in `sys.modules`.

Every figure is one fresh child process, measured from spawning it: its time until it exits (or, for a
`run`, until it shows it is up), its peak RSS from `os.wait4` (the child's own `ru_maxrss`). The cases run
interleaved, `--repeat` times each, and the medians are printed. It works in a scratch folder it makes
(`zhoubao init`, then `zhoubao demo` to store a week), with every deployment variable of the calling shell
removed. The Slack `run` talks to the loopback Slack stand-in (tests/slack/stand_in.py) over HTTP mode; it
is timed until `/readyz` answers, then stopped with SIGTERM; one more Slack run under `-X importtime`
lists every module it imported, which is where `lark_oapi` must not appear. Exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.adapters.console.demo import DEMO_WEEK
from bot.runtime.team_file import load_team

ROOT = Path(__file__).resolve().parent.parent
ZHOUBAO = str(Path(sys.executable).with_name("zhoubao"))
BASELINE = "import typer, sqlalchemy, jinja2, pydantic_settings"
TIME_RATIO, RSS_MB = 2.0, 100.0
DEADLINE = 300.0  # seconds one child may take before the bench gives up on it (never a target)
# The console's weekly prompt starts with this header (ConsoleChat.send_text); a Monday after the demo week,
# so `clock thu 10:00` is the next prompt (2024-W27 has no holiday).
DM_HEADER = "── DM to "
CONSOLE_START = "2024-07-01 09:00"


@dataclass(frozen=True)
class Run:
    seconds: float
    rss_mb: float
    cpu: float  # user + system seconds of the child until it exited (a run: past the prompt, to its stop)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(**more: str) -> dict[str, str]:
    """The caller's environment without deployment variables: the scratch folder's .env configures zhoubao."""
    dropped = ("SLACK_", "FEISHU_", "DATABASE_URL", "TEAM_FILE", "DASHBOARD_", "SPOOL_DIR", "PORT")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    # Unbuffered, so a `run` prints its prompt when it sends it, not when it exits.
    return {**env, "PYTHONUNBUFFERED": "1", "PORT": str(_free_port()), **more}


def _reap(proc: subprocess.Popen[bytes], started: float, seconds: float | None = None) -> Run:
    """Wait for the child, read its own peak RSS (Linux: ru_maxrss in KiB), and record it as reaped."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return Run(seconds if seconds is not None else time.perf_counter() - started, usage.ru_maxrss / 1024,
               usage.ru_utime + usage.ru_stime)


def one_shot(argv: list[str], cwd: Path, *, expect: str) -> Run:
    """A command run to its end; its stdout must contain `expect` (so a failing command is no figure)."""
    out = cwd / "bench-stdout.txt"
    with out.open("wb") as sink:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=_env(), stdin=subprocess.DEVNULL, stdout=sink,
                                stderr=subprocess.STDOUT)
        run = _reap(proc, started)
    text = out.read_text(encoding="utf-8", errors="replace")
    if proc.returncode != 0 or expect not in text:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{text[-2000:]}")
    return run


def console_run(cwd: Path) -> Run:
    """`zhoubao run` on the console, stdin a pipe, timed until the weekly prompt's text is read. Each run
    gets a fresh copy of the seeded database, since a prompt is sent once per week and person."""
    shutil.copyfile(cwd / "data" / "seeded.db", cwd / "data" / "console.db")
    env = _env(DATABASE_URL=f"sqlite:///{cwd}/data/console.db")
    started = time.perf_counter()
    proc = subprocess.Popen([ZHOUBAO, "run", "--start", CONSOLE_START], cwd=cwd, env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(b"clock thu 10:00\n")
    proc.stdin.flush()
    seconds = None
    for line in proc.stdout:
        if line.decode("utf-8", errors="replace").startswith(DM_HEADER):
            seconds = time.perf_counter() - started
            break
    proc.stdin.close()  # end of input: the console finishes the line in hand and quits
    proc.stdout.read()
    run = _reap(proc, started, seconds)
    if seconds is None:
        raise SystemExit(f"zhoubao run on the console ended ({proc.returncode}) without printing a prompt")
    return run


def _ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"zhoubao run on Slack exited ({proc.returncode}) before it was ready")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)  # polling the child's readiness, not a wait for time to pass
    raise SystemExit("zhoubao run on Slack was not ready within the deadline")


def slack_run(cwd: Path, api: str, *, importtime: Path | None = None) -> Run:
    """`zhoubao run` on Slack (HTTP mode, the loopback stand-in as its Web API), timed until /readyz is 200,
    then stopped with SIGTERM. With `importtime`, runs under `-X importtime` writing its stderr there."""
    shutil.copyfile(cwd / "data" / "seeded.db", cwd / "data" / "slack.db")
    port = _free_port()
    env = _env(PORT=str(port), SLACK_BOT_TOKEN="xoxb-bench", SLACK_SIGNING_SECRET="bench-secret",
               SLACK_API_URL=api + "/api/", DATABASE_URL=f"sqlite:///{cwd}/data/slack.db")
    argv = [sys.executable, "-X", "importtime", ZHOUBAO, "run"] if importtime else [ZHOUBAO, "run"]
    with (importtime or Path(os.devnull)).open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=err)
        try:
            _ready(port, proc)
            seconds = time.perf_counter() - started
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        return _reap(proc, started, seconds)


_IMPORTED = re.compile(r"^import time:\s+\d+ \|\s+\d+ \| +(\S+)$", re.M)


def imported_packages(importtime_log: Path) -> set[str]:
    """Every top-level package a `-X importtime` log shows as imported."""
    return {m.split(".")[0] for m in _IMPORTED.findall(importtime_log.read_text(encoding="utf-8", errors="replace"))}


def prepare(scratch: Path) -> str:
    """`zhoubao init` and `zhoubao demo` in `scratch`; returns the person the dashboard link is for.

    First zhoubao's own modules are compiled to bytecode, as pip does for an installed package and as the
    first run of a checkout does itself, unless PYTHONDONTWRITEBYTECODE is set (it is in some shells and
    CI images, where every run would otherwise compile ~100 modules from source: ~0.25 s measured here)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "bot"), str(ROOT / "storage")],
                   check=True, stdout=subprocess.DEVNULL, timeout=DEADLINE)
    for command in (["init"], ["demo"]):
        done = subprocess.run([ZHOUBAO, *command], cwd=scratch, env=_env(), capture_output=True, text=True,
                              check=False, timeout=DEADLINE)
        if done.returncode != 0:
            raise SystemExit(f"zhoubao {command[0]} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    shutil.copyfile(scratch / "data" / "zhoubao.db", scratch / "data" / "seeded.db")
    return load_team(scratch / "team.yaml").editors[0]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs per case, interleaved (median reported)")
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="zhoubao-startup-"))
    stand_in = subprocess.Popen([sys.executable, "-m", "tests.slack.stand_in"], cwd=ROOT, stdout=subprocess.PIPE,
                                text=True)
    try:
        assert stand_in.stdout is not None
        api = stand_in.stdout.readline().strip()
        who = prepare(scratch)
        cases: dict[str, Callable[[], Run]] = {
            "baseline: " + BASELINE: lambda: one_shot([sys.executable, "-c", BASELINE + "; print('ok')"],
                                                      scratch, expect="ok"),
            "zhoubao --help": lambda: one_shot([ZHOUBAO, "--help"], scratch, expect="dashboard"),
            f"zhoubao report --week {DEMO_WEEK} --format md": lambda: one_shot(
                [ZHOUBAO, "report", "--week", DEMO_WEEK, "--format", "md"], scratch, expect=f"# {DEMO_WEEK}"),
            f"zhoubao dashboard link --as {who}": lambda: one_shot(
                [ZHOUBAO, "dashboard", "link", "--as", who], scratch, expect="/signin/link?token="),
            "zhoubao run, console (until the prompt)": lambda: console_run(scratch),
            "zhoubao run, Slack (until /readyz)": lambda: slack_run(scratch, api),
        }
        runs: dict[str, list[Run]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, case in cases.items():
                runs[name].append(case())
        log = scratch / "slack-importtime.txt"
        slack_run(scratch, api, importtime=log)
        loaded = imported_packages(log)
    finally:
        stand_in.terminate()
        stand_in.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    return report(runs, loaded, args.repeat)


def report(runs: dict[str, list[Run]], slack_loaded: set[str], repeat: int) -> int:
    names = list(runs)
    base = statistics.median(r.seconds for r in runs[names[0]])
    ok = True
    print(f"{len(names)} cases × {repeat} runs, interleaved; medians (min–max). Target: ≤ {TIME_RATIO}× the "
          f"baseline's time and ≤ {RSS_MB:.0f} MB, except the Slack run (no target but lark_oapi).")
    cpu_base = statistics.median(r.cpu for r in runs[names[0]])
    print(f"{'':64} {'wall s':>20} {'× base':>7} {'peak RSS MB':>20}   {'CPU s':>5} {'× base':>7}")
    for i, name in enumerate(names):
        secs = [r.seconds for r in runs[name]]
        rss = [r.rss_mb for r in runs[name]]
        t, m = statistics.median(secs), statistics.median(rss)
        verdict = ""
        if 0 < i < len(names) - 1:
            good = t <= TIME_RATIO * base and m <= RSS_MB
            ok = ok and good
            verdict = "PASS" if good else "FAIL"
        cpu = statistics.median(r.cpu for r in runs[name])
        print(f"{name:64} {t:7.2f} ({min(secs):5.2f}–{max(secs):5.2f}) {t / base:6.2f}× "
              f"{m:7.1f} ({min(rss):5.1f}–{max(rss):5.1f})   {cpu:5.2f} {cpu / cpu_base:6.2f}×  {verdict}")
    print("CPU is each child's user + system time until it exited (a run's goes past its prompt or /readyz to its "
          "stop); it is shown beside the wall time, which is what the target is on, because it is steadier on a "
          "busy machine.")
    sdks = sorted(slack_loaded & {"lark_oapi", "slack_bolt", "slack_sdk"})
    lark_free = "lark_oapi" not in slack_loaded and "slack_bolt" in slack_loaded
    ok = ok and lark_free
    print(f"Slack run's imports (-X importtime), platform SDKs: {', '.join(sdks)}; lark_oapi in sys.modules: "
          f"{'yes' if 'lark_oapi' in slack_loaded else 'no'}  {'PASS' if lark_free else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
