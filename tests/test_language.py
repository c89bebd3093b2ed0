"""Every page in English or Arabic: the catalog holds every string, and each person gets
the language that is theirs (a complaint's own language, a profile, the switch, the browser).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import Case, CaseEvent, User

from .support.cases import drive, file_case
from .support.web import AuthActions, post

SERVER = Path(__file__).resolve().parent.parent / "server"
CATALOG = SERVER / "translations" / "ar" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sd]|%[sd]|\{[a-z_]*\}|<[^>]+>")
ARABIC = re.compile(r"[\u0600-\u06FF]")
MARKED = ("Sign out", "Staff sign-in", "There is a problem", "Skip to content")
REFUSALS = {"InvalidInput", "NotFound", "Forbidden", "Conflict", "TooManyAttempts",
            "PlaintError", "ProcessFailed", "DeployRefused", "DraftRefused"}
# Calls that hand a person a message, and which argument it is: a flash, a problem found in
# an upload or a draft.
MESSAGE_AT = {"flash": 0, "UploadProblem": 1, "_problem": 1, "Problem": 3}
# A function whose name says it gives a reason returns a message a person reads.
GIVES_REASONS = re.compile(r"refusal|why|reason|problem$", re.IGNORECASE)


def extracted() -> dict[str, tuple[str, int]]:
    """Every string the code and templates mark for translation -> where it first appears."""
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}
    found: dict[str, tuple[str, int]] = {}
    for name, line, message, _comments, _context in extract_from_dir(
            str(SERVER), method_map=[("**.py", "python"), ("templates/**.html", "jinja2")],
            keywords=keywords):
        text = message[0] if isinstance(message, tuple) else message
        if text:
            found.setdefault(text, (name, line))
    return found


def test_every_marked_string_has_an_arabic_translation_that_keeps_its_placeholders() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    marked = extracted()
    assert set(MARKED) <= set(marked)  # the extraction itself sees the templates
    missing, broken = [], []
    for text, (name, line) in sorted(marked.items()):
        entry = catalog.get(text)
        strings = entry.string if entry is not None else None
        strings = strings if isinstance(strings, tuple) else (strings,)
        if entry is None or entry.fuzzy or not all(s and s.strip() for s in strings):
            missing.append(f"{name}:{line}: {text!r}")
            continue
        plural = isinstance(entry.id, tuple)
        want = sorted(PLACEHOLDER.findall(entry.id[-1] if plural else text))
        for index, string in enumerate(strings):
            got = sorted(PLACEHOLDER.findall(string))
            if (set(got) - set(want)) if plural and index < 3 else got != want:
                broken.append(f"{name}:{line}: {text!r} -> {string!r}")
    assert not missing, "not translated into Arabic (run `make translations`, then translate " \
        "them in " + str(CATALOG.relative_to(SERVER.parent)) + "):\n" + "\n".join(missing)
    assert not broken, "placeholders differ:\n" + "\n".join(broken)


def _raw_text(node: ast.expr) -> bool:
    """Whether an expression is English written in place: a string literal or an f-string."""
    if isinstance(node, ast.BinOp):
        return _raw_text(node.left) or _raw_text(node.right)
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, str))


def _written_in_place(node: ast.expr) -> bool:
    """Whether a returned value is (or may be, one branch of a condition) English words
    written in place; an empty string or a value passed on is none."""
    if isinstance(node, ast.IfExp):
        return _written_in_place(node.body) or _written_in_place(node.orelse)
    return _raw_text(node) and _english(node)


def _called(node: ast.expr) -> str | None:
    """The name a call goes to (`InvalidInput(...)`, `errors.InvalidInput(...)`)."""
    return node.id if isinstance(node, ast.Name) else \
        node.attr if isinstance(node, ast.Attribute) else None


def _unmarked_messages(module: ast.Module) -> list[int]:
    """Lines that refuse or report a field error with English no catalog will ever see."""
    lines = []
    for node in ast.walk(module):
        if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                and _called(node.exc.func) in REFUSALS:
            call = node.exc
            if call.args and _written_in_place(call.args[0]):
                lines.append(call.lineno)
            lines += [value.lineno for argument in call.args[1:]
                      if isinstance(argument, ast.Dict) for value in argument.values
                      if isinstance(value, ast.List) and value.elts and _raw_text(value.elts[0])]
        elif isinstance(node, ast.Call) and (at := MESSAGE_AT.get(_called(node.func) or "")) \
                is not None and len(node.args) > at and _written_in_place(node.args[at]):
            lines.append(node.lineno)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                and GIVES_REASONS.search(node.name) and not node.name.startswith("_log"):
            lines += [inner.lineno for inner in ast.walk(node) if isinstance(inner, ast.Return)
                      and inner.value is not None and _written_in_place(inner.value)]
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.List) \
                and node.value.elts and _raw_text(node.value.elts[0]) \
                and any(isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
                        and target.value.id == "errors" for target in node.targets):
            lines.append(node.lineno)
    return lines


def test_every_refusal_and_field_error_in_services_and_views_goes_through_flask_babel() -> None:
    unmarked = [f"{path.relative_to(SERVER.parent)}:{line}"
                for area in ("services", "web") for path in sorted((SERVER / area).rglob("*.py"))
                for line in _unmarked_messages(ast.parse(path.read_text(encoding="utf-8")))]
    assert not unmarked, "a message a person reads is written without _() (wrap it, with " \
        "named placeholders for values):\n" + "\n".join(unmarked)


def test_the_check_for_unmarked_messages_sees_each_way_of_writing_one() -> None:
    module = ast.parse('''
raise NotFound(f"There is no case {reference}.")
raise errors.Conflict("Reload it.")
raise InvalidInput(_("Write the note."), {"note": ["Write the note."]})
errors["name"] = ["Use at most 200 characters."]
errors["name"] = [_("Use at most 200 characters.")]
raise InvalidInput(_("Fine."), {"note": [_("Fine.")]})
raise ValueError("not for people")
raise ProcessFailed(f"The task could not be completed: {exc}")
raise ProcessFailed(_("The task could not be completed: %(reason)s", reason=exc))
flash("Saved.")
flash(_("Saved."))
def refusal(steps, you):
    if not steps:
        return None
    who = "You" if you else "They"
    return f"{who} handled this case before ({', '.join(steps)})."
def _role_refusal(task):
    return "Only handlers can work on it." if task.role else ""
def why_not(task):
    return _("%(task)s is assigned to someone else.", task=task.title) if task else reason
def summary(task):
    return f"{task} completed"
raise DraftRefused(f"The draft has no file {name}.", [_problem(name, "no such file")], 404)
problems.append(UploadProblem(None, f"at most {limit} files"))
raise DraftRefused(f"{name}: {problem}", [_problem(name, problem)], 400)
def name_problem(name):
    return "file names cannot contain folders" if "/" in name else None
''')
    assert sorted(_unmarked_messages(module)) == [2, 3, 4, 5, 9, 11, 17, 19, 24, 24, 25, 28]


# How the deploy checks note a problem: Checker.add(file, id, line, message), Checker.at(id,
# message), a form check's say(where, message); and the engine's errors a person reads.
NOTED_AT = {"add": 3, "at": 1, "say": 1}
ENGINE_ERRORS = {"EngineError", "RunawayRun", "UnsafeXMLError", "BundleError"}


def _english(node: ast.expr) -> bool:
    """Whether an expression holds English words written in place (a prefix such as
    f"{name}: " before a translated message holds none)."""
    if isinstance(node, ast.BinOp):
        return _english(node.left) or _english(node.right)
    parts = node.values if isinstance(node, ast.JoinedStr) else [node]
    return any(isinstance(part, ast.Constant) and isinstance(part.value, str)
               and re.search(r"[A-Za-z]{2}", part.value) is not None for part in parts)


def _problem_message(node: ast.AST) -> ast.expr | None:
    """The message a node notes, raises or returns as a problem, if it is one of those."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        index = NOTED_AT.get(node.func.attr)
        if index is not None and len(node.args) > index:
            return node.args[index]
        if node.func.attr == "append" and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "problems" and node.args:
            return node.args[0]
    if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
            and _called(node.exc.func) in ENGINE_ERRORS and node.exc.args:
        return node.exc.args[0]
    if isinstance(node, ast.Return) and isinstance(node.value, ast.List) and node.value.elts:
        return node.value.elts[0]
    return None


