"""Inbound bursts on each platform's HTTP endpoint: 250 concurrent events (200 distinct + 50 duplicates)
answered through the inbound journal — all acknowledged, 200 stored, ack p50/p99 — and the ack p99 at
200 concurrent compared with the pre-journal path (the in-memory queue behind Bolt / FeishuEvents).

    .venv/bin/python -m bench.inbound_burst [--distinct 200] [--duplicates 50] [--rounds 2]

Targets: 250 acknowledged, 200 stored, journal ack p99 ≤ 3 s, and ≤ 1.3× the pre-journal p99 at 200
concurrent. Both paths are served by the same kind of server here (the standard library's threaded
one, listen backlog 2048 as uvicorn's); the Starlette/uvicorn app is on another branch.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos_proc import Inline  # noqa: E402
from bot.adapters.feishu.api import Limits, OpenApi  # noqa: E402
from bot.adapters.feishu.envelope import Keys  # noqa: E402
from bot.adapters.feishu.events import FeishuEvents, InlineRunner, background_runner  # noqa: E402
from bot.adapters.feishu.gateway import FeishuGateway  # noqa: E402
from bot.adapters.feishu.intake import FeishuIntake  # noqa: E402
from bot.adapters.feishu.people import People  # noqa: E402
from bot.adapters.feishu.transports import wsgi_app as feishu_wsgi  # noqa: E402
from bot.adapters.slack.app import Workers, build_app  # noqa: E402
from bot.adapters.slack.gateway import SlackGateway, make_client  # noqa: E402
from bot.adapters.slack.intake import SlackIntake  # noqa: E402
from bot.adapters.slack.limits import Pacer  # noqa: E402
from bot.adapters.slack.transports import wsgi_app as slack_wsgi  # noqa: E402
from bot.domain.team import Team  # noqa: E402
from bot.runtime.composition import build_bot  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402
from bot.services.bot import Bot  # noqa: E402
from storage.models import AnswerMessageRow  # noqa: E402
from tests.feishu import payloads  # noqa: E402
from tests.feishu.openapi import OpenApiStandIn  # noqa: E402

SECRET = "burst-secret"
TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"
KEYS = Keys(payloads.TOKEN, payloads.ENCRYPT_KEY)
BACKLOG = 2048  # uvicorn's default listen backlog (uvicorn/config.py `backlog: int = 2048`)

Handle = Callable[[bytes, dict[str, str]], tuple[int, bytes]]


def serve(handle: Handle) -> tuple[str, ThreadingHTTPServer]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, data = handle(raw, {k.lower(): v for k, v in self.headers.items()})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    ThreadingHTTPServer.request_queue_size = BACKLOG
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}", server


def wsgi_handle(app: Any) -> Handle:
    """A WSGI app (the pre-journal transports) behind the same server."""
    def handle(raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        import io
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": headers.pop(":path"), "CONTENT_LENGTH": str(len(raw)),
                   "CONTENT_TYPE": headers.get("content-type", ""), "wsgi.input": io.BytesIO(raw), "QUERY_STRING": ""}
        environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
        status: list[str] = []
        body = b"".join(app(environ, lambda s, h: status.append(s)))
        return int(status[0].split()[0]), body
    return handle


def post(url: str, body: bytes, headers: dict[str, str]) -> tuple[bool, float]:
    req = urllib.request.Request(url, data=body, method="POST", headers=headers)
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()
            return resp.status == 200, time.perf_counter() - start
    except (urllib.error.URLError, OSError):
        return False, time.perf_counter() - start


def burst(send: Callable[[int], tuple[bool, float]], indexes: list[int]) -> tuple[int, list[float]]:
    gate = threading.Barrier(len(indexes))

    def one(n: int) -> tuple[bool, float]:
        gate.wait()
        return send(n)

    with ThreadPoolExecutor(max_workers=len(indexes)) as pool:
        results = list(pool.map(one, indexes))
    return sum(ok for ok, _ in results), sorted(t for _, t in results)


def pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def stored(bot: Bot) -> int:
    with bot.ctx.db() as s:
        return int(s.scalar(select(func.count(AnswerMessageRow.id))) or 0)


def wait_for(cond: Callable[[], bool], timeout: float = 300.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


# ----- Slack -------------------------------------------------------------------------------------------------


def slack_events(team: Team, count: int) -> list[bytes]:
    owners = team.owners()
    base = int(time.time())
    out = []
    for n in range(count):
        person = owners[n % len(owners)]
        ts = f"{base}.{n:06d}"
        event = {"type": "message", "channel": "D" + person.upper(), "channel_type": "im",
                 "user": "U" + person.upper(), "text": f"进展 {n}", "ts": ts, "event_ts": ts}
        out.append(json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1",
                               "event_id": f"Ev{n:06d}", "event": event, "event_time": base}).encode())
    return out


def slack_send(url: str, body: bytes) -> tuple[bool, float]:
    ts = str(int(time.time()))
    sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return post(url, body, {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                            "X-Slack-Signature": sig})


def slack_bot(team: Team, api: str, db: str) -> tuple[Bot, SlackGateway]:
    gateway = SlackGateway(make_client("xoxb-bench", api), team, pacer=Pacer(scale=1000))
    return build_bot(team, gateway, lambda: datetime.now(team.zone), database_url=db), gateway


def slack(team: Team, api: str, tmp: Path, distinct: int, duplicates: int, rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    # The journal path: 200 distinct + 50 duplicates at once.
    bot, gateway = slack_bot(team, api, f"sqlite:///{tmp}/slack-journal.db")
    app = build_app(bot, gateway, signing_secret=SECRET, workers=Inline(), token_verification=False)  # type: ignore[arg-type]
    assert bot.journal is not None
    intake = SlackIntake(bot.journal, app, SECRET)
    bot.journal.start(poll=0.1)

    def journal_handle(raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        status, body = intake.http(raw, headers)
        return status, json.dumps(body).encode() if body is not None else b""

    url, server = serve(journal_handle)
    events = slack_events(team, distinct)
    order = list(range(distinct)) + list(range(duplicates))
    acked, times = burst(lambda i: slack_send(url, events[order[i]]), list(range(len(order))))
    wait_for(lambda: stored(bot) >= distinct and bot.journal is not None and bot.journal.pending() == 0)
    results["burst"] = (acked, len(order), stored(bot), times)
    journal_p99: list[float] = []
    for r in range(rounds):  # 200 concurrent, fresh events each round
        fresh = slack_events(team, distinct)
        fresh = [b.replace(b'"Ev', f'"R{r}Ev'.encode()).replace(b'.0', f'.{r + 1}'.encode(), 1) for b in fresh]
        _, t = burst(lambda i, fresh=fresh: slack_send(url, fresh[i]), list(range(distinct)))
        journal_p99.append(pct(t, 99))
    bot.journal.stop()
    server.shutdown()
    # The pre-journal path: Bolt acks, the work waits in memory.
    old_bot, old_gateway = slack_bot(team, api, f"sqlite:///{tmp}/slack-old.db")
    workers = Workers()
    old_app = build_app(old_bot, old_gateway, signing_secret=SECRET, workers=workers, token_verification=False)
    wsgi = wsgi_handle(slack_wsgi(old_app))
    old_url, old_server = serve(lambda raw, h: wsgi(raw, {**h, ":path": "/slack/events"}))
    old_p99: list[float] = []
    for r in range(rounds):
        fresh = slack_events(team, distinct)
        fresh = [b.replace(b'"Ev', f'"R{r}Ev'.encode()).replace(b'.0', f'.{r + 1}'.encode(), 1) for b in fresh]
        _, t = burst(lambda i, fresh=fresh: slack_send(old_url, fresh[i]), list(range(distinct)))
        old_p99.append(pct(t, 99))
        workers.wait_idle(600)
    old_server.shutdown()
    results["p99"] = (statistics.median(journal_p99), statistics.median(old_p99))
    return results


# ----- Feishu ------------------------------------------------------------------------------------------------


def feishu_events(team: Team, count: int, tag: str, at: datetime) -> list[dict[str, Any]]:
    owners = team.owners()
    return [payloads.message(f"ou_{owners[n % len(owners)]}", f"进展 {n}", at, message_id=f"om_{tag}_{n}",
                             event_id=f"{tag}-{n}") for n in range(count)]


def feishu_send(url: str, payload: dict[str, Any]) -> tuple[bool, float]:
    body = payloads.seal(payload)
    headers = payloads.sign(body, str(int(time.time())), uuid.uuid4().hex)
    return post(url + "/feishu/events", body, {"Content-Type": "application/json", **headers})


def feishu(team: Team, standin: OpenApiStandIn, tmp: Path, distinct: int, duplicates: int,
           rounds: int) -> dict[str, Any]:
    results: dict[str, Any] = {}

    def make(db: str, runner: Any) -> tuple[Bot, FeishuGateway, FeishuEvents]:
        api = OpenApi(payloads.APP_ID, "secret", domain=standin.url, limits=Limits(10_000, 10_000))
        gateway = FeishuGateway(api, People(api, team))
        bot = build_bot(team, gateway, lambda: datetime.now(team.zone), database_url=db)
        return bot, gateway, FeishuEvents(bot, gateway, runner=runner, bot_open_id=standin.bot_open_id)

    bot, gateway, events = make(f"sqlite:///{tmp}/feishu-journal.db", InlineRunner())
    assert bot.journal is not None
    intake = FeishuIntake(bot.journal, events, gateway)
    bot.journal.start(poll=0.1)

    def journal_handle(raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        status, body = intake.http(raw, headers, KEYS, time.time())
        return status, json.dumps(body).encode()

    url, server = serve(journal_handle)
    now = datetime.now(team.zone)
    evs = feishu_events(team, distinct, "b", now)
    order = list(range(distinct)) + list(range(duplicates))
    acked, times = burst(lambda i: feishu_send(url, evs[order[i]]), list(range(len(order))))
    wait_for(lambda: stored(bot) >= distinct and bot.journal is not None and bot.journal.pending() == 0)
    results["burst"] = (acked, len(order), stored(bot), times)
    journal_p99 = []
    for r in range(rounds):
        fresh = feishu_events(team, distinct, f"j{r}", now)
        _, t = burst(lambda i, fresh=fresh: feishu_send(url, fresh[i]), list(range(distinct)))
        journal_p99.append(pct(t, 99))
    bot.journal.stop()
    server.shutdown()
    old_bot, _, old_events = make(f"sqlite:///{tmp}/feishu-old.db", background_runner())
    wsgi = wsgi_handle(feishu_wsgi(old_events, KEYS))
    old_url, old_server = serve(lambda raw, h: wsgi(raw, {**h, ":path": "/feishu/events"}))
    old_p99 = []
    for r in range(rounds):
        fresh = feishu_events(team, distinct, f"o{r}", now)
        _, t = burst(lambda i, fresh=fresh: feishu_send(old_url, fresh[i]), list(range(distinct)))
        old_p99.append(pct(t, 99))
        wait_for(lambda r=r: stored(old_bot) >= distinct * (r + 1), 600)
    old_server.shutdown()
    results["p99"] = (statistics.median(journal_p99), statistics.median(old_p99))
    return results


def report(name: str, r: dict[str, Any], distinct: int) -> bool:
    acked, sent, kept, times = r["burst"]
    j99, old99 = r["p99"]
    print(f"{name:6} burst: {acked}/{sent} acknowledged, {kept} stored (want {sent}/{sent}, {distinct}); "
          f"ack p50 {statistics.median(times) * 1000:.0f} ms, p99 {pct(times, 99) * 1000:.0f} ms")
    print(f"{name:6} {distinct} concurrent: ack p99 journal {j99 * 1000:.0f} ms vs pre-journal {old99 * 1000:.0f} ms "
          f"= {j99 / old99:.2f}× (target ≤ 1.3×)")
    return acked == sent and kept == distinct and pct(times, 99) <= 3.0 and j99 <= 1.3 * old99


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--distinct", type=int, default=200)
    ap.add_argument("--duplicates", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--platform", choices=["slack", "feishu", "both"], default="both")
    args = ap.parse_args()
    team = load_team(TEAM)
    data = team.model_dump()  # people named by Slack id: the stand-in in its own process has no emails
    team = Team.model_validate({**data, "people": [{**p, "slack": "U" + p["id"].upper()} for p in data["people"]]})
    ok = True
    with tempfile.TemporaryDirectory() as d:
        if args.platform in ("slack", "both"):
            proc = subprocess.Popen([sys.executable, "-m", "tests.slack.stand_in"], stdout=subprocess.PIPE, text=True)
            assert proc.stdout is not None
            api = proc.stdout.readline().strip() + "/api/"
            try:
                ok &= report("slack", slack(team, api, Path(d), args.distinct, args.duplicates, args.rounds),
                             args.distinct)
            finally:
                proc.terminate()
        if args.platform in ("feishu", "both"):
            standin = OpenApiStandIn(directory={p.email: f"ou_{p.id}" for p in team.people if p.email}).start()
            try:
                ok &= report("feishu", feishu(team, standin, Path(d), args.distinct, args.duplicates, args.rounds),
                             args.distinct)
            finally:
                standin.stop()
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
