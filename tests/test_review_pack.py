"""The management-review pack: a PDF and an XLSX, in English and in Arabic, whose KPIs are
what the test computes from the rows it inserted."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import func, select

from server.extensions import db
from server.models import SystemEvent
from tests.support.pdf import pdf_text
from tests.support.report_rows import Row, insert
from tests.support.web import AuthActions

PDF = "/reports/pack/management-review.pdf"
XLSX = "/reports/pack/management-review.xlsx"

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
ROWS = [
    Row("2026-03-02T09:00", closed="2026-03-09T09:00", response_on_target=True,
        satisfaction=5, cause="delay", outcome="upheld"),
    Row("2026-03-03T09:00", closed="2026-03-10T09:00", response_on_target=False,
        satisfaction=3, cause="delay", outcome="not_upheld", reopen_count=1),
    Row("2026-03-04T09:00", closed="2026-03-11T09:00", response_on_target=True,
        cause="fees", outcome="partly_upheld"),
    Row("2026-03-05T09:00", response_on_target=True),
    Row("2026-01-05T09:00", resolution_on_target=False),  # open and overdue at the end
]


def test_the_pack_is_a_pdf_in_english_and_in_arabic(auth: AuthActions, app_ctx: None) -> None:
    insert(ROWS)
    manager = auth.signed_in("maha", "complaints_manager")
    english = manager.get(PDF, query_string={**MARCH, "lang": "en"})
    assert english.status_code == 200 and english.get_data().startswith(b"%PDF")
    assert english.headers["Content-Disposition"] == \
        'attachment; filename="management-review-2026-03-01_2026-03-31-en.pdf"'
    text = " ".join(pdf_text(english.get_data()).split())
    on_target = [r.response_on_target for r in ROWS[:4]]
    share = f"{100 * sum(on_target) / len(on_target):.1f}"
    for expected in ("Management review pack", "KPIs against objectives",
                     f"Indicator: % responded on target · Value: {share} · Objective: 95.0 · "
                     "Met: no", "Top causes", "Cause: delay · Complaints closed: 2",
                     "Indicator: Mean satisfaction (1-5) · Value: 4.0",
                     "Item: 7.4 Acknowledgement of complaint", "Of which overdue: 1"):
        assert expected in text, expected
    arabic = manager.get(PDF, query_string={**MARCH, "lang": "ar"})
    assert arabic.status_code == 200
    text = pdf_text(arabic.get_data())
    for word in ("مراجعة", "مؤشرات", "الفترة"):
        assert word[::-1] in text, word  # shaped, drawn right to left
    assert db.session.scalar(select(func.count()).select_from(SystemEvent).where(
        SystemEvent.kind == "review_pack.made")) == 2


def test_the_pack_workbook_holds_kpis_against_objectives(auth: AuthActions,
                                                         app_ctx: None) -> None:
    insert(ROWS)
    manager = auth.signed_in("maha", "complaints_manager")
    for language, title in (("en", "KPIs against objectives"),
                            ("ar", "مؤشرات الأداء مقارنة بالأهداف")):
        answer = manager.get(XLSX, query_string={**MARCH, "lang": language})
        assert answer.status_code == 200
        book = load_workbook(io.BytesIO(answer.get_data()))
        sheet = book.worksheets[0]
        assert sheet.title == title[:28]
        assert bool(sheet.sheet_view.rightToLeft) == (language == "ar")
        kpis = {row[0]: row[1:] for row in sheet.iter_rows(min_row=2, values_only=True)}
        reopened = 100 * 1 / 3
        label = "% of closed cases reopened" if language == "en" else "نسبة الشكاوى المعاد فتحها"
        assert kpis[label][0] == round(reopened, 1)
        assert kpis[label][1] == 5.0
        assert len(book.worksheets) == 7  # the corrective actions too


def test_a_bad_period_for_the_pack_is_explained(auth: AuthActions) -> None:
    manager = auth.signed_in("maha", "complaints_manager")
    answer = manager.get(PDF, query_string={"from": "2026-13-01",
                                                            "to": "2026-03-31"})
    assert answer.status_code == 400
    assert "Give a date as YYYY-MM-DD" in answer.get_data(as_text=True)
