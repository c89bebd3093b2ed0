"""Regulator returns: report definitions an administrator picks, computed from case_report.

Each definition turns a period into tables (services/tables.py), which the screen, the
CSV and the XLSX all draw from. Which definitions are offered, and their parameters, are
settings (PLAINT_RETURNS, PLAINT_SLA_WORKING_DAYS, PLAINT_SLA_TARGET_PERCENT); the README
("Regulator returns") documents every field. The returns read only the reporting facts,
never a workflow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, or_, select

from ..errors import NotFound
from ..extensions import db
from ..models import Case, CaseReport
from . import calendar, choice_titles
from .report_period import Period
from .tables import Column, Table

UPHELD = frozenset({"upheld", "partly_upheld"})  # DISP: partly upheld counts as upheld
EIGHT_WEEKS = timedelta(weeks=8)
NOT_RECORDED = "not_recorded"
DEFAULT_RETURNS = ("sama_sla", "fca_disp1", "asic_idr")


@dataclass(frozen=True)
class Settings:
    """The parameters of the returns, from the configuration."""

    working_days: int  # the SLA: answered within this many working days
    target_percent: float  # the share that must be on target
    currency: str  # redress in this currency is summed; other currencies are listed


@dataclass(frozen=True)
class ReturnDefinition:
    """A return an administrator can offer: its key, title, summary and how it is built."""

    key: str
    title: Any  # lazy translation
    summary: Any
    build: Callable[[Period, Settings], list[Table]]


def settings() -> Settings:
    """The returns' parameters as configured."""
    config = current_app.config
    return Settings(int(config["PLAINT_SLA_WORKING_DAYS"]),
                    float(config["PLAINT_SLA_TARGET_PERCENT"]), config["PLAINT_CURRENCY"])


def _percent(part: int, whole: int) -> float | None:
    """part of whole in percent, None when there is nothing to divide."""
    return round(100.0 * part / whole, 1) if whole else None


def working_day_hours() -> float:
    """Hours in a normal working day: the most common day length of the working week."""
    lengths = Counter(
        (datetime.combine(datetime.min, closes) - datetime.combine(datetime.min, opens))
        .total_seconds() / 3600 for opens, closes in calendar.load().week.values())
    return lengths.most_common(1)[0][0] if lengths else 8.0


# -- (a) SLA compliance, Saudi banking style ---------------------------------------------

def answered_on_target(report: CaseReport, limit_hours: float) -> bool | None:
    """Whether a case was answered within the SLA, net of customer time (None: not yet)."""
    if report.responded_at is None:
        return None
    if report.response_hours is not None:
        return report.response_hours <= limit_hours + 1e-9
    return report.response_on_target


def sla_compliance(period: Period, conf: Settings) -> list[Table]:
    """Per month and in total: received, answered, answered within N working days, %."""
    limit = conf.working_days * working_day_hours()
    reports = list(db.session.scalars(select(CaseReport).where(
        CaseReport.received_at >= period.start, CaseReport.received_at < period.end)))
    rows = []
    for label, part in [*((m.first.strftime("%Y-%m"), m) for m in period.months()),
                        (str(_l("Whole period")), period)]:
        inside = [r for r in reports if part.start <= r.received_at < part.end]
        answered = [r for r in inside if r.responded_at is not None]
        on_target = sum(1 for r in answered if answered_on_target(r, limit))
        late_open = sum(1 for r in inside
                        if r.responded_at is None and r.response_on_target is False)
        share = _percent(on_target, len(answered) + late_open)
        rows.append({"period": label, "received": len(inside), "answered": len(answered),
                     "answered_on_target": on_target, "unanswered_late": late_open,
                     "on_target_percent": share, "target_percent": conf.target_percent,
                     "meets_target": None if share is None else share >= conf.target_percent})
    columns = [
        Column("period", str(_l("Period"))), Column("received", str(_l("Received")), "int"),
        Column("answered", str(_l("Answered")), "int"),
        Column("answered_on_target", str(_l("Answered within %(days)d working days",
                                            days=conf.working_days)), "int"),
        Column("unanswered_late", str(_l("Not answered, already late")), "int"),
        Column("on_target_percent", str(_l("On target (%)")), "percent"),
        Column("target_percent", str(_l("Target %")), "percent"),
        Column("meets_target", str(_l("Meets the target")))]
    caption = str(_l("Complaints received in the period, by month of receipt. Time waiting on "
                     "the customer is not counted; a working day is %(hours)s business hours.",
                     hours=f"{working_day_hours():g}"))
    return [Table(str(_l("SLA compliance")), columns, rows, caption)]


# -- (b) complaints return, FCA DISP 1 Annex 1R shape -------------------------------------

