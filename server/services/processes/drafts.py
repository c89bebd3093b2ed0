"""The process studio: drafts that process owners edit, check and deploy as new versions.

How a deploy is kept from breaking cases:

- Versions are immutable and a case keeps the version it started on, so no deploy and
  no roll back can change what a running case executes: its timers, messages and tasks
  are read from its own version's spec, forms and role map, which never change.
- A draft becomes a version only through `versions.deploy`, which runs every bundle
  check again and logs the deploy with its diff (so CLI deploys are logged too); the
  studio adds what would stop NEW cases (checks.py): the start event's intake form must
  ask for the complainant's name and description (without one the default intake applies).
- Changing the process id (or uploading another process) is allowed: nothing is keyed
  on the process id (cases point at version rows), so it cannot strand a running case;
  the diff in the log says what was replaced.
- Roll back (`versions.activate`) refuses versions this server can no longer load.
- A draft made from another version than the one active when it is deployed (someone
  deployed or rolled back meanwhile) replaces the active version only when its owner
  confirms replacing that very version (stale.py), checked inside the deploy's write.
- A draft is deleted in the deploy's own transaction: a second click, or the same draft
  deployed from two tabs, finds no draft and is answered 409 instead of a second version.
  Two deploys at once on PostgreSQL collide on the version number and one gets a 409.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError

from ...database import begin_write
from ...engine import OUTSIDE_LANES, DeployIssue
from ...engine.translations import language_of
from ...engine.xmlsafe import UnsafeXMLError, parse_xml
from ...errors import Conflict, DeployRefused, Forbidden, NotFound, PlaintError
from ...extensions import db
from ...models import DraftFile, ProcessDraft, ProcessVersion, utcnow
from .. import form_looks, process_texts
from ..actors import Actor
from ..users import lane_mappings, list_roles
from . import stale, versions
from .checks import FORM_KEY, UI_KEY, Problem, check, from_issue
from .diff import diff
from .stale import StaleDraft
from .upload import UploadProblem, name_problem, read_upload, total_limit

MAX_DRAFTS_PER_USER = 50
MAX_DRAFT_FILE_COUNT = versions.MAX_BUNDLE_FILES


class DraftRefused(PlaintError):
    """A request about a draft that cannot be done; `problems` says why, for the editor."""

    def __init__(self, message: str, problems: list[Problem], status: int = 422) -> None:
        super().__init__(message)
        self.problems = problems
        self.status = status


@dataclass
class VersionRow:
    """One version on the processes page."""

    id: int
    number: int
    created_by: str
    created_at: datetime
    note: str | None
    is_active: bool
    open_cases: int
    default_role: str | None = None  # the role of its tasks outside any lane, if it has any


@dataclass
class ProcessEntry:
    """A process (by process id) with its versions, newest first."""

    process_id: str
    name: str
    versions: list[VersionRow] = field(default_factory=list)

    @property
    def is_active(self) -> bool:
        """Whether new cases start on one of this process's versions."""
        return any(v.is_active for v in self.versions)


@dataclass
class Deployed:
    """What a deploy made: the version and what changed since the draft's base."""

    version: ProcessVersion
    diff: dict[str, Any]
    # Texts without a translation (process_texts.warnings): said, never a refusal.
    warnings: list[str] = field(default_factory=list)
    # Files no process uses, left out of the version, each with why (never a refusal).
    left_out: list[str] = field(default_factory=list)


def _problem(file: str | None, message: str) -> Problem:
    return Problem(file, None, None, message)


def _owner(actor: Actor) -> int:
    if actor.user_id is None:
        raise Forbidden(_("Only a signed-in member of staff has drafts."))
    return actor.user_id


