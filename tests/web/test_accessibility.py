"""axe-core (from the npm registry, pinned in tests/web/package.json; `.ci/run` installs it) injected by
Playwright into every dashboard page, in both languages, at a laptop's and a phone's size: no violation."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import _in_ci
from tests.web.conftest import Site

AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
PAGES = ("/week", "/week/2024-W26/publish", "/week/2024-W27", "/history", "/search?q=%E5%86%9C%E8%A1%8C",
         "/trends", "/item?key=okr%3AO3%2F%E6%9C%BA%E6%88%BF%E8%BF%81%E7%A7%BB", "/nowhere")
SIZES = {"laptop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


def axe_source() -> str:
    if not AXE.exists():
        reason = "axe-core not installed (npm ci --prefix tests/web)"
        if _in_ci():
            pytest.fail(f"CI=true but {reason}")
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def violations(page: Page, source: str) -> list[dict[str, Any]]:
    page.add_script_tag(content=source)
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [{"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
            for v in result["violations"]]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("locale", ["zh-CN", "en"])
def test_every_page_has_no_axe_violation(browser: Browser, site: Site, locale: str, size: str) -> None:
    source = axe_source()
    # The pages' CSP allows only our own scripts; the test's injected axe is let through here alone.
    context = browser.new_context(locale=locale, viewport=SIZES[size], bypass_csp=True)
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{site.url}/signin?lang={locale}")
        found = {"/signin": violations(page, source)}
        page.goto(site.link("zhangwei"))
        page.locator("#use-link").click()
        expect(page).to_have_url(re.compile(r"/week$"))
        for path in PAGES:
            page.goto(site.url + path)
            found[path] = violations(page, source)
        # a member's week page: the own items set apart, no editor buttons
        context.clear_cookies()
        page.goto(site.link("lina"))
        page.locator("#use-link").click()
        expect(page).to_have_url(re.compile(r"/week$"))
        found["/week (member)"] = violations(page, source)
        assert {p: v for p, v in found.items() if v} == {}, json.dumps(found, ensure_ascii=False, indent=1)
    finally:
        context.close()


def test_one_h1_per_page_and_a_skip_link_first(page: Page, site: Site) -> None:
    page.goto(site.link("zhangwei"))
    page.locator("#use-link").click()
    for path in PAGES:
        page.goto(site.url + path)
        expect(page.locator("h1")).to_have_count(1)
    page.goto(site.url + "/week")
    page.keyboard.press("Tab")
    expect(page.locator(":focus")).to_have_text("跳到正文")
