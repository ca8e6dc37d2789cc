"""The dashboard over a department, over HTTP: team-scoped pages, who may see which team, the department page."""

from __future__ import annotations

from tests.web.department_site import DepartmentSite, department_site, signed_in

__all__ = ["department_site"]


def test_a_team_editor_sees_their_team_and_is_refused_another_teams_pages(department_site: DepartmentSite) -> None:
    client = signed_in(department_site, "settlement", "zhoumin")
    own = client.get(department_site.url + "/t/settlement/week/2024-W26")
    assert own.status_code == 200 and "清结算组" in own.text
    for path in ("/t/acquiring/week", "/t/crossborder/history", "/week", "/department"):
        refused = client.get(department_site.url + path)
        assert refused.status_code == 403, path
    assert "不在「收单技术组」的团队文件中" in client.get(department_site.url + "/t/acquiring/week").text
    # refused elsewhere, still signed in on their own team
    assert client.get(department_site.url + "/t/settlement/history").status_code == 200


def test_a_director_sees_every_team_and_the_department_page(department_site: DepartmentSite) -> None:
    client = signed_in(department_site, "acquiring", "zhangwei")
    for key in ("acquiring", "settlement", "crossborder"):
        assert client.get(department_site.url + f"/t/{key}/week/2024-W26").status_code == 200, key
    page = client.get(department_site.url + "/department/2024-W26")
    assert page.status_code == 200
    assert "支付事业部 2024-W26 周报汇总" in page.text
    assert "未发布：清结算组" in page.text
    assert 'href="/t/crossborder/week/2024-W26"' in page.text
