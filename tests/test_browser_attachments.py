"""A complainant attaches a document in a real browser, corrects a mistake, and finds it later."""

from __future__ import annotations

from playwright.sync_api import expect

from .support.data import PDF


def test_a_document_survives_a_form_error_and_reaches_the_tracking_page(  # type: ignore[no-untyped-def]
        browser, live_server) -> None:
    page = browser.new_page()
    page.goto(live_server + "/complaints/new")
    page.get_by_label("Your name").fill("Layla Haddad")
    page.get_by_label("E-mail").fill("layla-at-home")
    page.get_by_label("What happened?").fill("I was charged twice for the same transfer.")
    page.get_by_label("I agree that my personal data").check()
    documents = page.get_by_label("Documents (optional)")
    # A file the server would refuse is caught before anything is sent.
    documents.set_input_files([{"name": "setup.exe", "mimeType": "application/octet-stream",
                                "buffer": b"MZ\x90\x00"}])
    warning = page.locator("#documents-warning")
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("setup.exe is not a type")
    posts: list[str] = []
    page.on("request", lambda request: posts.append(request.url)
            if request.method == "POST" else None)
    # A listener on the window hears the submit after the form's own: was it stopped?
    page.evaluate("window.addEventListener('submit', (event) => {"
                  " window.submitStopped = event.defaultPrevented; })")
    page.get_by_role("button", name="Send my complaint").click()
    page.wait_for_function("window.submitStopped !== undefined")
    assert page.evaluate("window.submitStopped") is True
    expect(page.locator("#documents:focus")).to_have_count(1)
    assert posts == []
    documents.set_input_files([{"name": "receipt.pdf", "mimeType": "application/pdf",
                                "buffer": PDF}])
    expect(warning).to_be_hidden()
    # The mistake: the form comes back with the message, the text and the document kept.
    page.get_by_role("button", name="Send my complaint").click()
    page.locator("#f-complainant_email-error").get_by_text(
        "Enter a valid e-mail address").wait_for()
    assert page.get_by_label("What happened?").input_value().startswith("I was charged twice")
    expect(page.get_by_text("Already attached: receipt.pdf")).to_be_visible()
    page.get_by_label("E-mail").fill("layla@example.com")
    page.get_by_role("button", name="Send my complaint").click()
    page.wait_for_url("**/complaints/submitted")
    page.goto(page.locator("#tracking-link").inner_text())
    listed = page.locator("#document-list")
    assert "receipt.pdf" in listed.inner_text()
    with page.expect_download() as download:
        listed.get_by_role("link", name="receipt.pdf").click()
    assert download.value.suggested_filename == "receipt.pdf"
    page.close()
