"""The dashboard over a department, over HTTP: team-scoped pages, who may see which team, the department page."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from starlette.testclient import TestClient

from bot.adapters.console.demo import EXAMPLE_DEPARTMENT
from bot.adapters.slack.limits import Pacer
from bot.runtime.composition import Overrides, compose
from bot.runtime.team_file import load_department
from tests.conftest import SHANGHAI
from tests.fakes import FixedClock
from tests.slack.conftest import slack_settings
from tests.slack.stand_in import SlackStandIn
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


def test_who_sees_which_team_is_the_department_files_rule(department_site: DepartmentSite) -> None:
    department = department_site.department
    by_key = {t.key: t.team for t in department.teams}
    director = by_key["acquiring"].person_by_id["zhangwei"]
    editor = by_key["settlement"].person_by_id["zhoumin"]
    assert department.is_director(director) and not department.is_director(editor)
    assert [t.key for t in department.visible_to(director)] == ["acquiring", "settlement", "crossborder"]
    assert [t.key for t in department.visible_to(editor)] == ["settlement"]
    # the same person under another id in another team's file is found by email, case aside
    moved = editor.model_copy(update={"id": "zm", "email": "ZhouMin@Example.com"})
    assert department.as_member(by_key["settlement"], moved) == editor
    assert department.as_member(by_key["acquiring"], moved) is None


def test_the_slack_process_of_a_department_serves_every_teams_pages(tmp_path: Path) -> None:
    """`compose` (what `zhoubao run --team acquiring` builds) mounts each team at /t/<key>/, the served team
    also at `/`; each team's pages send a stranger to that team's own sign-in."""
    department = load_department(EXAMPLE_DEPARTMENT / "department.yaml")
    acquiring = department.choose("acquiring")
    stand_in = SlackStandIn(users={p.email: f"U{p.id.upper()}" for p in acquiring.people if p.email},
                            channels={"acquiring-weekly": "C0ACQUIRING", "department-weekly": "C0DEPARTMENT"}).start()
    clock = FixedClock(datetime(2024, 6, 27, 10, 0, tzinfo=SHANGHAI))
    settings = slack_settings(stand_in, f"sqlite:///{tmp_path / 'd.db'}", tmp_path / "spool")
    runtime = compose(settings, acquiring, clock=clock, overrides=Overrides(pacer=Pacer(scale=1000)),
                      department=department)
    try:
        client = TestClient(runtime.http, follow_redirects=False)
        for path, signin in (("/week", "/signin?next=%2Fweek"),
                             ("/t/settlement/week", "/t/settlement/signin?next=%2Ft%2Fsettlement%2Fweek"),
                             ("/t/crossborder/history", "/t/crossborder/signin?next=%2Ft%2Fcrossborder%2Fhistory")):
            answer = client.get(path)
            assert (answer.status_code, answer.headers["location"]) == (303, signin), path
        page = client.get("/t/crossborder/signin?lang=en")
        assert page.status_code == 200 and "Cross-border Payments" in page.text
        assert client.get("/t/nosuchteam/week").status_code == 404
    finally:
        runtime.stop()
        stand_in.stop()


def test_search_shows_the_other_teams_the_person_may_see(department_site: DepartmentSite) -> None:
    director = signed_in(department_site, "acquiring", "zhangwei")
    page = director.get(department_site.url + "/t/crossborder/search", params={"q": "整体进度"})
    assert page.status_code == 200
    others = page.text[page.text.index('id="other-teams"'):]
    assert '<section class="other-team" data-team="acquiring">' in others and "密钥轮换流程" in others
    assert '<section class="other-team" data-team="settlement">' in others and "自动对账上线" in others
    assert 'href="/t/settlement/week/2024-W26"' in others
    editor = signed_in(department_site, "settlement", "zhoumin")
    own = editor.get(department_site.url + "/t/settlement/search", params={"q": "整体进度"})
    assert "自动对账上线" in own.text
    assert "密钥轮换流程" not in own.text and 'id="other-teams"' not in own.text  # their one team only
