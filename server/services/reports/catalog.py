"""The dashboard's reports, in the order the page shows them (ISO 10002 clause 8.2-8.3).

Each figure carries the condition that selects the cases behind it (see filters.py), so
the page links every number to its cases and the exports share the rows.
Counted over the cases received in the period unless the report's scope is "open".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ...models.report import TARGET_KINDS
from .definitions import Cell, Chart, Column, Report, Row, change
from .figures import Counts, Figures, ratio
from .filters import AGE_BANDS, NOBODY, NOT_RECORDED, SLA_STATES, owner_names
from .labels import label


def _headline(fig: Figures) -> list[Row]:
    """The key figures of the period beside the previous period's, and the change."""
    now, before = fig.current, fig.before
    previous = {"from": fig.previous.start.isoformat(), "to": fig.previous.end.isoformat()}
    measures: list[tuple[str, str, Any, Any, dict[str, str]]] = [
        (_("Complaints received"), "count", now.received, before.received, {}),
        (_("Of which closed"), "count", now.closed, before.closed, {"closed": "1"}),
    ]
    for kind in TARGET_KINDS:
        measures.append((_("%(kind)s on target", kind=label("kind", kind)), "percent",
                         ratio(now.met[kind], now.known[kind]),
                         ratio(before.met[kind], before.known[kind]),
                         {"target": f"{kind}.met"}))
    for kind, title in (("acknowledgement", _("Median hours to acknowledge")),
                        ("resolution", _("Median hours to resolve"))):
        measures.append((title, "hours", fig.times[("current", kind)].median,
                         fig.times[("previous", kind)].median, {"timed": kind}))

    def share(c: Counts, name: str, whole: int) -> float | None:
        return ratio(getattr(c, name), whole)

    measures += [
        (_("Escalation rate"), "percent", share(now, "escalated", now.received),
         share(before, "escalated", before.received), {"escalated": "1"}),
        (_("Reopen rate"), "percent", share(now, "reopened", now.received),
         share(before, "reopened", before.received), {"reopened": "1"}),
        (_("Upheld (fully or partly)"), "percent", share(now, "upheld", now.outcome_known),
         share(before, "upheld", before.outcome_known), {"upheld": "1"}),
        (_("Resolved at first contact"), "percent", share(now, "fcr_yes", now.fcr_known),
         share(before, "fcr_yes", before.fcr_known), {"fcr": "1"}),
        (_("Satisfaction survey response rate"), "percent", share(now, "rated", now.closed),
         share(before, "rated", before.closed), {"rated": "1"}),
        (_("Mean satisfaction (1-5)"), "score",
         now.score_sum / now.rated if now.rated else None,
         before.score_sum / before.rated if before.rated else None, {"rated": "1"}),
    ]
    return [{"figure": Cell(title), "current": Cell(a, drill, kind),
             "previous": Cell(b, {**drill, **previous}, kind),
             "change": Cell(change(a, b), None, kind)}
            for title, kind, a, b, drill in measures]


def _by_period(fig: Figures) -> list[Row]:
    rows = []
    for index, bucket in enumerate(fig.buckets):
        name = (format_date(bucket.start, "yyyy-MM") if fig.filters.by == "month"
                else _("Week of %(day)s", day=bucket.start.isoformat()))
        counts = fig.by_bucket.get(index) or Counts()
        drill = {"from": bucket.start.isoformat(), "to": bucket.end.isoformat()}
        rows.append({"period": Cell(name), "received": Cell(counts.received, drill),
                     "closed": Cell(counts.closed, {**drill, "closed": "1"})})
    return rows


def _volume(field: str) -> Callable[[Figures], list[Row]]:
    def rows(fig: Figures) -> list[Row]:
        found = fig.volume(field)
        total = sum(n for _code, n in found)
        return [{"name": Cell(label(field, code)),
                 "received": Cell(n, {field: code or NOT_RECORDED}),
                 "share": Cell(ratio(n, total))} for code, n in found]
    return rows