def _unmarked_problems(module: ast.Module) -> list[int]:
    """Lines of the deploy checks and engine that give a person English no catalog sees."""
    return sorted(node.lineno for node in ast.walk(module)  # type: ignore[attr-defined]
                  if (message := _problem_message(node)) is not None and _english(message))


def test_every_deploy_check_and_engine_error_goes_through_flask_babel() -> None:
    unmarked = [f"{path.relative_to(SERVER.parent)}:{line}"
                for area in ("engine", "formkit") for path in sorted((SERVER / area).rglob("*.py"))
                for line in _unmarked_problems(ast.parse(path.read_text(encoding="utf-8")))]
    assert not unmarked, "a problem a process owner reads is written without _() (wrap it, " \
        "with named placeholders for values):\n" + "\n".join(unmarked)


def test_the_check_for_unmarked_problems_sees_each_way_of_writing_one() -> None:
    module = ast.parse('''
c.add(name, None, None, f"the form '{form}' is not in the bundle")
c.at(bpmn_id, "the user task has no form")
self.say(where, "allOf must be a list")
problems.append(f"{name}: " + "the UI schema entry must be an object")
raise RunawayRun(f"the process ran {limit} steps")
return ["_form: the UI schema must be an object"]
c.add(name, None, None, _("the form '%(file)s' is not in the bundle", file=form))
problems.append(f"{name}: " + _("the UI schema entry must be an object"))
return [f"{name}: {p}" for p in found]
raise ValueError("not for people")
''')
    assert _unmarked_problems(module) == [2, 3, 4, 5, 6, 7]


