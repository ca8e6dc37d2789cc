"""The dashboard as the editor's Friday tool (issue 22), over HTTP: each numbered defect of the issue that a
request can show (the browser scenarios are in `test_browser_friday.py`)."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx

from bot.adapters.web import DashboardConfig, build_dashboard, charts
from bot.domain.weeks import IsoWeek
from bot.services.bot import Bot
from bot.services.dashboard import Dashboard, SearchQuery
from bot.services.importing import Importer
from bot.services.trends import TrendsService
from tests.conftest import SHANGHAI
from tests.fakes import FakeChat, FixedClock
from tests.helpers import make_bot, say
from tests.web.conftest import SECRET, signed_in
from tests.web.live import LiveServer

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "report_2024-W26.zh-CN.md"
W26_FIRST = "将把 2024-W26（6月24日–6月28日）的周报首次发布到频道 weekly-report。"


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


# ----- 1. publishing is deliberate ------------------------------------------------------------------


def test_publish_asks_first_naming_the_week_with_dates_the_channel_and_the_post_it_edits(served, chat: FakeChat) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "zhangwei")
    token = csrf_of(c.get(f"{url}/week/2024-W26").text)
    # What one click used to do (a bare POST) now only shows what publishing would do.
    asked = c.post(f"{url}/week/2024-W26/publish", data={"csrf": token})
    assert asked.status_code == 200 and W26_FIRST in asked.text and 'id="confirm-publish"' in asked.text
    assert chat.of_kind("report") == []
    assert W26_FIRST in c.get(f"{url}/week/2024-W26/publish").text
    done = c.post(f"{url}/week/2024-W26/publish", data={"csrf": token, "confirm": "2024-W26"})
    assert "已发布到频道。" in done.text
    assert [m.to for m in chat.of_kind("report")] == ["weekly-report"]
    again = c.get(f"{url}/week/2024-W26/publish").text
    assert ("2024-W26（6月24日–6月28日）的周报已于 2024年6月27日 10:00 发布到频道 weekly-report；"
            "这次会用现在的内容更新那条消息，不会再发一条。") in again
    assert "确认更新频道中的周报" in again
    en = c.get(f"{url}/week/2024-W26/publish", params={"lang": "en"}).text
    assert ("The 2024-W26 (Jun 24–Jun 28) report was posted to the channel weekly-report at Jun 27, 2024 10:00; "
            "this edits that post") in en
    # a confirmation names its week: one for another week does not publish this one
    other = c.post(f"{url}/week/2024-W25/publish", data={"csrf": token, "confirm": "2024-W26"})
    assert other.status_code == 200 and "2024-W25 (Jun 17–Jun 21)" in other.text  # the session kept English
    assert len(chat.of_kind("report")) == 1


def test_a_week_not_started_cannot_be_published_and_an_empty_week_needs_a_second_confirmation(served, chat: FakeChat) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "zhangwei")
    page = c.get(f"{url}/week/2024-W27").text
    assert 'id="publish"' not in page
    token = csrf_of(page)
    refused = c.post(f"{url}/week/2024-W27/publish",
                     data={"csrf": token, "confirm": "2024-W27", "confirm_empty": "2024-W27"})
    assert refused.status_code == 409
    assert "2024-W27（7月1日–7月5日）还没有开始（2024年7月1日 开始），没有可以发布的内容。本周是 2024-W26。" in refused.text
    assert 'id="confirm-publish"' not in refused.text
    # two years back, nothing stored: the first confirmation is not enough
    empty = c.post(f"{url}/week/2022-W27/publish", data={"csrf": token, "confirm": "2022-W27"})
    assert empty.status_code == 409
    assert "2022-W27（7月4日–7月8日）没有任何已存储的回答、指标或事件：发布后每一项都会显示“未更新”。" in empty.text
    assert 'name="confirm_empty"' in empty.text
    assert chat.of_kind("report") == []
    done = c.post(f"{url}/week/2022-W27/publish",
                  data={"csrf": token, "confirm": "2022-W27", "confirm_empty": "2022-W27"})
    assert done.status_code == 200 and "已发布到频道。" in done.text
    assert len(chat.of_kind("report")) == 1


# ----- 3. reminders that target ----------------------------------------------------------------------


def test_remind_dms_exactly_the_people_listed_about_their_own_items_and_names_them(served, chat: FakeChat) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    for line in ("其他：新人培训", "收获与反思：数据量", "下周工作及目标：评审"):
        say(bot, "zhangwei", line)
    c = signed_in(bot, config, "zhangwei")
    page = c.get(f"{url}/week").text
    found = re.findall(r'<li data-person="([^"]+)"><strong>([^<]+)</strong> — ([^<]+)</li>', page)
    listed = {pid: owed.split("、") for pid, _, owed in found}
    assert listed and "zhangwei" not in listed, "the editor owes nothing the page lists"
    done = c.post(f"{url}/week/remind", data={"csrf": csrf_of(page)})
    names = [name for _, name, _ in found]
    assert f"已提醒 {len(names)} 人：{'、'.join(names)}。" in done.text
    dms = {s.to: s.text for s in chat.of_kind("prompt")}
    assert set(dms) == set(listed), "exactly the people the page lists (not the editor, who owes nothing)"
    for pid, text in dms.items():
        assert text.startswith("⏰ 提醒：2024-W26 周报还差以下内容，6月28日（周五）17:00 发布。")
        asked = [t.replace("生产事件", "生产事件问题") for t in re.findall(r"^\[\d+\] (.+)$", text, re.M)]
        assert asked == listed[pid], pid
    # lina answered 业务 but still owes 对公代付: only that is asked
    assert re.findall(r"^\[\d+\] (.+)$", dms["lina"], re.M)[0] == "O1 业务服务 · 对公代付"


def test_a_reminder_after_publishing_says_the_report_is_out_not_a_passed_deadline(served, chat: FakeChat) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    bot.cycle.publish()
    c = signed_in(bot, config, "zhangwei")
    c.post(f"{url}/week/remind", data={"csrf": csrf_of(c.get(f"{url}/week").text)})
    texts = [s.text for s in chat.of_kind("prompt")]
    assert texts and all(t.startswith("⏰ 提醒：2024-W26 周报已经发布，还差以下内容；现在补充，已发布的周报会随之更新。")
                         for t in texts)


# ----- 5. range exports whole, 9. rows that say what they are ---------------------------------------------


def test_a_range_export_holds_every_week_of_the_range(served, clock) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    now = clock.now
    for back in range(1, 131):  # 130 more weeks, one answer each, beside the seed's W11, W25 and W26
        clock.now = now - timedelta(weeks=back + 15)
        say(bot, "zhoujie", f"机房迁移：第 {back} 周")
    clock.now = now
    c = signed_in(bot, config, "lina")
    for fmt in ("csv", "json"):
        got = c.get(f"{url}/export", params={"from": "2021-W01", "to": "2024-W26", "format": fmt})
        assert got.headers["content-disposition"] == f'attachment; filename="zhoubao-2021-W01_2024-W26.{fmt}"'
        rows = (json.loads(got.text) if fmt == "json"
                else list(csv.DictReader(io.StringIO(got.text.lstrip("\ufeff")))))
        weeks = sorted({r["week"] for r in rows})
        assert len(weeks) == 133 and weeks[-1] == "2024-W26" and "2024-W11" in weeks, fmt


def test_table_rows_carry_severity_weight_title_owner_name_and_id_and_local_time_with_zone(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    for fmt in ("csv", "json"):
        got = c.get(f"{url}/week/2024-W26/report.{fmt}").text
        rows = json.loads(got) if fmt == "json" else list(csv.DictReader(io.StringIO(got.lstrip("\ufeff"))))
        incident = next(r for r in rows if r["kind"] == "incident")
        assert (incident["title"], incident["severity"], incident["weight"], incident["progress"]) == (
            "清结算 批量任务超时", "C", "1", ""), fmt  # the headline, as the report shows it
        assert (incident["owner"], incident["owner_id"]) == ("周杰", "zhoujie")
        assert incident["updated_at"] == "2024-06-24T09:12:00+08:00" and incident["time_zone"] == "Asia/Shanghai"
        okr = next(r for r in rows if r["item"] == "okr:O3/机房迁移")
        assert (okr["owner"], okr["owner_id"], okr["author"], okr["author_id"]) == ("周杰", "zhoujie", "周杰", "zhoujie")
        assert okr["updated_at"] == "2024-06-27T10:00:00+08:00" and okr["progress"] == "80"
    old = c.get(f"{url}/week/2024-W25/report.csv").text
    row = next(r for r in csv.DictReader(io.StringIO(old.lstrip("\ufeff"))) if r["item"] == "okr:O3/机房迁移")
    assert row["progress"] == "60", "a round number, not 6E+1"


# ----- 4. search that finds what people remember ---------------------------------------------------------


def test_search_finds_people_items_projects_banks_and_sections_by_name(bot: Bot) -> None:
    say(bot, "wangqiang", "建行：接口文档已获取，联调环境申请中")
    say(bot, "zhangwei", "收获与反思：设计评审要把数据量当作必答题")
    d = Dashboard(bot)

    def found(q: str, **filters: object) -> list[tuple[str, str]]:
        return [(h.week, h.title) for h in d.find(SearchQuery(q, **filters)).hits]  # type: ignore[arg-type]

    assert found("建行") == [("2024-W26", "聚合收单 · 银行 · 建行")], "a bank by name"
    assert found("机房迁移") == [("2024-W26", "O3 平台治理 · 机房迁移"), ("2024-W25", "O3 平台治理 · 机房迁移")]
    assert found("周杰") == found("机房迁移"), "a person's name finds their items"
    assert found("聚合收单") == [("2024-W26", "聚合收单 · 银行 · 建行"), ("2024-W26", "聚合收单 · 业务"),
                                 ("2024-W11", "聚合收单 · 业务")], "a project by name"
    assert found("收获与反思") == [("2024-W26", "收获与反思")], "an editor's section by name"
    assert ("2024-W11", "聚合收单 · 业务") in found("联"), "a one-character Chinese substring"
    assert found("批量任务") == [("2024-W26", "#1")], "an incident by its text"
    # filters: person, item, kind, week range
    assert found("", person="lina") == [("2024-W26", "聚合收单 · 业务"), ("2024-W11", "聚合收单 · 业务")]
    assert found("", item="okr:O3/机房迁移", first=IsoWeek(2024, 20)) == [("2024-W26", "O3 平台治理 · 机房迁移"),
                                                                       ("2024-W25", "O3 平台治理 · 机房迁移")]
    assert found("聚合收单", kind="bank") == [("2024-W26", "聚合收单 · 银行 · 建行")]
    assert found("聚合收单", last=IsoWeek(2024, 20)) == [("2024-W11", "聚合收单 · 业务")]
    # paging: one hit a page, each page the next one, and whether there is more
    pages = [d.find(SearchQuery("聚合收单", page=n), per_page=1) for n in (1, 2, 3)]
    assert [(p.hits[0].title, p.hits[0].week, p.more) for p in pages] == [
        ("聚合收单 · 银行 · 建行", "2024-W26", True), ("聚合收单 · 业务", "2024-W26", True),
        ("聚合收单 · 业务", "2024-W11", False)]
    # the match marked, in the text or in the name
    hit = d.find(SearchQuery("农行")).hits[0]
    assert [p for p, marked in hit.marked if marked] == ["农行"]
    assert [p for p, marked in d.find(SearchQuery("建行")).hits[0].marked_title if marked] == ["建行"]


def test_the_search_page_filters_pages_marks_and_names_weeks_with_dates(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    page = c.get(f"{url}/search", params={"q": "农行"}).text
    assert "<mark>农行</mark>存管" in page
    assert ">2024-W11（3月11日–3月15日）</a>" in page
    for control in ("filter-person", "filter-item", "filter-kind", "filter-from", "filter-to"):
        assert f'id="{control}"' in page
    narrowed = c.get(f"{url}/search", params={"q": "聚合收单", "from": "2024-W20", "to": "2024-W27"}).text
    assert "2024-W26（6月24日–6月28日）" in narrowed and "2024-W11" not in narrowed
    bad = c.get(f"{url}/search", params={"q": "x", "from": "2024-W99"})
    assert bad.status_code == 400


# ----- 8. words and pages -----------------------------------------------------------------------------


def test_error_pages_say_what_happened_in_the_pages_language_and_an_unknown_address_is_a_real_404(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    bad = c.get(f"{url}/week/2024-W99")
    assert bad.status_code == 400 and "<h1>请求有误</h1>" in bad.text and "不是有效的周" in bad.text
    assert "无权访问" not in bad.text
    item = c.get(f"{url}/item", params={"key": "okr:nope"})
    assert item.status_code == 404 and "<h1>找不到页面</h1>" in item.text and "没有这个条目。" in item.text
    nowhere = c.get(f"{url}/nowhere")
    assert nowhere.status_code == 404 and "<h1>找不到页面</h1>" in nowhere.text and 'id="main"' in nowhere.text
    en = c.get(f"{url}/week/2024-W99", params={"lang": "en"})
    assert en.status_code == 400 and "<h1>Bad request</h1>" in en.text and "is not a week" in en.text
    assert "<h1>Page not found</h1>" in c.get(f"{url}/nowhere").text


def test_the_language_switch_keeps_the_query_and_weeks_are_named_with_dates(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    c = signed_in(bot, config, "lina")
    page = c.get(f"{url}/search", params={"q": "农行", "kind": "entry"}).text
    assert 'href="/search?q=%E5%86%9C%E8%A1%8C&amp;kind=entry&amp;lang=en"' in page
    week = c.get(f"{url}/week/2024-W26").text
    assert '<p id="week-dates">2024-W26（6月24日–6月28日）</p>' in week
    assert "2024-W25（6月17日–6月21日）" in week and "2024-W27（7月1日–7月5日）" in week
    assert ">2024-W11（3月11日–3月15日）</a>" in c.get(f"{url}/history").text
    assert "2024-W26 (Jun 24–Jun 28)" in c.get(f"{url}/week/2024-W26", params={"lang": "en"}).text


def test_a_members_own_items_come_first_and_set_apart(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    page = signed_in(bot, config, "lina").get(f"{url}/week").text
    mine = page.split('<tbody id="my-items"', 1)[1].split("</tbody>", 1)[0]
    assert "我的条目" in mine
    assert re.findall(r'data-item="([^"]+)"', mine) == ["project:聚合收单/业务", "okr:O1/对公代付"]
    assert page.index('id="my-items"') < page.index('id="other-items"')


def test_the_sign_in_page_without_a_platform_offers_the_link_command_as_text(served) -> None:  # type: ignore[no-untyped-def]
    bot, url, config = served
    page = httpx.get(f"{url}/signin").text
    assert '<code class="command" id="link-command">zhoubao dashboard link --as 姓名</code>' in page
    assert "`" not in page and "请用团队所在的平台登录" not in page


def test_empty_states_explain_the_next_step(tmp_path, chat: FakeChat, clock) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot(f"sqlite:///{tmp_path / 'empty.db'}", chat, clock)
    with LiveServer() as live:
        config = DashboardConfig(secret=SECRET, public_url=live.url)
        live.app = build_dashboard(bot, config)
        trends = signed_in(bot, config, "zhangwei").get(f"{live.url}/trends").text
    assert "还没有任何一周的数据。成员回复每周提示后" in trends
    assert "最近 0 周" not in trends and "( – )" not in trends and "<svg" not in trends


# ----- 6. numbers (the chart geometry, without a browser) --------------------------------------------------


def test_week_labels_never_overprint_and_series_differ_in_shape_not_only_colour() -> None:
    for n in range(2, 60):
        labels = [f"2024-W{w:02d}" for w in range(1, n + 1)] if n <= 52 else [f"W{w}" for w in range(n)]
        svg = str(charts.line_chart(labels, [("a", [1.0] * n)], title="t").svg)
        xs = [float(x) for x in re.findall(r'<text x="([\d.]+)" y="228" text-anchor="middle"', svg)]
        assert xs and all(b - a >= 60 for a, b in zip(xs, xs[1:], strict=False)), (n, xs)  # a label is ~45 units wide
        assert f">{labels[-1][2:]}<" in svg, n  # the last week is always named
    series = [(f"s{k}", [float(k), float(k + 1)]) for k in range(charts.MAX_LINES)]
    svg = str(charts.line_chart(["2024-W01", "2024-W02"], series, title="t").svg)
    shapes = re.findall(r'<(?:circle|rect|polygon) class="point (shape-\d)"[^>]*fill="(#[0-9a-f]+)"', svg)
    pairs = [shapes[2 * k] for k in range(charts.MAX_LINES)]
    assert len(set(pairs)) == charts.MAX_LINES, pairs  # no two series look alike
    assert charts.nice_axis(56.325, 99.993, ceiling=100.0) == (40, 100, 20)
    assert charts.nice_axis(99.9949, 99.999, ceiling=100.0)[1:] == (100.0, 0.002)


def test_an_imported_weeks_incident_counts_read_the_same_in_report_history_and_trends(
        database_url: str, chat: FakeChat) -> None:
    """The seed's report states 事故数AB级0次，C级1次，D级0.5次 over three incident lines without a severity:
    history and trends show the counts the report states, not 0 or "?: 3"."""
    clock = FixedClock(IsoWeek(2024, 27).start(SHANGHAI).replace(hour=10))
    bot = make_bot(database_url, chat, clock)
    importer = Importer(bot.ctx, bot.week_report)
    (plan,) = importer.plan_markdown("report_2024-W26.md", GOLDEN.read_text(encoding="utf-8"))
    importer.store(plan, "report_2024-W26.md")
    assert "事故数AB级0次，C级1次，D级0.5次" in Dashboard(bot).stored_markdown(IsoWeek(2024, 26))
    row = next(r for r in Dashboard(bot).history().rows if r.label == "2024-W26")
    assert row.incidents == (("C", Decimal(1)), ("D", Decimal("0.5")))
    trends = TrendsService(bot.ctx).trends(4)
    at = trends.weeks.index("2024-W26")
    assert {s.name: s.values[at] for s in trends.incidents} == {"A/B": 0.0, "C": 1.0, "D": 0.5}
