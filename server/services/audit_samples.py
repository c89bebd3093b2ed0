"""Audit sampling (ISO 10002 8.6): a reproducible random sample of closed cases, and a checklist.

A sample is the closed cases whose closing falls in a period (dates in the calendar's time
zone, both days included), in case order, shuffled by Python's `random.Random(seed)`; the
first `size` are drawn. The same seed and period give the same cases in the same order
(while the cases closed in that period stay the same), and a smaller size gives the first
ones of the larger draw. Drawing, each saved checklist and each export are in the system log.
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, NoReturn

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..database import begin_write
from ..errors import InvalidInput, NotFound
from ..extensions import db
from ..models import AuditCheck, AuditSample, AuditSampleCase, Case, utcnow
from . import calendar, export_log, system_log
from .actors import Actor
from .search import date_field
from .tables import Column, Table, csv_bytes, xlsx_bytes

MAX_SIZE = 500
MAX_SEED = 2**31 - 1
MAX_NOTE = 2000
RESULTS = ("pass", "fail", "na")
# The checklist: what an auditor checks on each sampled case (ISO 10002 clause 7 and 4).
CHECKLIST: tuple[tuple[str, Any], ...] = (
    ("acknowledged_on_time", _l("Acknowledged on time")),
    ("decision_reasons", _l("Decision reasons given to the complainant")),
    ("objectivity", _l("Objectivity respected (no one reviewed their own handling)")),
    ("next_route", _l("Complainant told of the next route (review, external body)")),
    ("evidence", _l("Evidence attached or referenced")),
)
ITEMS = tuple(item for item, _ in CHECKLIST)


@dataclass
class DrawForm:
    """What the draw form sends, kept as typed when refused."""

    period_start: str = ""
    period_end: str = ""
    size: str = "20"
    seed: str = ""

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> DrawForm:
        """The form from posted values."""
        return cls(*(str(values.get(name) or "").strip()[:40]
                     for name in ("period_start", "period_end", "size", "seed")))


@dataclass
class SampledCase:
    """A case of a sample with how far its checklist is."""

    row: AuditSampleCase
    checks: dict[str, AuditCheck] = field(default_factory=dict)

    @property
    def tally(self) -> Counter[str]:
        """How many items passed, failed or do not apply."""
        return Counter(check.result for check in self.checks.values())

    @property
    def done(self) -> bool:
        """Whether every item has a result."""
        return all(item in self.checks for item in ITEMS)


def _refuse(errors: dict[str, list[str]]) -> NoReturn:
    db.session.rollback()
    raise InvalidInput(" ".join(m for messages in errors.values() for m in messages), errors)


def _number(text: str, name: str, low: int, high: int, errors: dict[str, list[str]],
            message: str) -> int | None:
    if text.isdigit() and low <= int(text) <= high:
        return int(text)
    errors[name] = [message]
    return None


def population(start: date, end: date) -> list[tuple[int, str]]:
    """(id, reference) of the cases closed in the period (local dates, both included), by id."""
    zone = calendar.load().tz
    since = datetime.combine(start, time(), tzinfo=zone)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=zone)
    return [(row.id, row.reference) for row in db.session.execute(
        select(Case.id, Case.reference).where(Case.is_open.is_(False), Case.kind == "complaint",
                                              Case.closed_at >= since, Case.closed_at < until)
        .order_by(Case.id))]


def choose(cases: list[tuple[int, str]], size: int, seed: int) -> list[tuple[int, str]]:
    """The draw: the cases shuffled by the seed, the first `size` of them."""
    shuffled = list(cases)
    random.Random(seed).shuffle(shuffled)  # noqa: S311 - reproducible on purpose, not secret
    return shuffled[:size]


def draw(form: DrawForm, by: Actor) -> AuditSample:
    """Draw and keep a sample; a missing seed is chosen at random and shown."""
    errors: dict[str, list[str]] = {}
    typed = {"period_start": form.period_start, "period_end": form.period_end}
    start = date_field(typed, "period_start", errors)
    end = date_field(typed, "period_end", errors)
    for name in typed:
        if not typed[name] and name not in errors:
            errors[name] = [_("Give a date as YYYY-MM-DD, for example 2026-03-31.")]
    if start and end and end < start:
        errors["period_end"] = [_("The period must end on or after its first day.")]
    size = _number(form.size, "size", 1, MAX_SIZE, errors,
                   _("Give a number of cases from 1 to %(most)d.", most=MAX_SIZE))
    seed = secrets.randbelow(10**9) if not form.seed else _number(
        form.seed, "seed", 0, MAX_SEED, errors,
        _("A seed is a whole number from 0 to %(most)d; leave it empty for a new one.",
          most=MAX_SEED))
    if errors or start is None or end is None or size is None or seed is None:
        _refuse(errors)
    begin_write()
    cases = population(start, end)
    if not cases:
        _refuse({"period_start": [_("No case was closed in that period: choose another.")]})
    sample = AuditSample(period_start=start, period_end=end, size=size, seed=seed,
                         drawn_by=by.name, drawn_at=utcnow(), population=len(cases))
    db.session.add(sample)
    db.session.flush()
    drawn = choose(cases, size, seed)
    db.session.add_all(AuditSampleCase(sample_id=sample.id, case_id=case_id,
                                       reference=reference, position=index)
                       for index, (case_id, reference) in enumerate(drawn, 1))
    system_log.record(by, "audit.sample_drawn",
                      f"Audit sample {sample.id}: {len(drawn)} of {len(cases)} cases closed "
                      f"{start} to {end}, seed {seed}",
                      {"sample": sample.id, "seed": seed, "size": size,
                       "period": [str(start), str(end)],
                       "cases": [reference for _, reference in drawn]})
    db.session.commit()
    return sample


def samples() -> list[AuditSample]:
    """Every sample, newest first."""
    return list(db.session.scalars(select(AuditSample).order_by(AuditSample.id.desc())))


def get(sample_id: int) -> AuditSample:
    """One sample."""
    sample = db.session.get(AuditSample, sample_id)
    if sample is None:
        raise NotFound(_("There is no such audit sample."))
    return sample


def cases_of(sample_id: int) -> list[SampledCase]:
    """A sample's cases in drawn order, each with its checklist so far."""
    rows = list(db.session.scalars(select(AuditSampleCase).where(
        AuditSampleCase.sample_id == sample_id).order_by(AuditSampleCase.position)))
    found = {row.id: SampledCase(row) for row in rows}
    for check in db.session.scalars(select(AuditCheck).where(
            AuditCheck.sample_case_id.in_(list(found)))):
        found[check.sample_case_id].checks[check.item] = check
    return list(found.values())


