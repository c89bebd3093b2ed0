"""The process studio: the processes page, the editor's draft API, deploy and roll back.

Pages answer HTML; the editor's calls answer JSON, every error as
{"problems": [{"file", "element_id", "line", "message"}]}. A deploy that would replace
another version than the draft was made from is answered 409 with "stale": the warning
as the editor draws it, until the request confirms that version ("confirm_replace").
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from ..access import STUDIO, current_actor, guard
from ..errors import NotFound, answers_json
from ..formkit import render_fields, submit_options
from ..formkit.dynamic import stand_in
from ..services import code_lists, languages, processes, system_log
from ..services.localtime import organisation_zone
from ..services.processes import draft_texts, drafts
from ..services.processes.checks import Problem, check, form_problems
from ..services.processes.stale import StaleDraft, newer_version
from ..services.processes.upload import UploadRefused
from .studio_text import counted_text, editor_text

bp = Blueprint("studio", __name__, url_prefix="/studio")
guard(bp, STUDIO)  # only process owners and administrators edit and deploy processes


def _problems(problems: list[Problem], status: int = 200, **extra: Any) -> ResponseReturnValue:
    return jsonify({**extra, "problems": [p.as_dict() for p in problems]}), status


def _index(status: int = 200, problems: list[Problem] | None = None) -> ResponseReturnValue:
    return render_template("studio/index.html", processes=drafts.list_processes(),
                           drafts=drafts.drafts_of(current_actor()),
                           changes=system_log.recent("process."),
                           upload_problems=problems or []), status


@bp.get("/")
def index() -> ResponseReturnValue:
    """Every process with its versions, the person's drafts, and the upload form."""
    return _index()


@bp.post("/upload")
def upload() -> ResponseReturnValue:
    """Make a draft from uploaded .bpmn/.dmn/.json files or one ZIP, and open it."""
    sent = [(f.filename or "", f.read()) for f in request.files.getlist("files") if f.filename]
    try:
        draft, skipped = drafts.upload(sent, current_actor())
    except UploadRefused as exc:
        return _index(422, drafts.upload_problems(exc.problems))
    if skipped:
        flash(_("Left out (not part of a process): %(names)s", names=", ".join(skipped)), "info")
    return redirect(url_for("studio.editor", draft_id=draft.id))


@bp.post("/versions/<int:version_id>/edit")
def edit(version_id: int) -> ResponseReturnValue:
    """Open (or make) the person's draft of a version."""
    draft = drafts.edit_version(version_id, current_actor())
    return redirect(url_for("studio.editor", draft_id=draft.id))


@bp.get("/versions/<int:version_id>/download")
def download(version_id: int) -> ResponseReturnValue:
    """A version's files as a ZIP."""
    name, data = drafts.version_archive(version_id)
    return send_file(BytesIO(data), mimetype="application/zip", as_attachment=True,
                     download_name=name)


@bp.route("/versions/<int:version_id>/activate", methods=["GET", "POST"])
def activate(version_id: int) -> ResponseReturnValue:
    """Ask, then make a version the one new cases start on (roll back or forward)."""
    if request.method == "GET":
        entry = next(((p, v) for p in drafts.list_processes() for v in p.versions
                      if v.id == version_id), None)
        if entry is None:
            raise NotFound(_("There is no such process version."))
        return render_template("studio/activate.html", process=entry[0], version=entry[1])
    version = processes.activate(version_id, current_actor())
    flash(_("Version %(number)s is now active: new cases start on it. Open cases stay on "
            "their versions.", number=version.number), "success")
    return redirect(url_for("studio.index"))


