"""Issue 20 item 8, in the core: an edit whose message has not arrived yet is taken as the message, and the
late original changes nothing (`Inbox.edit`, `Inbox.receive`)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.services.chat import Inbound
from storage.db import session_factory
from storage.models import AnswerRevisionRow
from tests.helpers import entry_text, make_bot

MIGRATION = "okr:O3/机房迁移"


def test_an_edit_before_its_message_is_the_message_and_the_late_original_changes_nothing(
        database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    sent = clock.now
    reply = bot.inbox.edit("fake", "m1", "机房迁移：进度 45%", sent + timedelta(minutes=5), user="zhoujie",
                           sent_at=sent)
    assert reply is not None and reply.ok and "机房迁移" in reply.text
    late = bot.inbox.receive(Inbound(platform="fake", user="zhoujie", source_id="m1", text="机房迁移：进度 40%",
                                     at=sent))
    assert late is None  # already stored by its id: nothing said, nothing changed
    assert entry_text(bot, MIGRATION) == "进度 45%"
    with session_factory(bot.engine)() as s:
        assert list(s.scalars(select(AnswerRevisionRow.change))) == ["create"]


def test_an_edit_of_an_unknown_message_from_nobody_known_stores_nothing(database_url, chat, clock) -> None:
    bot = make_bot(database_url, chat, clock)
    assert bot.inbox.edit("fake", "m1", "机房迁移：进度 45%", clock.now) is None  # no author: nothing to file it under
    assert entry_text(bot, MIGRATION) is None
