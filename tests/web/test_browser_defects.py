"""Issue 22's numbered defects, each as a scenario in Debian's Chromium, in both locales and at a laptop's
(1366×768) and a phone's (390×844) size. What the page must say comes from the catalogue of the locale, so a
scenario checks the words people read there, not a copy of them.

`test_browser.py` and `test_browser_friday.py` keep their single-size scenarios (the flows in detail); this
file runs every defect at every size and language, and saves the screenshots for the note.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from bot.text.catalogue import listing, say
from tests.helpers import say as answer
from tests.web.conftest import Site

SIZES = {"1366": {"width": 1366, "height": 768}, "390": {"width": 390, "height": 844}}
WEEK = {"zh-CN": "2024-W26（6月24日–6月28日）", "en": "2024-W26 (Jun 24–Jun 28)"}
NEXT_WEEK = {"zh-CN": "2024-W27（7月1日–7月5日）", "en": "2024-W27 (Jul 1–Jul 5)"}
DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
# How many lines an element's text takes.
LINES = ("el => { const r = document.createRange(); r.selectNodeContents(el);"
         " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size }")
# From the bottom of an answer's own text (its first text node) to the top of its author line (.muted).
BYLINE_GAP = ("td => { const n = [...td.querySelectorAll('*'), td].flatMap(e => [...e.childNodes])"
              ".find(n => n.nodeType === 3 && n.textContent.trim()); const r = document.createRange();"
              " r.selectNodeContents(n); return td.querySelector('.muted').getBoundingClientRect().top"
              " - r.getBoundingClientRect().bottom }")


@pytest.fixture(params=[(loc, size) for loc in ("zh-CN", "en") for size in SIZES], ids=lambda p: f"{p[0]}-{p[1]}")
def view(request: pytest.FixtureRequest, browser: Browser) -> Iterator[tuple[str, str, Browser]]:
    locale, size = request.param
    yield locale, size, browser


def open_as(browser: Browser, site: Site, who: str, locale: str, size: str) -> Page:
    context = browser.new_context(locale=locale, viewport=SIZES[size])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(site.link(who))
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(r"/week$"))
    page.goto(f"{site.url}/week?lang={locale}")  # the session keeps the language from here on
    return page


def fits(page: Page, size: str) -> None:
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= SIZES[size]["width"], f"{page.url} scrolls sideways: {width} px"


def t(locale: str, key: str, **params: object) -> str:
    return say(locale, f"web.{key}", **params)


# ----- 1. publishing is deliberate -------------------------------------------------------------------------


def test_1_publishing_asks_first_and_a_week_not_started_cannot_be_published(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    page = open_as(browser, site, "zhangwei", locale, size)
    try:
        page.locator("#publish").click()
        page.wait_for_url(re.compile(r"/week/2024-W26\b"))  # the click has been answered with a page
        assert site.chat.of_kind("report") == []  # asking posts nothing
        expect(page.locator("#publish-plan")).to_have_text(say(locale, "publish.first", week=WEEK[locale],
                                                               channel="weekly-report"))
        fits(page, size)
        page.locator("#confirm-publish").click()
        expect(page.locator(".flash")).to_contain_text(t(locale, "published"))
        assert [m.to for m in site.chat.of_kind("report")] == ["weekly-report"]
        page.goto(f"{site.url}/week/2024-W27")
        expect(page.locator("#publish")).to_have_count(0)
        page.goto(f"{site.url}/week/2024-W27/publish")
        expect(page.locator("#publish-plan")).to_contain_text(NEXT_WEEK[locale])
        expect(page.locator("#confirm-publish")).to_have_count(0)
        assert len(site.chat.of_kind("report")) == 1
    finally:
        page.context.close()


# ----- 2. nothing typed is lost ------------------------------------------------------------------------------


def test_2_the_editor_sections_save_together(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    page = open_as(browser, site, "zhangwei", locale, size)
    try:
        texts = {"其他": "新人培训第二期", "收获与反思": "数据量是必答题。", "下周工作及目标": "通道级监控方案评审"}
        for name, text in texts.items():  # the sections are named in the team's language (zh-CN) on both pages
            page.get_by_role("textbox", name=name).fill(text)
        expect(page.locator("#editor-sections button")).to_have_count(1)
        page.locator("#save-editor").click()
        for name, text in texts.items():
            expect(page.get_by_role("textbox", name=name)).to_have_value(text)
            expect(page.locator("#report")).to_contain_text(text)
        fits(page, size)
    finally:
        page.context.close()


# ----- 3. reminders that target --------------------------------------------------------------------------------


def test_3_remind_reaches_exactly_the_people_listed_and_names_them(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    for line in ("其他：新人培训", "收获与反思：数据量", "下周工作及目标：评审"):
        answer(site.bot, "zhangwei", line)
    page = open_as(browser, site, "zhangwei", locale, size)
    try:
        listed = page.locator("#missing li").evaluate_all("els => els.map(e => e.dataset.person)")
        names = page.locator("#missing li strong").all_text_contents()
        assert listed and "zhangwei" not in listed
        page.locator("#remind").click()
        expect(page.locator(".flash")).to_be_visible()  # the reminders have been sent
        prompted = {s.to for s in site.chat.of_kind("prompt")}
        assert prompted and not prompted & {"zhangwei", "zhoujie"}, sorted(prompted)  # they owe nothing
        expect(page.locator(".flash")).to_have_text(t(locale, "reminded_names", n=len(names),
                                                      names=listing(locale, names)))
        assert sorted(prompted) == sorted(listed)
        fits(page, size)
    finally:
        page.context.close()


# ----- 4. search finds names -----------------------------------------------------------------------------------


def test_4_search_finds_a_bank_and_a_person_by_name_and_marks_it(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    answer(site.bot, "wangqiang", "建行：接口文档已获取，联调环境申请中")
    page = open_as(browser, site, "lina", locale, size)
    try:
        page.goto(f"{site.url}/search?q=%E5%BB%BA%E8%A1%8C")  # 建行
        expect(page.locator("#results mark").first).to_have_text("建行")
        expect(page.locator("#results")).to_contain_text(WEEK[locale])
        fits(page, size)
        page.goto(f"{site.url}/search?q=%E5%91%A8%E6%9D%B0")  # 周杰, a person
        expect(page.locator("#results tr")).not_to_have_count(0)
        expect(page.locator("#results")).to_contain_text("机房迁移")
    finally:
        page.context.close()


# ----- 5. range exports whole, 9. rows that say what they are -------------------------------------------------------


def test_5_and_9_the_range_export_holds_every_week_and_rows_say_what_they_are(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    now = site.clock.now  # 130 weeks more than the seed's three, so the range is longer than any cut-off
    for back in range(1, 131):
        site.clock.now = now - timedelta(weeks=back + 15)
        answer(site.bot, "zhoujie", f"机房迁移：第 {back} 周")
    site.clock.now = now
    page = open_as(browser, site, "lina", locale, size)
    try:
        page.goto(f"{site.url}/history")
        form = page.locator('form[action="/export"]')
        form.locator('input[name="from"]').fill("2021-W01")
        form.locator('select[name="format"]').select_option("json")  # its label is checked below
        with page.expect_download() as got:
            form.get_by_role("button").click()
        download = got.value
        assert download.suggested_filename == "zhoubao-2021-W01_2024-W26.json"
        rows = json.loads(Path(download.path()).read_text(encoding="utf-8"))
        weeks = {r["week"] for r in rows}
        assert len(weeks) == 133 and weeks >= {"2024-W11", "2024-W25", "2024-W26"}
        incident = next(r for r in rows if r["kind"] == "incident")
        assert (incident["title"], incident["severity"], incident["weight"], incident["progress"]) == (
            "清结算 批量任务超时", "C", "1", "")  # the weight in its own column, not under progress
        assert (incident["owner"], incident["owner_id"]) == ("周杰", "zhoujie")
        assert incident["updated_at"] == "2024-06-24T09:12:00+08:00" and incident["time_zone"] == "Asia/Shanghai"
        with page.expect_download() as week_csv:
            page.evaluate("url => { const a = document.createElement('a'); a.href = url; a.download = '';"
                          " document.body.appendChild(a); a.click(); }", "/week/2024-W26/report.csv")
        table = list(csv.DictReader(io.StringIO(Path(week_csv.value.path()).read_text(encoding="utf-8-sig"))))
        assert {"severity", "weight", "title", "owner", "owner_id", "time_zone"} <= set(table[0])
        assert next(r for r in table if r["item"] == "okr:O3/机房迁移")["progress"] == "80"
        expect(form.get_by_label(t(locale, "export_format"))).to_have_value("json")  # the select says what it is
        fits(page, size)
    finally:
        page.context.close()


# ----- 6. numbers --------------------------------------------------------------------------------------------


def test_6_progress_reads_as_a_whole_percentage(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    page = open_as(browser, site, "lina", locale, size)
    try:
        page.goto(f"{site.url}/item?key=okr%3AO3%2F%E6%9C%BA%E6%88%BF%E8%BF%81%E7%A7%BB")  # 机房迁移: 60 then 80
        expect(page.locator("#item-history")).to_contain_text("60%")
        expect(page.locator("#item-history")).not_to_contain_text("E+")
        page.goto(f"{site.url}/trends")
        ticks = [float(x) for x in page.locator("#chart-availability svg text[text-anchor='end']").all_text_contents()
                 if re.fullmatch(r"-?\d+(\.\d+)?", x)]
        assert ticks and max(ticks) <= 100
        fits(page, size)
    finally:
        page.context.close()


# ----- 7. layout -------------------------------------------------------------------------------------------------


def test_7_the_week_page_is_compact_and_names_never_break(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    page = open_as(browser, site, "lina", locale, size)
    try:
        fits(page, size)
        names = page.locator("#items tbody tr td:nth-child(2), #items tbody tr td:nth-child(3)")  # owner, state
        expect(names).not_to_have_count(0)
        for cell in names.all():
            assert cell.evaluate(LINES) == 1, cell.text_content()
        # an answer, then its author and time on a line of their own, with no blank rows under it
        gap = page.locator('tr[data-item="project:聚合收单/业务"] td').nth(3).evaluate(BYLINE_GAP)
        assert 0 <= gap < 12, gap
        page.goto(f"{site.url}/history")
        fits(page, size)
    finally:
        page.context.close()


# ----- 8. words and pages --------------------------------------------------------------------------------------


def test_8_error_pages_speak_the_pages_language_and_the_switch_keeps_the_query(view, site: Site) -> None:  # type: ignore[no-untyped-def]
    locale, size, browser = view
    page = open_as(browser, site, "lina", locale, size)
    try:
        expect(page.locator("main")).to_contain_text(WEEK[locale])  # the week is named with its dates
        expect(page.locator("#week-dates")).to_have_text(WEEK[locale])
        for path, title in (("/week/2024-W99", "bad_request_title"), ("/nowhere", "not_found_title"),
                            ("/item?key=okr:nope", "not_found_title")):
            page.goto(site.url + path)
            expect(page.locator("h1")).to_have_text(t(locale, title))
            expect(page.locator("main")).not_to_contain_text(t(locale, "forbidden_title"))
        page.goto(f"{site.url}/search?q=%E5%86%9C%E8%A1%8C&kind=entry")
        page.locator("#lang-switch").click()
        other = "en" if locale == "zh-CN" else "zh-CN"
        expect(page).to_have_url(re.compile(r"q=%E5%86%9C%E8%A1%8C&kind=entry&lang=" + re.escape(other)))
        expect(page.locator("#q")).to_have_value("农行")
        expect(page.locator("a.skip")).to_have_count(1)
        fits(page, size)
    finally:
        page.context.close()


# ----- the screenshots for the note ------------------------------------------------------------------------------


def test_screenshots_for_the_note(browser: Browser, site: Site) -> None:
    """docs/screenshots/: the week page, search and trends at 1366×768, and the week page on a phone (the
    visible screen only, so each file stays small)."""
    answer(site.bot, "wangqiang", "建行：接口文档已获取，联调环境申请中")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for size, pages in (("1366", (("week", "/week"), ("search", "/search?q=%E5%BB%BA%E8%A1%8C"),
                                  ("trends", "/trends"))),
                        ("390", (("week-phone", "/week"),))):
        page = open_as(browser, site, "zhangwei", "zh-CN", size)
        try:
            for name, path in pages:
                page.goto(site.url + path)
                expect(page.locator("h1")).to_have_count(1)
                target = DOCS_SCREENSHOTS / f"{name}.png"
                page.screenshot(path=str(target))
                assert 0 < target.stat().st_size < 400_000, (target, target.stat().st_size)
        finally:
            page.context.close()
