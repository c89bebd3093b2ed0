"""Process versions: deploying bundles, finding the active one, and their cached specs."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select, update

from ...database import begin_write
from ...engine import (
    STATE_FORMAT,
    Bundle,
    BundleError,
    DeployIssue,
    ProcessRuntime,
    SpecCache,
    load_bundle,
    operators_of,
)
from ...engine.bundle_files import MODEL_FILE
from ...engine.translations import language_of
from ...errors import DeployRefused, NotFound
from ...extensions import db
from ...formkit.refs import inline
from ...models import ROLES, Case, LaneMapping, ProcessFile, ProcessVersion, Role
from .. import code_lists, connectors, policy, system_log
from ..actors import Actor
from . import default_intake
from .diff import diff, summary

BUNDLE_SUFFIXES = (".bpmn", ".dmn", ".json")
MAX_BUNDLE_FILES = 500


def role_slug(name: str) -> str:
    """The role a lane of this name maps to by default: 'Complaint Handler' -> complaint_handler."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def role_resolver() -> Callable[[str], str | None]:
    """Return a function mapping a lane (or candidateRole) name to an existing role."""
    roles = set(db.session.scalars(select(Role.name)))
    mapped = {role_slug(m.lane): m.role_name for m in db.session.scalars(select(LaneMapping))}

    def resolve(name: str) -> str | None:
        slug = role_slug(name)
        return mapped.get(slug) or (slug if slug in roles else None)

    return resolve


def read_folders(*folders: Path) -> dict[str, bytes]:
    """Read the BPMN, DMN and form files under the folders, keyed by file name."""
    files: dict[str, bytes] = {}
    issues = []
    for folder in folders:
        if not folder.is_dir():
            raise DeployRefused(_("%(folder)s is not a folder", folder=str(folder)), [])
        for path in sorted(folder.rglob("*")):
            if not path.is_file() or path.suffix not in BUNDLE_SUFFIXES:
                continue
            if path.name in files:
                issues.append(f"{path}: " + _(
                    "another file is also named %(name)s; names must be unique because "
                    "diagrams refer to forms by name", name=path.name))
            files[path.name] = path.read_bytes()
    if issues:
        raise DeployRefused(_("The bundle has clashing file names."), issues)
    if len(files) > MAX_BUNDLE_FILES:
        raise DeployRefused(_("A bundle holds at most %(num)d files.", num=MAX_BUNDLE_FILES),
                            [])
    return files


def deploy(files: dict[str, bytes], actor: Actor, note: str | None = None,
           activate: bool = True, *, commit: bool = True,
           base_version_id: int | None = None,
           guard: Callable[[], None] | None = None,
           default_role: str | None = None,
           warnings: list[DeployIssue] | None = None) -> ProcessVersion:
    """Check a bundle and store it as a new version; refuse it whole if anything is wrong.

    Every deploy goes to the system log with what changed since `base_version_id` (by
    default the version that was active). With `commit=False` the version is only
    flushed, so the caller can add what belongs to the same transaction and commit it.
    `guard` runs once the write transaction has begun, so what it reads (the active
    version) cannot change before the deploy is stored; it refuses by raising.
    Tasks outside any lane go to `default_role` (else the start event's lane's role, else
    PLAINT_DEFAULT_TASK_ROLE; kept in the version's role_map under "*"); a process whose
    start event has no intake form gets the default one (default_intake.py).
    `warnings`, when given, receives what the deploy went through with (files no process
    uses, left out of the version).
    """
    try:
        bundle = load_bundle(files, role_resolver(),
                             max_file_bytes=current_app.config["PLAINT_MAX_DIAGRAM_BYTES"],
                             clock_kinds=policy.KINDS,
                             min_timer_period=current_app.config["PLAINT_MIN_TIMER_PERIOD"],
                             default_role=default_role,
                             fallback_role=current_app.config["PLAINT_DEFAULT_TASK_ROLE"])
    except BundleError as exc:
        _refuse(exc.issues)
    default_intake.apply(bundle)
    if warnings is not None:
        warnings += bundle.warnings
    lists = [DeployIssue(name, None, None, message)
             for name, message in code_lists.form_problems(bundle.forms)]
    # Before the write transaction: asking the connector proxies is network I/O.
    lists += service_problems(bundle)
    if lists:
        _refuse(lists)
    begin_write()
    if guard is not None:
        guard()
    number = (db.session.scalar(select(func.max(ProcessVersion.number))) or 0) + 1
    version = ProcessVersion(
        number=number, process_id=bundle.process_id, name=bundle.process_name,
        spec_json=bundle.spec_json, role_map=bundle.role_map, state_format=STATE_FORMAT,
        created_by=actor.name, note=note, is_active=False,
    )
    for name, content in sorted(bundle.files.items()):
        kind = "translations" if language_of(name) else "metadata" if name == MODEL_FILE \
            else "form" if name.endswith(".json") else name.rsplit(".", 1)[1]
        version.files.append(ProcessFile(name=name, kind=kind, content=content,
                                         sha256=hashlib.sha256(content).hexdigest()))
    db.session.add(version)
    db.session.flush()
    _log_deploy(version, bundle.files, actor, base_version_id)
    if activate:
        db.session.execute(update(ProcessVersion).where(ProcessVersion.id != version.id)
                           .values(is_active=False))
        version.is_active = True
    if commit:
        db.session.commit()
    return version


