"""Health and readiness state, JSON log lines, and SIGTERM on a real `zhoubao run` process."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlencode

import httpx
from slack_sdk.signature import SignatureVerifier

from bot.runtime.composition import bind, build_bot
from bot.runtime.health import Health
from bot.runtime.logs import JsonLines
from bot.runtime.scheduler import Scheduler
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from tests.conftest import EXAMPLE_TEAM, PATIENCE, SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.schedule.conftest import team_with
from tests.slack.stand_in import SlackStandIn


def test_healthz_reports_database_and_scheduler(make_bot: Callable[..., Bot],
                                                make_scheduler: Callable[..., Scheduler]) -> None:
    bot = make_bot(team_with(), FixedClock(datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI)))
    sched = make_scheduler(bot)
    health = Health(bot.ctx.team.team.name, bot.ctx.db, sched)
    code, body = health.ready()  # anonymous: component states only (issue 20 item 16)
    assert code == 200 and body["database"] == "ok" and body["scheduler"] == "ok"
    code, body = health.live()  # the liveness body names the scheduler's jobs
    assert code == 200 and body["scheduler"]["running"]
    assert set(body["scheduler"]["jobs"]) == {"zhoubao:prompt", "zhoubao:remind:1", "zhoubao:publish"}
    sched.shutdown()
    assert health.ready()[0] == 503
    code, body = health.live()
    assert code == 503 and body["status"] == "scheduler stopped"


def test_log_lines_are_json_with_the_event_fields() -> None:
    record = logging.LogRecord("zhoubao.cycle", logging.ERROR, __file__, 1, "prompt not delivered", None, None)
    record.__dict__.update({"week": "2024-W26", "person": "lina", "platform": "slack"})
    line = json.loads(JsonLines().format(record))
    assert (line["event"], line["week"], line["person"], line["platform"]) == (
        "prompt not delivered", "2024-W26", "lina", "slack")


@dataclass
class HeldResponses(SlackStandIn):
    """The loopback Slack, except that answers to a slash command's response_url wait until released."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def _handle(self, req: BaseHTTPRequestHandler) -> None:
        if req.path.startswith("/respond/"):
            self.arrived.set()
            self.release.wait(PATIENCE)
        super()._handle(req)


def _until(lines: Iterator[str], needle: str) -> list[str]:
    """Read the process's log lines until one contains `needle` (fails if the process ends first)."""
    seen = []
    for line in lines:
        seen.append(line)
        if needle in line:
            return seen
    raise AssertionError(f"the process ended before logging {needle!r}:\n{''.join(seen)}")


def test_sigterm_finishes_acknowledged_work_then_exits_0(tmp_path: Path) -> None:
    team = load_team(EXAMPLE_TEAM)
    slack = HeldResponses(users={p.email: "U" + p.id.upper() for p in team.people if p.email}).start()
    with bind(0, "127.0.0.1") as probe:
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FEISHU_"))}
    env.update({"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "sigterm-secret",
                "SLACK_API_URL": slack.url + "/api/", "DATABASE_URL": f"sqlite:///{tmp_path}/z.db",
                "TEAM_FILE": str(EXAMPLE_TEAM), "PORT": str(port), "SPOOL_DIR": str(tmp_path / "spool")})
    proc = subprocess.Popen([str(Path(sys.executable).parent / "zhoubao"), "run"], cwd=tmp_path, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    lines = iter(proc.stderr)
    try:
        _until(lines, "slack: serving")
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/readyz", timeout=PATIENCE).status_code == 200
        started = datetime.now(team.zone) - timedelta(hours=1)
        form = urlencode({"token": "x", "team_id": "T1", "channel_id": "C0REPORT", "user_id": "USUNLI",
                          "command": "/incident", "text": f"{started:%m/%d %H:%M} order-api 节点OOM 级别：C",
                          "trigger_id": "t1", "response_url": f"{slack.url}/respond/1"})
        ts = str(int(time.time()))
        signature = SignatureVerifier("sigterm-secret").generate_signature(timestamp=ts, body=form)
        ack = httpx.post(f"{base}/slack/events", content=form, timeout=PATIENCE, headers={
            "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature})
        assert ack.status_code == 200
        assert slack.arrived.wait(PATIENCE), "the acknowledged work is under way (its answer is held)"
        proc.send_signal(signal.SIGTERM)
        _until(lines, "shutting down")  # the signal is handled while that work is still in flight
        slack.release.set()
        rest = "".join(lines)
        assert proc.wait(PATIENCE) == 0
    finally:
        slack.release.set()
        if proc.poll() is None:
            proc.kill()
        slack.stop()
    assert "stopped: in-flight work finished" in rest
    assert "已记录事件" in slack.of("response_url")[-1].args["text"], "the held answer was still sent"
    bot = build_bot(team, FakeChat(), FixedClock(datetime.now(team.zone)), database_url=f"sqlite:///{tmp_path}/z.db")
    [incident] = bot.week_report.compile(bot.ctx.week_of(started)).incidents
    assert "节点OOM" in incident.headline
    bot.engine.dispose()


def _console(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "FEISHU_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path}/console.db", "TEAM_FILE": str(EXAMPLE_TEAM),
                "PORT": str(port)})
    return subprocess.Popen([str(Path(sys.executable).parent / "zhoubao"), "run", "--start", "2024-06-24 09:00"],
                            cwd=tmp_path, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, bufsize=1)


def _say(proc: subprocess.Popen[str], line: str) -> str:
    """One console command; returns the first line it answers."""
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return proc.stdout.readline()


def test_the_console_serves_health_on_port_and_keeps_running_when_the_port_is_taken(tmp_path: Path) -> None:
    with bind(0, "127.0.0.1") as probe:
        port = probe.getsockname()[1]
    first = _console(tmp_path, port)
    second: subprocess.Popen[str] | None = None
    try:
        assert "张伟" in _say(first, "who")  # the session is up, so the HTTP app is listening
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=PATIENCE) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["database"] == "ok"
            assert client.get("/healthz").status_code == 200 and client.get("/metrics").status_code == 200
        second = _console(tmp_path, port)  # the same PORT: taken
        assert second.stderr is not None
        assert f"port {port} is not available" in second.stderr.readline()
        assert "张伟" in _say(second, "who"), "the console still runs"
    finally:
        for proc in (first, second):
            if proc is not None:
                assert proc.stdin is not None
                proc.stdin.close()
                assert proc.wait(PATIENCE) == 0
