"""One whole week for a department through the real runtime over HTTP, against the Slack stand-in with
Slack's rate limits scaled by `--scale`: prompts to every owner, answers (edits, deletions, platform
retries, some after the post), `/incident`, a reminder and the Friday publish.

    .venv/bin/python -m bench.week [--owners 1000] [--scale 30] [--rate 25] [--db sqlite|postgres]

Three processes, so the bot's own figures are its own: the Slack stand-in (`tests/slack/stand_in.py`, the
limits of `bot.adapters.slack.limits.TIER_PER_MINUTE` × scale, 429 with Retry-After past them), the bot
(`bench/week_proc.py`: the composition root, `SlackIntake` behind the runtime's Starlette app on uvicorn;
the bench sets its clock and runs the weekly jobs, so every run is the same week, 2024-W26) and a client
that sends the signed requests at `--rate` per second, open loop (each at its time, one connection each,
as Slack does), and times each ack.

Per phase and in total it prints: wall time; the floor, i.e. the least time the limits allow for the calls
made (per limit bucket: calls beyond Slack's burst of 2, at the scaled rate; the busiest bucket decides)
and for the requests' own arrival (people answer over a span of time: the phase cannot end before the last
request is sent); the ratio; "least", the same floor for only the calls the product must make
(`least_calls`: no look-up per owner, report edits coalesced); ack p50/p99; the bot's peak RSS in the phase (VmHWM, reset per phase through
/proc/<pid>/clear_refs) and its CPU seconds (utime+stime from /proc/<pid>/stat). Then, read from the
database and the stand-in: every answer's tag found exactly once in its item's stored entry and in the
posted report's Markdown (lost / doubled / deletions not applied), each owner prompted exactly once, and
one report post whose blocks equal the report compiled now.

Answers: `--answers` (default 5 per owner) of which 10 % edit an earlier answer, 2 % delete one (a fifth of
those right after the message, racing it), and the last 10 % are sent after the post; 5 % of all requests
are sent a second time with X-Slack-Retry-Num (the
same body and key: Slack's retry, https://api.slack.com/apis/events-api#retries); `--incidents` (default
one per 20 owners, 50 at 1,000) `/incident` commands among the on-time answers.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.week_proc import SECRET, ZONE, user_id, week_team  # noqa: E402

PROC = Path(__file__).resolve().parent / "week_proc.py"
TZ = ZoneInfo(ZONE)
THURSDAY = datetime(2024, 6, 27, 10, 0, tzinfo=TZ)  # 2024-W26's prompt (the team's default schedule)
# What the bot's clock reads in each phase after the prompts (a Feishu request is signed against it).
CLOCK = {"answers": THURSDAY + timedelta(hours=8), "reminder": THURSDAY + timedelta(days=1),
         "publish": THURSDAY + timedelta(days=1, hours=7), "late": THURSDAY + timedelta(days=1, hours=8)}
BURST = 2.0  # the stand-in's token bucket, like Slack, tolerates a burst of two


# ----- the plan: what people send, and when --------------------------------------------------------


@dataclass
class Msg:
    """One answer message as its author last left it."""

    person: int
    item: int  # 1-based, as `[n]` picks it
    ts: str
    tag: str
    text: str
    deleted: bool = False


@dataclass
class Plan:
    requests: list[dict[str, Any]] = field(default_factory=list)  # {body, ctype, retry, phase}
    messages: list[Msg] = field(default_factory=list)
    incidents: list[str] = field(default_factory=list)  # the tags of the `/incident` texts


class Shapes(Protocol):
    """What one platform sends for each thing a person does: a request `{body, ctype, headers?}` (without
    `headers`, the client signs it as Slack does, at send time)."""

    def message_id(self, person: int, at: datetime, seq: int) -> str: ...

    def source(self, m: Msg) -> str:
        """The message's `source_id` as the bot stores it."""
        ...

    def message(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]: ...

    def edit(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]: ...

    def delete(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]: ...

    def incident(self, person: int, text: str, tag: str, at: datetime, seq: int, phase: str) -> dict[str, Any]: ...


def _ts(at: datetime, seq: int) -> str:
    return f"{int(at.timestamp())}.{seq % 1_000_000:06d}"


def _event(channel: str, event: dict[str, Any], event_id: str, at: datetime) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": event_id,
                       "event": {**event, "channel": channel, "channel_type": "im"},
                       "event_time": int(at.timestamp())}, ensure_ascii=False)


