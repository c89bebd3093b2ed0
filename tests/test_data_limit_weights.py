"""The case data limit weighs flat text and numbers directly (engine/sandbox_limits.py): the
same data fails at the same size, with the same message, as when every value went through
the general walk."""

from __future__ import annotations

from typing import Any

from server.engine.sandbox_limits import ValueTooLarge, _bytes, _Weigher, data_size_problem

DATA: dict[str, Any] = {"name": "Amal", "arabic": "شكوى عاجلة", "amount": 12345678901234567890,
                        "negative": -7, "zero": 0, "fee": 1.5, "urgent": True, "none": None,
                        "roles": ["handler", "specialist"], "log": [{"by": "x"}], "": "e",
                        "story": "ب" * 40, "count": 10 ** 60}


def _by_general_walk(data: dict[str, Any], limit: int) -> str | None:
    """data_size_problem as it was before: every value through _Weigher.weigh."""
    weigher = _Weigher(limit, "the case data", json=True)
    total, sizes = 0, {}
    for name, value in data.items():
        try:
            size = weigher.weigh(value) + len(name) + 4
        except ValueTooLarge as exc:
            if "larger than" not in str(exc):
                return f"'{name}' cannot be saved: {str(exc).replace('the case data', 'it')}"
            size = limit + 1
        sizes[name] = size
        total += size
        if total > limit:
            name = max(sizes, key=sizes.__getitem__)
            return (f"the case data would take more than the {_bytes(limit)} limit; "
                    f"'{name}' alone takes {'more than ' if sizes[name] > limit else ''}"
                    f"{_bytes(min(sizes[name], limit))}")
    return None


def test_data_fails_the_limit_at_the_same_size_and_with_the_same_words_as_before() -> None:
    problems = [data_size_problem(DATA, limit) for limit in range(0, 800)]
    assert problems == [_by_general_walk(DATA, limit) for limit in range(0, 800)]
    assert problems[0] is not None and problems[-1] is None


def test_the_largest_value_is_named() -> None:
    assert data_size_problem({**DATA, "k": "x" * 2000}, 1000) == (
        "the case data would take more than the 1000 bytes limit; 'k' alone takes more "
        "than 1000 bytes")
    # Text that is not ASCII counts six characters a letter (JSON's \\uXXXX): 907 here.
    assert data_size_problem({"a": "x", "b": "ب" * 150}, 906) == (
        "the case data would take more than the 906 bytes limit; 'b' alone takes more "
        "than 906 bytes")
    assert data_size_problem({"b": "ب" * 150}, 907) is None
