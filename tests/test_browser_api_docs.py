"""/api/docs in a real browser: swagger-ui from our own files shows the API document."""

from __future__ import annotations

from typing import Any

import pytest


# swagger-ui's own markup and colours are not ours to fix (its contrast and nested controls
# fail axe); the page is for developers of other systems, and says nothing to complainants.
@pytest.mark.axe_own
def test_the_api_docs_page_shows_the_document_under_the_policy(live_server: str,
                                                                browser: Any) -> None:
    seen: list[str] = []
    asked: list[str] = []
    page = browser.new_context().new_page()
    page.on("console", lambda message: seen.append(message.text))
    page.on("request", lambda request: asked.append(request.url))
    page.goto(live_server + "/api/docs")
    page.get_by_text("/api/v1/complaints").first.wait_for()
    assert page.get_by_text("Plaint API").first.is_visible()
    assert page.locator(".opblock-tag", has_text="tasks").count() == 1
    violations = [line for line in seen if "Content Security Policy" in line]
    assert not violations, violations
    assert all(url.startswith(live_server) for url in asked), asked  # nothing from a CDN
    page.close()
