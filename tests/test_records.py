"""The write path's typed rows stay copies of the models' columns."""

from __future__ import annotations

from dataclasses import fields

from server.models import Case, HumanTask
from server.services.records import CaseRecord, TaskRecord


def test_a_case_record_has_every_column_of_a_case_in_order_with_its_type() -> None:
    columns = [(c.key, Case.__annotations__[c.key]) for c in Case.__table__.columns]
    copied = [(f.name, f"Mapped[{f.type}]") for f in fields(CaseRecord)]
    assert copied == columns


def test_a_task_record_copies_columns_of_a_human_task_with_their_types() -> None:
    for field in fields(TaskRecord):
        assert HumanTask.__annotations__[field.name] == f"Mapped[{field.type}]", field.name
