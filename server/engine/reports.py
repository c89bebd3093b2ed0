"""What a diagram declares for reports: `reportAs` (which variable feeds which report field)
and `reportValues` (the diagram's own values mapped onto the report's codes).

On any element: `reportAs` lists `field=source` entries, comma-separated. A source is a
workflow variable (`final_outcome`), a path into one (`survey.satisfaction`, for a
message's payload), a quoted text (`'withdrawn'`) or a whole number (`1`). When the
element completes, each field takes that value from the element's data; a later element
that reports the same field wins (the outcome recorded at Close over the one at Respond),
except `escalation_level`, which keeps the highest level reached. An empty value (a
variable missing or None) leaves the field as it was.

`reportValues` on the same element maps values: `outcome:rejected=not_upheld,
outcome:accepted_in_full=upheld`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from lxml import etree

from ..models.report import OUTCOMES

REPORT_KEY = "reportAs"
VALUES_KEY = "reportValues"
# The report fields a diagram may feed (server/models/report.py holds the columns).
REPORT_FIELDS = ("channel", "product", "category", "priority", "cause", "outcome",
                 "remedy_type", "remedy_amount", "remedy_currency", "vulnerable",
                 "regulator", "satisfaction", "escalation_level")
HIGHEST = frozenset({"escalation_level"})

_PATH = re.compile(r"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)*$")
_TEXT = re.compile(r"""^(['"])([^'"]*)\1$""")
_NUMBER = re.compile(r"^-?\d{1,9}$")

Source = tuple[str, Any]  # ("path", ("survey", "satisfaction")) or ("literal", value)


def _not_a_field(field: str) -> str:
    """Said of a name in reportAs or reportValues that is no report field."""
    return _("'%(field)s' is not a report field: use one of %(fields)s", field=field,
             fields=", ".join(REPORT_FIELDS))


@lru_cache(maxsize=1024)
def parse_report_as(text: str) -> tuple[tuple[str, Source], ...]:
    """A reportAs property as (field, source) pairs; ValueError names what is wrong."""
    pairs = []
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        field, equals, source = (piece.strip() for piece in entry.partition("="))
        if not equals or not source:
            raise ValueError(_("'%(entry)s' is not field=variable (e.g. outcome=final_outcome)",
                               entry=entry))
        if field not in REPORT_FIELDS:
            raise ValueError(_not_a_field(field))
        pairs.append((field, _source(source)))
    return tuple(pairs)


def _source(text: str) -> Source:
    """Where a field's value comes from: a quoted text, a whole number or a variable path."""
    quoted = _TEXT.match(text)
    if quoted:
        return ("literal", quoted.group(2))
    if _NUMBER.match(text):
        return ("literal", int(text))
    if _PATH.match(text):
        return ("path", tuple(text.split(".")))
    raise ValueError(_("'%(text)s' is neither a variable (letters, digits, _ and dots), a "
                       "quoted text nor a whole number", text=text))


@lru_cache(maxsize=1024)
def parse_report_values(text: str) -> dict[str, dict[str, str]]:
    """A reportValues property as {field: {diagram value: report code}}."""
    mapping: dict[str, dict[str, str]] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        left, equals, code = (piece.strip() for piece in entry.partition("="))
        field, colon, value = (piece.strip() for piece in left.partition(":"))
        if not equals or not colon or not value or not code:
            raise ValueError(_("'%(entry)s' is not field:value=code (e.g. "
                               "outcome:rejected=not_upheld)", entry=entry))
        if field not in REPORT_FIELDS:
            raise ValueError(_not_a_field(field))
        if field == "outcome" and code not in OUTCOMES:
            raise ValueError(_("'%(code)s' is not an outcome reports know: use one of "
                               "%(codes)s", code=code, codes=", ".join(OUTCOMES)))
        mapping.setdefault(field, {})[value] = code
    return mapping


def declared_values(props: dict[str, str], data: dict[str, Any]) -> list[tuple[str, Any]]:
    """The report values an element with these properties declares, read from its data."""
    text = props.get(REPORT_KEY)
    if not text:
        return []
    try:
        pairs = parse_report_as(text)
        mapping = parse_report_values(props.get(VALUES_KEY) or "")
    except ValueError:
        return []  # refused at deploy; a version deployed before the check reports nothing
    found = []
    for field, (kind, source) in pairs:
        value = source if kind == "literal" else _lookup(data, source)
        if value is None:
            continue
        if isinstance(value, str) and field in mapping:
            value = mapping[field].get(value, value)
        found.append((field, value))
    return found


def _lookup(data: Any, path: tuple[str, ...]) -> Any:
    """The value at a dotted path in task data (None where any part is missing)."""
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data


def merge(found: Iterable[tuple[float, str, Any]]) -> dict[str, Any]:
    """The report values of completed elements (when, field, value): the latest wins."""
    report: dict[str, Any] = {}
    for _when, field, value in sorted(found, key=lambda item: item[0]):
        if field in HIGHEST and isinstance(report.get(field), int) and \
                isinstance(value, int) and not isinstance(value, bool):
            value = max(report[field], value)
        report[field] = value
    return report


def check_report_properties(add: Any, name: str, tree: etree._ElementTree) -> None:
    """Every reportAs and reportValues parses and names only report fields and codes."""
    for prop in tree.iter("{*}property"):
        key = prop.get("name")
        if key not in (REPORT_KEY, VALUES_KEY):
            continue
        parent = prop.getparent()
        owner = parent.getparent().getparent() if parent is not None and \
            parent.getparent() is not None else None
        owner_id = owner.get("id") if owner is not None else None
        try:
            if key == REPORT_KEY:
                parse_report_as(prop.get("value") or "")
            else:
                parse_report_values(prop.get("value") or "")
        except ValueError as exc:
            add(name, owner_id, prop.sourceline,
                _("%(property)s is refused: %(error)s", property=key, error=exc))
