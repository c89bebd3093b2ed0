"""What changed between two versions of a process: elements and files added, removed, changed.

Elements are compared by id. Diagram layout (BPMN DI, DMN DI) is left out: moving a shape
is not a change to the process. An element counts as changed when its own attributes,
text or id-less children differ; elements nested in it (with ids of their own) are
compared on their own, so one edited task does not also mark its process as changed.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from ...engine.xmlsafe import UnsafeXMLError, parse_xml

# Layout namespaces of BPMN and DMN (BPMNDI, DC, DI, DMNDI): where shapes are drawn.
_LAYOUT = re.compile(r"/(DI|DC|DMNDI)/?$", re.IGNORECASE)
_LIMIT = 64 * 1024 * 1024  # files come from checked bundles; this only bounds the parse
Element = dict[str, str | None]


def _qname(tag: Any) -> tuple[str, str]:
    if not isinstance(tag, str):
        return "", ""
    name = etree.QName(tag)
    return name.namespace or "", name.localname


def _is_layout(elem: etree._Element) -> bool:
    return bool(_LAYOUT.search(_qname(elem.tag)[0]))


def _signature(elem: etree._Element) -> tuple[Any, ...]:
    """The element's own content: tag, attributes, text and id-less children."""
    children = tuple(_signature(child) for child in elem
                     if isinstance(child.tag, str) and not child.get("id")
                     and not _is_layout(child))
    return (elem.tag, tuple(sorted(elem.attrib.items())), (elem.text or "").strip(), children)


def elements(files: dict[str, bytes]) -> dict[str, tuple[Element, tuple[Any, ...]]]:
    """Every id-bearing model element of the BPMN and DMN files, with its signature."""
    found: dict[str, tuple[Element, tuple[Any, ...]]] = {}
    for name, data in sorted(files.items()):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            tree = parse_xml(data, max_bytes=_LIMIT, strip_comments=True)
        except UnsafeXMLError:
            continue  # only checked bundles are compared; a broken file has no elements
        for elem in tree.getroot().iter():
            element_id = elem.get("id") if isinstance(elem.tag, str) else None
            if not element_id or elem is tree.getroot() or _is_layout(elem):
                continue
            entry: Element = {"id": element_id, "name": elem.get("name"),
                              "type": _qname(elem.tag)[1], "file": name}
            found[element_id] = (entry, _signature(elem))
    return found


def diff(old: dict[str, bytes], new: dict[str, bytes]) -> dict[str, Any]:
    """Elements and files added, removed and changed from `old` to `new`."""
    before, after = elements(old), elements(new)
    changed = [after[i][0] for i in sorted(after) if i in before and before[i][1] != after[i][1]]
    return {
        "added": [after[i][0] for i in sorted(after.keys() - before.keys())],
        "removed": [before[i][0] for i in sorted(before.keys() - after.keys())],
        "changed": changed,
        "files": {
            "added": sorted(new.keys() - old.keys()),
            "removed": sorted(old.keys() - new.keys()),
            "changed": sorted(n for n in new.keys() & old.keys()
                              if new[n] != old[n]),
        },
    }


def summary(result: dict[str, Any], names_shown: int = 6) -> str:
    """One line for the log: how many elements changed, and which files (named when few)."""
    counts = ", ".join(f"{len(result[k])} {k}" for k in ("added", "removed", "changed"))
    files = result["files"]
    touched = [f"{name} ({how})" for how in ("added", "removed", "changed")
               for name in files[how]]
    if not touched:
        return f"elements: {counts}; no file changed"
    if len(touched) > names_shown:
        return f"elements: {counts}; files: " + ", ".join(
            f"{len(files[k])} {k}" for k in ("added", "removed", "changed"))
    return f"elements: {counts}; files: {', '.join(touched)}"
