"""Processes: their versions, and the studio where process owners make new ones.

versions.py deploys bundles and finds the version a case runs on, with its cached specs
and forms; checks.py says what stops a draft from being deployed; diff.py what changed
between two versions; upload.py reads uploaded files and ZIPs; drafts.py is the studio's
drafts, and draft_texts.py their translations side by side. The version functions the
rest of the code uses are importable from here.
"""

from .versions import (
    activate,
    active_version_id,
    deploy,
    ensure_roles,
    form_schema,
    read_folders,
    role_resolver,
    role_slug,
    runtime_for,
)

__all__ = [
    "activate",
    "active_version_id",
    "deploy",
    "ensure_roles",
    "form_schema",
    "read_folders",
    "role_resolver",
    "role_slug",
    "runtime_for",
]
