"""Signals between parts of the app that must not import each other."""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# Sent after a commit that wrote waiting timers, with due_at= the earliest of them, so
# a scheduler in this process can wake up in time.
timers_written = _signals.signal("timers-written")
