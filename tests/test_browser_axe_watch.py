"""The axe watch on browser journeys (tests/support/axe_watch.py) sees what it must: a fault
that appears after an htmx update, every page a journey opens, and each page again in
Arabic on a phone."""

from __future__ import annotations

from .support.axe_watch import kind, other_screens


def test_a_fault_after_an_update_fails_the_journey_and_every_page_is_seen_again(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    page = browser.new_page()
    page.goto(live_server + "/")
    page.goto(live_server + "/track")
    # What an htmx swap would bring: an image nobody can read, then htmx's settle event.
    page.evaluate("""() => {
      const img = document.createElement('img');
      img.src = 'data:image/gif;base64,R0lGODlhAQABAAAAACw=';
      document.querySelector('main').append(img);
      document.dispatchEvent(new Event('htmx:afterSettle'));
    }""")
    browser.settle()
    assert [line for line in browser.seen.found if line.startswith("/track (en): image-alt")], \
        browser.seen.found
    page.evaluate("() => document.querySelector('main img').remove()")
    browser.seen.found = []  # seen here, so that the journey itself may pass
    # The home page was left before axe was done with it: it is seen again as it was.
    assert set(browser.seen.visited) == {"/", "/track"}
    assert browser.seen.checked.get("/track") == "en"
    # Seen again in Arabic on a phone: clean, and right to left (what the pages' own
    # test checks); an address the journey has moved on from is passed over.
    assert other_screens(browser, live_server) == []
    assert kind("/cases/CMP-2026-000012/tasks/526d6ba8-5800-4f90-a8eb-500567c36a07") == \
        "/cases/*/tasks/*"
    assert kind("/track/Yc2b7uQ3qS1nF0pLxK9tA4vW?x=1") == "/track/*"
