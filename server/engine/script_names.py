"""SpiffArena's script functions and globals that Plaint does not provide, found at deploy.

A model written for SpiffArena may call its script functions (get_secret(), get_group_members()
...). The ones Plaint provides are in services/script_functions.py; a call of any other is
refused when the model is deployed, naming it, rather than failing in a running case.
"""

from __future__ import annotations

import ast

# SpiffArena's script functions with no counterpart here: they reach its users, groups,
# secrets, permissions, files, key-value store or other process instances.
SPIFFARENA_ONLY = frozenset({
    "create_unique_kkv_top_level_key", "delete_process_instances_with_criteria",
    "extract_from_task_data", "fact_service", "generate_markdown_table",
    "get_all_permissions", "get_current_task_data", "get_current_task_info",
    "get_data_sizes", "get_encoded_file_data", "get_group_members",
    "get_groups_for_user", "get_secret", "get_task_data_value", "get_task_potential_owners",
    "get_url_for_task", "get_url_for_task_with_bpmn_identifier", "get_user",
    "get_user_properties", "get_users_assigned_to_task", "markdown_file_download_link",
    "refresh_permissions", "set_feature_flags", "set_secret", "set_user_properties",
    "times_executed_by_user", "update_task_data_with_dictionary",
    "user_has_started_instance",
    # Globals of SpiffArena's script engine that diagram code here does not get:
    # regular expressions can run for minutes on one call; dateparser reads free text.
    "re", "dateparser",
})


def unsupported_names(source: str, script: bool) -> list[str]:
    """SpiffArena-only names the code uses and does not define itself, in order."""
    try:
        tree = ast.parse(source.strip() if not script else source,
                         mode="exec" if script else "eval")
    except SyntaxError:
        return []
    defined = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)
               and isinstance(n.ctx, ast.Store)}
    defined |= {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and \
                node.id in SPIFFARENA_ONLY and node.id not in defined and node.id not in found:
            found.append(node.id)
    return found
