"""The dashboard's services and pages without a browser: search, history, roles, edits, escaping, words."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import datetime

import pytest
from sqlalchemy import text

from bot.adapters.web.site import safe_next
from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.services.dashboard import Dashboard, NotAllowed
from bot.services.publishing import Confirmation
from bot.services.signin import SignIn
from bot.services.trends import TrendsService
from bot.text.catalogue import words as catalogue
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot, say
from tests.web.conftest import OLDER_LINE, SECRET, signed_in

W26 = IsoWeek(2024, 26)


def viewer(bot: Bot, who: str):  # type: ignore[no-untyped-def]
    v = SignIn(bot.ctx, SECRET).viewer(who)
    assert v is not None
    return v


def test_search_finds_older_weeks_newest_first_through_the_index(bot: Bot, clock: FixedClock) -> None:
    d = Dashboard(bot)
    hits = d.search("农行存管")
    assert [(h.week, h.title) for h in hits] == [("2024-W11", "聚合收单 · 业务")]
    assert OLDER_LINE in hits[0].text
    say(bot, "lina", "业务：农行存管进入生产验证")
    assert [h.week for h in d.search("农行存管")] == ["2024-W26", "2024-W11"]
    assert [h.week for h in d.search("农行")] == ["2024-W26", "2024-W11"]  # two characters: no trigram, still found
    assert [h.kind for h in d.search("批量任务超时")] == ["incident"]
    assert d.search("50%_不存在") == [] and d.search("   ") == []
    # an edit replaces the indexed text: the old wording is no longer found in that week
    clock.advance(minutes=5)
    say(bot, "zhoujie", "机房迁移：整体进度达到了90%")
    assert [h.week for h in d.search("整体进度达到了")] == ["2024-W26"]
    assert "90%" in d.search("整体进度达到了")[0].text


def test_search_uses_the_index(bot: Bot) -> None:
    with bot.engine.connect() as conn:
        if bot.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.execute(text(
                "EXPLAIN QUERY PLAN SELECT rowid FROM search_fts WHERE search_fts MATCH '\"农行存管\"'")))
            assert "VIRTUAL TABLE INDEX" in plan
        else:
            # With so few rows the planner would scan; forbid that to see which index serves the pattern.
            conn.execute(text("SET enable_seqscan = off"))
            plans = {}
            for name, sql in (("entries", "SELECT id FROM entries WHERE text ILIKE '%农行存管%'"),
                              ("bank_statuses", "SELECT id FROM bank_statuses WHERE note ILIKE '%农行存管%'"),
                              ("incidents", "SELECT id FROM incidents WHERE incidents.system || ' ' || incidents.what"
                                            " || ' ' || incidents.cause || ' ' || incidents.impact ILIKE '%批量%'")):
                plans[name] = " ".join(r[0] for r in conn.execute(text("EXPLAIN " + sql)))
            assert all(f"search_{name}_trgm" in plan for name, plan in plans.items()), plans


def test_history_lists_weeks_newest_first_with_completion_and_incidents(bot: Bot) -> None:
    page = Dashboard(bot).history()
    assert [r.label for r in page.rows] == ["2024-W26", "2024-W25", "2024-W11"]
    total = len(bot.ctx.team.items)
    assert page.rows[0].completion == round(100 * 3 / total)
    assert page.rows[0].incidents == (("C", 1),)
    assert page.rows[1].incidents == ()


def test_a_member_edits_only_their_own_items_and_cannot_publish_or_remind(bot: Bot, chat: FakeChat) -> None:
    d = Dashboard(bot)
    lina = viewer(bot, "lina")
    reply = d.edit(lina, W26, "okr:O1/对公代付", "系统开发进度70%，主要依赖：银行专线开通")
    assert reply.ok
    with pytest.raises(NotAllowed):
        d.edit(lina, W26, "okr:O3/机房迁移", "不是我的")
    with pytest.raises(NotAllowed):
        d.edit(lina, W26, "editor:reflection", "不是我的")
    with pytest.raises(NotAllowed):
        d.publish(lina, W26, Confirmation.WEEK)
    with pytest.raises(NotAllowed):
        d.remind(lina)
    assert chat.of_kind("report") == []
    view = d.week(W26, lina)
    row = next(i for i in view.items if i.item.key == "okr:O1/对公代付")
    assert row.state == "answered" and row.author == "李娜" and row.text.startswith("系统开发进度70%")


def test_an_editor_corrects_someone_elses_item_and_history_keeps_both(bot: Bot) -> None:
    d = Dashboard(bot)
    d.edit(viewer(bot, "zhangwei"), W26, "okr:O3/机房迁移", "整体进度85%")
    view = d.week(W26, viewer(bot, "zhangwei"))
    row = next(i for i in view.items if i.item.key == "okr:O3/机房迁移")
    assert row.text == "整体进度85%" and row.author == "张伟"
    with bot.engine.connect() as conn:
        texts = [r[0] for r in conn.execute(text(
            "SELECT m.text FROM answer_messages m JOIN people p ON p.id = m.person_id ORDER BY m.id"))]
    assert any("整体进度达到了80%" in t for t in texts) and any("整体进度85%" in t for t in texts)


def test_remind_sends_once_per_click_minute_to_those_missing(bot: Bot, chat: FakeChat) -> None:
    d = Dashboard(bot)
    sent = d.remind(viewer(bot, "zhangwei"))
    reminded = {s.to for s in chat.of_kind("prompt")}
    assert len(sent) == len(reminded) and "liuyang" in reminded and "lina" in reminded  # lina still owes 对公代付
    assert "刘洋" in sent and "李娜" in sent
    assert d.remind(viewer(bot, "zhangwei")) == []


def test_trends_read_only_the_window(bot: Bot) -> None:
    t = TrendsService(bot.ctx).trends(weeks=2)
    assert t.weeks == ("2024-W25", "2024-W26")
    rate = next(s for s in t.metrics if s.name == "入金有效成功率")
    assert rate.values == (99.97, 99.993)
    assert next(s for s in t.incidents if s.name == "C").values == (0.0, 1.0)
    progress = next(s for s in t.progress if s.key == "okr:O3/机房迁移")
    assert progress.values == (60.0, 80.0)
    zhoujie = next(p for p in t.participation if p.person == "周杰")
    assert (zhoujie.owned, zhoujie.answer_rate, zhoujie.late) == (1, 100.0, 0)
    liuyang = next(p for p in t.participation if p.person == "刘洋")
    assert (liuyang.answer_rate, liuyang.late) == (0.0, 0)


def test_participation_counts_answers_after_the_publish_time_as_late(bot: Bot, clock: FixedClock) -> None:
    clock.now = datetime(2024, 6, 28, 17, 30, tzinfo=SHANGHAI)  # Friday, after the 17:00 publish time
    say(bot, "liuyang", "产研：收单v2.1方案评审完成")
    liuyang = next(p for p in TrendsService(bot.ctx).trends(weeks=2).participation if p.person == "刘洋")
    owned = sum(1 for it in bot.ctx.team.items if it.owner == "liuyang")
    assert liuyang.late == 1 and liuyang.answer_rate == round(100 / (owned * 2), 1)


def test_safe_next_never_leaves_the_site() -> None:
    assert safe_next("/history?page=2") == "/history?page=2"
    for evil in ("https://evil.example", "//evil.example", "/\\evil.example", "javascript:alert(1)", "", None,
                 "/ok\r\nSet-Cookie: x=1"):
        assert safe_next(evil) == "/week"


def test_owner_text_is_shown_as_text_never_as_markup(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    say(bot, "liuyang", "产研：<script>alert(1)</script> <b>bold</b> {{ 7*7 }} <!channel>")
    page = signed_in(bot, config, "lina").get(f"{url}/week").text
    assert "<script>alert(1)</script>" not in page and "<b>bold</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "{{ 7*7 }}" in page


def test_downloads_and_range_export(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    md = c.get(f"{url}/week/2024-W26/report.md")
    assert md.headers["content-disposition"] == 'attachment; filename="zhoubao-2024-W26.md"'
    assert md.text.startswith("# 2024-W26\n")
    rows = list(csv.DictReader(io.StringIO(c.get(f"{url}/week/2024-W26/report.csv").text.lstrip("\ufeff"))))
    assert {r["item"]: r["text"] for r in rows}["okr:O3/机房迁移"] == "整体进度达到了80%"
    data = c.get(f"{url}/export", params={"from": "2024-W01", "to": "2024-W26", "format": "json"}).json()
    assert sorted({r["week"] for r in data}) == ["2024-W11", "2024-W25", "2024-W26"]
    assert c.get(f"{url}/week/2024-W99").status_code == 400
    assert c.get(f"{url}/week/2024-W26/report.exe").status_code == 404
    en = c.get(f"{url}/history", params={"lang": "en"}).text
    assert "Past reports" in en and "2024-W11" in en
    headers = c.get(f"{url}/week").headers
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]


def test_old_week_edit_keeps_its_week(bot: Bot) -> None:
    d = Dashboard(bot)
    d.edit(viewer(bot, "zhangwei"), IsoWeek(2024, 11), "editor:other", "补记：新人培训")
    assert [h.week for h in d.search("补记：新人培训")] == ["2024-W11"]
    assert json.dumps(d.week_data(IsoWeek(2024, 11)), ensure_ascii=False).count("补记：新人培训") == 1


def test_an_items_page_lists_its_answers_week_by_week(bot: Bot) -> None:
    page = Dashboard(bot).item("okr:O3/机房迁移")
    assert page.owner == "周杰"
    assert [(v.week, v.progress, v.author) for v in page.values] == [
        ("2024-W26", 80, "周杰"), ("2024-W25", 60, "周杰")]
    with pytest.raises(NotAllowed):
        Dashboard(bot).item("okr:nope")


def test_a_database_outage_is_a_plain_503(served, tmp_path) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    bot.engine.dispose()
    (tmp_path / "d.db").rename(tmp_path / "moved.db")
    (tmp_path / "d.db").mkdir()  # a folder where the database file was: SQLite cannot open it
    resp = c.get(f"{url}/week")
    assert resp.status_code == 503 and "数据库暂时无法连接" in resp.text


def test_chat_the_editors_notice_and_the_dashboard_count_the_same_missing(database_url: str, chat: FakeChat,
                                                                        clock: FixedClock) -> None:
    """Issue 19 item 8 (7 vs 8): the dashboard counted a bank part's own text (聚合收单 · 银行) as missing when
    every bank of it was answered; chat and the editors' notice did not. One rule now (`missing_items`)."""
    bot = make_bot(database_url, chat, clock)
    say(bot, "wangqiang", "建行：联调中\n招行：开发中\n中行：待确认\n其他银行：意向确认中")
    say(bot, "lina", "业务：切量完成", item=1)
    week = IsoWeek(2024, 26)
    chat_reply = bot.commands.handle("fake", "zhangwei", "missing", clock.now).text
    bot.cycle.tell_editors_missing(week, clock.now)
    notice = chat.sent[-1].text
    on_dashboard = Dashboard(bot).week(week, viewer(bot, "zhangwei")).missing
    count = int(re.search(r"人共 (\d+) 项", chat_reply).group(1))  # type: ignore[union-attr]
    assert count == len(on_dashboard) == 14
    assert f"人共 {count} 项" in notice
    assert [s.item.title for s in on_dashboard] == [m.item_title for m in bot.week_report.compile(week, clock.now).missing]
    assert "聚合收单 · 银行" not in chat_reply and "聚合收单 · 银行" not in [s.item.title for s in on_dashboard]


