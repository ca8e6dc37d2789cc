"""The dashboard in a real browser (Debian's Chromium driven by Playwright): what a person sees and does."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.web.conftest import OLDER_LINE, Site, shot


def sign_in(page: Page, site: Site, who: str) -> None:
    page.goto(site.link(who))
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(r"/week$"))


def test_console_link_signs_in_once_and_shows_this_week(page: Page, site: Site) -> None:
    link = site.link("张伟")
    page.goto(link)
    expect(page.locator("#use-link")).to_have_text("以 张伟 的身份登录")
    shot(page, "signin-link")
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(r"/week$"))
    expect(page.locator("#week-title")).to_have_text("2024-W26 周报")
    expect(page.locator("#me")).to_have_text("张伟")
    # who answered and who is missing, item by item
    row = page.locator('tr[data-item="project:聚合收单/业务"]')
    expect(row).to_contain_text("已回复")
    expect(row).to_contain_text("商户入网新流程在上海、杭州切量")
    expect(page.locator('tr[data-item="project:聚合收单/产研"]')).to_contain_text("未回复")
    expect(page.locator("#missing")).to_contain_text("刘洋 — 聚合收单 · 产研")
    # the report as the channel will get it, rendered from its Markdown
    expect(page.locator("#report h3").first).to_have_text("2024-W26")  # the page has the one h1
    expect(page.locator("#report")).to_contain_text("入金有效成功率：99.993%")
    shot(page, "week")
    # the link works once
    page.context.clear_cookies()
    page.goto(link)
    page.locator("#use-link").click()
    expect(page.locator("#signin-error")).to_contain_text("已经用过")


def test_editor_writes_reflection_and_publishes_to_the_channel(page: Page, site: Site) -> None:
    sign_in(page, site, "zhangwei")
    page.get_by_role("textbox", name="收获与反思").fill("本周两次事件都与数据量增长有关。")
    page.locator("#save-editor").click()
    expect(page.locator(".flash")).to_contain_text("已记录：收获与反思")
    expect(page.locator("#report")).to_contain_text("本周两次事件都与数据量增长有关。")
    page.locator("#publish").click()
    expect(page.locator("#publish-plan")).to_have_text(
        "将把 2024-W26（6月24日–6月28日）的周报首次发布到频道 weekly-report。")
    assert site.chat.of_kind("report") == []
    page.locator("#confirm-publish").click()
    expect(page.locator(".flash")).to_contain_text("已发布到频道")
    expect(page.locator("#published")).to_contain_text("已发布于")
    posted = site.chat.of_kind("report")
    assert len(posted) == 1 and posted[0].to == "weekly-report"
    assert "## 收获与反思\n\n本周两次事件都与数据量增长有关。" in posted[0].text
    shot(page, "published")
    # correcting an item after publishing edits the post in place, and history keeps who wrote it
    row = page.locator('tr[data-item="okr:O3/机房迁移"]')
    row.locator("summary").click()
    row.get_by_role("textbox").fill("整体进度达到了85%，预计下周三完成生产验证")
    row.get_by_role("button").click()
    expect(page.locator(".flash")).to_contain_text("报告已发布，稍后同步更新")
    updates = site.chat.of_kind("update")
    assert len(updates) == 1 and "机房迁移：整体进度达到了85%" in updates[0].text
    expect(page.locator('tr[data-item="okr:O3/机房迁移"]')).to_contain_text("张伟 于")


def test_member_cannot_publish(page: Page, site: Site) -> None:
    sign_in(page, site, "李娜")
    expect(page.locator("#me")).to_have_text("李娜")
    expect(page.locator("#publish")).to_have_count(0)
    token = page.locator('input[name="csrf"]').first.get_attribute("value")
    resp = page.request.post(f"{site.url}/week/2024-W26/publish", form={"csrf": token or ""})
    assert resp.status == 403
    assert "只有编辑和管理员可以执行这个操作" in resp.text()
    assert site.chat.of_kind("report") == []
    page.set_content(resp.text())
    shot(page, "member-403")


def test_signed_out_visit_goes_to_sign_in(page: Page, site: Site) -> None:
    page.goto(f"{site.url}/history")
    expect(page).to_have_url(re.compile(r"/signin\?next=%2Fhistory$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录周报")
    shot(page, "signin")


def test_post_without_csrf_token_is_refused(page: Page, site: Site) -> None:
    sign_in(page, site, "张伟")
    resp = page.request.post(f"{site.url}/week/2024-W26/publish", form={})
    assert resp.status == 403
    assert "CSRF" in resp.text()
    resp = page.request.post(f"{site.url}/week/2024-W26/items",
                             form={"csrf": "forged", "item": "editor:other", "text": "x"})
    assert resp.status == 403
    assert site.chat.of_kind("report") == []
    page.reload()
    expect(page.get_by_role("textbox", name="其他")).to_have_value("")


def test_search_finds_a_line_from_an_older_week(page: Page, site: Site) -> None:
    sign_in(page, site, "李娜")
    page.get_by_role("link", name="搜索").click()
    page.get_by_role("searchbox").fill("农行存管")
    page.get_by_role("searchbox").press("Enter")
    results = page.locator("#results tbody tr")
    expect(results).to_have_count(1)
    expect(results.first).to_contain_text("2024-W11")
    expect(results.first).to_contain_text(OLDER_LINE)
    shot(page, "search")
    results.first.get_by_role("link", name="2024-W11").click()
    expect(page.locator("#week-title")).to_have_text("2024-W11 周报")
    expect(page.locator('tr[data-item="project:聚合收单/业务"]')).to_contain_text(OLDER_LINE)


def test_trends_page_draws_its_charts(page: Page, site: Site) -> None:
    sign_in(page, site, "张伟")
    page.goto(f"{site.url}/trends")
    for key in ("metrics", "availability", "incidents", "progress", "banks", "participation"):
        expect(page.locator(f"#chart-{key} svg.chart")).to_be_visible()
    # three weeks of 入金有效成功率, drawn as points and kept in the table
    expect(page.locator("#chart-metrics .point")).to_have_count(3)
    page.locator("#chart-metrics summary").click()
    table = page.locator("#chart-metrics table")
    expect(table).to_contain_text("99.993")
    expect(table).to_contain_text("2024-W11")
    expect(page.locator("#chart-incidents rect title", has_text="C: 1")).to_have_count(1)
    shot(page, "trends")
    box = page.locator("#chart-metrics svg").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100


def test_the_dashboard_switches_to_english(page: Page, site: Site) -> None:
    sign_in(page, site, "zhangwei")
    page.get_by_role("link", name="English").click()
    expect(page.locator("#week-title")).to_have_text("Weekly report 2024-W26")
    expect(page.locator("#publish")).to_have_text("Publish now")
    page.get_by_role("link", name="History").click()
    expect(page.locator("#history tbody tr").first).to_contain_text("2024-W26")
    expect(page.locator("#history tbody tr").first).to_contain_text("C: 1")
    shot(page, "history-en")