def list_processes() -> list[ProcessEntry]:
    """Every process with its versions and their open cases; the active process first."""
    counts = versions.open_case_counts()
    entries: dict[str, ProcessEntry] = {}
    for v in db.session.scalars(select(ProcessVersion).order_by(ProcessVersion.number.desc())):
        entry = entries.setdefault(v.process_id, ProcessEntry(v.process_id, v.name))
        entry.versions.append(VersionRow(v.id, v.number, v.created_by, v.created_at, v.note,
                                         v.is_active, counts.get(v.id, 0),
                                         (v.role_map or {}).get(OUTSIDE_LANES)))
    return sorted(entries.values(), key=lambda e: (not e.is_active, -e.versions[0].number))


def drafts_of(actor: Actor) -> list[ProcessDraft]:
    """The person's drafts, most recently changed first."""
    return list(db.session.scalars(select(ProcessDraft).where(
        ProcessDraft.owner_id == _owner(actor)).order_by(ProcessDraft.updated_at.desc())))


def get_draft(draft_id: int, actor: Actor) -> ProcessDraft:
    """One of the person's drafts; someone else's is 'not found', so ids reveal nothing."""
    draft = db.session.get(ProcessDraft, draft_id)
    if draft is None or draft.owner_id != _owner(actor):
        raise DraftRefused(_("There is no such draft: it was deployed or discarded, or it "
                             "is not yours."), [_problem(None, _("no such draft"))], 404)
    return draft


def _new_draft(owner: int, title: str, base_id: int | None,
               files: dict[str, bytes]) -> ProcessDraft:
    count = db.session.scalar(select(func.count()).select_from(ProcessDraft)
                              .where(ProcessDraft.owner_id == owner)) or 0
    if count >= MAX_DRAFTS_PER_USER:
        raise DraftRefused(_("You have %(count)d drafts: deploy or discard some first.",
                             count=count),
                           [_problem(None, _("at most %(num)d drafts per person",
                                             num=MAX_DRAFTS_PER_USER))])
    draft = ProcessDraft(owner_id=owner, title=title[:255], base_version_id=base_id)
    draft.files = [DraftFile(name=n, content=c) for n, c in sorted(files.items())]
    db.session.add(draft)
    db.session.commit()
    return draft


def edit_version(version_id: int, actor: Actor) -> ProcessDraft:
    """The person's draft based on a version: reopened if it exists, else made from its files."""
    owner = _owner(actor)
    begin_write()
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_("There is no process version %(number)s.", number=version_id))
    draft = db.session.scalar(select(ProcessDraft).where(
        ProcessDraft.owner_id == owner, ProcessDraft.base_version_id == version_id)
        .order_by(ProcessDraft.id).limit(1))
    if draft is not None:
        db.session.rollback()
        return draft
    files = {f.name: f.content for f in version.files}
    draft = _new_draft(owner, f"{version.name} (from version {version.number})", version.id,
                       files)
    chosen = (version.role_map or {}).get(OUTSIDE_LANES)
    if chosen:  # the version's choice stays the draft's until its owner changes it
        begin_write()
        draft.default_role = chosen
        db.session.commit()
    return draft


def upload(uploads: list[tuple[str, bytes]], actor: Actor) -> tuple[ProcessDraft, list[str]]:
    """A new draft from uploaded files or a ZIP; the diff of its deploy is against the active
    version. Returns the draft and the uploaded files that were left out."""
    owner = _owner(actor)
    found = read_upload(uploads, current_app.config["PLAINT_MAX_DIAGRAM_BYTES"])
    begin_write()
    active = db.session.scalar(select(ProcessVersion.id).where(ProcessVersion.is_active))
    names = ", ".join(name for name, _data in uploads)
    return _new_draft(owner, f"Upload: {names}", active, found.files), found.skipped


def upload_problems(problems: list[UploadProblem]) -> list[Problem]:
    """An upload's refusal as problems."""
    return [_problem(p.file, p.message) for p in problems]


