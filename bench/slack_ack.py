"""How fast the Slack app acks `/incident` over HTTP under 100 concurrent requests, against a bare
Bolt app (a listener that only acks) in the same run, both on the same server: Starlette served by
uvicorn on a loopback port, the request read by Bolt's Starlette adapter and `App.dispatch` run in
Starlette's thread pool (`bot.adapters.slack.transports.http_endpoint`). Ours is the whole HTTP app
`zhoubao run` serves (body limit, latency metrics, the composition root's Bolt app and listeners); the
bare one is that endpoint alone on a one-route Starlette app. For information, it also times the bare
app behind Bolt's stock `SlackRequestHandler`, which dispatches on the event loop.

    .venv/bin/python -m bench.slack_ack [--requests 100] [--rounds 3]

Target: p50 and p99 within 1.3× the bare app's, and p99 far below Slack's 3 seconds.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from slack_bolt import App
from slack_bolt.adapter.starlette import SlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.adapters.slack.limits import Pacer
from bot.adapters.slack.transports import http_endpoint
from bot.domain.team import Team
from bot.runtime.composition import HttpThread, Overrides, SlackParts, bind, compose
from bot.runtime.settings import Settings
from bot.runtime.team_file import load_team

SECRET = "bench-secret"
TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"


def serve(app: Starlette) -> tuple[str, HttpThread]:
    server = HttpThread(app, bind(0, "127.0.0.1"))
    return f"http://127.0.0.1:{server.port}/slack/events", server


def bare_app(bolt: App) -> Starlette:
    return Starlette(routes=[Route("/slack/events", http_endpoint(bolt), methods=["POST"])])


def stock_app(bolt: App) -> Starlette:
    handler = SlackRequestHandler(bolt)

    async def events(request: Request) -> Response:
        return await handler.handle(request)

    return Starlette(routes=[Route("/slack/events", events, methods=["POST"])])


def one(url: str, n: int, respond: str) -> float:
    body = urlencode({"token": "x", "team_id": "T1", "user_id": "USUNLI", "command": "/incident",
                      "text": f"06/26 09:{n % 60:02d} bench-{n} 批量任务超时 级别：D", "trigger_id": f"t{n}",
                      "response_url": f"{respond}/respond/{n}"})
    ts = str(int(time.time()))
    req = urllib.request.Request(url, data=body.encode(), method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": SignatureVerifier(SECRET).generate_signature(timestamp=ts, body=body)})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
        assert resp.status == 200
    return time.perf_counter() - start


def burst(url: str, count: int, respond: str) -> list[float]:
    with ThreadPoolExecutor(max_workers=count) as pool:
        return sorted(pool.map(lambda n: one(url, n, respond), range(count)))


def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    team = load_team(TEAM)
    # The stand-in runs in its own process, so its work does not slow this one's acks.
    proc = subprocess.Popen([sys.executable, "-m", "tests.slack.stand_in"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    slack_url = proc.stdout.readline().strip()
    tmp = tempfile.mkdtemp()
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-bench"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr(SECRET), slack_api_url=slack_url + "/api/",
                        database_url=f"sqlite:///{tmp}/b.db", spool_dir=f"{tmp}/spool")
    clock = lambda: datetime(2024, 6, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # noqa: E731
    # People are named by Slack id here, since the separate stand-in has no emails to look up.
    data = team.model_dump()
    team = Team.model_validate({**data, "people": [{**p, "slack": "U" + p["id"].upper()} for p in data["people"]]})
    runtime = compose(settings, team, clock=clock, overrides=Overrides(pacer=Pacer(scale=1000)))
    assert isinstance(runtime.platform, SlackParts)
    workers = runtime.platform.workers
    bare = App(client=runtime.platform.gateway.client, signing_secret=SECRET)

    @bare.command("/incident")
    def ack_only(ack: Any) -> None:
        ack()

    ours_url, ours = serve(runtime.http)
    bare_url, bare_server = serve(bare_app(bare))
    stock_url, stock_server = serve(stock_app(bare))
    burst(ours_url, 10, slack_url)  # warm up both
    burst(bare_url, 10, slack_url)
    workers.wait_idle(60)
    burst(stock_url, 10, slack_url)
    results: dict[str, list[float]] = {"zhoubao": [], "bare": [], "stock": []}
    for _ in range(args.rounds):
        results["stock"] += burst(stock_url, args.requests, slack_url)
        results["bare"] += burst(bare_url, args.requests, slack_url)
        results["zhoubao"] += burst(ours_url, args.requests, slack_url)
        workers.wait_idle(120)
    stats = {k: (statistics.median(v), pct(sorted(v), 99)) for k, v in results.items()}
    for k, (p50, p99) in stats.items():
        print(f"{k:8} p50 {p50 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms   (n={len(results[k])})")
    r50 = stats["zhoubao"][0] / stats["bare"][0]
    r99 = stats["zhoubao"][1] / stats["bare"][1]
    filed = len(runtime.bot.cycle.compile(runtime.bot.ctx.week_of(clock())).incidents)
    print(f"ratio    p50 {r50:.2f}×   p99 {r99:.2f}×   (target ≤ 1.3×; p99 must stay far below 3 s)")
    print(f"incidents filed after ack: {filed}")
    ours.stop()
    bare_server.stop()
    stock_server.stop()
    runtime.stop()
    proc.terminate()
    return 0 if r50 <= 1.3 and r99 <= 1.3 and stats["zhoubao"][1] < 1.0 else 1


if __name__ == "__main__":
    sys.exit(main())
