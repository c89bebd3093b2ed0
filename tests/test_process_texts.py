"""The process speaks both languages: a version's texts (task titles, status labels, form
labels, choices, buttons) come in the reader's language from the version's translation file;
a deploy says what is untranslated but goes through; a broken translation file is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import DraftFile, HumanTask, ProcessVersion
from server.services import cases, process_texts
from server.services.processes import read_folders

from .support.cases import decided
from .support.data import HANDLER, INTAKE
from .support.process import REPO, reference_bpmn
from .support.web import AuthActions, form_token, post
from .test_cli import active_number, copy_bundle
from .test_studio import csrf, deploy

ARABIC = re.compile(r"[\u0600-\u06FF]")
REFERENCE = (REPO / "workflows", REPO / "forms")
TRANSLATIONS = REPO / "workflows" / "translations.ar.json"


def arabic() -> dict[str, str]:
    return json.loads(TRANSLATIONS.read_text(encoding="utf-8"))


# --- the reference process --------------------------------------------------------------------

def test_the_reference_process_ships_every_text_in_arabic() -> None:
    files = read_folders(*REFERENCE)
    assert process_texts.missing(files) == {}, "translate them in workflows/translations.ar.json"
    sources = process_texts.source_texts(files)
    assert "Acknowledge complaint" in sources and "Partly upheld" in sources
    assert "Withdraw my complaint" in sources  # a button of a UI schema
    untranslated = [s for s in sources if not ARABIC.search(arabic()[s])]
    assert not untranslated


# --- deploy: warnings and refusals -----------------------------------------------------------

def test_a_deploy_with_a_missing_translation_warns_and_still_deploys(
        app_ctx, runner, tmp_path: Path) -> None:
    folder = copy_bundle(tmp_path, reference_bpmn().replace('value="Being assessed"',
                                                           'value="In triage"'))
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert "version 2" in result.output and active_number() == 2
    assert "Warning: translations.ar.json: 1 text(s) have no Arabic translation" in result.output
    assert '"In triage"' in result.output


def test_without_any_arabic_file_the_deploy_lists_every_text(
        app_ctx, runner, tmp_path: Path) -> None:
    folder = copy_bundle(tmp_path, reference_bpmn())
    (folder / "translations.ar.json").unlink()
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 0, result.output
    assert "translations.ar.json (no such file):" in result.output
    assert '"Acknowledge complaint"' in result.output and '"Send my rating"' in result.output


@pytest.mark.parametrize(("content", "said"), [
    (b'{"Received": "\xd9\x85', "not valid JSON"),
    (b'["Received"]', "holds one JSON object"),
    (b'{"Received": 3}', '"Received": the translation must be a text'),
    ('{"Case {reference} received": "تم استلام الحالة"}'.encode(),
     "must keep the placeholders of the English text exactly ({reference})"),
    (b'{"Received": "  "}', "the translation is empty"),
])
def test_a_broken_translation_file_is_refused_saying_what_to_fix(
        app_ctx, runner, tmp_path: Path, content: bytes, said: str) -> None:
    folder = copy_bundle(tmp_path, reference_bpmn())
    (folder / "translations.ar.json").write_bytes(content)
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    assert "translations.ar.json" in result.output and said in result.output
    assert active_number() == 1


# --- an Arabic-speaking handler --------------------------------------------------------------

def test_a_handler_who_reads_arabic_works_the_task_in_arabic(
        client: FlaskClient, auth: AuthActions, app_ctx) -> None:
    auth.login("hana", "handler")
    assert post(client, "/account", {"language": "ar"}).status_code == 302
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    assert task is not None and task.title == "Acknowledge complaint"  # stored in English
    status = cases.get_case(case.reference).status_label
    page = client.get(f"/cases/{case.reference}/tasks/{task.task_id}").get_data(as_text=True)
    assert '<h1 class="h3">الإقرار باستلام الشكوى</h1>' in page  # the task title
    assert f"· {arabic()[status]}</p>" in page  # the status label
    assert "<h2 class=\"h5\">الإقرار باستلام الشكوى</h2>" in page  # the form's title
    assert "كيف تم التواصل مع مقدّم الشكوى؟" in page and "اذكر الرقم المرجعي" in page
    assert ">حضورياً</label>" in page and 'value="in_person"' in page  # label, value kept
    assert "إنجاز المهمة" in page  # the button
    assert "How was the complainant contacted?" not in page and "In person" not in page
    inbox = client.get("/tasks?view=unclaimed").get_data(as_text=True)
    assert ">الإقرار باستلام الشكوى</a>" in inbox and f"<td>{arabic()[status]}</td>" in inbox
    refused = post(client, f"/cases/{case.reference}/tasks/{task.task_id}",
                   {"acknowledgement_message": "اتصلت بها"})
    assert refused.status_code == 422
    assert "هذا الحقل مطلوب" in refused.get_data(as_text=True)  # formkit's own messages
    cases.complete_task(case.reference, task.task_id, {"acknowledgement_channel": "phone",
                                                       "acknowledgement_message": "Called"},
                        HANDLER)
    db.session.rollback()
    after = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    assert after is not None
    next_page = client.get(f"/cases/{case.reference}/tasks/{after.task_id}").get_data(
        as_text=True)
    recorded = next_page.split('id="recorded"', 1)[1].split("</section>\n</section>", 1)[0]
    assert "<dt>كيف تم التواصل مع مقدّم الشكوى؟</dt>" in recorded  # what the last step noted


def test_the_same_task_reads_in_english_for_an_english_reader(
        client: FlaskClient, auth: AuthActions, app_ctx) -> None:
    auth.login("omar", "handler")
    case = cases.start_case(dict(INTAKE), "web", HANDLER).case
    task = db.session.scalar(select(HumanTask).where(HumanTask.case_id == case.id))
    page = client.get(f"/cases/{case.reference}/tasks/{task.task_id}",
                      headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<h1 class="h3">Acknowledge complaint</h1>' in page and ">In person</label>" in page


# --- a complainant who wrote in Arabic -------------------------------------------------------

def test_a_complainant_in_arabic_sees_status_history_and_questions_in_arabic(
        client: FlaskClient, app_ctx) -> None:
    _reference, token = decided(preferred_language="ar")
    page = client.get(f"/track/{token}", headers={"Accept-Language": "en"}) \
        .get_data(as_text=True)
    texts = arabic()
    assert f"<strong>{texts['Decision sent: waiting for your answer']}</strong>" in page
    history = page.split("<ol", 1)[1]
    assert texts["Received"] in history and texts["Being assessed"] in history
    assert "Being assessed" not in history
    assert texts["Do you accept our response?"] in page  # the question's title and field
    assert texts["If not, tell us why"] in page
    assert f">{texts['Withdraw my complaint']}</button>" in page  # a UI schema's button
    assert "Withdraw my complaint" not in page


# --- the studio, side by side -----------------------------------------------------------------

def _draft_of_the_active_version(owner: FlaskClient) -> int:
    db.session.rollback()
    version = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    assert version is not None
    answer = post(owner, f"/studio/versions/{version.id}/edit")
    return int(answer.headers["Location"].rsplit("/", 1)[1])


def test_the_studio_translates_a_draft_side_by_side_and_deploys_it(
        auth: AuthActions, app_ctx) -> None:
    owner = auth.signed_in("olga", "process_owner")
    draft = _draft_of_the_active_version(owner)
    form = json.loads((REPO / "forms" / "acknowledge-schema.json").read_text())
    form["properties"]["acknowledgement_message"]["title"] = "What you told them"
    saved = owner.put(f"/studio/drafts/{draft}/files/acknowledge-schema.json",
                      data=json.dumps(form), headers=csrf(owner))
    assert saved.status_code == 200 and saved.get_json()["problems"] == []
    path = f"/studio/drafts/{draft}/translations/ar"
    page = owner.get(path).get_data(as_text=True)
    assert "1 of" in page and "Missing" in page
    first = page.index('name="source"')
    assert page.index("What you told them") < first + 200  # the missing one comes first
    refused = owner.post(path, data={"csrf_token": form_token(page),
                                     "source": ["What you told them", "Closed"],
                                     "text": ["ما قلته لهم", "مغلقة {x}"]})
    assert refused.status_code == 422
    body = refused.get_data(as_text=True)
    assert "must keep the placeholders" in body and "ما قلته لهم" in body  # input kept
    done = owner.post(path, data={"csrf_token": form_token(page),
                                  "source": ["What you told them"], "text": ["ما قلته لهم"]})
    assert done.status_code == 302
    db.session.rollback()
    stored = db.session.scalar(select(DraftFile.content).where(
        DraftFile.draft_id == draft, DraftFile.name == "translations.ar.json"))
    saved_texts = json.loads(stored)
    assert saved_texts["What you told them"] == "ما قلته لهم"
    assert saved_texts["Closed"] == arabic()["Closed"]  # the others are kept
    assert "All" in owner.get(path).get_data(as_text=True)
    deployed = deploy(owner, draft)
    assert deployed.status_code == 200 and deployed.get_json()["warnings"] == []


def test_a_studio_deploy_with_untranslated_texts_goes_through_with_warnings(
        auth: AuthActions, app_ctx) -> None:
    owner = auth.signed_in("olga", "process_owner")
    draft = _draft_of_the_active_version(owner)
    form = json.loads((REPO / "forms" / "acknowledge-schema.json").read_text())
    form["title"] = "Confirm receipt"
    owner.put(f"/studio/drafts/{draft}/files/acknowledge-schema.json", data=json.dumps(form),
              headers=csrf(owner))
    deployed = deploy(owner, draft)
    assert deployed.status_code == 200, deployed.get_json()
    warnings = deployed.get_json()["warnings"]
    assert warnings[0].startswith("translations.ar.json: 1 text(s)")
    assert '"Confirm receipt"' in warnings[1]
    assert "1 text(s) of the new version have no translation" in \
        owner.get("/studio/").get_data(as_text=True)
