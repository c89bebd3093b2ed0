"""Related complaints on the case page: the same complainant (e-mail or phone as typed in any
way), or the same product and category within the window."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from server.extensions import db
from server.models import Case
from server.services import cases

from .support.cases import file_case


def _set(reference: str, **values: object) -> None:
    db.session.execute(update(Case).where(Case.reference == reference).values(**values))
    db.session.commit()


def test_the_case_page_links_repeat_and_related_complaints(app_ctx, client, auth):
    first, _ = file_case(complainant_email="layla@example.com",
                         complainant_phone="+966 50 123-4567", product_service="Current account")
    again, _ = file_case(complainant_email="LAYLA@Example.com", product_service="Mortgage")
    by_phone, _ = file_case(complainant_email="l.haddad@work.example",
                            complainant_phone="966501234567", product_service="Mortgage")
    same_product, _ = file_case(complainant_email="omar@example.com",
                                product_service="  current   ACCOUNT ")
    too_old, _ = file_case(complainant_email="nora@example.com", product_service="Current account")
    other_category, _ = file_case(complainant_email="sami@example.com",
                                  product_service="Current account")
    received = cases.get_case(first).received_at
    for reference in (first, same_product, too_old):
        _set(reference, category="billing")
    _set(same_product, received_at=received - timedelta(days=30))
    _set(too_old, received_at=received - timedelta(days=200))
    _set(other_category, category="delay")
    _set(again, category="delay")

    auth.login("sara", "supervisor")
    page = client.get(f"/cases/{first}").get_data(as_text=True)
    section = page[page.index('id="related"'):]
    section = section[:section.index("</section>")]
    for reference in (again, by_phone, same_product):
        assert f'href="/cases/{reference}"' in section, reference
    for reference in (too_old, other_category):
        assert reference not in section, reference
    assert "same complainant" in section and "same product and category" in section
    assert "earlier" in section


def test_a_case_with_no_relation_says_so(app_ctx, client, auth):
    reference, _ = file_case(complainant_email="alone@example.com", product_service="Unique")
    auth.login("adel", "auditor")
    page = client.get(f"/cases/{reference}").get_data(as_text=True)
    assert "Related complaints" in page and "None: no other complaint" in page


def test_the_window_is_a_setting(app, app_ctx, client, auth):
    app.config["PLAINT_RELATED_WINDOW_DAYS"] = 10
    first, _ = file_case(complainant_email="a@example.com", product_service="Card")
    near, _ = file_case(complainant_email="b@example.com", product_service="Card")
    far, _ = file_case(complainant_email="c@example.com", product_service="Card")
    received = cases.get_case(first).received_at
    for reference in (first, near, far):
        _set(reference, category="billing")
    _set(near, received_at=received + timedelta(days=9))
    _set(far, received_at=received + timedelta(days=11))
    auth.login("sara", "supervisor")
    page = client.get(f"/cases/{first}").get_data(as_text=True)
    assert f'href="/cases/{near}"' in page and "later" in page
    assert f'href="/cases/{far}"' not in page
