"""Chromium with the keyboard alone: a complainant files a complaint and a handler signs in,
claims the task in the inbox and completes it, never touching a mouse. Every control is
reached with Tab and worked with the keys a keyboard user presses."""

from __future__ import annotations

from typing import Any

from .support.data import PASSWORD

MOST_TABS = 80


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until the focus is on `selector`; fail if the keyboard cannot reach it."""
    for _ in range(MOST_TABS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement && document.activeElement.matches(s)",
                         selector):
            return
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def focused_is_visible(page: Any) -> bool:
    """Whether the focused element shows a focus ring (an outline or a box shadow)."""
    return bool(page.evaluate("""() => {
      const style = getComputedStyle(document.activeElement);
      return (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0)
             || style.boxShadow !== 'none';
    }"""))


def test_a_complaint_is_filed_and_its_first_task_done_with_the_keyboard_alone(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    public = browser.new_context().new_page()
    public.goto(live_server + "/complaints/new")
    tab_to(public, "#f-complainant_name")
    assert focused_is_visible(public)
    public.keyboard.type("Layla Haddad")
    tab_to(public, "#f-complainant_email")
    public.keyboard.type("layla@example.com")
    tab_to(public, "#f-description")
    public.keyboard.type("I was charged twice for the same transfer.")
    tab_to(public, "#f-consent")
    public.keyboard.press("Space")
    tab_to(public, "form[novalidate] button[type=submit], form:not([action]) button[type=submit]")
    public.keyboard.press("Enter")
    public.wait_for_url("**/complaints/submitted")
    reference = public.locator("strong").first.inner_text()
    public.context.close()

    page = browser.new_context().new_page()
    page.goto(live_server + "/login")
    tab_to(page, "#username")
    page.keyboard.type("hana")
    tab_to(page, "#password")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks**")
    page.goto(live_server + "/tasks?view=unclaimed")
    tab_to(page, f"#inbox-results form[action*='/cases/{reference}/tasks/'] button")
    assert focused_is_visible(page)
    page.keyboard.press("Enter")  # Claim, through htmx: the focus lands on the message
    page.wait_for_function("() => document.activeElement.matches('[role=status]')")
    page.goto(live_server + "/tasks?view=mine")
    tab_to(page, f"#inbox-results a[href*='/cases/{reference}/tasks/']")
    page.keyboard.press("Enter")
    page.wait_for_url("**/tasks/*")
    tab_to(page, "input[name=acknowledgement_channel]")
    page.keyboard.press("Space")  # the first choice, e-mail
    tab_to(page, "textarea[name=acknowledgement_message]")
    page.keyboard.type(f"We have your complaint {reference}.")
    tab_to(page, "button[type=submit].btn-primary")
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: "/tasks/" not in url)
    page.goto(f"{live_server}/cases/{reference}")
    assert f"We have your complaint {reference}." in page.content()
    page.context.close()