def _references(draft: ProcessDraft) -> tuple[set[str], set[str]]:
    """The form and UI schema names the draft's diagrams refer to."""
    forms: set[str] = set()
    uis: set[str] = set()
    for f in draft.files:
        if not f.name.endswith(".bpmn"):
            continue
        try:
            tree = parse_xml(f.content, max_bytes=len(f.content) + 1)
        except UnsafeXMLError:
            continue  # a broken diagram refers to nothing; its problem is reported anyway
        for prop in tree.iter("{*}property"):
            target = forms if prop.get("name") == FORM_KEY else \
                uis if prop.get("name") == UI_KEY else None
            if target is not None and prop.get("value"):
                target.add(str(prop.get("value")))
    return forms, uis


def listing(draft: ProcessDraft) -> list[dict[str, Any]]:
    """The draft's files as the editor lists them: name, kind, size.

    Kinds are those a deployed version's files get (bpmn, dmn, form, translations), with
    UI schemas told apart from forms (uiform): a translations file is no form to edit.
    """
    forms, uis = _references(draft)

    def kind(name: str) -> str:
        if language_of(name):
            return "translations"
        if name.endswith((".bpmn", ".dmn")):
            return name.rsplit(".", 1)[1]
        if name in uis or (name not in forms and name.endswith("uischema.json")):
            return "uiform"
        return "form"

    return [{"name": f.name, "kind": kind(f.name), "size": len(f.content)} for f in draft.files]


def editor_context(draft: ProcessDraft) -> dict[str, Any]:
    """What the editor page needs besides its URLs: files, problems, roles, lane mappings."""
    return {"files": [{"name": f["name"], "kind": f["kind"], "language": language_of(f["name"])}
                      for f in listing(draft)],
            "problems": [p.as_dict() for p in check(draft.contents(), draft.default_role)],
            "roles": [r.name for r in list_roles()],
            "lanes": {m.lane: m.role_name for m in lane_mappings()},
            "default_role": draft.default_role}


def read_file(draft_id: int, name: str, actor: Actor) -> bytes:
    """One file of the person's draft."""
    found = get_draft(draft_id, actor).file(name)
    if found is None:
        raise DraftRefused(_("The draft has no file %(name)s.", name=name),
                           [_problem(name, _("no such file in the draft"))], 404)
    return found.content


def save_file(draft_id: int, name: str, content: bytes, actor: Actor) -> list[Problem]:
    """Create or replace a file of the draft, then check the whole draft (it may be broken)."""
    problem = name_problem(name)
    if problem:
        raise DraftRefused(f"{name}: {problem}", [_problem(name, problem)], 400)
    limit = current_app.config["PLAINT_MAX_DIAGRAM_BYTES"]
    if len(content) > limit:
        raise DraftRefused(_("%(name)s is too large.", name=name), [_problem(
            name, _("the file is %(size)s bytes; the limit is %(limit)s bytes",
                    size=format(len(content), ","), limit=format(limit, ",")))], 413)
    begin_write()
    draft = get_draft(draft_id, actor)
    existing = draft.file(name)
    total = sum(len(f.content) for f in draft.files if f is not existing) + len(content)
    if total > total_limit(limit):
        raise DraftRefused(_("The draft is full."), [_problem(
            name, _("the files of a process may hold %(limit)s bytes together",
                    limit=format(total_limit(limit), ",")))], 413)
    if existing is None:
        if len(draft.files) >= MAX_DRAFT_FILE_COUNT:
            raise DraftRefused(_("The draft is full."), [_problem(
                name, _("a process holds at most %(num)d files", num=MAX_DRAFT_FILE_COUNT))],
                400)
        draft.files.append(DraftFile(name=name, content=content))
    else:
        existing.content = content
    draft.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:  # the same new file saved from two tabs at once
        db.session.rollback()
        raise Conflict(_("%(name)s was saved from elsewhere at the same moment; save again.",
                         name=name)) from None
    return check(draft.contents(), draft.default_role)


def delete_file(draft_id: int, name: str, actor: Actor) -> list[Problem]:
    """Remove a file from the draft, then check what is left."""
    begin_write()
    draft = get_draft(draft_id, actor)
    found = draft.file(name)
    if found is None:
        raise DraftRefused(_("The draft has no file %(name)s.", name=name),
                           [_problem(name, _("no such file in the draft"))], 404)
    draft.files.remove(found)
    draft.updated_at = utcnow()
    db.session.commit()
    return check(draft.contents(), draft.default_role)


