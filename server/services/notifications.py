"""E-mail notifications through the outbox (DESIGN decision 12).

Placeholder signature only: the outbox helper replaces this module with the real one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ..engine import Notice


def enqueue(case: Any, notices: Sequence[Notice], now: datetime,
            tracking_token: str | None = None) -> None:
    """Write one outbox row per recipient of each notice, in the caller's transaction."""
    del case, notices, now, tracking_token
