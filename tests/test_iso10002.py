"""ISO 10002 conformance evidence on /reports/iso10002: every principle and clause item,
with live figures computed from the inserted rows, and the tests named really exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from server.services import conformance
from tests.support.report_rows import Row, insert
from tests.support.web import AuthActions

MARCH = {"from": "2026-03-01", "to": "2026-03-31"}
ROOT = Path(__file__).resolve().parent.parent
PRINCIPLES = ("Commitment and capability", "Transparency", "Accessibility", "Responsiveness",
              "Objectivity", "Charges", "Information integrity", "Confidentiality",
              "Customer-focused approach", "Accountability", "Improvement", "Competence",
              "Timeliness")
CLAUSES = ("7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "7.7", "7.8", "7.9",
           "8.1", "8.2", "8.3", "8.4", "8.5", "8.6", "8.7")
ROWS = [  # received in March 2026 (Riyadh); closed ones closed in March too
    Row("2026-03-02T09:00", acknowledgement_on_target=True, closed="2026-03-09T09:00",
        satisfaction=5, cause="delay"),
    Row("2026-03-03T09:00", acknowledgement_on_target=True, closed="2026-03-10T09:00",
        satisfaction=2, cause="delay"),
    Row("2026-03-04T09:00", acknowledgement_on_target=False, closed="2026-03-11T09:00"),
    Row("2026-03-05T09:00", acknowledgement_on_target=True),
    Row("2026-03-08T09:00"),  # not yet acknowledged, not late yet: not counted
    Row("2026-02-01T09:00", acknowledgement_on_target=False),  # another month
]


def evidence_of(page: str, ref: str) -> dict[str, str]:
    row = re.search(rf'<tr id="iso-{re.escape(ref)}">(.*?)</tr>', page, re.S)
    assert row, ref
    return dict(re.findall(r'<dt class="small">(.*?)</dt><dd class="evidence">(.*?)</dd>',
                           row.group(1)))


@pytest.fixture
def page(auth: AuthActions, app_ctx: None) -> str:
    insert(ROWS)
    answer = auth.signed_in("ayla", "auditor").get("/reports/iso10002", query_string=MARCH)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def test_the_page_lists_every_principle_and_clause_with_evidence(page: str) -> None:
    for principle in PRINCIPLES:
        assert f'<th scope="row">{principle}</th>' in page, principle
    for clause in CLAUSES:
        figures = evidence_of(page, clause.replace(".", "-"))
        assert figures and all(figures.values()), clause
    for item in conformance.ITEMS:
        for test in item.tests:
            assert f"<code class=\"small d-block\">{test}</code>" in page
    assert 'media="print" href="/static/css/report-print.css"' in page


def test_acknowledged_on_target_is_the_evidence_for_7_4(page: str) -> None:
    march = [r for r in ROWS if r.received.startswith("2026-03")]
    known = [r.acknowledgement_on_target for r in march if r.acknowledgement_on_target is not None]
    expected = f"{100 * sum(known) / len(known):.1f}%"
    assert evidence_of(page, "7-4")["Acknowledged on target"] == expected == "75.0%"


def test_survey_response_rate_and_mean_score_are_the_evidence_for_8_3(page: str) -> None:
    closed = [r for r in ROWS if r.closed]
    scores = [r.satisfaction for r in closed if r.satisfaction is not None]
    figures = evidence_of(page, "8-3")
    assert figures["Survey response rate"] == f"{100 * len(scores) / len(closed):.1f}%"
    assert figures["Mean satisfaction score (1 to 5)"] == f"{sum(scores) / len(scores):.1f}"
    assert evidence_of(page, "8-2")["Top causes"] == "delay 2"


def test_every_test_the_evidence_names_exists() -> None:
    named = conformance.named_tests()
    assert named
    missing = []
    for test in sorted(named):
        path, _, name = test.partition("::")
        source = ROOT / path
        defined = source.is_file() and name in {
            node.name for node in ast.walk(ast.parse(source.read_text()))
            if isinstance(node, ast.FunctionDef)}
        if not defined:
            missing.append(test)
    assert not missing, f"named as evidence but not found: {missing}"
