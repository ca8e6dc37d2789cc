"""The dashboard over a department in a real browser (Debian's Chromium through Playwright): the team
switcher, the department page in both languages, and a team editor refused another team's pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.web.conftest import shot
from tests.web.department_site import DepartmentSite, department_site

__all__ = ["department_site"]


def sign_in(page: Page, site: DepartmentSite, team: str, who: str) -> None:
    page.goto(site.link(team, who))
    page.locator("#use-link").click()
    expect(page).to_have_url(re.compile(rf"/t/{team}/week$"))


@pytest.mark.parametrize(("lang", "words"), [
    ("zh-CN", {"switcher": "团队", "department": "部门", "title": "支付事业部 2024-W26 周报汇总",
               "unpublished": "未发布：清结算组", "full": "「Cross-border Payments」本周完整周报",
               "week": "2024-W26 周报"}),
    ("en", {"switcher": "Teams", "department": "Department", "title": "支付事业部 roll-up 2024-W26",
            "unpublished": "Not published: 清结算组", "full": "Cross-border Payments's full week",
            "week": "2024-W26"}),
])
def test_a_director_switches_teams_and_reads_the_department_page(page: Page, department_site: DepartmentSite,
                                                                 lang: str, words: dict[str, str]) -> None:
    sign_in(page, department_site, "acquiring", "zhangwei")
    page.goto(f"{department_site.url}/t/acquiring/week/2024-W26?lang={lang}")
    switcher = page.get_by_role("navigation", name=words["switcher"])
    expect(switcher.get_by_role("link")).to_have_text(
        ["收单技术组", "清结算组", "Cross-border Payments", words["department"]])
    expect(switcher.locator("a.current")).to_have_text("收单技术组")
    # to another team: its own week, its own pages under its address
    switcher.get_by_role("link", name="清结算组").click()
    expect(page).to_have_url(re.compile(r"/t/settlement/week$"))
    expect(page.locator("header strong")).to_contain_text("清结算组")
    expect(page.get_by_role("navigation", name=words["switcher"]).locator("a.current")).to_have_text("清结算组")
    page.get_by_role("link", name=re.compile("^(历史|History)$")).click()
    expect(page).to_have_url(re.compile(r"/t/settlement/history$"))
    shot(page, f"department-switcher-{lang}")
    # the department page: the roll-up of the week, the comparison table, a link to each team's week
    page.get_by_role("navigation", name=words["switcher"]).get_by_role("link", name=words["department"]).click()
    expect(page).to_have_url(re.compile(r"/department$"))
    page.goto(f"{department_site.url}/department/2024-W26")
    expect(page.locator("#department-title")).to_have_text(words["title"])
    expect(page.locator("#department-unpublished")).to_have_text(words["unpublished"])
    table = page.locator("#department-table table")
    expect(table.locator("tbody th")).to_have_text(["收单技术组", "Cross-border Payments"])
    expect(table.locator('tr[data-team="收单技术组"]')).to_contain_text("99.997%")
    expect(table.locator('tr[data-team="Cross-border Payments"]')).to_contain_text("99.98%")
    acquiring = page.locator('section.department-team[data-team="收单技术组"]')
    expect(acquiring).to_contain_text("PCI DSS 认证")
    expect(acquiring).to_contain_text("密钥轮换流程的留痕方案未定")
    shot(page, f"department-page-{lang}")
    page.get_by_role("link", name=words["full"]).click()
    expect(page).to_have_url(re.compile(r"/t/crossborder/week/2024-W26$"))
    expect(page.locator("#week-title")).to_contain_text(words["week"])


@pytest.mark.parametrize(("lang", "text"), [
    ("zh-CN", "不在「收单技术组」的团队文件中"),
    ("en", "not in 收单技术组's team file"),
])
def test_a_team_editor_sees_only_their_team_and_gets_403_for_another(page: Page, department_site: DepartmentSite,
                                                                     lang: str, text: str) -> None:
    sign_in(page, department_site, "settlement", "zhoumin")
    page.goto(f"{department_site.url}/t/settlement/week?lang={lang}")
    expect(page.locator("#me")).to_have_text("周敏")
    expect(page.locator("#team-switcher")).to_have_count(0)  # one team to see: no switcher
    answer = page.goto(f"{department_site.url}/t/acquiring/week/2024-W26")
    assert answer is not None and answer.status == 403
    expect(page.locator("main")).to_contain_text(text)
    shot(page, f"department-403-{lang}")
    answer = page.goto(f"{department_site.url}/department")
    assert answer is not None and answer.status == 403
