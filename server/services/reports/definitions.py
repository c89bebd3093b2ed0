"""What a report is: a title, its columns, how its rows come from the figures, its chart.

One definition feeds the dashboard's table and chart, the CSV, the XLSX and the links to
the cases behind each figure (DESIGN decision 17: nothing is written twice by hand).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from .figures import Figures

KINDS = ("text", "count", "percent", "hours", "score", "money")


@dataclass(frozen=True)
class Column:
    """A column: its key in each row, its heading, and what kind of value it holds."""

    key: str
    title: Any  # a lazy translation
    kind: str = "count"


@dataclass(frozen=True)
class Cell:
    """One value, the condition that selects the cases behind it, and its kind if not the
    column's (the period-over-period table mixes kinds)."""

    value: Any
    drill: dict[str, Any] | None = None
    kind: str | None = None


Row = dict[str, Cell]


@dataclass(frozen=True)
class Chart:
    """How a report is drawn: a Chart.js type, the label column and the data columns.

    "pareto" draws the first series as bars and the second as a line on a 0-100 axis.
    """

    type: str
    label: str
    series: tuple[str, ...]
    stacked: bool = False


@dataclass(frozen=True)
class Report:
    """A report definition (see the module's docstring)."""

    name: str
    title: Any
    description: Any
    columns: tuple[Column, ...]
    rows: Callable[[Figures], Iterable[Row]]
    chart: Chart | None = None
    scope: str = "received"  # or "open": cases open now, whatever the period
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self, figures: Figures) -> list[Row]:
        """The report's rows for a question."""
        return list(self.rows(figures))

    def stream(self, figures: Figures) -> Iterable[Row]:
        """The report's rows as they are read (a long list of cases for an export)."""
        return self.rows(figures)

    def chart_data(self, rows: list[Row]) -> dict[str, Any] | None:
        """The numbers Chart.js draws (read by static/js/reports.js from a JSON block)."""
        if self.chart is None:
            return None
        titles = {c.key: str(c.title) for c in self.columns}
        kinds = {c.key: c.kind for c in self.columns}
        return {"id": self.name, "type": self.chart.type, "stacked": self.chart.stacked,
                "labels": [display(r[self.chart.label].value, "text") for r in rows],
                "series": [{"label": titles[key], "kind": kinds[key],
                            "data": [plain(r[key].value) for r in rows]}
                           for key in self.chart.series]}


def plain(value: Any) -> Any:
    """A value as a number a chart or spreadsheet takes (Decimal as float, rounded)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float):
        return round(value, 2)
    return value


def display(value: Any, kind: str) -> str:
    """A value as people read it on the page, numbers in the reader's locale."""
    if value is None:
        return "—"
    if kind == "percent":
        return format_decimal(value, format="#,##0.0") + "%"
    if kind in ("hours", "score"):
        return format_decimal(value, format="#,##0.0")
    if kind == "money":
        return format_decimal(value, format="#,##0.00")
    if kind == "count" and isinstance(value, int | float | Decimal):
        return format_decimal(value, format="#,##0")
    return str(value)


def change(now: float | int | None, before: float | int | None) -> float | int | None:
    """The change from the previous period in the figure's own unit (None if unknown)."""
    if now is None or before is None:
        return None
    return now - before


def signed(value: Any, kind: str) -> str:
    """A change shown with its sign (percentages as points)."""
    if value is None:
        return "—"
    text = display(abs(value), kind)
    if kind == "percent":  # a change of a share is in percentage points
        text = _("%(value)s points", value=display(abs(value), "hours"))
    return ("+" if value > 0 else "\u2212" if value < 0 else "±") + text
