"""Content-Security-Policy in a real browser: the pages people use break none of its rules."""

from __future__ import annotations

from typing import Any

from tests.support.browser import file_complaint, signed_in

# -- in a browser: the pages work under the policy ----------------------------------------

def test_the_pages_people_use_break_no_rule_of_the_policy(live_server: str, browser: Any) -> None:
    seen: list[str] = []

    def watched(page: Any) -> Any:
        page.on("console", lambda message: seen.append(f"{page.url}: {message.text}"))
        return page

    public = watched(browser.new_context().new_page())
    reference, link = file_complaint(public, live_server)
    public.goto(link)
    public.wait_for_load_state()
    admin = watched(signed_in(browser, live_server, "ada"))
    for path in (f"/cases/{reference}", "/admin/outbox", "/studio/"):
        admin.goto(live_server + path)
        admin.wait_for_load_state()
    admin.goto(live_server + "/admin/outbox")
    admin.locator("a[href*='/admin/outbox/']").first.click()
    frame = admin.frame_locator("#html-part")
    assert "Layla Haddad" in frame.locator("body").inner_text()  # the e-mail, styled inline
    admin.goto(live_server + "/studio/")
    admin.locator("form[action$='/edit'] button").first.click()
    admin.locator(".djs-element").first.wait_for()  # bpmn-js drew the diagram
    handler = watched(signed_in(browser, live_server, "hana"))
    handler.goto(live_server + "/tasks?view=team")
    handler.get_by_role("button", name="Claim").first.click()  # htmx swaps the rows
    handler.wait_for_load_state("networkidle")
    violations = [line for line in seen if "Content Security Policy" in line]
    assert not violations, violations
    for page in (public, admin, handler):
        page.close()