def _deadlines(fig: Figures) -> list[Row]:
    rows = []
    for kind in TARGET_KINDS:
        met, known = fig.current.met[kind], fig.current.known[kind]
        spread = fig.times.get(("current", kind))
        timed = {"timed": kind} if spread else None
        rows.append({"kind": Cell(label("kind", kind)),
                     "met": Cell(met, {"target": f"{kind}.met"}),
                     "missed": Cell(known - met, {"target": f"{kind}.missed"}),
                     "on_target": Cell(ratio(met, known)),
                     "timed": Cell(spread.n if spread else None, timed),
                     "median": Cell(spread.median if spread else None),
                     "p90": Cell(spread.p90 if spread else None)})
    return rows


def _outcomes(fig: Figures) -> list[Row]:
    found = fig.outcomes()
    total = sum(n for _code, n in found)
    return [{"name": Cell(label("outcome", code)),
             "received": Cell(n, {"outcome": code or NOT_RECORDED}),
             "share": Cell(ratio(n, total))} for code, n in found]


def _satisfaction(fig: Figures) -> list[Row]:
    scores = fig.current.scores
    total = sum(scores.values())
    return [{"score": Cell(str(score)), "received": Cell(n, {"score": str(score)}),
             "share": Cell(ratio(n, total))} for score, n in sorted(scores.items())]


def _compensation(fig: Figures) -> list[Row]:
    return [{"currency": Cell(currency or _("Not recorded")),
             "paid": Cell(n, {"currency": currency or NOT_RECORDED}),
             "amount": Cell(amount)} for currency, n, amount in fig.compensation()]


def _backlog(fig: Figures) -> list[Row]:
    rows = []
    for band, _low, _high in AGE_BANDS:
        counts = {state: fig.backlog.get((band, state), 0) for state in SLA_STATES}
        drill = {"scope": "open", "age": band}
        rows.append({"age": Cell(_("%(band)s days", band=band)),
                     "on_track": Cell(counts["on_track"], {**drill, "sla": "on_track"}),
                     "breached": Cell(counts["breached"], {**drill, "sla": "breached"}),
                     "total": Cell(sum(counts.values()), drill)})
    return rows


def _workload(fig: Figures) -> list[Row]:
    names = owner_names({owner for owner, _n, _b in fig.workload if owner is not None})
    rows = []
    for owner, n, late in fig.workload:
        key = str(owner) if owner is not None else NOBODY
        drill = {"scope": "open", "owner": key}
        rows.append({"owner": Cell(names.get(owner, "?") if owner is not None
                                   else _("Nobody yet")),
                     "open": Cell(n, drill),
                     "breached": Cell(late, {**drill, "sla": "breached"})})
    return rows


def _roles(fig: Figures) -> list[Row]:
    return [{"role": Cell(label("role", role)), "open": Cell(n, {"scope": "open",
                                                                  "role": role}),
             "breached": Cell(late, {"scope": "open", "role": role, "sla": "breached"})}
            for role, n, late in fig.role_workload]


def _pareto(fig: Figures) -> list[Row]:
    found = fig.causes()
    total = sum(n for _code, n in found)
    rows, running = [], 0
    for code, n in found:
        running += n
        rows.append({"name": Cell(label("cause", code)), "received": Cell(n, {"cause": code}),
                     "share": Cell(ratio(n, total)),
                     "cumulative": Cell(ratio(running, total))})
    return rows


CASES = Column("received", _l("Cases"))
SHARE = Column("share", _l("Share"), "percent")
OPEN = Column("open", _l("Open cases"))
BREACHED = Column("breached", _l("Deadline missed"))

