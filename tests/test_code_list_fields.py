"""Form fields whose choices come from an administered code list ("x-codeList"): the handler
picks the product at Assess from the products list, the server accepts only the list's
codes, and a deploy that names a list Plaint does not have is refused."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from server.errors import DeployRefused
from server.extensions import db
from server.formkit import render_fields
from server.models import Case, CaseReport, HumanTask
from server.services import cases, code_lists
from server.services.actors import Actor
from server.services.processes import checks, versions

from .support.cases import complete
from .support.data import ACK, HANDLER, INTAKE
from .support.process import reference_files
from .support.web import submit

ADMIN = Actor.system("test-admin")
ASSESS_FORM = {"in_scope": "true", "category": "billing", "severity": "serious",
               "complexity": "simple", "vulnerable_customer": "false",
               "regulator_involved": "false", "immediate_action_needed": "false"}


def assess_page() -> tuple[str, str]:
    """A case waiting at Assess: its reference and the task page's path."""
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    complete(case.reference, "acknowledge", ACK)
    task_id = db.session.scalar(select(HumanTask.task_id).where(HumanTask.case_id == case.id))
    return case.reference, f"/cases/{case.reference}/tasks/{task_id}"


def product_select(page: str) -> str:
    """The HTML of the product field's select."""
    return page.split('name="product"', 1)[1].split("</select>", 1)[0]


def test_assess_offers_the_products_list_and_the_report_counts_the_code_chosen(
        app_ctx, client, auth) -> None:
    code_lists.add("products", code_lists.EntryForm("credit_card", "Credit card",
                                                    "بطاقة ائتمان"), ADMIN)
    code_lists.set_active("products", "other", False, ADMIN)
    auth.login("hana", "handler")
    reference, path = assess_page()
    options = product_select(client.get(path).get_data(as_text=True))
    assert '<option value="credit_card">Credit card</option>' in options
    assert "other" not in options  # switched off: no longer offered
    sent = submit(client, path, {**ASSESS_FORM, "product": "credit_card"})
    assert sent.status_code == 302, sent.get_data(as_text=True)[:2000]
    db.session.rollback()
    case = db.session.scalar(select(Case).where(Case.reference == reference))
    report = db.session.get(CaseReport, case.id)
    assert report.product == "credit_card"
    assert case.product_service == INTAKE["product_service"]  # the complainant's words stay


def test_a_product_that_is_not_in_the_list_is_refused_with_the_input_kept(
        app_ctx, client, auth) -> None:
    auth.login("hana", "handler")
    _reference, path = assess_page()
    sent = submit(client, path, {**ASSESS_FORM, "category": "delay", "product": "made_up"})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "Choose one of the options in the list." in page
    assert '<option value="delay" selected>' in page
    missing = submit(client, path, {**ASSESS_FORM, "product": ""})
    assert missing.status_code == 422 and "This field is required." in \
        missing.get_data(as_text=True)


def test_a_switched_off_code_stays_shown_where_the_answer_already_holds_it(app_ctx) -> None:
    code_lists.add("products", code_lists.EntryForm("mortgage", "Mortgage", "تمويل عقاري"),
                   ADMIN)
    code_lists.set_active("products", "mortgage", False, ADMIN)
    schema = {"type": "object", "properties": {
        "product": {"type": "string", "title": "Product", "x-codeList": "products"}}}
    arabic = code_lists.for_form(schema, "ar")
    assert ("mortgage", "تمويل عقاري", False) in arabic["products"]
    held = str(render_fields(schema, None, {"product": "mortgage"}, {}, lists=arabic))
    assert '<option value="mortgage" selected>تمويل عقاري</option>' in held
    assert "أخرى أو غير مدرجة" in held  # the active code, in Arabic
    fresh = str(render_fields(schema, None, {}, {}, lists=arabic))
    assert "mortgage" not in fresh


def _with_list(name: str) -> dict[str, bytes]:
    files = reference_files()
    schema = json.loads(files["assess-schema.json"])
    schema["properties"]["product"]["x-codeList"] = name
    return {**files, "assess-schema.json": json.dumps(schema).encode()}


def test_a_deploy_naming_a_list_plaint_does_not_have_is_refused(app_ctx) -> None:
    files = _with_list("colours")
    [problem] = checks.check(files)
    assert problem.file == "assess-schema.json"
    assert "'colours', which does not exist; use one of categories, causes, products" \
        in problem.message
    with pytest.raises(DeployRefused) as refused:
        versions.deploy(files, ADMIN)
    assert any("colours" in issue.message for issue in refused.value.issues)
    assert checks.check(_with_list("products")) == []