@dataclass(frozen=True)
class SlackShapes:
    """Events API callbacks and a slash command, as Slack sends them (the client signs them)."""

    respond: str  # where a slash command's response_url points (the stand-in)

    def message_id(self, person: int, at: datetime, seq: int) -> str:
        return _ts(at, seq)

    def source(self, m: Msg) -> str:
        return f"D{m.person:05d}:{m.ts}"

    def message(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        return {"ctype": "application/json", "body": _event(f"D{m.person:05d}", {
            "type": "message", "user": user_id(m.person), "text": m.text, "ts": m.ts, "event_ts": m.ts},
            f"Ev{seq:07d}", at)}

    def edit(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        edited = _ts(at, seq)
        return {"ctype": "application/json", "body": _event(f"D{m.person:05d}", {
            "type": "message", "subtype": "message_changed", "hidden": True, "ts": edited, "event_ts": edited,
            "message": {"type": "message", "user": user_id(m.person), "text": m.text, "ts": m.ts,
                        "edited": {"user": user_id(m.person), "ts": edited}},
            "previous_message": {"type": "message", "user": user_id(m.person), "ts": m.ts}}, f"Ev{seq:07d}", at)}

    def delete(self, m: Msg, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        gone = _ts(at, seq)
        return {"ctype": "application/json", "body": _event(f"D{m.person:05d}", {
            "type": "message", "subtype": "message_deleted", "hidden": True, "ts": gone, "event_ts": gone,
            "deleted_ts": m.ts, "previous_message": {"type": "message", "user": user_id(m.person),
                                                     "ts": m.ts, "text": m.text}}, f"Ev{seq:07d}", at)}

    def incident(self, person: int, text: str, tag: str, at: datetime, seq: int, phase: str) -> dict[str, Any]:
        form = {"token": "x", "team_id": "T1", "user_id": user_id(person), "command": "/incident",
                "text": text, "api_app_id": "A1", "trigger_id": f"trig-{tag}",
                "response_url": f"{self.respond}/respond/{tag}"}
        return {"ctype": "application/x-www-form-urlencoded", "body": urlencode(form)}


def make_plan(owners: int, items: int, answers: int, incidents: int, shapes: Shapes, late: int | None = None,
              seed: int = 21) -> Plan:
    """Deterministic: the same arguments give the same week. `late` of the answers (default a tenth) come
    after the post."""
    rng = random.Random(seed)
    plan = Plan()
    late_from = answers - (answers // 10 if late is None else late)
    live: list[Msg] = []
    seq = 0
    incident_at = {round((i + 0.5) * late_from / max(1, incidents)) for i in range(incidents)}
    for n in range(answers):
        seq += 1
        phase = "late" if n >= late_from else "answers"
        # On time: Thursday 10:00 onwards, 8 s apart (before Friday's post); late: Friday 17:10 onwards.
        at = THURSDAY + timedelta(seconds=8 * n) if phase == "answers" else \
            THURSDAY + timedelta(days=1, hours=7, minutes=10, seconds=n - late_from)
        roll = rng.random()
        # Most edits and deletions are of messages sent well before (40 requests); one in five is of the
        # message just sent, one request later, so the two race to the journal as when a person fixes a typo
        # at once (and a retried delivery can put the edit or deletion first).
        old = ([live[-1]] if rng.random() < 0.2 else live[:-40]) if len(live) > 40 else []
        if old and roll < 0.10:
            m = rng.choice(old)
            m.text = f"[{m.item}] 本周进展 {m.tag} 已更正 {seq}"
            req = shapes.edit(m, at, seq, phase)
        elif old and roll < 0.12:
            m = rng.choice(old)
            m.deleted = True
            live.remove(m)
            req = shapes.delete(m, at, seq, phase)
        else:
            person, item = rng.randint(1, owners), rng.randint(1, items)
            tag = f"t{person:04d}x{seq:05d}"
            m = Msg(person, item, shapes.message_id(person, at, seq), tag,
                    f"[{item}] 本周进展 {tag}：完成第 {seq} 步，联调通过")
            plan.messages.append(m)
            live.append(m)
            req = shapes.message(m, at, seq, phase)
        plan.requests.append({**req, "retry": False, "phase": phase})
        if n in incident_at:
            tag = f"inc{len(plan.incidents) + 1:03d}"
            plan.incidents.append(tag)
            when = THURSDAY - timedelta(hours=1) + timedelta(minutes=len(plan.incidents))
            req = shapes.incident(rng.randint(1, owners), f"{when:%m/%d %H:%M} 支付网关 {tag} 批量任务超时 级别：D",
                                  tag, at, seq, phase)
            plan.requests.append({**req, "retry": False, "phase": phase})
    # 5 % of the requests again, one to three requests later, as the platform redelivers an event whose ack
    # it did not get in time (Slack with X-Slack-Retry-Num; Feishu the same event, same event_id).
    retried = sorted(rng.sample(range(len(plan.requests)), len(plan.requests) // 20), reverse=True)
    for i in retried:
        again = {**plan.requests[i], "retry": True}
        where = min(len(plan.requests), i + rng.randint(2, 4))
        if plan.requests[min(where, len(plan.requests) - 1)]["phase"] != again["phase"]:
            where = i + 1
        plan.requests.insert(where, again)
    return plan


# ----- the client: its own process, open loop ------------------------------------------------------------


async def _send(host: str, port: int, path: str, req: dict[str, Any]) -> tuple[float, int]:
    body = req["body"].encode()
    if "headers" in req:  # signed when the plan was made (Feishu: against the bot's clock)
        signed = "".join(f"{k}: {v}\r\n" for k, v in req["headers"].items())
    else:  # Slack: signed now, against the real clock (https://api.slack.com/authentication/verifying-requests-from-slack)
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        retry = "X-Slack-Retry-Num: 1\r\nX-Slack-Retry-Reason: http_timeout\r\n" if req["retry"] else ""
        signed = f"X-Slack-Request-Timestamp: {ts}\r\nX-Slack-Signature: {sig}\r\n{retry}"
    head = (f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\nContent-Type: {req['ctype']}\r\n"
            f"Content-Length: {len(body)}\r\n{signed}\r\n")
    start = time.perf_counter()
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(head.encode() + body)
    await writer.drain()
    answer = await reader.read()
    elapsed = time.perf_counter() - start
    writer.close()
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else 0
    return elapsed, status


async def _fire(url: str, reqs: list[dict[str, Any]], rate: float) -> list[tuple[float, int]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    start = time.perf_counter()

    async def one(i: int, req: dict[str, Any]) -> tuple[float, int]:
        await asyncio.sleep(max(0.0, start + i / rate - time.perf_counter()))
        return await _send(host, port, parts.path, req)

    return list(await asyncio.gather(*(one(i, r) for i, r in enumerate(reqs))))


def client(url: str, plan_file: str, rate: float) -> int:
    """`--client URL FILE RATE`: send the requests in FILE (JSON) at RATE per second; print [latency, status] pairs."""
    reqs = json.loads(Path(plan_file).read_text(encoding="utf-8"))
    print(json.dumps(asyncio.run(_fire(url, reqs, rate))), flush=True)
    return 0


# ----- the processes ------------------------------------------------------------------------------


class BotProcess:
    def __init__(self, db: str, side: Side, owners: int, items: int, scale: float, workdir: Path) -> None:
        self.log = open(workdir / "bot.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, str(PROC), "--db", db, "--platform", side.name, "--api", side.api, "--owners",
             str(owners), "--items", str(items), "--scale", str(scale), "--spool", str(workdir / "spool"),
             "--at", THURSDAY.isoformat()],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.port = int(self._read()["port"])
        self.url = f"http://127.0.0.1:{self.port}{side.path}"

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the bot process exited: see {self.log.name}")
        return dict(json.loads(line))

    def do(self, cmd: str, **args: Any) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, **args}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def at(self, when: datetime) -> None:
        self.do("at", iso=when.isoformat())

    def cpu(self) -> float:
        """The process's CPU seconds so far (user + system, /proc/<pid>/stat fields 14 and 15)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def peak_rss(self) -> float:
        """Peak resident set (MB) since the last `reset_peak` (VmHWM)."""
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def reset_peak(self) -> None:
        try:  # "5" resets the peak RSS (proc(5), /proc/pid/clear_refs); else the peak is since start
            Path(f"/proc/{self.proc.pid}/clear_refs").write_text("5")
        except OSError:
            pass

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.log.close()


class Side:
    """One platform's side of the week: its stand-in, in its own process (`python -m <module> <config>`
    prints its URL, serves `/_stats`), and what the bench reads from it."""

    name = ""
    path = ""  # the bot's callback path

    def __init__(self, module: str, config: dict[str, Any]) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", module, json.dumps(config)], stdout=subprocess.PIPE,
                                     text=True, cwd=Path(__file__).resolve().parent.parent)
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    @property
    def api(self) -> str:
        """The address the bot's platform client is given."""
        return self.url

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(f"{self.url}{path}", timeout=30) as resp:
            return json.loads(resp.read())

    def stats(self) -> dict[str, Any]:
        return dict(self.get("/_stats"))

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)

    # What differs per platform:

    def shapes(self) -> Shapes:
        raise NotImplementedError

    def floor(self, before: dict[str, Any], after: dict[str, Any],
              needed: Callable[[str, int], int] = lambda m, n: n) -> tuple[float, str]:
        """The least time the scaled limits allow for the calls made between two `_stats` (or the part of
        them `needed` keeps), and the bucket that sets it."""
        raise NotImplementedError

    def least_calls(self, method: str, made: int, arrival: float, parts: int) -> int:
        """Of the calls made, those the product must make."""
        raise NotImplementedError

    def prompts_sent(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
        """Messages delivered between two `_stats`, per receiver."""
        raise NotImplementedError

    def prompted(self, owner: str, sent: dict[str, int]) -> int:
        """Of `prompts_sent`, how many reached owner `p0001`…"""
        raise NotImplementedError

    def receivers(self, owners: list[str]) -> set[str]:
        """Every receiver a prompt to these owners may go to."""
        raise NotImplementedError

    def report(self, compiled: str) -> tuple[int, bool]:
        """Report posts in the report channel, and whether the first one shows `compiled` (the report as the
        platform renders it, compiled now)."""
        raise NotImplementedError

    def report_difference(self, compiled: str, recorded: list[str]) -> list[str]:
        """Where the post differs from `compiled`, message by message, and from `recorded` (the message ids
        of report_posts, by part): one line per message that is not as compiled or not recorded."""
        return []


class SlackSide(Side):
    """Slack's stand-in (`tests/slack/stand_in.py`) with `TIER_PER_MINUTE` × scale."""

    name, path = "slack", "/slack/events"

    def __init__(self, scale: float) -> None:
        from bot.adapters.slack.limits import TIER_PER_MINUTE

        self.limits = {m: n * scale for m, n in TIER_PER_MINUTE.items()}
        super().__init__("tests.slack.stand_in", self.limits)

    @property
    def api(self) -> str:
        return self.url + "/api/"

    def call(self, method: str, **args: Any) -> dict[str, Any]:
        req = urllib.request.Request(f"{self.url}/api/{method}", data=json.dumps(args).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "Authorization": "Bearer xoxb-week"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            return dict(json.loads(resp.read()))

    def shapes(self) -> Shapes:
        return SlackShapes(self.url)

    def floor(self, before: dict[str, Any], after: dict[str, Any],
              needed: Callable[[str, int], int] = lambda m, n: n) -> tuple[float, str]:
        return floor_of(before, after, self.limits, needed)

    def least_calls(self, method: str, made: int, arrival: float, parts: int) -> int:
        return least_calls(method, made, arrival, parts)

    def prompts_sent(self, before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
        return {ch: n - before["posts_per_channel"].get(ch, 0) for ch, n in after["posts_per_channel"].items()
                if n - before["posts_per_channel"].get(ch, 0)}

    def prompted(self, owner: str, sent: dict[str, int]) -> int:
        # A prompt goes to the owner's user id (chat.postMessage opens the DM itself) or to a DM opened before.
        n = int(owner[1:])
        return sent.get(f"D{n:05d}", 0) + sent.get(f"U{n:05d}", 0)

    def receivers(self, owners: list[str]) -> set[str]:
        return {f"{kind}{int(pid[1:]):05d}" for pid in owners for kind in "DU"}

    def report(self, compiled: str) -> tuple[int, bool]:
        from bot.adapters.slack import blocks

        history = self.call("conversations.history", channel="C0REPORT", include_all_metadata=True, limit=1000)
        posts = [m for m in history["messages"] if (m.get("metadata") or {}).get("event_type") == "zhoubao_report"]
        if not posts:
            return 0, False
        thread = self.call("conversations.replies", channel="C0REPORT", ts=posts[0]["ts"])["messages"]
        shown = [m["blocks"] for m in thread if m.get("bot_id") and m.get("blocks") and not m.get("files")]
        shown = [json.loads(b) if isinstance(b, str) else b for b in shown]
        return len(posts), shown == blocks.report_messages(compiled)

    def report_difference(self, compiled: str, recorded: list[str]) -> list[str]:
        from bot.adapters.slack import blocks

        history = self.call("conversations.history", channel="C0REPORT", include_all_metadata=True, limit=1000)
        posts = [m for m in history["messages"] if (m.get("metadata") or {}).get("event_type") == "zhoubao_report"]
        if not posts:
            return ["no report post in C0REPORT"]
        thread = self.call("conversations.replies", channel="C0REPORT", ts=posts[0]["ts"])["messages"]
        shown = [m for m in thread if m.get("bot_id") and m.get("blocks") and not m.get("files")]
        want = blocks.report_messages(compiled)
        out = []

        def head(b: Any) -> str:
            text = json.dumps(json.loads(b) if isinstance(b, str) else b, ensure_ascii=False)
            return text[:80]

        for n in range(max(len(shown), len(want), len(recorded))):
            m = shown[n] if n < len(shown) else None
            got = (json.loads(m["blocks"]) if isinstance(m["blocks"], str) else m["blocks"]) if m else None
            rec = recorded[n] if n < len(recorded) else None
            what = ("missing" if m is None else "extra" if n >= len(want) else
                    "as compiled" if got == want[n] else "differs")
            if what != "as compiled" or (m is not None and rec != m["ts"]):
                out.append(f"message {n}: {what}; ts {m['ts'] if m else '–'}, recorded {rec or '–'}"
                           f"{', edited' if m and m.get('edited') else ''}; shows {head(got) if m else '–'}")
        return out


# ----- measuring ------------------------------------------------------------------------------------


@dataclass
class Phase:
    name: str
    wall: float = 0.0
    floor: float = 0.0  # the least the limits allow for the calls made (and the requests' arrival)
    floor_why: str = ""
    least: float = 0.0  # the same for the calls the product must make (see `least_calls`)
    arrival: float = 0.0
    acks: list[float] = field(default_factory=list)
    rss: float = 0.0
    cpu: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def row(self) -> str:
        acks = f"{pct(self.acks, 50) * 1000:6.0f} / {pct(self.acks, 99) * 1000:6.0f} ms" if self.acks else f"{'–':>18}"
        ratio = f"{self.wall / self.floor:6.2f}×" if self.floor > 0 else f"{'–':>7}"
        return (f"{self.name:10} {self.wall:8.1f} s {self.floor:8.1f} s {ratio} {self.least:7.1f} s  {acks} {self.rss:7.0f} MB "
                f"{self.cpu:8.1f} s  {self.floor_why}{'; ' + self.note if self.note else ''}")


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] if xs else float("nan")


def least_calls(method: str, made: int, arrival: float, parts: int) -> int:
    """Of the calls made, those the product must make: no look-up per person (`chat.postMessage` takes the
    user id as its channel and opens the DM itself, https://docs.slack.dev/reference/methods/chat.postMessage#channels;
    a user id, once known, is stored), and a posted report edited at most once per part every 3 s while
    late answers arrive, then once more (coalesced edits, issue 21)."""
    if method in ("conversations.open", "users.lookupByEmail"):
        return 0
    if method == "chat.update":
        return min(made, parts * (1 + int(arrival // 3)))
    return made


def floor_of(before: dict[str, Any], after: dict[str, Any], limits: dict[str, float],
             needed: Callable[[str, int], int] = lambda m, n: n) -> tuple[float, str]:
    """The least time the scaled limits allow for the calls made between two `_stats` (or the part of them
    `needed` keeps): per bucket (a method, or chat.postMessage per channel), the calls beyond the burst at
    the bucket's rate; the busiest decides."""
    best, why = 0.0, ""
    for method, n in after["calls"].items():
        if method == "chat.postMessage":
            continue
        made = needed(method, n - before["calls"].get(method, 0))
        if method in limits and made > 0:
            t = max(0.0, made - BURST) * 60.0 / limits[method]
            if t > best:
                best, why = t, f"{method} ×{made}"
    for channel, n in after["posts_per_channel"].items():
        made = n - before["posts_per_channel"].get(channel, 0)
        t = max(0.0, made - BURST) * 60.0 / limits["chat.postMessage"]
        if t > best:
            best, why = t, f"chat.postMessage ×{made} in {channel}"
    return best, why


def calls_between(before: dict[str, Any], after: dict[str, Any]) -> dict[str, int]:
    return {m: n - before["calls"].get(m, 0) for m, n in after["calls"].items() if n - before["calls"].get(m, 0)}


@contextmanager
def measured(phase: Phase, bot: BotProcess, stand_in: Side, parts: Callable[[], int]) -> Iterator[None]:
    bot.reset_peak()
    cpu0, stats0, start = bot.cpu(), stand_in.stats(), time.perf_counter()
    yield
    phase.wall = time.perf_counter() - start
    phase.cpu = bot.cpu() - cpu0
    phase.rss = bot.peak_rss()
    stats1 = stand_in.stats()
    floor, why = stand_in.floor(stats0, stats1)
    if floor > phase.floor:
        phase.floor, phase.floor_why = floor, why
    least, _ = stand_in.floor(stats0, stats1, lambda m, n: stand_in.least_calls(m, n, phase.arrival, parts()))
    phase.least = max(least, phase.arrival)
    phase.calls = calls_between(stats0, stats1)


def send(bot: BotProcess, reqs: list[dict[str, Any]], rate: float, workdir: Path, name: str) -> list[tuple[float, int]]:
    """Send `reqs` at `rate` from the client process; each one's ack time and status, in sending order (also
    kept in `<workdir>/acks-<name>.json`, to see when slow acks happened)."""
    if not reqs:
        return []
    plan_file = workdir / f"requests-{name}.json"
    plan_file.write_text(json.dumps(reqs, ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "bench.week", "--client", bot.url, str(plan_file), str(rate)],
                         capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    (workdir / f"acks-{name}.json").write_text(out.stdout, encoding="utf-8")
    return [(float(a), int(b)) for a, b in json.loads(out.stdout)]


# ----- the checks, from the database ---------------------------------------------------------------


@dataclass
class Checks:
    answers: int = 0  # new messages sent
    stored: int = 0  # of them, stored (answer_messages), or deleted before they arrived (a tombstone)
    lost: int = 0  # live, acknowledged, and missing from its item's entry or from the report
    doubled: int = 0  # found more than once in its item's entry or in the report, or stored twice
    not_deleted: int = 0  # deleted, and still in its entry or the report
    doubled_where: list[str] = field(default_factory=list)
    owners: int = 0
    prompted_once: int = 0  # owners with exactly one prompt row sent and exactly one prompt message
    report_posts: int = 0
    report_equal: bool = False
    report_difference: list[str] = field(default_factory=list)  # where the post is not the compiled report
    incidents: int = 0  # of the `/incident` tags, filed exactly once
    refused: int = 0  # requests not answered 200
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.doubled == 0 and self.not_deleted == 0 and self.prompted_once == self.owners
                and self.report_posts == 1 and self.report_equal and self.refused == 0 and not self.problems)


def check(db: str, plan: Plan, owners: int, items: int, prompt_posts: dict[str, int], stand_in: Side,
          compiled: str, acked: int) -> Checks:
    from sqlalchemy import select

    from storage.db import make_engine, session_factory
    from storage.models import (
        AnswerMessageRow,
        EntryRow,
        IncidentRow,
        MessageTombstoneRow,
        PersonRow,
        PromptRow,
        ReportPostRow,
        ReportRow,
    )

    team = week_team(owners, items)
    key_of = {(int(it.owner[1:]), int(it.name.rsplit("-", 1)[1])): it.key for it in team.items
              if it.owner.startswith("p") and it.name.startswith("事项")}
    c = Checks(answers=len(plan.messages), owners=len(team.owners()), refused=acked)
    engine = make_engine(db)
    with session_factory(engine)() as s:
        rows = list(s.scalars(select(AnswerMessageRow).where(AnswerMessageRow.platform == stand_in.name)))
        # A deletion that arrived before its message leaves a tombstone, and the message is then not stored.
        tombstoned = set(s.scalars(select(MessageTombstoneRow.source_id).where(
            MessageTombstoneRow.platform == stand_in.name)))
        entries = {e.item_key: e.text for e in s.scalars(select(EntryRow))}
        report = s.scalars(select(ReportRow)).first()
        recorded = [r.message_id or "" for r in s.scalars(select(ReportPostRow).where(
            ReportPostRow.platform == stand_in.name).order_by(ReportPostRow.part))]
        persons = {r.id: r.key for r in s.scalars(select(PersonRow))}
        prompts = Counter(persons[r.person_id] for r in s.scalars(select(PromptRow).where(
            PromptRow.kind == "prompt", PromptRow.sent_at.is_not(None))))
        filed = Counter(tag for r in s.scalars(select(IncidentRow).where(IncidentRow.deleted_at.is_(None)))
                        for tag in plan.incidents if tag in (r.what or "") + (r.system or ""))
    engine.dispose()
    by_source = Counter(r.source_id for r in rows)
    markdown = report.markdown if report is not None else ""
    shapes = stand_in.shapes()
    for m in plan.messages:
        source = shapes.source(m)
        c.stored += source in by_source or (m.deleted and source in tombstoned)
        entry = entries.get(key_of[(m.person, m.item)], "")
        in_entry, in_report = entry.count(m.tag), markdown.count(m.tag)
        if by_source[source] > 1:
            c.doubled += 1
            c.doubled_where.append(f"{m.tag}: stored {by_source[source]}×")
        if m.deleted:
            c.not_deleted += (in_entry > 0 or in_report > 0)
        elif in_entry == 0 or in_report == 0:
            c.lost += 1
        elif in_entry > 1 or in_report > 1:
            c.doubled += 1
            c.doubled_where.append(f"{m.tag}: {in_entry}× in entry, {in_report}× in report")
    c.incidents = sum(1 for t in plan.incidents if filed[t] == 1)
    if c.incidents != len(plan.incidents):
        c.problems.append(f"incidents filed once: {c.incidents} of {len(plan.incidents)}")
    dms = stand_in.receivers(team.owners())
    c.prompted_once = sum(1 for pid in team.owners() if prompts[pid] == 1 and stand_in.prompted(pid, prompt_posts) == 1)
    stray = {ch for ch in prompt_posts if ch not in dms}
    if stray:
        c.problems.append(f"prompt-phase posts outside owners' DMs: {sorted(stray)[:5]}")
    c.report_posts, shown = stand_in.report(compiled)
    c.report_equal = shown and report is not None and getattr(report, stand_in.name) == compiled
    if not c.report_equal:
        c.report_difference = stand_in.report_difference(compiled, recorded)
        if report is not None and getattr(report, stand_in.name) != compiled:
            c.report_difference.insert(0, "the stored report is not the report compiled now")
    return c


# ----- the week --------------------------------------------------------------------------------------


def side(platform: str, scale: float, owners: int) -> Side:
    """The platform's stand-in, started."""
    if platform == "feishu":
        from bench.feishu_week import FeishuSide

        return FeishuSide(scale)
    return SlackSide(scale)


def scratch_db(kind: str, workdir: Path, postgres: str) -> tuple[str, Callable[[], None] | None]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'week.db'}", None
    from bench.chaos import _postgres

    return _postgres(postgres)


def run(database_url: str, owners: int = 1000, items: int = 3, answers: int | None = None,
        incidents: int | None = None, scale: float = 30.0, rate: float = 25.0, workdir: Path | None = None,
        late: int | None = None, on_phase: Callable[[str, int], None] | None = None,
        print_rows: bool = True, platform: str = "slack") -> tuple[list[Phase], Checks]:
    """The whole week on an empty database; returns the phases' figures and the checks. `on_phase(name, bot_pid)` is called as
    each phase starts, and with "end" after the last (the profiler attaches there)."""
    answers = answers if answers is not None else 5 * owners
    incidents = incidents if incidents is not None else max(3, owners // 20)
    tmp = tempfile.TemporaryDirectory() if workdir is None else None
    work = workdir or Path(tmp.name)  # type: ignore[union-attr]
    stand_in = side(platform, scale, owners)
    url = database_url
    plan = make_plan(owners, items, answers, incidents, stand_in.shapes(), late)
    phases: list[Phase] = []
    bot: BotProcess | None = None

    def phase(name: str) -> Phase:
        phases.append(Phase(name))
        if on_phase is not None and bot is not None:
            on_phase(name, bot.proc.pid)
        return phases[-1]

    def show(p: Phase) -> None:
        if print_rows:
            print(p.row(), flush=True)

    refused = 0
    try:
        bot = BotProcess(url, stand_in, owners, items, scale, work)
        if print_rows:
            print(f"{'phase':10} {'wall':>10} {'floor':>10} {'ratio':>7} {'least':>9}  {'ack p50 / p99':>18} {'peak RSS':>10} "
                  f"{'CPU':>10}  floor set by", flush=True)
        p = phase("prompts")
        before = stand_in.stats()
        report_parts = [0]
        with measured(p, bot, stand_in, lambda: report_parts[0]):
            bot.do("prompt")
            bot.do("idle")
        after = stand_in.stats()
        prompt_posts = stand_in.prompts_sent(before, after)
        show(p)
        for name, reqs in (("answers", [r for r in plan.requests if r["phase"] == "answers"]), ("reminder", None),
                           ("publish", None), ("late", [r for r in plan.requests if r["phase"] == "late"])):
            when = CLOCK[name]
            bot.at(when)
            p = phase(name)
            p.arrival = len(reqs) / rate if reqs else 0.0
            with measured(p, bot, stand_in, lambda: report_parts[0]):
                if reqs is not None:
                    got = send(bot, reqs, rate, work, name)
                    p.acks = [a for a, _ in got]
                    refused += sum(1 for _, status in got if status != 200)
                    p.floor, p.floor_why = p.arrival, f"arrival of {len(reqs)} requests at {rate:g}/s"
                    p.note = f"{len(reqs)} requests ({sum(r['retry'] for r in reqs)} retries)"
                elif name == "reminder":
                    p.note = f"{bot.do('remind')['sent']} reminded"
                else:
                    report_parts[0] = int(bot.do("publish")["parts"])
                    p.note = f"{report_parts[0]} report messages"
                bot.do("idle")
            show(p)
        if on_phase is not None:
            on_phase("end", bot.proc.pid)
        compiled = str(bot.do("compiled")[stand_in.name])
        checks = check(url, plan, owners, items, prompt_posts, stand_in, compiled, refused)
        checks.problems += [f"stand-in: {x}" for x in stand_in.stats()["problems"][:5]]
        week = Phase("week", wall=sum(p.wall for p in phases), floor=sum(p.floor for p in phases),
                     least=sum(p.least for p in phases),
                     acks=[a for p in phases for a in p.acks], rss=max(p.rss for p in phases),
                     cpu=sum(p.cpu for p in phases))
        phases.append(week)
        show(week)
    finally:
        if bot is not None:
            bot.stop()
        stand_in.stop()
        if tmp is not None:
            tmp.cleanup()
    return phases, checks


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--owners", type=int, default=1000)
    ap.add_argument("--items", type=int, default=3, help="items per owner")
    ap.add_argument("--answers", type=int, help="answer messages (default 5 per owner)")
    ap.add_argument("--incidents", type=int, help="/incident commands (default one per 20 owners)")
    ap.add_argument("--late", type=int, help="answers sent after the post, of --answers (default a tenth)")
    ap.add_argument("--platform", choices=["slack", "feishu"], default="slack")
    ap.add_argument("--scale", type=float, default=30.0, help="the platform's rate limits multiplied by this")
    ap.add_argument("--rate", type=float, default=25.0, help="requests per second people send")
    ap.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    ap.add_argument("--postgres", default=os.environ.get("ZHOUBAO_TEST_POSTGRES_URL",
                                                         "postgresql://postgres@127.0.0.1:5432/postgres"))
    ap.add_argument("--profile", help="py-spy: record the bot during one phase into this SVG/speedscope file "
                                      "(only the thread holding the GIL: where the bot's Python CPU goes)")
    ap.add_argument("--profile-phase", default="answers", choices=["prompts", "answers", "reminder", "publish", "late"])
    ap.add_argument("--keep", type=Path, help="keep the scratch folder (database, bot.log) here")
    ap.add_argument("--client", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.client:
        return client(args.client[0], args.client[1], float(args.client[2]))
    spy: list[subprocess.Popen[bytes]] = []

    def on_phase(name: str, pid: int) -> None:
        if not args.profile:
            return
        for s in spy:
            s.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            s.wait(300)
        spy.clear()
        if name == args.profile_phase:
            fmt = "speedscope" if args.profile.endswith(".json") else "raw" if args.profile.endswith(".txt") \
                else "flamegraph"  # raw: collapsed stacks, one line each, to read with grep and sort
            spy.append(subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid),
                                         "--rate", "50", "--format", fmt, "--output", args.profile, "--threads",
                                         "--gil"]))

    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    print(f"bench/week: {args.owners} owners × {args.items} items, {args.platform} limits ×{args.scale:g}, "
          f"{args.rate:g} requests/s, {args.db}", flush=True)
    with tempfile.TemporaryDirectory() as d:
        url, drop = scratch_db(args.db, args.keep or Path(d), args.postgres)
        try:
            phases, c = run(url, args.owners, args.items, args.answers, args.incidents, args.scale, args.rate,
                            args.keep, args.late, on_phase, platform=args.platform)
        finally:
            if drop is not None:
                drop()
    print(f"answers {c.answers}: stored {c.stored}, lost {c.lost}, doubled {c.doubled}, deletions not applied "
          f"{c.not_deleted}; requests refused {c.refused}")
    for where in c.doubled_where[:10]:
        print(f"  doubled: {where}")
    print(f"owners prompted exactly once: {c.prompted_once} of {c.owners}; report posts {c.report_posts}, "
          f"posted = compiled {c.report_equal}; incidents filed once {c.incidents}")
    for where in c.report_difference[:20]:
        print(f"  report: {where}")
    for problem in c.problems:
        print(f"  problem: {problem}")
    week = phases[-1]
    print(f"week: {week.wall:.0f} s, floor {week.floor:.0f} s → {week.wall / week.floor:.2f}× (target ≤ 1.2×); least the "
          f"product must take {week.least:.0f} s → {week.wall / max(week.least, 1e-9):.2f}×; "
          f"ack p99 {pct(week.acks, 99) * 1000:.0f} ms (≤ 1,000), peak RSS {week.rss:.0f} MB (≤ 300)")
    ok = c.ok and week.wall <= 1.2 * week.floor and pct(week.acks, 99) <= 1.0 and week.rss <= 300
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