REPORTS: tuple[Report, ...] = (
    Report("headline", _l("Key figures and change from the previous period"),
           _l("Each figure beside the same figure for the period of the same length just "
              "before; the change is in the figure's own unit (shares in points)."),
           (Column("figure", _l("Figure"), "text"), Column("current", _l("This period")),
            Column("previous", _l("Previous period")), Column("change", _l("Change"))),
           _headline),
    Report("volume-by-period", _l("Complaints received by period"),
           _l("Cases received in each week or month, and how many of them are closed."),
           (Column("period", _l("Period"), "text"), CASES, Column("closed", _l("Closed"))),
           _by_period, Chart("bar", "period", ("received", "closed"))),
    Report("volume-by-category", _l("Complaints by category"), _l("Cases received."),
           (Column("name", _l("Category"), "text"), CASES, SHARE), _volume("category"),
           Chart("bar", "name", ("received",))),
    Report("volume-by-product", _l("Complaints by product or service"), _l("Cases received."),
           (Column("name", _l("Product or service"), "text"), CASES, SHARE),
           _volume("product"), Chart("bar", "name", ("received",))),
    Report("volume-by-channel", _l("Complaints by channel"), _l("Cases received."),
           (Column("name", _l("Channel"), "text"), CASES, SHARE), _volume("channel"),
           Chart("doughnut", "name", ("received",))),
    Report("deadlines", _l("Deadlines: on target and time taken"),
           _l("Deadlines met and missed per kind, and business hours from receipt net of "
              "paused time (median and 90th percentile, linear between ranks)."),
           (Column("kind", _l("Deadline"), "text"), Column("met", _l("Met")),
            Column("missed", _l("Missed")), Column("on_target", _l("On target"), "percent"),
            Column("timed", _l("Cases timed")), Column("median", _l("Median hours"), "hours"),
            Column("p90", _l("90th percentile hours"), "hours")),
           _deadlines, Chart("bar", "kind", ("on_target",))),
    Report("outcomes", _l("Outcomes"), _l("Cases received, by the outcome recorded."),
           (Column("name", _l("Outcome"), "text"), CASES, SHARE), _outcomes,
           Chart("doughnut", "name", ("received",))),
    Report("root-causes", _l("Root causes (Pareto)"),
           _l("Cases with a root cause recorded, most frequent cause first, with the "
              "cumulative share: the few causes behind most complaints come first."),
           (Column("name", _l("Root cause"), "text"), CASES, SHARE,
            Column("cumulative", _l("Cumulative share"), "percent")),
           _pareto, Chart("pareto", "name", ("received", "cumulative"))),
    Report("satisfaction", _l("Satisfaction with the handling"),
           _l("Survey scores given, from 1 (very dissatisfied) to 5 (very satisfied)."),
           (Column("score", _l("Score"), "text"), CASES, SHARE), _satisfaction,
           Chart("bar", "score", ("received",))),
    Report("compensation", _l("Compensation paid"),
           _l("Cases with a remedy amount above zero, and the amounts, per currency."),
           (Column("currency", _l("Currency"), "text"), Column("paid", _l("Cases paid")),
            Column("amount", _l("Amount paid"), "money")), _compensation,
           Chart("bar", "currency", ("amount",))),
    Report("backlog", _l("Open backlog by age and deadline state"),
           _l("Cases open now, whatever the period, by calendar days since receipt."),
           (Column("age", _l("Age"), "text"), Column("on_track", _l("On track")), BREACHED,
            Column("total", _l("Open cases"))), _backlog,
           Chart("bar", "age", ("on_track", "breached"), stacked=True), scope="open"),
    Report("workload", _l("Workload per handler"), _l("Cases open now, by owner."),
           (Column("owner", _l("Owner"), "text"), OPEN, BREACHED), _workload,
           Chart("bar", "owner", ("open", "breached")), scope="open"),
    Report("workload-by-role", _l("Workload per team"),
           _l("Cases open now, by the roles their owners hold (someone with two roles "
              "counts in both)."),
           (Column("role", _l("Team (role)"), "text"), OPEN, BREACHED), _roles,
           Chart("bar", "role", ("open", "breached")), scope="open"),
)

BY_NAME = {report.name: report for report in REPORTS}
