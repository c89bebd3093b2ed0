"""Chromium: the tracking link on the confirmation page is copied by its button, wraps on a
phone, survives a reload, and without JavaScript is a plain link to select."""

from __future__ import annotations

from typing import Any

from .support.browser import file_complaint

PHONE = {"width": 375, "height": 740}


def test_the_copy_button_copies_the_link_which_wraps_on_a_phone(
        live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server)
    page = context.new_page()
    reference, link = file_complaint(page, live_server)
    assert "/track/" in link
    # The link is one long word: it wraps instead of making the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("#tracking-link").bounding_box()
    assert box is not None and box["x"] + box["width"] <= PHONE["width"]
    page.get_by_role("button", name="Copy the link").click()
    page.get_by_text("Link copied.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == link
    page.reload()  # the same browser session shows the confirmation again
    assert page.locator("#tracking-link").inner_text() == link
    assert reference in page.content()
    context.close()


def test_without_javascript_the_link_is_there_and_no_dead_button(
        live_server: str, browser: Any) -> None:
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    _reference, link = file_complaint(page, live_server)
    assert page.locator("#tracking-link").is_visible() and link.startswith(live_server)
    assert not page.locator("#copy-tracking-link").is_visible()
    context.close()
