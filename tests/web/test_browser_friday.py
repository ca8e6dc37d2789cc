"""The dashboard as the editor's Friday tool (issue 22), in Debian's Chromium: one scenario per numbered defect
of the issue that needs a browser (the HTTP-level ones are in `test_friday.py`)."""

from __future__ import annotations

import re

from playwright.sync_api import Browser, Dialog, Page, expect

from tests.helpers import say
from tests.web.conftest import Site, shot


def sign_in(page: Page, site: Site, who: str) -> None:
    page.goto(site.link(who))
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(r"/week$"))


# ----- 2. nothing typed is lost ------------------------------------------------------------------------


def test_the_editor_sections_save_together_with_one_button(page: Page, site: Site) -> None:
    sign_in(page, site, "zhangwei")
    texts = {"其他": "新人培训第二期", "收获与反思": "本周两次事件都与数据量增长有关。",
             "下周工作及目标": "通道级监控方案评审"}
    for name, text in texts.items():
        page.get_by_role("textbox", name=name).fill(text)
    expect(page.locator("#editor-sections button")).to_have_count(1)
    page.locator("#save-editor").click()
    expect(page.locator(".flash")).to_contain_text("已记录：其他、收获与反思、下周工作及目标")
    for name, text in texts.items():
        expect(page.get_by_role("textbox", name=name)).to_have_value(text)
        expect(page.locator("#report")).to_contain_text(text)
    # saving again with nothing changed stores nothing new
    page.locator("#save-editor").click()
    expect(page.locator(".flash")).to_have_text("没有改动，未保存任何内容。")


def test_leaving_a_page_with_unsaved_text_asks_first(page: Page, site: Site) -> None:
    sign_in(page, site, "李娜")
    asked: list[str] = []

    def stay(dialog: Dialog) -> None:
        asked.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", stay)
    row = page.locator('tr[data-item="okr:O1/对公代付"]')
    row.locator("summary").click()
    box = row.get_by_role("textbox")
    box.click()  # a person's click: Chromium shows the leave prompt only after the page was used
    box.press_sequentially("系统开发进度70%")
    page.get_by_role("link", name="历史").click()
    expect(page).to_have_url(re.compile(r"/week$"))
    assert asked == ["beforeunload"]
    expect(box).to_have_value("系统开发进度70%")
    # saving that very box leaves without asking
    page.remove_listener("dialog", stay)
    row.get_by_role("button").click()
    expect(page.locator(".flash")).to_contain_text("已记录：O1 业务服务 · 对公代付")
    expect(row).to_contain_text("系统开发进度70%")


# ----- 6. numbers -------------------------------------------------------------------------------------


def _ticks(page: Page, chart: str) -> list[float]:
    texts = page.locator(f"#chart-{chart} svg text[text-anchor='end']").all_text_contents()
    return [float(t) for t in texts if re.fullmatch(r"-?\d+(\.\d+)?", t)]


def test_numbers_read_right_on_the_trends_and_item_pages(page: Page, site: Site) -> None:
    say(site.bot, "sunli", "年度可用性：99.9949")
    say(site.bot, "wangqiang", "建行：联调环境申请中")
    sign_in(page, site, "zhangwei")
    page.goto(f"{site.url}/trends")
    # each metric group in its own chart: 年度可用性 is not drawn inside 支付成功率
    expect(page.locator("#chart-metrics h2")).to_have_text("支付成功率")
    expect(page.locator("#chart-metrics")).not_to_contain_text("年度可用性")
    expect(page.locator("#chart-metrics-2 h2")).to_have_text("系统可用性")
    for chart in ("metrics", "metrics-2", "availability", "progress"):
        ticks = _ticks(page, chart)
        assert ticks and max(ticks) <= 100, (chart, ticks)  # a percentage axis stops at 100
        steps = {round(b - a, 6) for a, b in zip(ticks, ticks[1:], strict=False)}
        assert len(steps) == 1, (chart, ticks)  # one round step
        step = steps.pop()
        assert re.fullmatch(r"[125]0*|0\.0*[125]", f"{step:g}".replace("e-0", "")) or step in (0.002, 0.005, 0.001), (chart, step)
    # a bank named with its project; distinguishable series (a shape per series beside the colour)
    expect(page.locator("#chart-banks svg text", has_text="聚合收单 · 建行")).to_have_count(1)
    shot(page, "trends-friday")
    page.goto(f"{site.url}/item?key=okr%3AO3%2F%E6%9C%BA%E6%88%BF%E8%BF%81%E7%A7%BB")
    expect(page.locator("#item-history")).to_contain_text("60%")
    expect(page.locator("#item-history")).not_to_contain_text("E+")


