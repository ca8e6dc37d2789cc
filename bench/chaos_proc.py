"""One real bot process for the chaos suite: `zhoubao run` on Slack over HTTP, without the scheduler.

    python bench/chaos_proc.py --db URL --slack-api http://127.0.0.1:PORT/api/ --port-file PATH [--prompt]

The composition root builds the process exactly as `zhoubao run` does (Slack gateway against the given
Web API, the Bolt listeners run by the inbound journal's worker, `SlackIntake` behind the Starlette app
on uvicorn, listen backlog 2048); only the scheduler is left out, so no job fires on the wall clock
while the chaos driver decides when to prompt and publish. `--prompt` sends the weekly prompts at start.
Writes its port to `--port-file` once it serves. Made to be killed with SIGKILL.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pydantic import SecretStr  # noqa: E402

from bot.adapters.slack.limits import Pacer  # noqa: E402
from bot.runtime.composition import Overrides, bind, compose  # noqa: E402
from bot.runtime.settings import Settings  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402

SECRET = "chaos-secret"
TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--slack-api", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--spool", default="./data/spool")
    p.add_argument("--prompt", action="store_true")
    args = p.parse_args()

    team = load_team(TEAM)
    settings = Settings(_env_file=None, slack_bot_token=SecretStr("xoxb-chaos"),  # type: ignore[call-arg]
                        slack_signing_secret=SecretStr(SECRET), slack_api_url=args.slack_api,
                        database_url=args.db, spool_dir=Path(args.spool))
    runtime = compose(settings, team, clock=lambda: datetime.now(team.zone),
                      overrides=Overrides(pacer=Pacer(scale=1000)))
    assert runtime.bot.journal is not None
    runtime.bot.journal.start(poll=0.1)  # first replays what the killed predecessor acknowledged
    sock = bind(0, "127.0.0.1")
    runtime.serve_alongside(sock)
    tmp = Path(args.port_file + ".tmp")
    tmp.write_text(str(sock.getsockname()[1]))
    os.replace(tmp, args.port_file)
    if args.prompt:
        runtime.bot.cycle.send_prompts("prompt")
    threading.Event().wait()


if __name__ == "__main__":
    main()
