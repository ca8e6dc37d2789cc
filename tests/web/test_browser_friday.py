"""The dashboard as the editor's Friday tool (issue 22), in Debian's Chromium: one scenario per numbered defect
of the issue that needs a browser (the HTTP-level ones are in `test_friday.py`)."""

from __future__ import annotations

import re

from playwright.sync_api import Dialog, Page, expect

from tests.web.conftest import Site


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
