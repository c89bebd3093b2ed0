"""Erasing a case's personal data while its statistics and its audit chain stay intact.

Retention rules (services/retention.py) and data-subject requests (services/data_requests.py)
both erase through `anonymise_case`; this module is the one place that knows where a
case's personal data lives.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .actors import Actor


@dataclass
class Erasure:
    """What erasing a case did, or would do in a dry run."""

    reference: str
    erased: list[str] = field(default_factory=list)  # what was erased, in people's words
    documents: int = 0       # documents deleted
    events: int = 0          # history entries whose personal values were erased
    refused: str | None = None  # why nothing was erased (legal hold, broken chain...)


def anonymise_case(case_id: int, actor: Actor, reason: str, *, documents_only: bool = False,
                   dry_run: bool = False) -> Erasure:
    """Erase the personal data of one case (or only its documents), recording `reason`."""
    raise NotImplementedError("built by the retention work of issue 18")