@bp.get("/drafts/<int:draft_id>")
def editor(draft_id: int) -> ResponseReturnValue:
    """The editor for one of the person's drafts."""
    draft = drafts.get_draft(draft_id, current_actor())
    urls = {"files": url_for("studio.files", draft_id=draft.id),
            "file": url_for("studio.file", draft_id=draft.id, name="__NAME__"),
            "validate": url_for("studio.validate", draft_id=draft.id),
            "deploy": url_for("studio.deploy", draft_id=draft.id),
            "discard": url_for("studio.discard", draft_id=draft.id),
            "preview": url_for("studio.preview"), "index": url_for("studio.index")}
    # The plain page stands in until the editor's own template is installed.
    return render_template(["studio/editor.html", "studio/draft.html"], draft=draft,
                           urls=urls, **drafts.editor_context(draft),
                           editor_text=editor_text(), counted_text=counted_text(),
                           languages=languages.LANGUAGES,
                           stale=newer_version(draft.base_version_id, draft.contents()))


@bp.get("/drafts/<int:draft_id>/files")
@answers_json
def files(draft_id: int) -> ResponseReturnValue:
    """The draft's files and every problem that stops it from being deployed."""
    draft = drafts.get_draft(draft_id, current_actor())
    return _problems(check(draft.contents(), draft.default_role), files=drafts.listing(draft))


@bp.get("/drafts/<int:draft_id>/files/<path:name>")
@answers_json
def file(draft_id: int, name: str) -> ResponseReturnValue:
    """One file of the draft, as it was saved."""
    content = drafts.read_file(draft_id, name, current_actor())
    kind = "application/json" if name.endswith(".json") else "application/xml"
    return content, 200, {"Content-Type": f"{kind}; charset=utf-8", "Cache-Control": "no-store",
                          "X-Content-Type-Options": "nosniff"}


@bp.put("/drafts/<int:draft_id>/files/<path:name>")
@answers_json
def save_file(draft_id: int, name: str) -> ResponseReturnValue:
    """Create or replace a file of the draft; answer every problem of the whole draft."""
    problems = drafts.save_file(draft_id, name, _body(), current_actor())
    return _problems(problems, saved=True)


@bp.delete("/drafts/<int:draft_id>/files/<path:name>")
@answers_json
def delete_file(draft_id: int, name: str) -> ResponseReturnValue:
    """Remove a file from the draft; answer every problem of what is left."""
    return _problems(drafts.delete_file(draft_id, name, current_actor()), deleted=True)


@bp.post("/drafts/<int:draft_id>/validate")
@answers_json
def validate(draft_id: int) -> ResponseReturnValue:
    """Every problem that stops the draft from being deployed."""
    return _problems(drafts.validate(draft_id, current_actor()))


@bp.post("/drafts/<int:draft_id>/deploy")
@answers_json
def deploy(draft_id: int) -> ResponseReturnValue:
    """Deploy the draft as a new version, active for new cases, or say what stops it."""
    comment = _json_field("comment", required=False)
    try:
        done = drafts.deploy(draft_id, comment, current_actor(), _confirmed_version())
    except StaleDraft as exc:  # the warning, drawn as the editor shows it on opening
        return _problems(exc.problems, 409, error=exc.message,
                         stale=render_template("studio/_stale.html", stale=exc.newer))
    flash(_("Version %(number)s of %(process)s is deployed: new cases start on it.",
            number=done.version.number, process=done.version.process_id), "success")
    if done.left_out:
        flash(_("Left out of the version, since no process uses them: %(files)s",
                files="; ".join(done.left_out)), "warning")
    missing = sum(1 for line in done.warnings if line.startswith(" "))
    if missing:
        flash(_("%(count)s text(s) of the new version have no translation and show in "
                "English: translate them in a draft of it (Texts in Arabic) and deploy again.",
                count=missing), "warning")
    return jsonify({"version": done.version.number, "process_id": done.version.process_id,
                    "diff": done.diff, "warnings": done.warnings,
                    "redirect": url_for("studio.index")})


