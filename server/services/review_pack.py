"""The management-review pack (ISO 10002 8.6): KPIs against objectives, trends, top
causes, satisfaction, open and overdue cases, open and overdue corrective actions and a
conformance summary, for a period, as
a PDF or an XLSX workbook, in English or Arabic (right to left).

The figures are tables (services/tables.py) built once; the PDF and the workbook both
draw them. Objectives are settings (PLAINT_OBJECTIVE_*, server/report_config.py). Each
pack made is noted in the system log, which is the evidence for 8.6 on /reports/iso10002.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app

from ..database import begin_write
from ..extensions import db
from . import action_register, conformance, system_log
from .actors import Actor
from .conformance_figures import PACK_EVENT, Facts, percent
from .letters import Printer
from .report_period import Period
from .review_pack_text import ITEM_NAMES, text
from .tables import XLSX_TYPE, Column, Table, show, xlsx_bytes

LANGUAGES = ("en", "ar")
AGE_BANDS = ((0, 7), (8, 30), (31, 60), (61, None))  # days open at the end of the period
TOP_CAUSES = 10


@dataclass(frozen=True)
class Made:
    """A pack file ready to send."""

    content: bytes
    filename: str
    content_type: str


def language(raw: str | None) -> str:
    """The pack's language: the one asked for if we have it, else English."""
    return raw if raw in LANGUAGES else "en"


def _mean(values: list[int]) -> float | None:
    """The mean of some scores, None for none."""
    return round(sum(values) / len(values), 2) if values else None


def _kpis(facts: Facts, lang: str) -> Table:
    """Each KPI of the period beside its objective and whether it was met."""
    config = current_app.config
    scores = [r.satisfaction for r in facts.closed if r.satisfaction is not None]
    measured: list[tuple[str, float | None, float, bool]] = [  # key, value, objective, higher
        ("ack_on_target", percent([r.acknowledgement_on_target for r in facts.received]),
         config["PLAINT_OBJECTIVE_ACKNOWLEDGED_ON_TARGET"], True),
        ("resp_on_target", percent([r.response_on_target for r in facts.received]),
         config["PLAINT_OBJECTIVE_RESPONDED_ON_TARGET"], True),
        ("res_on_target", percent([r.resolution_on_target for r in facts.received]),
         config["PLAINT_OBJECTIVE_RESOLVED_ON_TARGET"], True),
        ("mean_satisfaction", _mean(scores), config["PLAINT_OBJECTIVE_SATISFACTION"], True),
        ("reopen_rate", percent([r.reopen_count > 0 for r in facts.closed]),
         config["PLAINT_OBJECTIVE_REOPEN_PERCENT"], False)]
    rows = []
    for key, value, objective, higher in measured:
        met = None if value is None else (value >= objective if higher else value <= objective)
        rows.append({"kpi": text(key, lang), "value": value, "objective": objective,
                     "met": None if met is None else text("yes" if met else "no", lang)})
    return Table(text("kpis", lang), [
        Column("kpi", text("kpi", lang)), Column("value", text("value", lang), "number"),
        Column("objective", text("objective", lang), "number"),
        Column("met", text("met", lang))], rows)


def _trends(facts: Facts, lang: str) -> Table:
    """Received, closed and % responded on target, month by month."""
    rows = []
    for month in facts.period.months():
        received = [r for r in facts.received if month.start <= r.received_at < month.end]
        closed = [r for r in facts.closed if r.closed_at and month.start <= r.closed_at < month.end]
        rows.append({"month": month.first.strftime("%Y-%m"), "received": len(received),
                     "closed": len(closed),
                     "resp_on_target": percent([r.response_on_target for r in received])})
    return Table(text("trends", lang), [
        Column("month", text("month", lang)), Column("received", text("received", lang), "int"),
        Column("closed", text("closed", lang), "int"),
        Column("resp_on_target", text("resp_on_target", lang), "percent")], rows)


def _causes(facts: Facts, lang: str) -> Table:
    """The causes of the complaints closed in the period, most frequent first."""
    counts = Counter(r.cause for r in facts.closed)
    rows = []
    for cause, count in counts.most_common(TOP_CAUSES):
        upheld = [r.outcome in ("upheld", "partly_upheld") for r in facts.closed
                  if r.cause == cause]
        rows.append({"cause": cause or text("not_recorded", lang), "count": count,
                     "upheld_percent": percent(list(upheld))})
    return Table(text("causes", lang), [
        Column("cause", text("cause", lang)), Column("count", text("count", lang), "int"),
        Column("upheld_percent", text("upheld_percent", lang), "percent")], rows)


