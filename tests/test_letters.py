"""The decision letter: the decision with its reasons, the remedy, how to answer and where
to go next, in the complainant's language, printable and as a PDF."""

from __future__ import annotations

import re
from typing import Any

import pytest

from server.services import cases, letters

from .support.cases import REASONS, decided, drive, file_case
from .support.pdf import pdf_text

ARABIC_REASONS = "راجعنا كشف حسابكم فوجدنا أن التحويل خُصم مرتين، فأعدنا المبلغ المكرر."


def reviewed(**intake: Any) -> tuple[str, str]:
    """A case whose decision the complainant rejected and that was reviewed."""
    reference, token = decided(**intake)
    drive(reference, lambda data: bool(data.get("review_outcome")))
    return reference, token


def test_there_is_no_letter_before_a_decision(client, auth, app_ctx) -> None:
    reference, token = file_case()
    page = client.get(f"/track/{token}/letter")
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    assert f"There is no decision on complaint {reference} yet" in body
    assert f'href="/track/{token}"' in body
    assert client.get(f"/track/{token}/letter.pdf").status_code == 404
    assert "decision-letter" not in client.get(f"/track/{token}").get_data(as_text=True)
    handler = auth.signed_in("hana", "handler")
    assert handler.get(f"/cases/{reference}/letter").status_code == 404
    assert handler.get(f"/cases/{reference}/letter.pdf").status_code == 404
    assert "decision-letter" not in handler.get(f"/cases/{reference}").get_data(as_text=True)


def test_the_complainant_reads_the_decision_with_its_reasons_and_next_route(
        app, client, app_ctx) -> None:
    app.config["PLAINT_EXTERNAL_BODY"] = "the Banking Disputes Committee"
    reference, token = decided()
    track = client.get(f"/track/{token}").get_data(as_text=True)
    assert f'href="/track/{token}/letter"' in track
    page = client.get(f"/track/{token}/letter")
    assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
    body = page.get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in body
    for expected in (reference, "Dear <bdi>Layla Haddad</bdi>,",
                     "Upheld: we agree with your complaint.", REASONS,
                     "Refund of the duplicate", "Compensation: SAR\u00a0150.00",
                     "within 10 working days", "we will take it that you accept",
                     "Someone who was not involved in handling your complaint",
                     "the Banking Disputes Committee", "/static/css/letter.css",
                     f'href="/track/{token}/letter.pdf?lang=en"'):
        assert expected in body, expected
    pdf = client.get(f"/track/{token}/letter.pdf")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.headers["Content-Disposition"] == \
        f'attachment; filename="{reference}-decision-en.pdf"'
    assert pdf.get_data().startswith(b"%PDF")
    text = " ".join(pdf_text(pdf.get_data()).split())  # lines wrapped anywhere
    for expected in (reference, "Our decision on your complaint", REASONS[:50],
                     "the Banking Disputes Committee"):
        assert expected in text, expected


def test_a_complainant_who_asked_for_arabic_gets_a_right_to_left_letter(client, app_ctx) -> None:
    reference, token = file_case(preferred_language="ar", complainant_name="ليلى حداد")
    drive(reference, lambda data: bool(data.get("outcome")), {"response": ARABIC_REASONS})
    assert letters.language_for(cases.get_case(reference)) == "ar"
    body = client.get(f"/track/{token}/letter").get_data(as_text=True)
    assert '<html lang="ar" dir="rtl">' in body and 'dir="rtl"' in body
    for expected in ("قرارنا بشأن شكواكم", "<bdi>ليلى حداد</bdi> المحترم/ة", ARABIC_REASONS,
                     "خلال 10 أيام عمل", "شخص لم يشارك في معالجتها",
                     "جهة تسوية النزاعات الخارجية", f'<bdi class="ref">{reference}</bdi>'):
        assert expected in body, expected
    text = pdf_text(client.get(f"/track/{token}/letter.pdf").get_data())
    assert reference in text
    assert "قرارنا"[::-1] in text and "مرتين"[::-1] in text  # shaped, drawn right to left
    english = client.get(f"/track/{token}/letter?lang=en").get_data(as_text=True)
    assert '<html lang="en" dir="ltr">' in english and ARABIC_REASONS in english
    odd = client.get(f"/track/{token}/letter?lang=" + "x" * 300)
    assert odd.status_code == 200 and 'lang="ar"' in odd.get_data(as_text=True)


def test_after_a_review_the_letter_gives_its_outcome_and_the_external_route(
        client, auth, app_ctx) -> None:
    reference, token = reviewed()
    body = client.get(f"/track/{token}/letter").get_data(as_text=True)
    for expected in ("The outcome of the review of your complaint",
                     "someone who had not been involved in handling your complaint reviewed it",
                     "The review confirmed our decision.",
                     "A second reviewer checked the bookings: the decision stands.",
                     "If you are still not satisfied", REASONS):
        assert expected in body, expected
    assert "Do you accept this decision?" not in body
    hana = auth.signed_in("hana", "handler")
    text = " ".join(pdf_text(hana.get(f"/cases/{reference}/letter.pdf?lang=en")
                             .get_data()).split())
    assert "The review confirmed our decision." in text


def test_staff_print_the_letter_from_the_case_page(client, auth, app_ctx) -> None:
    reference, _token = decided()
    handler = auth.signed_in("hana", "handler")
    page = handler.get(f"/cases/{reference}").get_data(as_text=True)
    assert f'href="/cases/{reference}/letter"' in page
    assert f'href="/cases/{reference}/letter.pdf"' in page
    body = handler.get(f"/cases/{reference}/letter?lang=ar").get_data(as_text=True)
    assert 'dir="rtl"' in body and f'href="/cases/{reference}"' in body
    assert re.search(r'href="/cases/[^"]+/letter\?lang=en"', body)
    assert client.get(f"/cases/{reference}/letter").status_code == 302  # to sign-in
    assert auth.signed_in("amal", "admin").get(f"/cases/{reference}/letter").status_code == 403
    assert handler.get("/cases/CMP-1999-000001/letter").status_code == 404
    assert client.get("/track/not-a-token/letter").status_code == 404


@pytest.mark.usefixtures("fonts_reset")
def test_the_pdf_comes_without_shaping_rather_than_not_at_all(
        auth, app_ctx, monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(letters, "FONT_DIR", tmp_path / "no-fonts")
    reference, _token = decided(preferred_language="ar")
    pdf = auth.signed_in("hana", "handler").get(f"/cases/{reference}/letter.pdf")
    assert pdf.status_code == 200 and pdf.get_data().startswith(b"%PDF")
    assert reference in pdf_text(pdf.get_data())


def test_a_letter_is_read_back_block_by_block_for_the_pdf() -> None:
    html = ('<style>p{}</style><h1>Title &amp; more</h1><p dir="auto">one\n   two<br>three</p>'
            '<p class="small meta"> </p><ul><li>item</li></ul><nav><p>skip</p></nav>')
    assert letters.blocks_of(html) == [("h1", "", "Title & more", None),
                                       ("p", "", "one two\nthree", "auto"),
                                       ("li", "", "item", None)]
