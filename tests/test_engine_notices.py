"""The data an e-mail notice and a thrown message carry is what a JSON round trip of the task
data gives (engine/snapshot.py plain), however the copy is made."""

from __future__ import annotations

import json
from collections import OrderedDict
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from server.engine.snapshot import plain


def _typed(value: Any) -> Any:
    """The value with the type of every part beside it, so 1 and 1.0 and True differ."""
    if isinstance(value, dict):
        return ("dict", [(type(k).__name__, k, _typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", [_typed(v) for v in value])
    return (type(value).__name__, repr(value))


NESTED: dict[str, Any] = {"a": {"b": [{"c": [1, 2.5, None]}]}}
CASES = [
    {"name": "Amal", "amount": 120, "fee": 12.5, "urgent": True, "note": None,
     "roles": ["handler", "specialist"], "log": [{"at": "2026-12-07", "by": "x"}],
     "arabic": "شكوى", "empty": {}, "nothing": []},
    {"when": datetime(2026, 12, 7, 8, tzinfo=UTC), "day": date(2026, 12, 7),
     "money": Decimal("1.10")},
    {"pair": (1, "two"), "set_like": [("a", 1)], "flag": False},
    {1: "one", None: "none", 2.5: "x", False: "no"},
    {"nan": float("nan"), "big": 10 ** 30, "neg": -0.0},
    OrderedDict(x=1, y=[1, 2]),
    NESTED,
]


@pytest.mark.parametrize("data", CASES, ids=range(len(CASES)))
def test_notice_data_is_what_a_json_round_trip_of_it_gives(data: dict[str, Any]) -> None:
    expected = json.loads(json.dumps(data, default=str))
    got = plain(data)
    assert repr(_typed(got)) == repr(_typed(expected))


def test_notice_data_is_a_copy_the_engine_can_change_no_more() -> None:
    data: dict[str, Any] = {"log": [{"by": "x"}], "roles": ["handler"]}
    copied = plain(data)
    data["log"][0]["by"] = "y"
    data["roles"].append("auditor")
    assert copied == {"log": [{"by": "x"}], "roles": ["handler"]}


def test_anything_but_a_dict_carries_no_data() -> None:
    assert plain(["a"]) == {} and plain(None) == {} and plain("text") == {}


def test_data_that_holds_itself_is_refused_as_the_json_round_trip_refuses_it() -> None:
    data: dict[str, Any] = {"a": []}
    data["a"].append(data)
    with pytest.raises(ValueError, match="Circular"):
        plain(data)
