"""Chromium in Arabic: a complainant files in Arabic and a handler whose profile says Arabic
works the whole reference process, every page right to left with the process's own texts
in Arabic. Each page is saved as a screenshot (PLAINT_SCREENSHOTS, default /tmp) to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import update

from server.extensions import db
from server.models import User

from .support.browser import add_user
from .support.data import PASSWORD

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")
SHOTS = Path(os.environ.get("PLAINT_SCREENSHOTS", "/tmp"))


def shot(page: Any, name: str) -> None:
    """Check the page is Arabic and right to left, and keep a picture of it."""
    assert page.locator("html").get_attribute("lang") == "ar"
    assert page.locator("html").get_attribute("dir") == "rtl"
    heading = page.locator("main h1").first.inner_text()
    assert not LATIN_WORD.search(heading.replace("CMP", "")), heading
    page.screenshot(path=str(SHOTS / f"arabic-{name}.png"), full_page=True)


def arabic_handler(app: Flask, username: str) -> None:
    """A handler whose profile language is Arabic."""
    add_user(app, username, "handler", "ليلى المعالجة")
    with app.app_context():
        db.session.execute(update(User).where(User.username == username).values(language="ar"))
        db.session.commit()
        db.session.remove()


def work(page: Any, base: str, reference: str, name: str, fill: Any) -> None:
    """Open the case's ready task from the inbox, fill it, send it."""
    for view in ("mine", "unclaimed"):
        page.goto(f"{base}/tasks?view={view}")
        link = page.locator(f"#inbox-results a[href*='/cases/{reference}/tasks/']")
        if link.count():
            break
    shot(page, f"inbox-{name}")
    link.first.click()
    page.wait_for_url("**/tasks/*")
    fill(page)
    shot(page, f"task-{name}")
    page.locator("main form button[type=submit].btn-primary").last.click()
    page.wait_for_url(lambda url: "/tasks/" not in url)


def test_a_handler_works_the_reference_process_in_arabic(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    arabic_handler(live_app, "layla")
    public = browser.new_context(locale="ar-SA").new_page()
    public.goto(live_server + "/complaints/new")
    shot(public, "intake")
    public.locator("#f-complainant_name").fill("ليلى حداد")
    public.locator("#f-complainant_email").fill("layla@example.com")
    public.locator("input[name=preferred_language][value=ar]").check()
    public.locator("#f-description").fill("خُصم مبلغ التحويل مرتين في الثالث من مارس.")
    public.locator("#f-consent").check()
    public.locator("main form button[type=submit]").last.click()
    public.wait_for_url("**/complaints/submitted")
    shot(public, "submitted")
    reference = public.locator("strong").first.inner_text()
    link = public.locator("#tracking-link").inner_text()

    page = browser.new_context(locale="en-GB").new_page()  # the profile wins over the browser
    page.goto(live_server + "/login")
    page.locator("#username").fill("layla")
    page.locator("#password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url(lambda url: "/login" not in url)

    def acknowledge(p: Any) -> None:
        p.locator("input[name=acknowledgement_channel][value=email]").check()
        p.locator("textarea[name=acknowledgement_message]").fill(f"استلمنا شكواك {reference}.")

    def assess(p: Any) -> None:
        p.locator("input[name=in_scope][value=true]").check()
        p.locator("select[name=category]").select_option("billing")
        p.locator("select[name=product]").select_option("other")
        p.locator("input[name=severity][value=serious]").check()
        p.locator("input[name=complexity][value=simple]").check()
        for name in ("vulnerable_customer", "regulator_involved", "immediate_action_needed"):
            p.locator(f"input[name={name}][value=false]").check()

    def investigate(p: Any) -> None:
        p.locator("textarea[name=findings]").fill("قُيد التحويل مرتين بسبب خلل في النظام.")
        p.locator("input[name=need_information][value=false]").check()

    def respond(p: Any) -> None:
        p.locator("input[name=outcome][value=upheld]").check()
        p.locator("textarea[name=response]").fill("أعدنا المبلغ المخصوم مرتين إلى حسابك.")

    def close(p: Any) -> None:
        p.locator("input[name=closure_reason][value=accepted]").check()
        p.locator("input[name=final_outcome][value=upheld]").check()
        p.locator("select[name=root_cause]").select_option("system")
        p.locator("input[name=corrective_action_needed][value=false]").check()

    for name, fill in (("acknowledge", acknowledge), ("assess", assess),
                       ("investigate", investigate), ("respond", respond)):
        work(page, live_server, reference, name, fill)

    public.goto(link)
    shot(public, "track-decision")
    public.locator("input[name$=accepted][value=true]").first.check()
    public.locator("form:has(input[name$=accepted]) button[type=submit]").first.click()
    public.wait_for_load_state()

    work(page, live_server, reference, "close", close)
    page.goto(f"{live_server}/cases/{reference}")
    shot(page, "case")
    recorded = page.locator("main").inner_text()  # what each step recorded, in Arabic words
    for words in ("الفواتير والرسوم", "جسيمة", "مقبولة", "أخرى أو غير مدرجة"):
        assert words in recorded, words
    for english in ("Billing and charges", "Serious", "Upheld", "completed", "Complaint received",
                    "Message received"):
        assert english not in recorded, english
    public.goto(link)
    shot(public, "track-closed")
    page.context.close()
    public.context.close()
