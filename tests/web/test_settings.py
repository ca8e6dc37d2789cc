"""Team settings on the web (issue 22): an admin changes people, owners and the schedule in the dashboard; the
change is validated as the team file is, written back into the file with its comments, and applied without a
restart, so the next prompt goes to the new person at the new time. A change made on disk goes the same way."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from bot.adapters.web import DashboardConfig, build_dashboard
from bot.runtime.composition import build_bot
from bot.runtime.scheduler import Scheduler, SchedulerOptions
from bot.runtime.team_file import edit_team_source, load_team
from bot.runtime.team_reload import TeamReload
from bot.services.bot import Bot
from bot.services.team_settings import TeamEdit
from tests.conftest import EXAMPLE_TEAM, SHANGHAI, migrated_sqlite
from tests.fakes import FakeChat, FixedClock
from tests.web.conftest import SECRET, shot, signed_in
from tests.web.live import LiveServer
from tests.web.test_accessibility import axe_source, violations

MONDAY = datetime(2024, 6, 24, 9, 0, tzinfo=SHANGHAI)


def comments(text: str) -> list[str]:
    """Every comment of a YAML text, as written (the part from `#` on, each line's)."""
    return [line[line.index("#"):] for line in text.splitlines() if "#" in line]


@dataclass
class TeamSite:
    bot: Bot
    chat: FakeChat
    clock: FixedClock
    scheduler: Scheduler
    team_file: TeamReload
    path: Path
    url: str
    config: DashboardConfig


@pytest.fixture
def team_site(tmp_path: Path) -> Iterator[TeamSite]:
    """The example team's file in a scratch folder, a bot serving it with its scheduler (driven by the test's
    clock through catch_up, as tests/schedule do), and the dashboard with the settings page on loopback."""
    path = tmp_path / "team.yaml"
    shutil.copyfile(EXAMPLE_TEAM, path)
    chat, clock = FakeChat(), FixedClock(MONDAY)
    bot = build_bot(load_team(path), chat, clock, database_url=migrated_sqlite(tmp_path / 'settings.db'))
    scheduler = Scheduler(bot, SchedulerOptions())
    scheduler.start(paused=True, housekeeping=False)
    team_file = TeamReload(path, bot, scheduler)
    try:
        with LiveServer() as live:
            config = DashboardConfig(secret=SECRET, public_url=live.url)
            live.app = build_dashboard(bot, config, team_settings=team_file)
            yield TeamSite(bot, chat, clock, scheduler, team_file, path, live.url, config)
    finally:
        scheduler.shutdown(wait=False)
        bot.engine.dispose()


class _Form(HTMLParser):
    """The fields a browser would send for the form with `form_id`: inputs, checked boxes, selected options."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.fields = form_id, False, {}  # type: ignore[var-annotated]
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = a.get("id") == self.form_id
        if not self.inside:
            return
        if tag == "input" and "name" in a:
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select and "selected" in a:
            self.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self._select = None


def settings_form(client: httpx.Client, url: str) -> dict[str, str]:
    page = client.get(f"{url}/settings")
    assert page.status_code == 200, page.text
    parser = _Form("settings-form")
    parser.feed(page.text)
    return dict(parser.fields)


def test_a_person_added_and_a_prompt_moved_on_the_web_get_the_next_prompt(team_site: TeamSite) -> None:
    site = team_site
    before = site.path.read_text(encoding="utf-8")
    admin = signed_in(site.bot, site.config, "zhangwei")
    # The admin adds 小明, then gives him 资金安全 and moves the prompt from Thursday 10:00 to Wednesday 15:00.
    form = settings_form(admin, site.url)
    form.update({"new.id": "xiaoming", "new.name": "小明", "new.email": "xiaoming@example.com"})
    saved = admin.post(f"{site.url}/settings", data=form)
    assert saved.status_code == 200 and "设置已写入团队文件并生效" in saved.text
    form = settings_form(admin, site.url)
    assert 'value="小明"' in admin.get(f"{site.url}/settings").text
    form.update({"okrs[0].items[1].owner": "xiaoming", "schedule.prompt": "wed 15:00"})
    assert admin.post(f"{site.url}/settings", data=form).status_code == 200

    # The file on disk has the change and every comment it had.
    after = site.path.read_text(encoding="utf-8")
    assert comments(after) == comments(before)
    assert "prompt: wed 15:00" in after and "id: xiaoming" in after
    assert "{name: 资金安全, owner: xiaoming}" in after  # the flow mapping keeps its style
    assert load_team(site.path).okrs[0].items[1].owner == "xiaoming"

    # No restart: the scheduler's next run is the new time, and the prompt reaches 小明 then.
    site.clock.now = datetime(2024, 6, 26, 14, 59, tzinfo=SHANGHAI)
    assert site.scheduler.catch_up() == []
    site.clock.now = datetime(2024, 6, 26, 15, 1, tzinfo=SHANGHAI)
    site.scheduler.catch_up()
    prompts = site.chat.of_kind("prompt")
    assert "xiaoming" in [p.to for p in prompts]
    mine = next(p for p in prompts if p.to == "xiaoming")
    assert "资金安全" in mine.text and "跨境收款" not in mine.text
    zhaolei = next(p for p in prompts if p.to == "zhaolei")
    assert "资金安全" not in zhaolei.text
    # The old Thursday time fires nothing.
    site.clock.now = datetime(2024, 6, 27, 10, 5, tzinfo=SHANGHAI)
    site.scheduler.catch_up()
    assert len(site.chat.of_kind("prompt")) == len(prompts)


def test_a_bad_value_names_its_field_and_changes_nothing(team_site: TeamSite) -> None:
    site = team_site
    before = site.path.read_text(encoding="utf-8")
    admin = signed_in(site.bot, site.config, "zhangwei")
    form = settings_form(admin, site.url)
    form.update({"schedule.prompt": "someday 25:00", "new.id": "lina2", "new.name": "李娜"})
    page = admin.post(f"{site.url}/settings", data=form)
    assert page.status_code == 400
    assert "没有保存" in page.text
    # the problem next to its own box, what was typed kept
    assert re.search(r'name="schedule.prompt"[^>]*value="someday 25:00"[^>]*aria-invalid="true"', page.text)
    assert "<code>schedule.prompt</code>" in page.text and "is not a weekly time" in page.text
    # the time put right, the new person's name is still 李娜's
    form["schedule.prompt"] = "thu 10:00"
    page = admin.post(f"{site.url}/settings", data=form)
    assert page.status_code == 400
    assert re.search(r'name="new.name"[^>]*value="李娜"[^>]*aria-invalid="true"', page.text)
    assert "is used by &#39;lina&#39; too" in page.text
    assert site.path.read_text(encoding="utf-8") == before
    assert str(site.bot.ctx.team.schedule.prompt) == "thu 10:00" and "lina2" not in site.bot.ctx.team.person_by_id
    # removing a person who still owns items is refused, naming the owner field that points at them
    form = settings_form(admin, site.url)
    form["people[1].remove"] = "1"  # lina owns 业务 and 对公代付
    page = admin.post(f"{site.url}/settings", data=form)
    assert page.status_code == 400 and "<code>projects[0].parts[0].owner</code>" in page.text
    assert site.path.read_text(encoding="utf-8") == before


def test_members_cannot_see_or_post_settings(team_site: TeamSite) -> None:
    member = signed_in(team_site.bot, team_site.config, "lina")
    page = member.get(f"{team_site.url}/settings")
    assert page.status_code == 403 and "只有团队管理员可以修改团队设置" in page.text
    assert 'id="nav-settings"' not in member.get(f"{team_site.url}/week").text
    admin = signed_in(team_site.bot, team_site.config, "zhangwei")
    form = settings_form(admin, team_site.url)
    csrf = re.search(r'name="csrf" value="([^"]+)"', member.get(f"{team_site.url}/week").text)
    assert csrf is not None
    refused = member.post(f"{team_site.url}/settings", data={**form, "csrf": csrf.group(1)})
    assert refused.status_code == 403


def test_a_save_over_a_file_changed_since_is_refused(team_site: TeamSite) -> None:
    admin = signed_in(team_site.bot, team_site.config, "zhangwei")
    form = settings_form(admin, team_site.url)
    edited = team_site.path.read_text(encoding="utf-8").replace("publish: fri 17:00", "publish: fri 16:00")
    team_site.path.write_text(edited, encoding="utf-8")
    form["schedule.prompt"] = "wed 15:00"
    page = admin.post(f"{team_site.url}/settings", data=form)
    assert page.status_code == 409 and "打开本页之后团队文件已被修改" in page.text
    assert team_site.path.read_text(encoding="utf-8") == edited


def test_a_change_on_disk_is_applied_the_same_way(team_site: TeamSite) -> None:
    site = team_site
    assert site.team_file.check_disk() is False  # nothing changed yet
    text = site.path.read_text(encoding="utf-8")
    site.path.write_text(text.replace("prompt: thu 10:00", "prompt: wed 15:00"), encoding="utf-8")
    assert site.team_file.check_disk() is True
    assert str(site.bot.ctx.team.schedule.prompt) == "wed 15:00"
    job = site.scheduler.aps.get_job(site.scheduler.store_id(site.scheduler.specs["zhoubao:prompt"]))
    assert job is not None and job.name.startswith("zhoubao:prompt wed 15:00")
    site.clock.now = datetime(2024, 6, 26, 15, 1, tzinfo=SHANGHAI)
    site.scheduler.catch_up()
    assert len(site.chat.of_kind("prompt")) == len(site.bot.ctx.team.owners())
    # a file that does not validate is left: the running team stays as it was
    site.path.write_text(text.replace("prompt: thu 10:00", "prompt: someday"), encoding="utf-8")
    assert site.team_file.check_disk() is False
    assert str(site.bot.ctx.team.schedule.prompt) == "wed 15:00"


def test_a_team_file_broken_on_disk_is_said_and_the_running_team_stays(team_site: TeamSite) -> None:
    admin = signed_in(team_site.bot, team_site.config, "zhangwei")
    text = team_site.path.read_text(encoding="utf-8")
    team_site.path.write_text(text.replace("owner: lina", "owner: nobody", 1), encoding="utf-8")
    page = admin.get(f"{team_site.url}/settings")
    assert page.status_code == 409
    assert "磁盘上的团队文件目前无法使用" in page.text and "projects[0].parts[0].owner" in page.text
    assert team_site.team_file.check_disk() is False
    assert team_site.bot.ctx.team.projects[0].parts[0].owner == "lina"


def test_an_edit_touches_only_what_it_changes() -> None:
    source = EXAMPLE_TEAM.read_text(encoding="utf-8")
    assert edit_team_source(source, TeamEdit()) == source
    changed = edit_team_source(source, TeamEdit(values={"schedule.publish": "fri 16:00"}, editors=("zhangwei", "lina")))
    old_lines, new_lines = source.splitlines(), changed.splitlines()
    # the comment stays on its line (ruamel keeps its column where the longer list leaves room, else one space)
    differing = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert differing == [
        ("editors: [zhangwei]   # compile the report, write 其他 / 收获与反思 / 下周工作及目标, publish",
         "editors: [zhangwei, lina] # compile the report, write 其他 / 收获与反思 / 下周工作及目标, publish"),
        ("  publish: fri 17:00", "  publish: fri 16:00")]


@pytest.mark.parametrize(("lang", "size"), [("zh-CN", (1366, 768)), ("en", (1366, 768)), ("zh-CN", (390, 844)),
                                            ("en", (390, 844))])
def test_settings_page_in_the_browser(browser, team_site: TeamSite, lang: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    source = axe_source()
    # bypass_csp: the page allows only its own scripts; the test's injected axe-core is let through here alone
    context = browser.new_context(locale=lang, viewport={"width": size[0], "height": size[1]}, bypass_csp=True)
    page: Page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(signed_link(team_site, "zhangwei"))
        page.locator("#use-link").click()
        page.goto(f"{team_site.url}/settings?lang={lang}")
        words = {"zh-CN": ("团队设置", "新成员 · 姓名", "提醒填写", "保存设置", "设置已写入团队文件并生效"),
                 "en": ("Team settings", "New person · Name", "Prompt", "Save settings",
                        "Settings saved to the team file and applied")}[lang]
        expect(page.locator("h1")).to_have_text(words[0])
        page.locator("#nav-settings").click()
        expect(page).to_have_url(re.compile(r"/settings$"))
        # a bad time: the page says which box, keeps what was typed, and nothing changes
        page.get_by_label(words[2], exact=True).fill("someday 25:00")
        page.get_by_role("button", name=words[3]).click()
        expect(page.locator("#settings-problems")).to_contain_text("schedule.prompt")
        expect(page.locator("#schedule-prompt")).to_have_attribute("aria-invalid", "true")
        expect(page.locator("#schedule-prompt")).to_have_value("someday 25:00")
        assert str(team_site.bot.ctx.team.schedule.prompt) == "thu 10:00"
        assert violations(page, source) == []  # the page with its problems shown (axe-core)
        # a new person and a new time, saved and applied
        page.get_by_label(words[2], exact=True).fill("wed 15:00")
        page.get_by_label(words[1]).fill("小明")
        page.locator("#new-id").fill("xiaoming")
        page.get_by_role("button", name=words[3]).click()
        expect(page.locator(".flash")).to_contain_text(words[4])
        expect(page.locator('tr[data-person="xiaoming"]')).to_have_count(1)
        expect(page.locator("#schedule-prompt")).to_have_value("wed 15:00")
        assert "xiaoming" in team_site.bot.ctx.team.person_by_id
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size[0] + 1, f"the page scrolls sideways at {size[0]} px ({width} px)"
        assert violations(page, source) == []
        shot(page, f"settings-{lang}-{size[0]}")
    finally:
        context.close()


def signed_link(site: TeamSite, who: str) -> str:
    from bot.runtime.dashboard import sign_in_link

    return sign_in_link(site.bot.ctx, site.config, who)[0]