def page(client: FlaskClient, path: str, **headers: str) -> str:
    answer = client.get(path, headers=headers)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def test_a_browser_that_asks_for_arabic_gets_it_right_to_left(client: FlaskClient) -> None:
    text = page(client, "/complaints/new", **{"Accept-Language": "ar-SA,ar;q=0.9,en;q=0.5"})
    assert '<html lang="ar" dir="rtl">' in text
    assert "bootstrap.rtl.min.css" in text
    header = text.split("<main", 1)[0]
    assert "Staff sign-in" not in header and ARABIC.search(header)
    english = page(client, "/complaints/new", **{"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en" dir="ltr">' in english and "Staff sign-in" in english


def test_the_switch_names_each_language_in_itself_and_is_remembered(client: FlaskClient) -> None:
    text = page(client, "/complaints/new")
    assert re.search(r'<button[^>]*value="ar"[^>]*lang="ar"[^>]*dir="rtl"[^>]*>العربية</button>',
                     text)
    answer = post(client, "/language", {"language": "ar", "next": "/complaints/new"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/complaints/new")
    assert "plaint_language=ar" in answer.headers["Set-Cookie"]
    text = page(client, "/complaints/new", **{"Accept-Language": "en"})
    assert '<html lang="ar" dir="rtl">' in text
    assert re.search(r'<button[^>]*value="en"[^>]*lang="en"[^>]*>English</button>', text)


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "/track/nothing/answer_decision"])
def test_the_switch_goes_back_only_to_a_page_of_this_site_that_can_be_fetched(
        client: FlaskClient, target: str) -> None:
    answer = post(client, "/language", {"language": "ar", "next": target})
    assert answer.status_code == 302 and answer.headers["Location"] == "/"


def test_an_unknown_language_changes_nothing(client: FlaskClient) -> None:
    answer = post(client, "/language", {"language": "xx", "next": "/complaints/new"})
    assert answer.status_code == 302
    assert "plaint_language" not in answer.headers.get("Set-Cookie", "")
    assert '<html lang="en"' in page(client, "/complaints/new", **{"Accept-Language": "en"})


def test_a_complainant_sees_their_complaint_in_its_language_and_can_change_it(
        app: Flask, client: FlaskClient) -> None:
    with app.app_context():
        reference, token = file_case(preferred_language="ar")
    text = page(client, f"/track/{token}", **{"Accept-Language": "en"})
    assert '<html lang="ar" dir="rtl">' in text
    assert f'name="token" value="{token}"' in text
    answer = post(client, "/language", {"language": "en", "token": token,
                                            "next": f"/track/{token}"})
    assert answer.status_code == 302
    assert '<html lang="en" dir="ltr">' in page(client, f"/track/{token}",
                                                **{"Accept-Language": "ar"})
    with app.app_context():
        case = db.session.scalar(select(Case).where(Case.reference == reference))
        assert case is not None and case.preferred_language == "en"
        kinds = db.session.scalars(select(CaseEvent.kind).where(CaseEvent.case_id == case.id))
        assert "case.language_changed" in set(kinds)


def test_staff_choose_their_language_in_their_profile(app: Flask, auth: AuthActions) -> None:
    hana = auth.signed_in("hana", "handler")
    assert '<html lang="en"' in page(hana, "/tasks", **{"Accept-Language": "en"})
    saved = post(hana, "/account", {"language": "ar"})
    assert saved.status_code == 302
    text = page(hana, "/tasks", **{"Accept-Language": "en"})
    assert '<html lang="ar" dir="rtl">' in text
    refused = post(hana, "/account", {"language": "fr"})
    assert refused.status_code == 422
    assert "<title>خطأ" in refused.get_data(as_text=True)
    post(hana, "/account", {"language": ""})
    assert '<html lang="en"' in page(hana, "/tasks", **{"Accept-Language": "en"})
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == "hana"))
        assert user is not None and user.language is None