def sampled_case(sample_id: int, position: int) -> SampledCase:
    """The case at a position of a sample, with its checklist."""
    for item in cases_of(sample_id):
        if item.row.position == position:
            return item
    raise NotFound(_("That sample has no case at that position."))


def save_checklist(sample_id: int, position: int, values: Mapping[str, Any],
                   by: Actor) -> SampledCase:
    """Record pass, fail or not applicable and a note per checklist item of one case."""
    errors: dict[str, list[str]] = {}
    findings: dict[str, tuple[str, str | None]] = {}
    for item in ITEMS:
        result = str(values.get(f"{item}-result") or "")
        note = str(values.get(f"{item}-note") or "").strip() or None
        if result and result not in RESULTS:
            errors[f"{item}-result"] = [_("Choose pass, fail or not applicable.")]
        elif not result and note:
            errors[f"{item}-result"] = [_("Choose pass, fail or not applicable for this note.")]
        if note and len(note) > MAX_NOTE:
            errors[f"{item}-note"] = [_("Use at most %(most)d characters.", most=MAX_NOTE)]
        if result in RESULTS:
            findings[item] = (result, note)
    if errors:
        _refuse(errors)
    begin_write()
    current = sampled_case(sample_id, position)
    changed = {}
    for item, (result, note) in findings.items():
        check = current.checks.get(item)
        if check is None:
            check = current.checks[item] = AuditCheck(sample_case_id=current.row.id, item=item)
            db.session.add(check)
        elif (check.result, check.note) == (result, note):
            continue
        check.result, check.note = result, note
        check.checked_by, check.checked_at = by.name, utcnow()
        changed[item] = {"result": result, "note": note}
    if changed:
        system_log.record(by, "audit.checklist", f"Audit sample {sample_id}: checklist of "
                          f"{current.row.reference} saved", {"sample": sample_id,
                                                              "case": current.row.reference,
                                                              "findings": changed})
    db.session.commit()
    return current


def findings(sample_id: int) -> Table:
    """The sample's findings, one row per case and checklist item."""
    sample = get(sample_id)
    table = Table(_("Audit sample %(number)d", number=sample.id), [
        Column("sample", _("Sample"), "int"), Column("seed", _("Seed"), "int"),
        Column("period_start", _("First day"), "date"),
        Column("period_end", _("Last day"), "date"),
        Column("position", _("Position"), "int"), Column("reference", _("Reference")),
        Column("item", _("Checklist item")), Column("result", _("Result")),
        Column("note", _("Note")), Column("checked_by", _("Checked by")),
        Column("checked_at", _("Checked at"), "date")])
    for item in cases_of(sample_id):
        for name in ITEMS:
            check = item.checks.get(name)
            table.rows.append({
                "sample": sample.id, "seed": sample.seed, "period_start": sample.period_start,
                "period_end": sample.period_end, "position": item.row.position,
                "reference": item.row.reference, "item": name,
                "result": check.result if check else None,
                "note": check.note if check else None,
                "checked_by": check.checked_by if check else None,
                "checked_at": check.checked_at if check else None})
    return table


def export(sample_id: int, kind: str, by: Actor, rtl: bool = False) -> bytes:
    """The findings as a file, "csv" (keys as the header) or "xlsx"; the export is logged."""
    table = findings(sample_id)
    export_log.record(by, export_log.AUDIT, f"Audit sample {sample_id}", kind,
                      {"sample": sample_id})
    return csv_bytes(table) if kind == "csv" else xlsx_bytes([table], rtl=rtl)
