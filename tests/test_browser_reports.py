"""Chromium: a complaints manager opens the reports, filters them, sees the charts drawn
(under the page's Content-Security-Policy) and goes from a figure to the cases behind it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .support.browser import add_user, signed_in
from .test_reports_dashboard import add


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def facts(category: str, cause: str, day: str, channel: str = "web") -> dict[str, Any]:
    return {"received_at": at(f"2026-03-{day}T09:00:00"), "is_open": False,
            "category": category, "cause": cause, "channel": channel, "product": "mortgage",
            "priority": "medium", "outcome": "upheld", "acknowledge_hours": 3.0,
            "resolution_hours": 40.0, "acknowledgement_on_target": True,
            "resolution_on_target": True, "satisfaction": 4}


def test_a_manager_filters_the_reports_and_drills_down_to_the_cases(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    with live_app.app_context():
        billing_policy = add([facts("billing", "policy", "03"), facts("billing", "policy", "09")])
        others = add([facts("billing", "system_error", "12"),
                      facts("delay", "policy", "15", channel="phone")])
    add_user(live_app, "maya", "complaints_manager", "Maya Manager")
    page = signed_in(browser, live_server, "maya")
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text)
            if message.type == "error" else None)
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports")
    page.get_by_label("From", exact=True).fill("2026-03-01")
    page.get_by_label("To", exact=True).fill("2026-03-31")
    page.get_by_label("Category", exact=True).select_option("billing")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**category=billing**")
    canvas = page.locator("#chart-root-causes")
    canvas.and_(page.locator("[data-drawn=true]")).wait_for()
    painted = page.evaluate("""() => {
        const c = document.getElementById('chart-root-causes');
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return data.some(v => v !== 0);
    }""")
    assert painted
    table = page.locator("#table-root-causes")
    assert table.locator("caption").inner_text() == "Root causes (Pareto)"
    table.locator("tr", has_text="Policy").get_by_role("link").first.click()
    page.wait_for_url("**/reports/cases?**")
    listed = set(page.locator("#table-cases tbody th a").all_inner_texts())
    assert listed == set(billing_policy)
    assert not listed & set(others)
    page.get_by_role("link", name=billing_policy[0]).click()
    page.wait_for_url(f"**/cases/{billing_policy[0]}")
    assert not problems, problems
    page.context.close()