# ----- 7. layout and a phone ------------------------------------------------------------------------------


def test_the_week_page_reads_on_a_phone(browser: Browser, site: Site) -> None:
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        sign_in(page, site, "李娜")
        # nothing wider than the phone: tables scroll inside their own box
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        # names never break one character per line (the owner and state columns)
        names = page.locator("#items tbody tr td:nth-child(2), #items tbody tr td:nth-child(3)")
        expect(names).not_to_have_count(0)
        for cell in names.all():
            lines = cell.evaluate("el => { const r = document.createRange(); r.selectNodeContents(el);"
                                  " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size }")
            assert lines == 1, cell.text_content()
        # an answer, then its author and time on a line of their own, with no blank rows under it: from the
        # bottom of the answer's own text (its first text node) to the top of its author line (.muted)
        gap = page.locator('tr[data-item="project:聚合收单/业务"] td').nth(3).evaluate(
            "td => { const n = [...td.querySelectorAll('*'), td].flatMap(e => [...e.childNodes])"
            ".find(n => n.nodeType === 3 && n.textContent.trim()); const r = document.createRange();"
            " r.selectNodeContents(n); return td.querySelector('.muted').getBoundingClientRect().top"
            " - r.getBoundingClientRect().bottom }")
        assert 0 <= gap < 12, gap
        shot(page, "week-phone")
        page.goto(f"{site.url}/trends")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        svg = page.locator("#chart-metrics svg").bounding_box()
        assert svg is not None and svg["width"] / 720 * 11 >= 9, svg  # 11-unit chart text drawn at ≥ 9 px
        page.goto(f"{site.url}/history?lang=en")
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390
        shot(page, "history-phone-en")
    finally:
        context.close()


# ----- the pages in both languages, at a laptop's and a phone's size (screenshots for the note) -------------


def test_the_friday_pages_in_both_languages_at_both_sizes(browser: Browser, site: Site) -> None:
    say(site.bot, "wangqiang", "建行：接口文档已获取，联调环境申请中")
    dates = {"zh-CN": "2024-W26（6月24日–6月28日）", "en": "2024-W26 (Jun 24–Jun 28)"}
    for locale in ("zh-CN", "en"):
        for size, viewport in (("1366", {"width": 1366, "height": 768}), ("390", {"width": 390, "height": 844})):
            context = browser.new_context(locale=locale, viewport=viewport)
            try:
                page = context.new_page()
                page.set_default_timeout(15_000)
                sign_in(page, site, "zhangwei")
                page.goto(f"{site.url}/week?lang={locale}")
                expect(page.locator("main")).to_contain_text(dates[locale])  # the week is named with its dates
                expect(page.locator("#week-dates")).to_have_text(dates[locale])
                assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
                shot(page, f"friday-week-{locale}-{size}")
                page.goto(f"{site.url}/search?q=%E5%BB%BA%E8%A1%8C")  # 建行, a bank by name
                expect(page.locator("#results mark").first).to_have_text("建行")
                assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
                shot(page, f"friday-search-{locale}-{size}")
                page.goto(f"{site.url}/trends")
                expect(page.locator("#chart-metrics svg")).to_be_visible()
                assert page.evaluate("document.scrollingElement.scrollWidth") <= viewport["width"]
                shot(page, f"friday-trends-{locale}-{size}")
            finally:
                context.close()
