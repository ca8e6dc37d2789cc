"""lark-oapi loaded the adapter's way (bot/adapters/feishu/sdk.py: the package `__init__`s of `lark_oapi`
and its API packages deferred) still does what the SDK does.

This test process has imported `lark_oapi` whole already (tests/feishu/test_long_connection.py and the
behaviour suite import it), so the check runs in a fresh interpreter that imports the adapter first.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One event frame and one card callback frame through lark-oapi's own `ws.Client._handle_data_frame`
# (lark_oapi/ws/client.py), as `ws.Client.start()` runs it, into the dispatcher the adapter builds
# (`transports.event_handler`); then the names `import lark_oapi` gives, asked for afterwards.
_SCRIPT = """
import base64, json, sys
from datetime import datetime, timezone

from bot.adapters.feishu.transports import event_handler
from tests.feishu import payloads

before = sum(1 for m in sys.modules if m.startswith("lark_oapi"))
import lark_oapi.ws.client as ws_client_module
from lark_oapi.ws.pb.pbbp2_pb2 import Frame


class Intake:  # FeishuIntake's `take`: what the dispatcher hands over, and the card it answers with
    def __init__(self):
        self.taken = []

    def take(self, payload):
        self.taken.append(payload)
        return {"toast": {"type": "success", "content": "ok"}}


intake = Intake()
client = ws_client_module.Client("cli_test", "secret", event_handler=event_handler(intake),
                                 domain="http://127.0.0.1:9")
written = []


async def capture(data):
    written.append(data)


client._write_message = capture
at = datetime(2024, 6, 27, 10, tzinfo=timezone.utc)
for n, payload in enumerate([payloads.message("ou_a", "机房迁移：进展", at, message_id="om_1"),
                             payloads.card_action("ou_a", {"k": "v"}, {"item_1": "完成"}, "om_2", at)], 1):
    frame = Frame(SeqID=n, LogID=n, service=1, method=1)
    for key, value in (("type", "event"), ("message_id", f"f{n}"), ("sum", "1"), ("seq", "0"), ("trace_id", "t")):
        header = frame.headers.add()
        header.key, header.value = key, value
    frame.payload = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    ws_client_module.loop.run_until_complete(client._handle_data_frame(frame))
answers = []
for raw in written:
    answer = Frame()
    answer.ParseFromString(raw)
    body = json.loads(answer.payload)
    answers.append(json.loads(base64.b64decode(body["data"])) if body.get("data") else body)
loaded = sum(1 for m in sys.modules if m.startswith("lark_oapi"))

import lark_oapi
from lark_oapi.api.im.v1 import CreateMessageRequest
print(json.dumps({
    "before": before, "loaded": loaded,
    "taken": [(p["header"]["event_type"], p["event"].get("message", {}).get("message_id")) for p in intake.taken],
    "card_answer": answers[1],
    "sdk_whole": [lark_oapi.Client.__name__, lark_oapi.EventDispatcherHandler.__name__,
                  CreateMessageRequest.__name__],
}, ensure_ascii=False))
"""


def test_the_long_connection_works_on_lark_oapi_loaded_the_adapters_way() -> None:
    done = subprocess.run([sys.executable, "-c", _SCRIPT], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["taken"] == [["im.message.receive_v1", "om_1"], ["card.action.trigger", None]]
    assert seen["card_answer"] == {"toast": {"type": "success", "content": "ok"}}
    # The adapter loaded a few hundred of lark-oapi's modules, not its 10,624 ...
    assert seen["before"] < 100 and seen["loaded"] < 1000, seen
    # ... and whatever `import lark_oapi` offers is still there when asked for.
    assert seen["sdk_whole"] == ["Client", "EventDispatcherHandler", "CreateMessageRequest"]
