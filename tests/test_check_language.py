"""The deploy checks speak the reader's language: a process owner reading Arabic gets the
problems of a broken draft in Arabic, one reading English in English, and the command line
stays in English (the default language).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from .support.broken import broken_bpmn
from .support.process import REPO, reference_bpmn
from .support.web import AuthActions, post

ASSESS_DUE = "<spiffworkflow:property name=\"dueIn\" value=\"deadline('response')\" />"
FORM = "assess-schema.json"
# What each reader is told about the broken draft's parts, element by element.
ENGLISH = {
    "Flow_out_of_scope": "the condition is refused",  # bundle_checks: code
    "assess": "dueIn of 'Assess complaint' is empty",  # timer_checks: dueIn
    "review": "the candidateRole 'Regional Director' is not a role: use one of",
}
ARABIC = {
    "Flow_out_of_scope": "رُفض الشرط",
    "assess": "dueIn في المهمة 'Assess complaint' فارغ",
    "review": "قيمة candidateRole 'Regional Director' ليست دوراً",
}
FORM_ENGLISH = "not supported in forms: late: a field must have a single type"
FORM_ARABIC = "غير مدعوم في النماذج: late: يجب أن يكون للحقل نوع واحد"


def broken_files() -> dict[str, str]:
    """The reference diagram with a bad condition, an empty dueIn and a candidateRole that is
    no role,
    and a form with a field of two types."""
    assert ASSESS_DUE in reference_bpmn()
    bpmn = broken_bpmn(reference_bpmn().replace(
        ASSESS_DUE, '<spiffworkflow:property name="dueIn" value="" />'))
    form = json.loads((REPO / "forms" / FORM).read_text(encoding="utf-8"))
    form["properties"]["late"] = {"type": ["string", "null"], "title": "Late"}
    return {"complaint.bpmn": bpmn, FORM: json.dumps(form)}


def problems_of_a_broken_draft(owner: FlaskClient) -> list[dict]:
    """Save the broken files into a new draft; the problems the studio lists on validate."""
    made = post(owner, "/studio/versions/1/edit")
    draft = made.headers["Location"].rsplit("/", 1)[1]
    page = owner.get("/studio/").get_data(as_text=True)
    headers = {"X-CSRFToken": re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)}
    for name, text in broken_files().items():
        saved = owner.put(f"/studio/drafts/{draft}/files/{name}", data=text, headers=headers)
        assert saved.status_code == 200, saved.get_data(as_text=True)
    found = owner.post(f"/studio/drafts/{draft}/validate", headers=headers).get_json()
    return list(found["problems"])


def said(found: list[dict], element: str) -> str:
    """Everything the problems on one element say."""
    return "\n".join(p["message"] for p in found if p["element_id"] == element)


def test_a_process_owner_reading_arabic_gets_the_deploy_problems_in_arabic(
        app_ctx: None, auth: AuthActions) -> None:
    owner = auth.signed_in("olga", "process_owner")
    assert post(owner, "/account", {"language": "ar"}).status_code == 302
    found = problems_of_a_broken_draft(owner)
    for element, arabic in ARABIC.items():
        assert arabic in said(found, element), (element, found)
        assert ENGLISH[element] not in said(found, element)
    messages = "\n".join(p["message"] for p in found)
    assert FORM_ARABIC in messages, found
    assert "complaints_manager, " in said(found, "review")  # role names as they are


def test_a_process_owner_reading_english_gets_them_in_english(
        app_ctx: None, auth: AuthActions) -> None:
    owner = auth.signed_in("omar", "process_owner")
    owner.set_cookie("plaint_language", "ar")  # the profile, not the cookie, decides
    assert post(owner, "/account", {"language": "en"}).status_code == 302
    found = problems_of_a_broken_draft(owner)
    for element, english in ENGLISH.items():
        assert english in said(found, element), (element, found)
    assert FORM_ENGLISH in "\n".join(p["message"] for p in found), found
    assert not any(re.search(r"[\u0600-\u06FF]", p["message"]) for p in found), found


def test_the_command_line_prints_the_problems_in_english(
        app_ctx: None, runner: FlaskCliRunner, auth: AuthActions, tmp_path: Path) -> None:
    # An Arabic reader in the same process first: nothing of their language stays behind.
    owner = auth.signed_in("olga", "process_owner")
    post(owner, "/account", {"language": "ar"})
    assert ARABIC["assess"] in said(problems_of_a_broken_draft(owner), "assess")
    folder = tmp_path / "bundle"
    folder.mkdir()
    for source in ("workflows", "forms"):
        for path in (REPO / source).iterdir():
            (folder / path.name).write_bytes(path.read_bytes())
    for name, text in broken_files().items():
        (folder / name).write_text(text, encoding="utf-8")
    result = runner.invoke(args=["deploy", str(folder)])
    assert result.exit_code == 1
    assert "[assess]: dueIn of 'Assess complaint' is empty" in result.output, result.output
    assert "the condition is refused" in result.output
    assert FORM_ENGLISH in result.output
    assert not re.search(r"[\u0600-\u06FF]", result.output), result.output


def test_what_a_deploy_says_about_untranslated_texts_is_in_the_readers_language(
        app: Flask) -> None:
    from server.services import process_texts

    files = {name: text.encode() for name, text in broken_files().items()}
    with app.test_request_context(headers={"Accept-Language": "ar"}):
        arabic = process_texts.warnings(files)[0]
    with app.test_request_context(headers={"Accept-Language": "en"}):
        english = process_texts.warnings(files)[0]
    assert arabic.startswith("translations.ar.json (لا يوجد ملف بهذا الاسم): عدد النصوص التي "
                             "ليس لها ترجمة إلى العربية"), arabic
    assert english.startswith("translations.ar.json (no such file): "), english
    assert "text(s) have no Arabic translation and show in English:" in english
