"""Amounts of money as people read them: in the organisation's currency (PLAINT_CURRENCY).

A number field whose name ends in `_amount` (compensation_amount, revised_compensation_
amount) holds money; pages, history, letters and e-mails show it with Babel's
format_currency in the reader's language.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from flask import current_app
from flask_babel import get_locale

AMOUNT_SUFFIX = "_amount"


def is_amount(name: str) -> bool:
    """Whether a field of that name holds an amount of money."""
    return name.endswith(AMOUNT_SUFFIX)


def currency() -> str:
    """The ISO 4217 code of the organisation's currency."""
    return str(current_app.config["PLAINT_CURRENCY"])


def format_amount(value: Any, language: str | None = None) -> str:
    """An amount with its currency in a language ("SAR 1,500.00"); "" for no amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return ""
    locale = language or str(get_locale() or "en")
    code = currency()
    try:
        text = str(format_currency(value, code, locale=locale))
    except (ValueError, LookupError):  # a language Babel does not know
        return f"{code}\u00a0{value:,.2f}"
    # CLDR's currency spacing, which Babel leaves out: a code is set apart from the
    # digits ("SAR 150.00", not "SAR150.00").
    return re.sub(rf"(?<={code})(?=[\d\u200e\u200f-])|(?<=\d)(?={code})", "\u00a0", text)
