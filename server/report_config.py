"""Settings of the regulator returns and the management-review pack (PLAINT_* variables).

Read by config.from_environment at start; a bad value stops the start with a message
that says what to write instead.
"""

from __future__ import annotations

import os
from typing import Any

RETURN_KEYS = ("sama_sla", "fca_disp1", "asic_idr")

DEFAULTS: dict[str, Any] = {
    # The returns offered on /reports/returns, in this order (comma-separated keys).
    "PLAINT_RETURNS": RETURN_KEYS,
    "PLAINT_SLA_WORKING_DAYS": 5,  # answered within this many working days (SAMA: 5)
    "PLAINT_SLA_TARGET_PERCENT": 95.0,  # the share that must be answered on target
    # Objectives the management-review pack compares the period's KPIs with.
    "PLAINT_OBJECTIVE_ACKNOWLEDGED_ON_TARGET": 95.0,  # % acknowledged on target
    "PLAINT_OBJECTIVE_RESPONDED_ON_TARGET": 95.0,  # % responded on target
    "PLAINT_OBJECTIVE_RESOLVED_ON_TARGET": 95.0,  # % resolved on target
    "PLAINT_OBJECTIVE_SATISFACTION": 4.0,  # mean survey score, 1..5
    "PLAINT_OBJECTIVE_REOPEN_PERCENT": 5.0,  # at most this % of closed cases reopened
}
_NUMBERS = {key: type(value) for key, value in DEFAULTS.items() if key != "PLAINT_RETURNS"}


class ReportConfigError(ValueError):
    """A report setting that cannot be used."""


def from_environment() -> dict[str, Any]:
    """The report settings: defaults with any PLAINT_* variable read over them."""
    settings = dict(DEFAULTS)
    for key, convert in _NUMBERS.items():
        raw = os.environ.get(key)
        if raw is not None:
            try:
                settings[key] = convert(raw)
            except ValueError:
                raise ReportConfigError(f"{key}={raw!r} is not a number") from None
    raw = os.environ.get("PLAINT_RETURNS")
    if raw is not None:
        keys = tuple(key.strip() for key in raw.split(",") if key.strip())
        unknown = [key for key in keys if key not in RETURN_KEYS]
        if unknown:
            raise ReportConfigError(f"PLAINT_RETURNS: unknown return {', '.join(unknown)}; "
                                    f"choose among {', '.join(RETURN_KEYS)}")
        settings["PLAINT_RETURNS"] = keys
    if settings["PLAINT_SLA_WORKING_DAYS"] < 1:
        raise ReportConfigError("PLAINT_SLA_WORKING_DAYS must be at least 1")
    return settings
