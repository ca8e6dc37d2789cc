"""One real bot process for the chaos suite: Slack over HTTP through the inbound journal.

    python bench/chaos_proc.py --db URL --slack-api http://127.0.0.1:PORT/api/ --port-file PATH [--prompt]

The production pieces, composed as the runtime composes them: the bot from the composition root, the
Slack gateway against a Web API (the stand-in), the Bolt app whose listeners run on the journal's worker,
`SlackIntake` as the ack path, the journal's worker replaying what a killed predecessor acknowledged.
The HTTP server is the standard library's threaded one (the Starlette/uvicorn app is on another
branch); it only moves bytes to `SlackIntake.http`. `--prompt` sends the weekly prompts at start.
Writes its port to `--port-file` once it serves. Made to be killed with SIGKILL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import Future
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.adapters.slack.app import build_app  # noqa: E402
from bot.adapters.slack.gateway import SlackGateway, make_client  # noqa: E402
from bot.adapters.slack.intake import SlackIntake  # noqa: E402
from bot.adapters.slack.limits import Pacer  # noqa: E402
from bot.runtime.composition import build_bot  # noqa: E402
from bot.runtime.team_file import load_team  # noqa: E402
from bot.services.events import DmChannels  # noqa: E402

SECRET = "chaos-secret"
TEAM = Path(__file__).resolve().parent.parent / "bot" / "examples" / "team.yaml"


class Inline:
    """Listener work runs on the journal's worker thread, where the dispatch happens."""

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        future.set_result(fn(*args, **kwargs))
        return future


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--slack-api", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--spool", default=None)
    p.add_argument("--prompt", action="store_true")
    args = p.parse_args()

    team = load_team(TEAM)
    gateway = SlackGateway(make_client("xoxb-chaos", args.slack_api, timeout=5), team, pacer=Pacer(scale=1000))
    bot = build_bot(team, gateway, lambda: datetime.now(team.zone), database_url=args.db,
                    spool_dir=Path(args.spool) if args.spool else None)
    gateway.dm_store = DmChannels(bot.ctx)
    app = build_app(bot, gateway, signing_secret=SECRET, workers=Inline(),  # type: ignore[arg-type]
                    token_verification=False)
    assert bot.journal is not None
    intake = SlackIntake(bot.journal, app, SECRET)
    bot.journal.start(poll=0.1)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, body = intake.http(raw, {k.lower(): v for k, v in self.headers.items()})
            data = json.dumps(body).encode() if body is not None else b""
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    server.request_queue_size = 1024
    tmp = Path(args.port_file + ".tmp")
    tmp.write_text(str(server.server_address[1]))
    os.replace(tmp, args.port_file)
    if args.prompt:
        bot.cycle.send_prompts("prompt")
    server.serve_forever()


if __name__ == "__main__":
    main()
