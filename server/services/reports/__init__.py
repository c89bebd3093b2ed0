"""Reports over the reporting facts (case_report): definitions, figures, lists, exports.

`catalog.REPORTS` are the dashboard's reports; `cases.CASE_LIST` the cases behind a figure.
A report definition feeds the page, its chart, its CSV and XLSX and its drill-down links.
"""

from __future__ import annotations

from .cases import CASE_LIST
from .catalog import BY_NAME, REPORTS
from .definitions import Report

ALL: dict[str, Report] = {**BY_NAME, CASE_LIST.name: CASE_LIST}

__all__ = ["ALL", "BY_NAME", "CASE_LIST", "REPORTS", "Report"]
