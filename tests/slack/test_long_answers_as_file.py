"""Issue 21 (every outbound message at any size), Slack: `/zhoubao preview` of a long week is not cut after
the five answers a response_url takes: the editor gets its first lines and the whole report as a file in
their DM (files_upload_v2 against the stand-in: files.getUploadURLExternal, the upload,
files.completeUploadExternal)."""

from __future__ import annotations

import json

from bot.domain.weeks import IsoWeek
from tests.helpers import fill_long_week
from tests.slack.conftest import Workspace
from tests.slack.stand_in import dm_of


def test_a_long_preview_arrives_whole_as_a_file_beside_its_first_lines(workspace: Workspace) -> None:
    ws = workspace
    fill_long_week(ws.bot, "slack")
    preview = ws.bot.week_report.render(ws.bot.week_report.compile(IsoWeek(2024, 26))).markdown
    assert len(preview) > 40_000  # more than three messages' worth

    status, _ = ws.command("/zhoubao", "UZHANGWEI", "preview")
    assert status == 200
    ws.settle()
    answers = [c.args["text"] for c in ws.slack.of("response_url")]
    assert len(answers) == 1 and ws.slack.problems == []
    assert answers[0].startswith("# 2024-W26\n")
    assert answers[0].endswith(f"全文（{len(preview)} 字）已作为文件 zhoubao-preview.txt 发到你与机器人的私聊。")
    done = ws.slack.of("files.completeUploadExternal")
    assert len(done) == 1 and done[0].args["channel_id"] == dm_of("UZHANGWEI")
    files = done[0].args["files"]
    (shared,) = files if isinstance(files, list) else json.loads(files)
    assert ws.slack.uploads[shared["id"]].decode("utf-8") == preview