def _group_label(field: str, code: str) -> str:
    """A product or cause code as people read it."""
    if code == NOT_RECORDED:
        return str(_l("Not recorded"))
    return choice_titles.titles(field).get(code) or choice_titles.humanize(code) or code


def _closed_within_three_days(report: CaseReport, period: Period) -> bool:
    """Closed by the end of the third business day after the day of receipt."""
    assert report.closed_at is not None
    third = calendar.add_working_days(report.received_at, 3)
    return period.local_day(report.closed_at) <= period.local_day(third)


def complaints_return(period: Period, conf: Settings) -> list[Table]:
    """Outstanding, opened, closed by time taken, upheld and redress, by product and cause."""
    reports = db.session.scalars(select(CaseReport).where(
        CaseReport.received_at < period.end,
        or_(CaseReport.closed_at.is_(None), CaseReport.closed_at >= period.start)))
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    total = _fca_row("", "")
    for report in reports:
        key = (report.product or NOT_RECORDED, report.cause or NOT_RECORDED)
        row = groups.setdefault(key, _fca_row(*key))
        for target in (row, total):
            _count_fca(target, report, period, conf)
    rows = [groups[key] for key in sorted(groups)]
    for row in rows:
        row["product_label"] = _group_label("product", row["product"])
        row["cause_label"] = _group_label("root_cause", row["cause"])
    total.update(product="all", cause="all", product_label=str(_l("All products")),
                 cause_label=str(_l("All causes")))
    for row in [*rows, total]:
        row["upheld_percent"] = _percent(row["upheld"], row["closed"])
        row["redress_other"] = "; ".join(f"{amount:.2f} {code}" for code, amount in
                                         sorted(row.pop("_other").items()))
    columns = [
        Column("product", str(_l("Product group (code)"))),
        Column("product_label", str(_l("Product group"))),
        Column("cause", str(_l("Cause (code)"))), Column("cause_label", str(_l("Cause"))),
        Column("outstanding_at_start", str(_l("Outstanding at the start")), "int"),
        Column("opened", str(_l("Opened")), "int"),
        Column("closed_within_3_days", str(_l("Closed within 3 business days")), "int"),
        Column("closed_within_8_weeks", str(_l("Closed after 3 business days, within 8 weeks")),
               "int"),
        Column("closed_later", str(_l("Closed after 8 weeks")), "int"),
        Column("closed", str(_l("Closed")), "int"),
        Column("upheld", str(_l("Upheld (partly upheld included)")), "int"),
        Column("upheld_percent", str(_l("Upheld (%)")), "percent"),
        Column("redress_paid", str(_l("Redress paid (%(currency)s)", currency=conf.currency)),
               "money"),
        Column("redress_other", str(_l("Redress paid in other currencies"))),
        Column("outstanding_at_end", str(_l("Outstanding at the end")), "int")]
    caption = str(_l("Closed, upheld and redress count complaints closed in the period."))
    return [Table(str(_l("Complaints return")), columns, [*rows, total], caption)]


def _fca_row(product: str, cause: str) -> dict[str, Any]:
    """An empty row of the complaints return."""
    return {"product": product, "cause": cause, "outstanding_at_start": 0, "opened": 0,
            "closed_within_3_days": 0, "closed_within_8_weeks": 0, "closed_later": 0,
            "closed": 0, "upheld": 0, "redress_paid": Decimal("0.00"), "_other": {},
            "outstanding_at_end": 0}


def _count_fca(row: dict[str, Any], report: CaseReport, period: Period, conf: Settings) -> None:
    """Add one complaint to a row of the complaints return."""
    received, closed = report.received_at, report.closed_at
    row["outstanding_at_start"] += received < period.start
    row["opened"] += received >= period.start
    row["outstanding_at_end"] += closed is None or closed >= period.end
    if closed is None or closed >= period.end:
        return
    row["closed"] += 1
    if _closed_within_three_days(report, period):
        row["closed_within_3_days"] += 1
    elif closed - received <= EIGHT_WEEKS:
        row["closed_within_8_weeks"] += 1
    else:
        row["closed_later"] += 1
    row["upheld"] += report.outcome in UPHELD
    if report.remedy_amount:
        if (report.remedy_currency or conf.currency) == conf.currency:
            row["redress_paid"] += report.remedy_amount
        else:
            other = row["_other"]
            other[report.remedy_currency] = other.get(report.remedy_currency, 0) + \
                report.remedy_amount


# -- (c) one row per complaint, ASIC IDR data shape ---------------------------------------