def _satisfaction(facts: Facts, lang: str) -> Table:
    """Survey answers of the cases closed in the period: rate, mean and each score."""
    scores = [r.satisfaction for r in facts.closed if r.satisfaction is not None]
    rows: list[dict[str, Any]] = [
        {"measure": text("responses", lang), "value": len(scores)},
        {"measure": text("response_rate", lang),
         "value": show(percent([r.satisfaction is not None for r in facts.closed]), "percent")},
        {"measure": text("mean_satisfaction", lang), "value": show(_mean(scores), "number")}]
    found = Counter(scores)
    rows += [{"measure": f"{text('score', lang)} {score}", "value": found[score]}
             for score in range(5, 0, -1)]
    return Table(text("satisfaction", lang), [Column("measure", text("measure", lang)),
                                              Column("value", text("value", lang))], rows)


def overdue(report: Any) -> bool:
    """Whether an open case has missed a deadline of any kind."""
    return False in (report.acknowledgement_on_target, report.response_on_target,
                     report.resolution_on_target)


def _open(facts: Facts, lang: str) -> Table:
    """Cases open at the end of the period by age, and how many of them are overdue."""
    end = facts.period.end
    rows = []
    for low, high in AGE_BANDS:
        inside = [r for r in facts.open_now if (end - r.received_at) >= timedelta(days=low)
                  and (high is None or (end - r.received_at) < timedelta(days=high + 1))]
        rows.append({"age": f"{low}-{high}" if high is not None else f"{low}+",
                     "open": len(inside), "overdue": sum(1 for r in inside if overdue(r))})
    rows.append({"age": text("all", lang), "open": len(facts.open_now),
                 "overdue": sum(1 for r in facts.open_now if overdue(r))})
    return Table(text("open", lang), [
        Column("age", text("age", lang)), Column("open", text("open_at_end", lang), "int"),
        Column("overdue", text("overdue", lang), "int")], rows)


def _actions(lang: str) -> Table:
    """The corrective actions open now, overdue first (ISO 10002 8.7)."""
    rows = [{**row, "overdue": text("yes" if row["overdue"] else "no", lang)}
            for row in action_register.open_and_overdue(locale=lang)]
    return Table(text("actions", lang), [
        Column("reference", text("reference", lang)), Column("title", text("action", lang)),
        Column("cause_label", text("cause", lang)), Column("status", text("status", lang)),
        Column("due", text("due", lang), "date"), Column("overdue", text("late", lang)),
        Column("linked", text("linked", lang), "int")], rows)


def _conformance(period: Period, lang: str) -> Table:
    """Each ISO 10002 item with its first figure."""
    rows = []
    for found in conformance.evidence(period):
        item = found.item
        name = ITEM_NAMES[item.ref] if lang == "ar" else str(item.title)
        label, value = found.figures[0] if found.figures else ("", "")
        rows.append({"item": f"{item.ref} {name}" if item.group != conformance.PRINCIPLE
                     else name, "evidence": f"{label}: {value}" if lang == "en" else value})
    return Table(text("conformance", lang), [Column("item", text("item", lang)),
                                             Column("evidence", text("evidence", lang))], rows)


def tables_for(period: Period, lang: str) -> list[Table]:
    """Every section of the pack, in order."""
    facts = Facts.load(period)
    return [_kpis(facts, lang), _trends(facts, lang), _causes(facts, lang),
            _satisfaction(facts, lang), _open(facts, lang), _actions(lang),
            _conformance(period, lang)]


def pdf_bytes(period: Period, lang: str, sections: list[Table]) -> bytes:
    """The pack as a PDF: a heading per section and a line per row."""
    organisation = current_app.config["PLAINT_ORGANISATION_NAME"]
    title = text("title", lang)
    printer = Printer(f"{title} {period.label()}", lang, organisation)
    printer.heading(f"{title} · {organisation}", 15)
    printer.paragraph(f"{text('period', lang)}: {period.first.isoformat()} "
                      f"{text('to', lang)} {period.last.isoformat()}", direction=None)
    for table in sections:
        printer.heading(table.title, 12)
        for row in table.rows:
            cells = [f"{column.label}: {table.cell(row, column)}" for column in table.columns]
            printer.paragraph(" · ".join(cells), size=9.5, space=0.6)
    return printer.output()


def make(period: Period, lang: str, extension: str, actor: Actor) -> Made:
    """The pack for a period as a PDF or XLSX file; noted in the system log."""
    sections = tables_for(period, lang)
    name = f"management-review-{period.label()}-{lang}.{extension}"
    if extension == "pdf":
        made = Made(pdf_bytes(period, lang, sections), name, "application/pdf")
    else:
        made = Made(xlsx_bytes(sections, rtl=lang == "ar"), name, XLSX_TYPE)
    begin_write()
    system_log.record(actor, PACK_EVENT,
                      f"Management-review pack made for {period.label()} ({lang}, {extension})",
                      {"period": period.query_args(), "language": lang, "format": extension})
    db.session.commit()
    return made
