"""Code lists: administrators keep products, categories and causes in two languages, and the
labels are what people read wherever a form's answers are titled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import CodeEntry, SystemEvent
from server.services import choice_titles, code_lists

from .support.web import post, submit


def entry(list_name: str, code: str) -> CodeEntry | None:
    """An entry as now committed."""
    db.session.rollback()
    return db.session.scalar(select(CodeEntry).where(CodeEntry.list_name == list_name,
                                                     CodeEntry.code == code))


def logged(kind: str) -> list[SystemEvent]:
    """System-log events of a kind, as now committed."""
    db.session.rollback()
    return list(db.session.scalars(select(SystemEvent).where(SystemEvent.kind == kind)))


def test_the_lists_start_with_the_reference_forms_choices_in_both_languages(app_ctx):
    assert code_lists.label("categories", "billing", "en") == "Billing and charges"
    assert code_lists.label("categories", "billing", "ar") == "الفواتير والرسوم"
    assert ("staff_error", "Staff error") in code_lists.choices("causes", "en")
    assert code_lists.label("causes", "none_found", "ar") == "لم يُحدَّد سبب"
    assert code_lists.label("products", "unknown_code", "en") == "unknown_code"


def test_an_admin_adds_a_product_with_its_arabic_label_and_it_is_logged(app_ctx, client, auth):
    auth.login("root", "admin")
    page = client.get("/admin/codes/").get_data(as_text=True)
    assert "Code lists" in page and "Billing and charges" in page
    sent = submit(client, "/admin/codes/products/new", {
        "code": "credit_card", "label_en": "Credit card", "label_ar": "بطاقة ائتمان",
        "position": ""})
    assert sent.status_code == 302
    added = entry("products", "credit_card")
    assert added is not None and added.active and added.label_ar == "بطاقة ائتمان"
    assert code_lists.label("products", "credit_card", "ar") == "بطاقة ائتمان"
    listing = client.get("/admin/codes/").get_data(as_text=True)
    assert "بطاقة ائتمان" in listing
    events = logged("codes.added")
    assert events and events[0].actor == "root" and "credit_card" in events[0].summary


def test_a_duplicate_code_is_refused_with_the_reason_and_the_input_kept(app_ctx, client, auth):
    auth.login("root", "admin")
    sent = submit(client, "/admin/codes/categories/new", {
        "code": "billing", "label_en": "Billing again", "label_ar": "الفواتير مرة أخرى"})
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert "already has the code billing" in page
    assert 'value="Billing again"' in page
    assert entry("categories", "billing").label_en == "Billing and charges"


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"code": "Credit Card", "label_en": "Card", "label_ar": "بطاقة"}, "code",
     "lowercase letters and digits"),
    ({"code": "card", "label_en": "", "label_ar": "بطاقة"}, "label_en", "English label"),
    ({"code": "card", "label_en": "Card", "label_ar": "Card"}, "label_ar", "Arabic script"),
    ({"code": "card", "label_en": "Card", "label_ar": "بطاقة", "position": "first"},
     "position", "whole number"),
])
def test_bad_input_says_what_to_fix(app_ctx, client, auth, values, field, message):
    auth.login("root", "admin")
    sent = submit(client, "/admin/codes/products/new", values)
    page = sent.get_data(as_text=True)
    assert sent.status_code == 422
    assert f'id="{field}-error"' in page and message in page
    assert entry("products", "card") is None


def test_an_admin_edits_labels_and_switches_a_code_off(app_ctx, client, auth):
    auth.login("root", "admin")
    sent = submit(client, "/admin/codes/categories/delay", {
        "label_en": "Delay in handling", "label_ar": "التأخر في المعالجة", "position": "50",
        "active": "1"})
    assert sent.status_code == 302
    assert entry("categories", "delay").label_en == "Delay in handling"
    assert logged("codes.changed")[0].data.count("Delay in handling") == 1
    post(client, "/admin/codes/categories/delay/active", {"active": "0"})
    assert entry("categories", "delay").active is False
    assert "delay" not in dict(code_lists.choices("categories"))
    # Cases that have it keep its label.
    assert code_lists.label("categories", "delay", "en") == "Delay in handling"
    assert logged("codes.deactivated")


def test_choice_titles_read_the_code_list(app_ctx, client, auth):
    assert choice_titles.titles("category")["billing"] == "Billing and charges"
    assert choice_titles.titles("root_cause")["system"] == "System or technology"
    auth.login("root", "admin")
    submit(client, "/admin/codes/categories/billing", {
        "label_en": "Fees and charges", "label_ar": "الرسوم", "active": "1"})
    db.session.rollback()
    assert choice_titles.titles("category")["billing"] == "Fees and charges"
    assert choice_titles.code_for("category", "fees and charges") == "billing"
    # The inbox filter offers the list's label.
    auth.login("hana", "handler")
    assert "Fees and charges" in client.get("/tasks").get_data(as_text=True)


@pytest.mark.parametrize("role", ["handler", "supervisor", "complaints_manager", "auditor"])
def test_code_lists_are_for_administrators_only(app_ctx, client, auth, role):
    auth.login(f"someone-{role}", role)
    assert client.get("/admin/codes/").status_code == 403
    assert client.get("/admin/codes/products/new").status_code == 403
    sent = post(client, "/admin/codes/products/new", {
        "code": "card", "label_en": "Card", "label_ar": "بطاقة"})
    assert sent.status_code == 403
    assert entry("products", "card") is None