@bp.post("/drafts/<int:draft_id>/default-role")
def default_role(draft_id: int) -> ResponseReturnValue:
    """Choose the role the draft's tasks outside any lane go to once deployed."""
    try:
        drafts.set_default_role(draft_id, request.form.get("default_role", "").strip() or None,
                                current_actor())
    except drafts.DraftRefused as exc:
        flash(exc.message, "danger")
    else:
        flash(_("Saved: tasks outside any lane go to the role you chose."), "success")
    return redirect(url_for("studio.editor", draft_id=draft_id))


@bp.post("/drafts/<int:draft_id>/discard")
def discard(draft_id: int) -> ResponseReturnValue:
    """Throw the draft away."""
    drafts.discard(draft_id, current_actor())
    flash(_("The draft was discarded."), "info")
    return redirect(url_for("studio.index"))


@bp.route("/drafts/<int:draft_id>/translations/<language>", methods=["GET", "POST"])
def translations(draft_id: int, language: str) -> ResponseReturnValue:
    """Every English text of the draft beside its translation; saving keeps them in the
    draft's translations.<language>.json."""
    draft = drafts.get_draft(draft_id, current_actor())
    sent: dict[str, str] | None = None
    problems: list[Problem] = []
    if request.method == "POST":
        sent = dict(zip(request.form.getlist("source"), request.form.getlist("text"),
                        strict=False))
        try:
            count = draft_texts.save(draft_id, language, sent, current_actor())
        except drafts.DraftRefused as exc:
            problems = exc.problems
        else:
            flash(_("The translations are saved: %(count)s text(s) translated.", count=count),
                  "success")
            return redirect(url_for("studio.translations", draft_id=draft_id,
                                    language=language))
    return render_template("studio/translations.html", draft=draft, language=language,
                           rows=draft_texts.rows(draft_id, language, current_actor(), sent),
                           problems=problems), 422 if problems else 200


@bp.post("/forms/preview")
@answers_json
def preview() -> ResponseReturnValue:
    """A form drawn as the task page draws it (submit disabled), or what is wrong with it."""
    schema, ui, problems = form_problems(_json_field("schema"),
                                         _json_field("uischema", required=False))
    if problems:
        return _problems(problems, 422)
    text, css = submit_options(ui)
    return render_template("studio/_preview.html", title=schema.get("title"),
                           description=schema.get("description"),
                           # Choices from task data show as one choice named after
                           # their variable: the preview has no case to read them from.
                           fields=render_fields(stand_in(schema)[0], ui, {}, {},
                                                prefix="preview-",
                                                lists=code_lists.for_form(schema),
                                                zone=organisation_zone()),
                           submit_text=text, submit_class=css)


def _body() -> bytes:
    """The request body, refused before reading when it is over the diagram size limit."""
    limit = int(current_app.config["PLAINT_MAX_DIAGRAM_BYTES"])
    if (request.content_length or 0) > limit:
        raise drafts.DraftRefused(_("The file is too large."), [Problem(
            None, None, None, _("the file is larger than the limit of %(limit)s bytes",
                                limit=format(limit, ",")))], 413)
    return request.get_data(cache=False)


def _confirmed_version() -> int | None:
    """The version id the person confirmed replacing ("confirm_replace"), if they did."""
    body = request.get_json(silent=True)
    value = body.get("confirm_replace") if isinstance(body, dict) else None
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise drafts.DraftRefused(_("Malformed request."), [Problem(
            None, None, None, _('"confirm_replace" must be the id of a version, or null'))],
            400)
    return value


def _json_field(key: str, required: bool = True) -> str:
    """A text field of the JSON body; a body that is not such JSON is a 400."""
    body = request.get_json(silent=True)
    if body is None and not required and not request.get_data(cache=True):
        return ""  # no body at all: nothing optional was sent
    value = body.get(key, None if required else "") if isinstance(body, dict) else None
    if not isinstance(value, str):
        raise drafts.DraftRefused(_("Malformed request."), [Problem(
            None, None, None, _('send a JSON object with "%(key)s" as text', key=key))], 400)
    return value