IDR_COLUMNS = (
    ("complaint_reference", _l("Reference"), "text"),
    ("date_received", _l("Received"), "date"),
    ("date_acknowledged", _l("Acknowledged"), "date"),
    ("date_responded", _l("Responded"), "date"),
    ("date_closed", _l("Closed"), "date"),
    ("status", _l("Status"), "text"),
    ("channel", _l("Channel"), "text"),
    ("product", _l("Product or service"), "text"),
    ("issue", _l("Issue (category)"), "text"),
    ("cause", _l("Cause"), "text"),
    ("priority", _l("Priority"), "text"),
    ("outcome", _l("Outcome"), "text"),
    ("remedy_type", _l("Remedy"), "text"),
    ("remedy_amount", _l("Remedy amount"), "money"),
    ("remedy_currency", _l("Currency"), "text"),
    ("days_to_close", _l("Days to close"), "int"),
    ("business_hours_to_respond", _l("Business hours to respond"), "number"),
    ("paused_hours", _l("Hours paused (customer time)"), "number"),
    ("response_on_target", _l("Response on target"), "text"),
    ("vulnerable", _l("Vulnerable customer"), "text"),
    ("regulator_involved", _l("Regulator involved"), "text"),
    ("first_contact_resolution", _l("First-contact resolution"), "text"),
    ("escalation_level", _l("Escalation level"), "int"),
    ("reopen_count", _l("Times reopened"), "int"),
)


def idr_rows(period: Period) -> Iterable[dict[str, Any]]:
    """One row per complaint open at any time in the period, oldest first."""
    query = (select(CaseReport, Case.reference).join(Case, Case.id == CaseReport.case_id)
             .where(and_(CaseReport.received_at < period.end,
                         or_(CaseReport.closed_at.is_(None),
                             CaseReport.closed_at >= period.start)))
             .order_by(CaseReport.received_at, CaseReport.case_id))
    day = period.local_day
    for report, reference in db.session.execute(query):
        closed = report.closed_at if report.closed_at and report.closed_at < period.end else None
        yield {
            "complaint_reference": reference, "date_received": day(report.received_at),
            "date_acknowledged": report.acknowledged_at and day(report.acknowledged_at),
            "date_responded": report.responded_at and day(report.responded_at),
            "date_closed": closed and day(closed),
            "status": "closed" if closed else "open", "channel": report.channel,
            "product": report.product, "issue": report.category, "cause": report.cause,
            "priority": report.priority, "outcome": report.outcome if closed else None,
            "remedy_type": report.remedy_type, "remedy_amount": report.remedy_amount,
            "remedy_currency": report.remedy_currency,
            "days_to_close": (day(closed) - day(report.received_at)).days if closed else None,
            "business_hours_to_respond": report.response_hours,
            "paused_hours": report.paused_hours, "response_on_target": report.response_on_target,
            "vulnerable": report.vulnerable, "regulator_involved": report.regulator,
            "first_contact_resolution": report.first_contact_resolution,
            "escalation_level": report.escalation_level, "reopen_count": report.reopen_count}


def idr_data(period: Period, conf: Settings) -> list[Table]:
    """The one-row-per-complaint table."""
    columns = [Column(key, str(label), kind) for key, label, kind in IDR_COLUMNS]
    caption = str(_l("Every complaint open at some time in the period; dates are the "
                     "organisation's. A complaint closed after the period is open here."))
    return [Table(str(_l("Complaint data, one row per complaint")), columns,
                  list(idr_rows(period)), caption)]


DEFINITIONS: dict[str, ReturnDefinition] = {d.key: d for d in (
    ReturnDefinition("sama_sla", _l("SLA compliance (Saudi banking style)"),
                     _l("Complaints received, answered, and answered within the working-day "
                        "target net of customer time, against the required share."),
                     sla_compliance),
    ReturnDefinition("fca_disp1", _l("Complaints return (FCA DISP 1 Annex 1R shape)"),
                     _l("Outstanding, opened, closed within 3 business days, 8 weeks or "
                        "later, upheld and redress, by product group and cause."),
                     complaints_return),
    ReturnDefinition("asic_idr", _l("Complaint data (ASIC IDR shape)"),
                     _l("One row per complaint: dates, product, issue, outcome, remedy and "
                        "days to close."),
                     idr_data),
)}


def offered() -> list[ReturnDefinition]:
    """The returns the administrator chose to offer (PLAINT_RETURNS), in that order."""
    return [DEFINITIONS[key] for key in current_app.config["PLAINT_RETURNS"]]


def definition(key: str) -> ReturnDefinition:
    """An offered return by its key; NotFound for any other."""
    found = next((d for d in offered() if d.key == key), None)
    if found is None:
        raise NotFound(_("There is no such return."))
    return found


def build(key: str, period: Period) -> list[Table]:
    """The tables of an offered return for a period."""
    return definition(key).build(period, settings())


def file_name(key: str, period: Period, extension: str) -> str:
    """The download name of a return: fca_disp1-2026-01-01_2026-06-30.csv."""
    return f"{key}-{period.label()}.{extension}"


