"""A colleague's note written while an engine run is under way (write-lock tests)."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from flask import Flask

from server.extensions import db

from .data import OTHER_HANDLER


def note_while_engine_runs(app: Flask, monkeypatch: pytest.MonkeyPatch, method: str,
                           reference: str, text: str = "Called the branch.") -> list[str]:
    """Patch ProcessRuntime.`method` so that during its first run a colleague, in another
    thread, writes a note on the case; the list returned holds "written" once it is saved.

    The engine run waits for the note (up to 20 s): a note that had to wait for a write
    lock held across the run would never be written in time.
    """
    from server.engine.runtime import ProcessRuntime
    from server.services import cases

    original = getattr(ProcessRuntime, method)
    notes: list[str] = []

    def colleague_writes_meanwhile(self: Any, *args: Any) -> Any:
        if not notes:  # the first run only: the note lands while it works
            def note() -> None:
                with app.app_context():
                    cases.add_note(reference, text, OTHER_HANDLER)
                    notes.append("written")
                    db.session.remove()
            writer = threading.Thread(target=note)
            writer.start()
            writer.join(timeout=20)
        return original(self, *args)

    monkeypatch.setattr(ProcessRuntime, method, colleague_writes_meanwhile)
    return notes
