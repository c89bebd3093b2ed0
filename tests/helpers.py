"""Shared helpers for tests that drive the engine without a database."""

from __future__ import annotations

from pathlib import Path

from server.engine import Bundle, ProcessRuntime, load_bundle
from server.engine.serializer import load_specs

REPO = Path(__file__).resolve().parent.parent
ROLES = {"handler", "supervisor", "process_owner", "admin", "auditor"}


def resolve(name: str) -> str | None:
    slug = name.strip().lower().replace(" ", "_")
    return slug if slug in ROLES else None


def reference_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for folder in ("workflows", "forms")
            for p in (REPO / folder).iterdir() if p.is_file()}


def bundle(files: dict[str, bytes] | None = None) -> Bundle:
    return load_bundle(files if files is not None else reference_files(), resolve)


def runtime(files: dict[str, bytes] | None = None, time_limit: float = 0.5) -> ProcessRuntime:
    """A runtime built the way the server builds it: from the stored spec JSON."""
    b = bundle(files)
    spec, subprocess_specs = load_specs(b.spec_json)
    return ProcessRuntime(spec, subprocess_specs, b.role_map, time_limit)


def reference_bpmn() -> str:
    return (REPO / "workflows" / "complaint.bpmn").read_text()


def with_bpmn(text: str) -> dict[str, bytes]:
    """The reference bundle with its diagram replaced."""
    files = reference_files()
    files["complaint.bpmn"] = text.encode()
    return files