def test_staff_reading_arabic_are_refused_in_arabic_with_the_values_in_place(
        app: Flask, auth: AuthActions) -> None:
    with app.app_context():
        reference, _token = file_case()
    hana = auth.signed_in("hana", "handler")
    post(hana, "/account", {"language": "ar"})
    empty = post(hana, f"/cases/{reference}/notes", {"note": "   "})
    assert empty.status_code == 422 and "اكتب الملاحظة أولاً." in empty.get_data(as_text=True)
    missing = hana.get("/cases/CMP-1999-999999")
    assert missing.status_code == 404
    assert "لا توجد حالة بالرقم المرجعي CMP-1999-999999." in missing.get_data(as_text=True)


def test_a_status_change_in_the_history_points_the_way_the_page_reads(
        app: Flask, auth: AuthActions) -> None:
    with app.app_context():
        reference, _ = file_case()
        drive(reference, lambda data: bool(data.get("category")))
    hana = auth.signed_in("hana", "handler")
    english = page(hana, f"/cases/{reference}", **{"Accept-Language": "en"})
    arabic = page(hana, f"/cases/{reference}", **{"Accept-Language": "ar"})
    changed = re.compile(r"<li>[^<]*: <bdi>[^<]*</bdi> (.) <bdi>[^<]*</bdi></li>")
    assert set(changed.findall(english)) == {"→"}
    assert set(changed.findall(arabic)) == {"←"}


def test_a_page_that_changes_language_midway_shows_the_new_language_from_there_on(
        app: Flask) -> None:
    """Templates find their strings once per language in effect (web/language.py), so an
    e-mail rendered in another language, or a complaint's page switching to the
    complaint's language, must not keep the strings of the language chosen first."""
    from flask import g, render_template_string
    from flask_babel import force_locale, refresh

    def sign_out() -> str:
        return render_template_string("{{ _('Sign out') }} {{ ngettext('%(num)d field "
                                      "needs correcting.', '%(num)d fields need "
                                      "correcting.', 2) }}")

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert sign_out() == "Sign out 2 fields need correcting."
        with force_locale("ar"):  # an e-mail in the complainant's language
            arabic = sign_out()
            assert arabic.startswith("تسجيل الخروج") and "Sign out" not in arabic
        assert sign_out() == "Sign out 2 fields need correcting."
        g.case_language = "ar"  # as speak_as does on a complaint's own page
        refresh()
        assert sign_out() == arabic
