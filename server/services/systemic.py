"""Systemic-issue alerts: a category or product whose complaints rise beyond its recent range.

The rule, run daily by the scheduler for every category and every product code of the
reporting facts (case_report): count the complaints received in the last 7 days, and in
each of the 8 weeks before them. Alert when this week's count is at least
PLAINT_SYSTEMIC_MIN_CASES (default 5) and greater than the 8 weeks' mean plus
PLAINT_SYSTEMIC_SIGMAS (default 2) population standard deviations. A code alerted in
the last 7 days is not alerted again (one rise, one alert; a rise still going on a week
later is alerted again). Each alert is a systemic_alert row and one e-mail
(`systemic_alert` template, staff language) to every active complaints manager with an
e-mail address, through the outbox; with nobody to send to, one held message says why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, pstdev
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..database import begin_write
from ..extensions import db
from ..models import CaseReport, SystemicAlert, utcnow
from . import code_lists, staff_mail

log = logging.getLogger(__name__)
WEEK = timedelta(days=7)
HISTORY_WEEKS = 8
EVENT = "systemic_alert"
RECIPIENT_ROLE = "complaints_manager"
DIMENSIONS = {"category": ("categories", CaseReport.category),
              "product": ("products", CaseReport.product)}


@dataclass(frozen=True)
class Rise:
    """What the rule saw for one code: this week's count against the weeks before."""

    dimension: str
    code: str
    count: int
    history: tuple[int, ...]  # the 8 weeks before, most recent first
    mean: float
    stdev: float
    threshold: float


def _weekly(column: Any, now: datetime) -> dict[str, list[int]]:
    """Code -> complaints per week, this week first, for the last 9 weeks (one query each)."""
    counts: dict[str, list[int]] = {}
    for week in range(HISTORY_WEEKS + 1):
        end = now - week * WEEK
        rows = db.session.execute(
            select(column, func.count()).where(
                column.is_not(None), CaseReport.received_at > end - WEEK,
                CaseReport.received_at <= end).group_by(column))
        for code, count in rows:
            counts.setdefault(code, [0] * (HISTORY_WEEKS + 1))[week] = count
    return counts


def rises(now: datetime | None = None) -> list[Rise]:
    """Every code whose last 7 days break the rule, whether alerted already or not."""
    now = now or utcnow()
    config = current_app.config
    minimum = int(config.get("PLAINT_SYSTEMIC_MIN_CASES", 5))
    sigmas = float(config.get("PLAINT_SYSTEMIC_SIGMAS", 2.0))
    found = []
    for dimension, (_, column) in DIMENSIONS.items():
        for code, weeks in sorted(_weekly(column, now).items()):
            count, history = weeks[0], tuple(weeks[1:])
            mean, stdev = fmean(history), pstdev(history)
            threshold = mean + sigmas * stdev
            if count >= minimum and count > threshold:
                found.append(Rise(dimension, code, count, history, mean, stdev, threshold))
    return found


def run(now: datetime | None = None) -> list[SystemicAlert]:
    """The daily job: alert each new rise once, to the complaints managers, via the outbox."""
    now = now or utcnow()
    found = rises(now)
    begin_write()
    recent = {(row.dimension, row.code) for row in db.session.execute(
        select(SystemicAlert.dimension, SystemicAlert.code).where(
            SystemicAlert.raised_at > now - WEEK))}
    alerts = []
    for rise in found:
        if (rise.dimension, rise.code) in recent:
            continue
        alert = SystemicAlert(dimension=rise.dimension, code=rise.code, raised_on=now.date(),
                              raised_at=now, count=rise.count, mean=rise.mean,
                              stdev=rise.stdev, threshold=rise.threshold)
        db.session.add(alert)
        _mail(rise, now)
        alerts.append(alert)
    try:
        db.session.commit()
    except IntegrityError:  # another scheduler raised the same alerts a moment ago
        db.session.rollback()
        return []
    for alert in alerts:
        log.info("systemic alert: %s %s, %d complaints in 7 days (threshold %.1f)",
                 alert.dimension, alert.code, alert.count, alert.threshold)
    return alerts


def _mail(rise: Rise, now: datetime) -> None:
    """One outbox message per complaints manager (or one held message saying why not)."""
    list_name = DIMENSIONS[rise.dimension][0]
    public_url = current_app.config["PLAINT_PUBLIC_URL"].rstrip("/")
    staff_mail.mail_role(EVENT, RECIPIENT_ROLE, lambda language: {
        "alert": rise, "label": code_lists.label(list_name, rise.code, language),
        "history": list(reversed(rise.history)),
        "reports_url": f"{public_url}/reports?{rise.dimension}={rise.code}",
        "cases_url": f"{public_url}/cases?{rise.dimension}={rise.code}"}, now)