def validate(draft_id: int, actor: Actor) -> list[Problem]:
    """Every problem that stops the draft from being deployed."""
    draft = get_draft(draft_id, actor)
    return check(draft.contents(), draft.default_role)


def set_default_role(draft_id: int, role: str | None, actor: Actor) -> None:
    """Choose the role the draft's tasks outside any lane go to (None: the deploy's default)."""
    begin_write()
    draft = get_draft(draft_id, actor)
    if role and role not in {r.name for r in list_roles()}:
        db.session.rollback()
        raise DraftRefused(_("There is no role %(role)s.", role=role), [_problem(
            None, _("choose one of the roles of the list"))])
    draft.default_role = role or None
    db.session.commit()


def discard(draft_id: int, actor: Actor) -> None:
    """Throw a draft away."""
    begin_write()
    db.session.delete(get_draft(draft_id, actor))
    db.session.commit()


def deploy(draft_id: int, comment: str, actor: Actor,
           confirm_replace: int | None = None) -> Deployed:
    """Make the draft a new version, active for new cases; log it with what changed.

    A draft made from another version than the active one replaces the active version
    only when `confirm_replace` names it (stale.py); otherwise StaleDraft says which.
    """
    draft = get_draft(draft_id, actor)
    files, base_id, default_role = draft.contents(), draft.base_version_id, draft.default_role
    problems = check(files, default_role)
    if problems:
        raise DraftRefused(ngettext(
            "Not deployed: %(num)d problem found. The active version is unchanged.",
            "Not deployed: %(num)d problems found. The active version is unchanged.",
            len(problems)), problems)
    left_out: list[DeployIssue] = []
    try:
        version = versions.deploy(
            files, actor, note=comment.strip()[:2000] or None, commit=False,
            base_version_id=base_id, default_role=default_role,
            guard=lambda: stale.refuse_unconfirmed(base_id, files, confirm_replace),
            warnings=left_out)
    except DeployRefused as exc:
        roles = [r.name for r in list_roles()]
        raise DraftRefused(exc.message, [from_issue(i, roles) for i in exc.issues]) from None
    except StaleDraft:
        db.session.rollback()  # let go of the write lock before the answer is drawn
        raise
    except IntegrityError:
        raise _at_the_same_moment() from None
    base = db.session.get(ProcessVersion, base_id) if base_id else None
    # The same comparison the deploy logged, for the editor to show.
    changes = diff({f.name: f.content for f in base.files} if base else {}, files)
    gone = db.session.execute(delete(ProcessDraft).where(
        ProcessDraft.id == draft_id, ProcessDraft.owner_id == actor.user_id))
    if gone.rowcount != 1:  # type: ignore[attr-defined]
        db.session.rollback()
        raise Conflict(_("This draft was deployed or discarded meanwhile; nothing was deployed "
                         "now."))
    try:
        db.session.commit()
    except IntegrityError:
        raise _at_the_same_moment() from None
    kept = {f.name: f.content for f in version.files}
    return Deployed(version, changes, [str(w) for w in left_out] + process_texts.warnings(kept)
                    + form_looks.warnings(kept), [str(w) for w in left_out])


def _at_the_same_moment() -> Conflict:
    db.session.rollback()
    return Conflict(_("Another version was deployed at the same moment; nothing was deployed "
                      "now. Deploy again."))


def version_archive(version_id: int) -> tuple[str, bytes]:
    """A version's files as a ZIP (flat, as SpiffArena keeps a process model), and its name."""
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_("There is no process version %(number)s.", number=version_id))
    buffer = BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for f in version.files:
            archive.writestr(zipfile.ZipInfo(f.name, date_time=(
                version.created_at.timetuple()[:6])), f.content,
                compress_type=zipfile.ZIP_DEFLATED)
    return f"{version.process_id}-v{version.number}.zip", buffer.getvalue()
