"""Settings of the regulator returns and the management-review pack (PLAINT_* variables).

Read by config.from_environment at start; a bad value stops the start with a message
that says what to write instead.
"""

from __future__ import annotations

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
    # The dashboard's queries that run at once, each on a connection (1: one after another).
    "PLAINT_REPORT_WORKERS": 4,
}
# Read by config.from_environment with its own numbers (every one but the list of returns).
NUMBERS = {key: type(value) for key, value in DEFAULTS.items() if key != "PLAINT_RETURNS"}
AT_LEAST = {"PLAINT_SLA_WORKING_DAYS": 1, "PLAINT_REPORT_WORKERS": 1}


class ReportConfigError(ValueError):
    """A report setting that cannot be used."""


def returns(raw: str) -> tuple[str, ...]:
    """The returns PLAINT_RETURNS offers, in its order (comma-separated keys)."""
    keys = tuple(key.strip() for key in raw.split(",") if key.strip())
    unknown = [key for key in keys if key not in RETURN_KEYS]
    if unknown:
        raise ReportConfigError(f"PLAINT_RETURNS: unknown return {', '.join(unknown)}; "
                                f"choose among {', '.join(RETURN_KEYS)}")
    return keys