def test_the_trends_chart_names_bank_stages_in_the_pages_language(bot: Bot) -> None:
    """Issue 19 item 9: the banks chart showed the stored stage id `联调` on an English page."""
    from bot.adapters.web.charts import draw_all

    say(bot, "wangqiang", "建行：联调环境申请中")
    trends = TrendsService(bot.ctx).trends(weeks=2)
    assert "联调" in {stage for b in trends.banks for stage in b.stages if stage}
    words = catalogue("en")
    banks = next(c for c in draw_all(trends, lambda key, **kw: words[f"web.{key}"].format(**kw)) if c.key == "banks")
    shown = str(banks.svg) + repr(banks.rows)
    assert "Integration" in shown and not re.search(r"意向|方案|开发|联调|上线", shown)


def test_the_missing_list_is_the_cores_grouping_by_person(bot: Bot) -> None:
    """One home for "missing by person": the page lists what `compile.missing_by_person` makes of the report's
    missing items (the same people, order and items as `/zhoubao missing`), only adding who owes the incident
    question."""
    from bot.domain.compile import missing_by_person

    view = Dashboard(bot).week(W26, viewer(bot, "zhangwei"))
    grouped = missing_by_person(bot.week_report.compile(W26).missing)
    assert [p.owed for p in view.missing_people] == list(grouped)
    wangqiang = next(p for p in view.missing_people if p.person_id == "wangqiang")
    assert wangqiang.item_titles[:2] == ("聚合收单 · 银行 · 建行", "聚合收单 · 银行 · 招行")
    assert wangqiang.owed.item_keys[:2] == ("bank:聚合收单/建行", "bank:聚合收单/招行")
    owners = {it.key: it.owner for it in bot.ctx.team.items}
    assert all(owners[k] == p.person_id for p in view.missing_people for k in p.owed.item_keys)
