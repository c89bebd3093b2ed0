"""What goes wrong when a case's workflow runs, as the services catch it."""

from __future__ import annotations


class EngineError(Exception):
    """The workflow could not go on; the message names the element and the cause."""

    def __init__(self, message: str, element_id: str | None = None,
                 element_name: str | None = None) -> None:
        super().__init__(message)
        self.element_id = element_id
        self.element_name = element_name


class TaskNotReady(EngineError):
    """The task is not (or no longer) waiting for a person."""


class MessageNotExpected(EngineError):
    """The case is not waiting for that message now."""