def service_problems(bundle: Bundle, fresh: bool = True) -> list[DeployIssue]:
    """Service tasks whose operator no configured connector proxy (nor Plaint) offers.

    A deploy asks the proxies now (`fresh`); the studio's checks may use a recent answer.
    """
    found = operators_of([bundle.spec, *bundle.subprocess_specs.values()])
    return connectors.operator_problems(list(dict.fromkeys(found)), fresh)


def _refuse(issues: list[DeployIssue]) -> NoReturn:
    """Refuse a deploy with every problem found."""
    count = len(issues)
    raise DeployRefused(ngettext(
        "The process was not deployed: %(num)d problem found. The active version is "
        "unchanged.",
        "The process was not deployed: %(num)d problems found. The active version is "
        "unchanged.", count), issues) from None


def _log_deploy(version: ProcessVersion, files: dict[str, bytes], actor: Actor,
                base_id: int | None) -> None:
    previous = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    base = db.session.get(ProcessVersion, base_id) if base_id else previous
    changes = diff({f.name: f.content for f in base.files} if base else {}, files)
    system_log.record(
        actor, "process.deployed",
        f"Deployed version {version.number} of {version.process_id}"
        + (f" (from version {base.number})" if base and base.process_id == version.process_id
           else f" (replacing version {base.number} of {base.process_id})" if base else "")
        + ": " + summary(changes),
        {"version": version.number, "process_id": version.process_id,
         "base_version": base.number if base else None,
         "previous_active": previous.number if previous else None,
         "comment": version.note, "diff": changes})


def activate(version_id: int, actor: Actor) -> ProcessVersion:
    """Make a deployed version the one new cases start on (rolling back, or forward again).

    Cases keep the version they started on, so this only changes what new cases use.
    A version this server can no longer run, or one that cannot start a case, is refused.
    """
    begin_write()
    version = db.session.get(ProcessVersion, version_id)
    if version is None:
        raise NotFound(_("There is no process version %(number)s.", number=version_id))
    if version.is_active:
        db.session.rollback()
        return version
    if version.state_format != STATE_FORMAT:
        raise DeployRefused(_(
            "Version %(number)s was stored in the format %(format)s, which this server no "
            "longer runs (%(current)s): deploy its files again instead (download them, "
            "upload them, deploy).", number=version.number, format=version.state_format,
            current=STATE_FORMAT), [])
    try:
        start_form = runtime_for(version.id).start_form
    except Exception as exc:  # a spec an older SpiffWorkflow wrote may no longer load
        raise DeployRefused(_("Version %(number)s cannot be loaded any more (%(error)s): "
                              "deploy its files again instead.", number=version.number,
                              error=exc), []) from None
    if start_form is None or version.file(start_form) is None:
        raise DeployRefused(_("Version %(number)s has no intake form on its start event, so "
                              "no complaint could be registered with it.",
                              number=version.number), [])
    previous = db.session.scalar(select(ProcessVersion).where(ProcessVersion.is_active))
    db.session.execute(update(ProcessVersion).values(is_active=False))
    version.is_active = True
    system_log.record(
        actor, "process.activated",
        f"Version {version.number} of {version.process_id} made active for new cases"
        + (f" (was version {previous.number})" if previous else ""),
        {"version": version.number, "process_id": version.process_id,
         "previous": previous.number if previous else None})
    db.session.commit()
    return version


def open_case_counts() -> dict[int, int]:
    """How many open cases run on each version, by version id."""
    rows = db.session.execute(select(Case.process_version_id, func.count())
                              .where(Case.is_open).group_by(Case.process_version_id))
    return {int(version_id): int(count) for version_id, count in rows}


_ACTIVE_ID = select(ProcessVersion.__table__.c.id).where(ProcessVersion.__table__.c.is_active)


def active_version_id() -> int:
    """The id of the version new cases start on (without loading the version)."""
    version_id = db.session.connection().execute(_ACTIVE_ID).scalar()
    if version_id is None:
        raise NotFound(_("No process is deployed yet: run `flask --app server init-db`."))
    return int(version_id)


def _cache() -> SpecCache:
    cache: SpecCache = current_app.extensions["plaint.specs"]
    return cache


def runtime_for(version_id: int) -> ProcessRuntime:
    """The parsed specs of a version, from this process's cache."""

    def load() -> tuple[str, dict[str, str]]:
        row = db.session.execute(
            select(ProcessVersion.spec_json, ProcessVersion.role_map)
            .where(ProcessVersion.id == version_id)).one()
        return row.spec_json, row.role_map

    return _cache().get(version_id, load)


def file_content(version_id: int, name: str) -> bytes | None:
    """The bytes of one file of a version as it was deployed (None: the version has none)."""
    return db.session.scalar(select(ProcessFile.content).where(
        ProcessFile.version_id == version_id, ProcessFile.name == name))


def form_schema(version_id: int, name: str) -> dict[str, Any]:
    """A form of a version, parsed once per process (versions never change)."""
    forms: dict[tuple[int, str], dict[str, Any]] = current_app.extensions.setdefault(
        "plaint.forms", {})
    key = (version_id, name)
    schema = forms.get(key)
    if schema is None:
        content = file_content(version_id, name)
        if content is None:
            raise NotFound(_("The form %(name)s is not part of process version %(number)s.",
                              name=name, number=version_id))
        schema = inline(json.loads(content))  # the form's own $refs written out (refs.py)
        forms[key] = schema
    return schema


def ensure_roles() -> None:
    """Create the built-in roles that are missing."""
    begin_write()
    existing = set(db.session.scalars(select(Role.name)))
    for name, description in ROLES.items():
        if name not in existing:
            db.session.add(Role(name=name, description=description))
    db.session.commit()
