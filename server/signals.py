"""Signals between parts of the app that must not import each other."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent after a commit that wrote waiting timers, with due_at= the earliest of them, so
# a scheduler in this process can wake up in time.
timers_written = _signals.signal("timers-written")

# Sent when someone opens a case's record (its page, a document, a bundle, an export, an
# API read), with actor= (services.actors.Actor), case_id=, what= (a short word: "case",
# "document", "bundle", "export", "api") and detail= (what exactly, e.g. a file name).
case_read = _signals.signal("case-read")

# Sent when the need-to-know rules refuse someone a case, with the same arguments.
case_read_refused = _signals.signal("case-read-refused")
