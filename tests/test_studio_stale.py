"""A draft made from an older version than the active one warns before it replaces it.

Olga opens a draft of version 1; meanwhile Otto deploys version 2. Olga's deploy would
throw Otto's change away, so the studio names both versions and who deployed the newer
one, shows what her draft changes compared with it, and deploys only once she confirms
replacing that very version. The server enforces it, not only the page.
"""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import ProcessVersion

from .support.process import reference_bpmn
from .support.web import AuthActions, post

BPMN = "complaint.bpmn"


def headers(client: FlaskClient) -> dict[str, str]:
    """The header the editor sends with every change."""
    page = client.get("/studio/").get_data(as_text=True)
    return {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}


def draft_of_active(client: FlaskClient) -> int:
    """Open (or make) the person's draft of the active version; its id."""
    made = post(client, f"/studio/versions/{active().id}/edit")
    assert made.status_code == 302
    return int(made.headers["Location"].rsplit("/", 1)[1])


def put(client: FlaskClient, draft: int, text: str) -> None:
    saved = client.put(f"/studio/drafts/{draft}/files/{BPMN}", data=text,
                       headers=headers(client))
    assert saved.status_code == 200 and saved.get_json()["problems"] == []


def deploy(client: FlaskClient, draft: int, confirm: object = None):  # type: ignore[no-untyped-def]
    body = {"comment": "change"} if confirm is None else \
        {"comment": "change", "confirm_replace": confirm}
    return client.post(f"/studio/drafts/{draft}/deploy", json=body, headers=headers(client))


def active() -> ProcessVersion:
    db.session.rollback()
    return db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))


def version_count() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(ProcessVersion))


@pytest.fixture
def olga(auth: AuthActions) -> FlaskClient:
    return auth.signed_in("olga", "process_owner")


@pytest.fixture
def otto(auth: AuthActions) -> FlaskClient:
    return auth.signed_in("otto", "process_owner")


@pytest.fixture
def stale_draft(app_ctx, olga: FlaskClient, otto: FlaskClient) -> int:
    """Olga's draft of version 1 (a status label changed), after Otto deployed version 2."""
    draft = draft_of_active(olga)
    put(olga, draft, reference_bpmn().replace('value="Being assessed"', 'value="Under review"'))
    theirs = draft_of_active(otto)
    put(otto, theirs, reference_bpmn().replace('name="Assess complaint"',
                                              'name="Assess the complaint"'))
    assert deploy(otto, theirs).status_code == 200
    assert active().number == 2
    return draft


def test_a_stale_draft_is_refused_without_confirmation_naming_both_versions(
        olga: FlaskClient, stale_draft: int) -> None:
    refused = deploy(olga, stale_draft)
    assert refused.status_code == 409
    body = refused.get_json()
    message = body["problems"][0]["message"]
    assert "Version 2 of complaint_handling (deployed by otto) is active now" in message
    assert "made from version 1" in message
    # The warning the editor shows: both versions, who, when, the diff and the checkbox.
    html = body["stale"]
    assert "Version 2 is active now" in html and "deployed by otto" in html
    assert re.search(r'<time datetime="[^"]+">', html)
    assert "This draft was made from version 1." in html
    changed = re.search(r"<dt>Changed</dt><dd>(.*?)</dd>", html, re.S).group(1)
    assert "Assess complaint" in changed  # the draft would undo Otto's renaming
    assert f'id="deploy-replace" name="confirm_replace" value="{active().id}"' in html
    assert version_count() == 2 and active().number == 2
    assert olga.get(f"/studio/drafts/{stale_draft}").status_code == 200  # the draft is kept


def test_the_editor_warns_when_it_opens_a_stale_draft(olga: FlaskClient,
                                                      stale_draft: int) -> None:
    page = olga.get(f"/studio/drafts/{stale_draft}").get_data(as_text=True)
    section = re.search(r'<section class="alert alert-warning studio-stale"[^>]*>', page).group(0)
    assert "hidden" not in section
    assert "Version 2 is active now" in page and "made from version 1" in page
    fresh = draft_of_active(olga)  # a draft of version 2 itself: nothing to warn about
    page = olga.get(f"/studio/drafts/{fresh}").get_data(as_text=True)
    section = re.search(r'<section class="alert alert-warning studio-stale"[^>]*>', page).group(0)
    assert "hidden" in section and "deploy-replace" not in page


def test_confirming_the_active_version_deploys_and_another_confirmation_does_not(
        olga: FlaskClient, stale_draft: int) -> None:
    first = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.number == 1))
    assert deploy(olga, stale_draft, first).status_code == 409  # not the version active now
    assert deploy(olga, stale_draft, "yes").status_code == 400
    assert deploy(olga, stale_draft, True).status_code == 400
    assert version_count() == 2
    done = deploy(olga, stale_draft, active().id)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["version"] == 3 and active().number == 3
    assert active().created_by == "olga"


def test_a_confirmation_for_a_version_replaced_meanwhile_does_not_count(
        olga: FlaskClient, otto: FlaskClient, stale_draft: int) -> None:
    seen = active().id
    again = draft_of_active(otto)
    put(otto, again, reference_bpmn().replace('name="Assess complaint"', 'name="Assess it"'))
    assert deploy(otto, again).status_code == 200  # version 3, while Olga read the warning
    refused = deploy(olga, stale_draft, seen)
    assert refused.status_code == 409
    assert "Version 3 of complaint_handling" in refused.get_json()["problems"][0]["message"]
    assert active().number == 3


def test_a_roll_back_makes_a_draft_of_the_newer_version_stale_too(
        app_ctx, olga: FlaskClient) -> None:
    draft = draft_of_active(olga)
    put(olga, draft, reference_bpmn().replace('value="Being assessed"', 'value="Under review"'))
    first = active().id
    assert deploy(olga, draft).status_code == 200  # version 2, from version 1: not stale
    later = draft_of_active(olga)
    assert post(olga, f"/studio/versions/{first}/activate").status_code == 302
    refused = deploy(olga, later)
    assert refused.status_code == 409
    message = refused.get_json()["problems"][0]["message"]
    assert "Version 1 of complaint_handling" in message and "made from version 2" in message


def test_the_warning_shows_what_the_newer_version_changed_since_the_drafts_base(
        olga: FlaskClient, otto: FlaskClient, stale_draft: int) -> None:
    html = deploy(olga, stale_draft).get_json()["stale"]
    theirs = re.search(r'<details class="mb-2" id="studio-stale-theirs" open>(.*?)</details>',
                       html, re.S)
    assert theirs, "no list of what version 2 changed"
    assert "What version 2 changed compared with version 1" in theirs.group(1)
    changed = re.search(r"<dt>Changed</dt><dd>(.*?)</dd>", theirs.group(1), re.S).group(1)
    assert "Assess the complaint" in changed  # Otto's renaming, which Olga's draft lacks
    assert "Under review" not in theirs.group(1)  # Olga's own change is not theirs
    page = olga.get(f"/studio/drafts/{stale_draft}").get_data(as_text=True)
    assert 'id="studio-stale-theirs"' in page  # the editor shows it when it opens too
