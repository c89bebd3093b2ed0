"""Chromium: a complaints manager goes from the reports to the management-review pack,
downloads it as a PDF that shows the period's figures and as a workbook that opens, and
names a recipient of the monthly pack."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from .support.browser import add_user, signed_in
from .support.pdf import pdf_text
from .test_browser_reports import at, facts
from .test_reports_dashboard import add


def closed(category: str, cause: str, day: str) -> dict[str, Any]:
    """A complaint received and closed on a day of March 2026."""
    return {**facts(category, cause, day), "closed_at": at(f"2026-03-{day}T15:00:00")}


def _download(page: Any, link: str) -> tuple[str, bytes]:
    """Click a link that downloads a file; its suggested name and content."""
    with page.expect_download() as started:
        page.get_by_role("link", name=link).click()
    download = started.value
    return download.suggested_filename, Path(download.path()).read_bytes()


def test_a_manager_downloads_the_pack_and_names_a_recipient(  # type: ignore[no-untyped-def]
        browser, live_server, live_app) -> None:
    with live_app.app_context():
        add([closed("billing", "policy", "03"), closed("billing", "policy", "09"),
             closed("delay", "system_error", "12")])
    add_user(live_app, "maya", "complaints_manager", "Maya Manager")
    page = signed_in(browser, live_server, "maya")
    page.get_by_role("link", name="Reports").click()
    page.wait_for_url("**/reports")
    page.get_by_role("link", name="Management-review pack").click()
    page.wait_for_url("**/reports/pack")
    page.get_by_label("First day").fill("2026-03-01")
    page.get_by_label("Last day").fill("2026-03-31")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url("**from=2026-03-01**")
    name, pdf = _download(page, "PDF in English")
    assert name == "management-review-2026-03-01_2026-03-31-en.pdf"
    assert pdf.startswith(b"%PDF")
    text = " ".join(pdf_text(pdf).split())
    assert "Period: 2026-03-01 to 2026-03-31" in text
    assert "Month: 2026-03 · Received: 3 · Closed: 3" in text
    assert "Cause: policy · Complaints closed: 2" in text
    name, workbook = _download(page, "XLSX in Arabic")
    assert name.endswith("-ar.xlsx")
    book = load_workbook(io.BytesIO(workbook))
    assert book.worksheets[0].sheet_view.rightToLeft
    trends = {row[0]: row[1:] for row in book.worksheets[1].iter_rows(min_row=2,
                                                                       values_only=True)}
    assert trends["2026-03"][:2] == (3, 3)
    page.get_by_role("link", name="Send the pack every month by e-mail").click()
    page.wait_for_url("**/reports/pack/schedule/")
    page.get_by_label("Or an e-mail address").fill("board@bank")
    page.get_by_label("XLSX workbook").check()
    page.get_by_role("button", name="Add", exact=True).click()
    assert "is not an e-mail address" in page.locator("#email-error").inner_text()
    page.get_by_label("Or an e-mail address").fill("board@bank.example")
    page.get_by_role("button", name="Add", exact=True).click()
    page.locator("#pack-recipients", has_text="board@bank.example").wait_for()
    assert "PDF, XLSX" in page.locator("#pack-recipients").inner_text()
