"""Chaos: a real bot process killed with SIGKILL at random points while people answer, edit and delete,
while it prompts, and while it publishes; restarted each time. Then: every acknowledged message stored
exactly once, in order per person, edits and deletions applied, exactly one report post, and the posted
report equal to the compiled one. The Slack stand-in answers 500 after posting once and loses one
response, during publishing.

    .venv/bin/python -m bench.chaos [--kills 20] [--ops 500] [--db sqlite|postgres|both]

Prints, per database: kill points, acknowledged, stored, lost (must be 0), report posts (must be 1).
`tests/chaos/` runs a short form of the same `run`.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import itertools
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.chaos_proc import SECRET  # noqa: E402
from bot.adapters.slack import blocks  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402
from storage.db import make_engine, session_factory  # noqa: E402
from storage.models import AnswerMessageRow, JournalRow, PersonRow, ReportRow  # noqa: E402
from tests.slack.stand_in import SlackStandIn  # noqa: E402

TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"
PROC = Path(__file__).resolve().parent / "chaos_proc.py"


@dataclass
class Op:
    kind: str  # new | edit | delete
    person: str
    ts: str  # the message it is about
    text: str = ""
    event_id: str = field(default_factory=lambda: "Ev" + uuid.uuid4().hex[:12])
    at: str = ""  # the edit's or deletion's own ts


@dataclass
class Counts:
    database: str
    kills: int = 0
    acknowledged: int = 0
    stored: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0
    edits_wrong: int = 0
    deletions_wrong: int = 0
    posts: int = 0
    report_matches: bool = False
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.duplicated == 0 and self.out_of_order == 0 and self.edits_wrong == 0
                and self.deletions_wrong == 0 and self.posts == 1 and self.report_matches and not self.problems)

    def line(self) -> str:
        return (f"{self.database}: kill points {self.kills}, acknowledged {self.acknowledged}, stored {self.stored}, "
                f"lost {self.lost}, duplicated {self.duplicated}, out of order {self.out_of_order}, "
                f"edits wrong {self.edits_wrong}, deletions wrong {self.deletions_wrong}, report posts {self.posts}, "
                f"posted = compiled {self.report_matches}" + (f", problems {self.problems}" if self.problems else ""))


class Bot:
    """The bot process: started, killed with SIGKILL, started again."""

    def __init__(self, db: str, api: str, workdir: Path) -> None:
        self.db, self.api, self.workdir = db, api, workdir
        self.port_file = workdir / "port"
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""
        self.generation = 0
        self._lock = threading.Lock()
        self.up = threading.Event()

    def start(self, *, prompt: bool = False) -> None:
        self.port_file.unlink(missing_ok=True)
        cmd = [sys.executable, str(PROC), "--db", self.db, "--slack-api", self.api, "--port-file",
               str(self.port_file), "--spool", str(self.workdir / "spool")] + (["--prompt"] if prompt else [])
        log = open(self.workdir / f"bot-{self.generation}.log", "wb")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"bot exited at start: see {log.name}")
            if time.monotonic() > deadline:
                raise RuntimeError("bot did not start within 60 s")
            time.sleep(0.02)
        with self._lock:
            self.url = f"http://127.0.0.1:{self.port_file.read_text()}/slack/events"
            self.generation += 1
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.kill()

    def post(self, body: bytes, content_type: str) -> bool:
        """One signed request; True when the bot acknowledged it (HTTP 200)."""
        if not self.up.wait(120):
            raise RuntimeError("bot not back within 120 s")
        ts = str(int(time.time()))
        sig = "v0=" + hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig})
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False


def user_id(person: str) -> str:
    return "U" + person.upper()


def event_body(op: Op) -> bytes:
    channel = "D" + op.person.upper()
    if op.kind == "new":
        event: dict[str, Any] = {"type": "message", "channel": channel, "channel_type": "im",
                                 "user": user_id(op.person), "text": op.text, "ts": op.ts, "event_ts": op.ts}
    elif op.kind == "edit":
        event = {"type": "message", "subtype": "message_changed", "channel": channel, "channel_type": "im",
                 "hidden": True, "ts": op.at, "event_ts": op.at,
                 "message": {"type": "message", "user": user_id(op.person), "text": op.text, "ts": op.ts,
                             "edited": {"user": user_id(op.person), "ts": op.at}},
                 "previous_message": {"type": "message", "user": user_id(op.person), "ts": op.ts}}
    else:
        event = {"type": "message", "subtype": "message_deleted", "channel": channel, "channel_type": "im",
                 "hidden": True, "ts": op.at, "event_ts": op.at, "deleted_ts": op.ts,
                 "previous_message": {"type": "message", "user": user_id(op.person), "ts": op.ts, "text": "…"}}
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": op.event_id,
                       "event": event, "event_time": int(time.time())}).encode()


def plan(people: list[str], ops: int, rng: random.Random) -> dict[str, list[Op]]:
    """Per person, a script of new messages, edits of earlier ones and deletions."""
    seq = itertools.count(1)
    base = int(time.time())

    def ts() -> str:
        return f"{base}.{next(seq):06d}"

    script: dict[str, list[Op]] = {p: [] for p in people}
    for n in range(ops):
        person = people[n % len(people)]
        mine = [o for o in script[person] if o.kind == "new"]
        deleted = {o.ts for o in script[person] if o.kind == "delete"}
        live = [o for o in mine if o.ts not in deleted]
        roll = rng.random()
        if live and roll < 0.15:
            target = rng.choice(live)
            script[person].append(Op("edit", person, target.ts, f"{target.text}（更正 {n}）", at=ts()))
        elif live and roll < 0.22:
            script[person].append(Op("delete", person, rng.choice(live).ts, at=ts()))
        else:
            script[person].append(Op("new", person, ts(), f"进展 {n}：第 {len(mine) + 1} 条"))
    return script


def run(database_url: str, *, kills: int = 20, ops: int = 500, seed: int = 1, workdir: Path | None = None,
        label: str | None = None) -> Counts:
    """The whole scenario on one (empty) database; returns the counts."""
    rng = random.Random(seed)
    team = load_team(TEAM)
    people = [p.id for p in team.people if p.id in team.owners()][:6]
    stand_in = SlackStandIn(users={p.email: user_id(p.id) for p in team.people if p.email}).start()
    tmp = tempfile.TemporaryDirectory() if workdir is None else None
    work = workdir or Path(tmp.name)  # type: ignore[union-attr]
    bot = Bot(database_url, stand_in.url + "/api/", work)
    counts = Counts(label or make_url(database_url).get_backend_name())
    acked: set[str] = set()
    acked_lock = threading.Lock()
    script = plan(people, ops, rng)

    def send(op: Op) -> None:
        body = event_body(op)
        while not bot.post(body, "application/json"):
            bot.up.wait(120)  # not acknowledged: Slack retries it, with the same event_id
        with acked_lock:
            acked.add(op.event_id)

    def sender(person: str) -> None:
        for op in script[person]:
            send(op)

    def kill_at_random(most: float) -> None:
        time.sleep(rng.uniform(0.02, most))
        bot.kill()
        counts.kills += 1
        bot.start()

    try:
        # During prompting.
        bot.start(prompt=True)
        kill_at_random(0.3)
        # During the burst.
        threads = [threading.Thread(target=sender, args=(p,), daemon=True) for p in people]
        for t in threads:
            t.start()
        burst_kills = max(1, kills - 4)
        while any(t.is_alive() for t in threads) and counts.kills < burst_kills:
            kill_at_random(0.6)
        for t in threads:
            t.join(300)
        wait_processed(database_url)
        # During publishing: Slack posts then answers 500, then loses a response, then plain kills.
        faults = [{"status": 500, "after": True}, {"lose": True}]
        while counts.kills < kills:
            if faults:
                stand_in.fail("chat.postMessage", **faults.pop(0))  # type: ignore[arg-type]
            publish(bot)
            kill_at_random(0.5)
        publish(bot)
        wait_processed(database_url)
        # One more publish after every answer is in: the post is edited in place, never posted again.
        publish(bot)
        wait_processed(database_url)
        check(database_url, script, acked, stand_in, team, counts)
    finally:
        bot.stop()
        stand_in.stop()
        if tmp is not None:
            tmp.cleanup()
    counts.acknowledged = len([op for ops_ in script.values() for op in ops_ if op.kind == "new"
                               and op.event_id in acked])
    return counts


def publish(bot: Bot) -> None:
    """`/zhoubao publish confirm`: a publish of this week, confirmed (issue 22: a bare publish only asks)."""
    n = uuid.uuid4().hex[:8]
    form = {"token": "x", "team_id": "T1", "channel_id": "C0REPORT", "user_id": user_id("zhangwei"),
            "command": "/zhoubao", "text": "publish confirm", "api_app_id": "A1", "trigger_id": f"trig-{n}",
            "response_url": "http://127.0.0.1:9/respond"}
    bot.post(urlencode(form).encode(), "application/x-www-form-urlencoded")


def wait_processed(database_url: str, timeout: float = 120.0) -> None:
    engine = make_engine(database_url)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with session_factory(engine)() as s:
                left = s.scalar(select(func.count(JournalRow.id)).where(JournalRow.processed_at.is_(None)))
            if not left:
                return
            time.sleep(0.1)
        raise RuntimeError("the journal was not processed within the timeout")
    finally:
        engine.dispose()


def check(database_url: str, script: dict[str, list[Op]], acked: set[str], stand_in: SlackStandIn, team: Any,
          counts: Counts) -> None:
    engine = make_engine(database_url)
    with session_factory(engine)() as s:
        persons = {r.id: r.key for r in s.scalars(select(PersonRow))}
        rows = list(s.scalars(select(AnswerMessageRow).where(AnswerMessageRow.platform == "slack")
                              .order_by(AnswerMessageRow.id)))
        report = s.scalars(select(ReportRow)).first()
        gave_up = s.scalar(select(func.count(JournalRow.id)).where(JournalRow.last_error.is_not(None))) or 0
    engine.dispose()
    if gave_up:
        counts.problems.append(f"{gave_up} journal entries failed at least once")
    by_source: dict[str, list[AnswerMessageRow]] = defaultdict(list)
    for r in rows:
        by_source[r.source_id.rsplit(":", 1)[-1]].append(r)
    counts.stored = len(by_source)
    for person, ops in script.items():
        news = [o for o in ops if o.kind == "new" and o.event_id in acked]
        for o in news:
            found = by_source.get(o.ts, [])
            if not found:
                counts.lost += 1
            elif len(found) > 1 or persons.get(found[0].person_id) != person:
                counts.duplicated += 1
        ids = [by_source[o.ts][0].id for o in news if by_source.get(o.ts)]
        counts.out_of_order += sum(1 for a, b in itertools.pairwise(ids) if b < a)
        final: dict[str, str] = {o.ts: o.text for o in news}
        deleted: set[str] = set()
        for o in ops:
            if o.event_id not in acked:
                continue
            if o.kind == "edit" and o.ts not in deleted:
                final[o.ts] = o.text
            elif o.kind == "delete":
                deleted.add(o.ts)
        for ts_, want in final.items():
            got = by_source.get(ts_)
            if not got:
                continue
            if ts_ in deleted:
                counts.deletions_wrong += got[0].deleted_at is None
            elif got[0].text != want:
                counts.edits_wrong += 1
    counts.problems += [f"stand-in: {p}" for p in stand_in.problems]
    posts = [m for m in stand_in.messages("C0REPORT")
             if (m.get("metadata") or {}).get("event_type") == "zhoubao_report"]
    counts.posts = len(posts)
    if report is not None and posts:
        shown = posts[0]["blocks"]
        shown = json.loads(shown) if isinstance(shown, str) else shown
        counts.report_matches = shown == blocks.report_messages(report.slack)[0]


def _postgres(admin: str) -> tuple[str, Any]:
    name = f"zhoubao_chaos_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    engine = create_engine(admin.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()

    url = make_url(admin.replace("postgresql://", "postgresql+psycopg://", 1)).set(database=name)
    return url.render_as_string(hide_password=False), drop


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--ops", type=int, default=500)
    p.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    p.add_argument("--postgres", default=os.environ.get("ZHOUBAO_TEST_POSTGRES_URL",
                                                        "postgresql://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args()
    ok = True
    for db in (["sqlite", "postgres"] if args.db == "both" else [args.db]):
        with tempfile.TemporaryDirectory() as d:
            if db == "sqlite":
                url, drop = f"sqlite:///{Path(d) / 'chaos.db'}", None
            else:
                url, drop = _postgres(args.postgres)
            try:
                start = time.perf_counter()
                counts = run(url, kills=args.kills, ops=args.ops, seed=args.seed, workdir=Path(d), label=db)
                print(counts.line() + f" ({time.perf_counter() - start:.0f}s)", flush=True)
                ok = ok and counts.ok
            finally:
                if drop is not None:
                    drop()
    print("PASS" if ok else "FAIL")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
