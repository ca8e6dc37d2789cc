"""What the week's key points cost: the time they add to publishing, and the request a big week makes.

1. Added time to publish. The digest is prepared when the reminder runs; publishing only reads the stored,
   approved lines. With a model that takes `--model-seconds` to answer (an in-process stand-in for a slow
   local server), the example team's week is prepared at reminder time, then published `--repeat` times with
   the digest on and the same times with it off (interleaved, SQLite). Printed: the model calls made while
   publishing (must be 0) and the publish medians; their difference is the added time (noise around 0).
2. Request size. A 1,000-owner week (one project part and one OKR item each, every one answered with about
   120 characters, as a big department writes) is compiled with the pure `compile_report`, turned into the
   fact sheet the model is sent, and measured: bytes, estimated tokens (one per three UTF-8 bytes, on the high
   side for Chinese text), against context windows of 8k, 32k and 128k tokens. A week past the window is sent
   one report section per request (a project, an OKR group, metrics, incidents, the editor's sections), and a
   section still too big in runs of sources that fit (`bot.domain.digest.chunks`); the lines of all requests
   are checked together and the first `AI_DIGEST_LINES` that pass are kept.

    .venv/bin/python -m bench.digest [--repeat 15] [--model-seconds 5] [--owners 1000]
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.adapters.console.chat import ConsoleChat, VirtualClock
from bot.domain.compile import compile_report
from bot.domain.digest import chunks, estimate_tokens, fact_sheet, request_messages
from bot.domain.facts import EntryFact, WeekFacts
from bot.domain.team import Team
from bot.domain.weeks import IsoWeek
from bot.runtime.composition import build_bot
from bot.runtime.team_file import load_team
from bot.services.bot import Bot
from bot.services.chat import Inbound
from bot.services.digest import DigestConfig
from bot.services.digest_model import ModelAnswer

ZONE = ZoneInfo("Asia/Shanghai")
EXAMPLE = Path(__file__).resolve().parents[1] / "bot" / "examples" / "team.yaml"
WEEK = IsoWeek.parse("2024-W26")


class SlowModel:
    """A model that answers after `seconds` with two lines citing the first source: a slow local server."""

    host, model, base_url = "localhost:11434", "qwen2.5:7b", "http://localhost:11434/v1"

    def __init__(self, seconds: float) -> None:
        self.seconds, self.calls = seconds, 0

    def complete(self, messages: list[dict[str, str]], params: dict[str, Any]) -> ModelAnswer:
        self.calls += 1
        time.sleep(self.seconds)
        first = json.loads(messages[1]["content"])["sources"][0]
        lines = [{"text": first["title"], "cites": [first["id"]]}, {"text": first["title"] + "。", "cites": [first["id"]]}]
        return ModelAnswer(json.dumps({"lines": lines}, ensure_ascii=False), 1000, 50, int(self.seconds * 1000))

    def models(self) -> list[str]:
        return [self.model]


def _answer(bot: Bot, who: str, text: str, n: int) -> None:
    bot.inbox.receive(Inbound(platform="bench", user=who, source_id=f"bench-{who}-{n}", text=text, at=bot.ctx.now()))


def _bot(folder: Path, name: str, model: SlowModel | None) -> Bot:
    clock = VirtualClock(datetime(2024, 6, 27, 10, 0, tzinfo=ZONE))
    bot = build_bot(load_team(EXAMPLE), ConsoleChat(io.StringIO()), clock, database_url=f"sqlite:///{folder / name}",
                    digest_model=model, digest_config=DigestConfig(min_lines=1))
    bot.cycle.send_prompts()
    for n, (who, text) in enumerate((("liuyang", "[1] v2.0已于6月26日全量上线。"), ("chenjing", "[1] 整体进度 45%"),
                                     ("zhoujie", "机房迁移：整体进度达到了80%"))):
        _answer(bot, who, text, n)
    return bot


def added_time(repeat: int, seconds: float) -> None:
    model = SlowModel(seconds)
    with tempfile.TemporaryDirectory() as tmp:
        on, off = _bot(Path(tmp), "on.db", model), _bot(Path(tmp), "off.db", None)
        remind = datetime(2024, 6, 28, 10, 0, tzinfo=ZONE)
        started = time.monotonic()
        on.cycle.remind(at=remind)
        prepare = time.monotonic() - started
        off.cycle.remind(at=remind)
        calls_before = model.calls
        timings: dict[str, list[float]] = {"on": [], "off": []}
        publish = datetime(2024, 6, 28, 17, 0, tzinfo=ZONE)
        for _ in range(repeat):
            for name, bot in (("on", on), ("off", off)):
                started = time.monotonic()
                result = bot.cycle.publish(WEEK, publish)
                timings[name].append(time.monotonic() - started)
                assert ("本周要点" in result.markdown) == (name == "on")
        during = model.calls - calls_before
        on_ms, off_ms = (statistics.median(timings[k]) * 1000 for k in ("on", "off"))
        print(f"reminder job with the model answering in {seconds:g} s: {prepare:.2f} s (the digest is prepared here)")
        print(f"model calls while publishing: {during} (must be 0)")
        print(f"publish median over {repeat} runs: digest on {on_ms:.1f} ms, off {off_ms:.1f} ms; "
              f"added {on_ms - off_ms:+.1f} ms (no model wait: the stored lines, re-checked against the facts)")


def big_team(owners: int) -> Team:
    people = [{"id": f"p{n}", "name": f"员工{n:04d}"} for n in range(owners)]
    projects = [{"name": f"项目{g:03d}", "parts": [{"name": f"子项{n}", "owner": f"p{n}"}
                                                 for n in range(g * 10, min(owners, g * 10 + 10))]}
                for g in range((owners + 9) // 10)]
    okrs = [{"id": f"O{g + 1}", "name": f"目标{g + 1}", "items": [{"name": f"关键结果{n}", "owner": f"p{n}"}
                                                                 for n in range(g * 20, min(owners, g * 20 + 20))]}
            for g in range((owners + 19) // 20)]
    return Team.model_validate({"team": {"name": "大部门"}, "people": people, "editors": ["p0"],
                                "projects": projects, "okrs": okrs, "metrics": []})


def request_size(owners: int) -> None:
    team = big_team(owners)
    text = "本周完成接口联调与压测，发现两处超时问题已修复，整体进度达到65%，下周进入灰度，预计7月3日全量上线。主要风险：依赖方排期未定。"
    entries = {it.key: EntryFact(it.key, text, author=it.owner) for it in team.items}
    report = compile_report(team, WeekFacts(WEEK.label, entries), None,
                            compiled_at=datetime(2024, 6, 28, 17, 0, tzinfo=ZONE))
    sheet = fact_sheet(team, report)
    messages = request_messages(sheet, 5)
    size = sum(len(m["content"].encode("utf-8")) for m in messages)
    tokens = estimate_tokens(messages)
    print(f"{owners}-owner week: {len(sheet.sources)} sources, request {size / 1024:.0f} KiB, about {tokens:,} tokens")
    for context in (8192, 32768, 131072):
        budget = DigestConfig(context_tokens=context).budget()
        parts = chunks(sheet, 5, budget)
        biggest = max(estimate_tokens(request_messages(c, 5)) for c in parts)
        fits = "fits in one request" if len(parts) == 1 else f"sent as {len(parts)} requests (one per section or run)"
        print(f"  context {context:>7,} tokens (budget {budget:,} after room for the answer): {fits}; "
              f"largest request about {biggest:,} tokens")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--model-seconds", type=float, default=5.0)
    parser.add_argument("--owners", type=int, default=1000)
    args = parser.parse_args()
    added_time(args.repeat, args.model_seconds)
    request_size(args.owners)


if __name__ == "__main__":
    main()
