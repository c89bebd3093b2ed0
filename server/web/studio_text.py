"""The English texts bpmn-js, dmn-js and the properties panel show, in the person's language.

These libraries ask a `translate` service for every text of their own interface (palette and
context-pad tooltips, the "change element" menu, properties-panel groups and labels, the
decision table's menus). The editor page hands this dictionary (library template -> text
shown) to the studio's script, whose translate service looks templates up in it and falls
back to the English template. Diagram content is never translated here.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import gettext as _
from flask_babel import ngettext

WHEN = "When (the first condition of a decision table rule)"
# A number of each plural category, as Intl.PluralRules names them, that takes the form the
# category uses in every language Plaint speaks (Arabic has all six; English one and other).
PLURAL_SAMPLES = {"zero": 0, "one": 1, "two": 2, "few": 3, "many": 11, "other": 100}


def counted_text() -> dict[str, dict[str, str]]:
    """The editor's texts with a number in them: each as its form per plural category, with
    "{count}" where the number goes; the script picks the form for the number it shows."""
    return {
        "problems": _forms(lambda n: ngettext(
            "%(count)s problem", "%(count)s problems", n, count="{count}")),
        "problemsInFile": _forms(lambda n: ngettext(
            "%(count)s problem in this file", "%(count)s problems in this file", n,
            count="{count}")),
    }


def _forms(form: Callable[[int], str]) -> dict[str, str]:
    """A counted text's form for each plural category."""
    return {category: form(number) for category, number in PLURAL_SAMPLES.items()}


def editor_text() -> dict[str, str]:
    """Each library template a process owner meets, with its text in the current language."""
    texts = _templates()
    # "When" means a time elsewhere in Plaint, so the table's word has a msgid of its own;
    # while it is untranslated the library's own word shows.
    when = _("When (the first condition of a decision table rule)")
    if when != WHEN:
        texts["When"] = when
    return texts


def _templates() -> dict[str, str]:
    """The templates whose msgid is the library's English text itself."""
    return {
        # palette and context pad
        "Activate hand tool": _("Activate hand tool"),
        "Activate lasso tool": _("Activate lasso tool"),
        "Activate create/remove space tool": _("Activate create/remove space tool"),
        "Activate global connect tool": _("Activate global connect tool"),
        "Create start event": _("Create start event"),
        "Create intermediate/boundary event": _("Create intermediate/boundary event"),
        "Create end event": _("Create end event"),
        "Create gateway": _("Create gateway"),
        "Create task": _("Create task"),
        "Create data object reference": _("Create data object reference"),
        "Create data store reference": _("Create data store reference"),
        "Create expanded sub-process": _("Create expanded sub-process"),
        "Create pool/participant": _("Create pool/participant"),
        "Create group": _("Create group"),
        "Append end event": _("Append end event"),
        "Append gateway": _("Append gateway"),
        "Append task": _("Append task"),
        "Append intermediate/boundary event": _("Append intermediate/boundary event"),
        "Append receive task": _("Append receive task"),
        "Append message intermediate catch event": _("Append message intermediate catch event"),
        "Append timer intermediate catch event": _("Append timer intermediate catch event"),
        "Append conditional intermediate catch event":
            _("Append conditional intermediate catch event"),
        "Append signal intermediate catch event": _("Append signal intermediate catch event"),
        "Append compensation activity": _("Append compensation activity"),
        "Add text annotation": _("Add text annotation"),
        "Change element": _("Change element"),
        "Connect to other element": _("Connect to other element"),
        "Connect using association": _("Connect using association"),
        "Connect using data input association": _("Connect using data input association"),
        "Delete": _("Delete"),
        "Add lane above": _("Add lane above"),
        "Add lane below": _("Add lane below"),
        "Divide into two lanes": _("Divide into two lanes"),
        "Divide into three lanes": _("Divide into three lanes"),
        "Align elements": _("Align elements"),
        "Distribute elements horizontally": _("Distribute elements horizontally"),
        "Distribute elements vertically": _("Distribute elements vertically"),
        "Search in diagram": _("Search in diagram"),
        "Toggle non-interrupting": _("Toggle non-interrupting"),
        "Loop": _("Loop"),
        "Parallel multi-instance": _("Parallel multi-instance"),
        "Sequential multi-instance": _("Sequential multi-instance"),
        "Collection": _("Collection"),
        "Participant multiplicity": _("Participant multiplicity"),
        # replace menu
        "Start event": _("Start event"),
        "End event": _("End event"),
        "Intermediate throw event": _("Intermediate throw event"),
        "Message start event": _("Message start event"),
        "Timer start event": _("Timer start event"),
        "Conditional start event": _("Conditional start event"),
        "Signal start event": _("Signal start event"),
        "Message end event": _("Message end event"),
        "Error end event": _("Error end event"),
        "Terminate end event": _("Terminate end event"),
        "Message intermediate catch event": _("Message intermediate catch event"),
        "Message intermediate throw event": _("Message intermediate throw event"),
        "Timer intermediate catch event": _("Timer intermediate catch event"),
        "Timer boundary event": _("Timer boundary event"),
        "Timer boundary event (non-interrupting)": _("Timer boundary event (non-interrupting)"),
        "Message boundary event": _("Message boundary event"),
        "Message boundary event (non-interrupting)": _("Message boundary event (non-interrupting)"),
        "Error boundary event": _("Error boundary event"),
        "Task": _("Task"),
        "User task": _("User task"),
        "Manual task": _("Manual task"),
        "Script task": _("Script task"),
        "Service task": _("Service task"),
        "Send task": _("Send task"),
        "Receive task": _("Receive task"),
        "Business rule task": _("Business rule task"),
        "Call activity": _("Call activity"),
        "Sub-process": _("Sub-process"),
        "Sub-process (collapsed)": _("Sub-process (collapsed)"),
        "Sub-process (expanded)": _("Sub-process (expanded)"),
        "Event sub-process": _("Event sub-process"),
        "Transaction": _("Transaction"),
        "Exclusive gateway": _("Exclusive gateway"),
        "Parallel gateway": _("Parallel gateway"),
        "Inclusive gateway": _("Inclusive gateway"),
        "Event-based gateway": _("Event-based gateway"),
        "Complex gateway": _("Complex gateway"),
        "Sequence flow": _("Sequence flow"),
        "Default flow": _("Default flow"),
        "Conditional flow": _("Conditional flow"),
        "Empty pool/participant": _("Empty pool/participant"),
        "Expanded pool/participant": _("Expanded pool/participant"),
        # properties panel
        "General": _("General"),
        "Name": _("Name"),
        "ID": _("ID"),
        "Participant ID": _("Participant ID"),
        "Participant Name": _("Participant Name"),
        "Process name": _("Process name"),
        "Process ID": _("Process ID"),
        "Executable": _("Executable"),
        "Documentation": _("Documentation"),
        "Element documentation": _("Element documentation"),
        "Process documentation": _("Process documentation"),
        "Select an element to edit its properties.": _("Select an element to edit its properties."),
        "Multiple elements are selected. Select a single element to edit its properties.":
            _("Multiple elements are selected. Select a single element to edit its properties."),
        "ID must be unique.": _("ID must be unique."),
        "ID must not be empty.": _("ID must not be empty."),
        "ID must not contain spaces.": _("ID must not contain spaces."),
        "ID must be a valid QName.": _("ID must be a valid QName."),
        "ID must not contain prefix.": _("ID must not contain prefix."),
        "Multi-instance": _("Multi-instance"),
        "Loop cardinality": _("Loop cardinality"),
        "Completion condition": _("Completion condition"),
        "Timer": _("Timer"),
        "Message": _("Message"),
        "Signal": _("Signal"),
        "Error": _("Error"),
        "Escalation": _("Escalation"),
        "Link": _("Link"),
        "Compensation": _("Compensation"),
        "Type": _("Type"),
        "Value": _("Value"),
        "Code": _("Code"),
        "<none>": _("(none)"),  # an angle-bracket msgid would read as an HTML tag
        "<empty>": _("(empty)"),
        "Open documentation": _("Open documentation"),
        "Toggle section": _("Toggle section"),
        "Section contains edits": _("Section contains edits"),
        "Section contains an error": _("Section contains an error"),
        "Open pop-up editor": _("Open pop-up editor"),
        "Opened in editor": _("Opened in editor"),
        "Create new list item": _("Create new list item"),
        "Create": _("Create"),
        "Delete item": _("Delete item"),
        "Toggle list item": _("Toggle list item"),
        "Global message reference": _("Global message reference"),
        "Global signal reference": _("Global signal reference"),
        "Global error reference": _("Global error reference"),
        "Global escalation reference": _("Global escalation reference"),
        "Create new ...": _("Create new ..."),
        "Wait for completion": _("Wait for completion"),
        "Activity reference": _("Activity reference"),
        "JSON contains errors": _("JSON contains errors"),
        # properties panel headers
        "Start Event": _("Start Event"),
        "End Event": _("End Event"),
        "User Task": _("User Task"),
        "Manual Task": _("Manual Task"),
        "Script Task": _("Script Task"),
        "Service Task": _("Service Task"),
        "Send Task": _("Send Task"),
        "Receive Task": _("Receive Task"),
        "Business Rule Task": _("Business Rule Task"),
        "Call Activity": _("Call Activity"),
        "Sub Process": _("Sub Process"),
        "Exclusive Gateway": _("Exclusive Gateway"),
        "Parallel Gateway": _("Parallel Gateway"),
        "Inclusive Gateway": _("Inclusive Gateway"),
        "Event Based Gateway": _("Event Based Gateway"),
        "Sequence Flow": _("Sequence Flow"),
        "Default Flow": _("Default Flow"),
        "Conditional Flow": _("Conditional Flow"),
        "Message Flow": _("Message Flow"),
        "Lane": _("Lane"),
        "Participant": _("Participant"),
        "Process": _("Process"),
        "Text Annotation": _("Text Annotation"),
        "Timer Start Event": _("Timer Start Event"),
        "Message Start Event": _("Message Start Event"),
        "Message End Event": _("Message End Event"),
        "Error End Event": _("Error End Event"),
        "Terminate End Event": _("Terminate End Event"),
        "Timer Boundary Event": _("Timer Boundary Event"),
        "Message Boundary Event": _("Message Boundary Event"),
        "Error Boundary Event": _("Error Boundary Event"),
        "Timer Intermediate Catch Event": _("Timer Intermediate Catch Event"),
        "Message Intermediate Catch Event": _("Message Intermediate Catch Event"),
        "Message Intermediate Throw Event": _("Message Intermediate Throw Event"),
        "Intermediate Throw Event": _("Intermediate Throw Event"),
        # decision tables
        "Decision name": _("Decision name"),
        "Hit policy": _("Hit policy"),
        "Hit policy:": _("Hit policy:"),
        "Input": _("Input"),
        "Output": _("Output"),
        "Annotation": _("Annotation"),
        "Annotations": _("Annotations"),
        "And": _("And"),
        "Then": _("Then"),
        "Add rule": _("Add rule"),
        "Add rule above": _("Add rule above"),
        "Add rule below": _("Add rule below"),
        "Remove rule": _("Remove rule"),
        "Copy rule": _("Copy rule"),
        "Cut rule": _("Cut rule"),
        "Paste rule above": _("Paste rule above"),
        "Paste rule below": _("Paste rule below"),
        "Add input": _("Add input"),
        "Add output": _("Add output"),
        "Add input column left": _("Add input column left"),
        "Add input column right": _("Add input column right"),
        "Add output column left": _("Add output column left"),
        "Add output column right": _("Add output column right"),
        "Remove input column": _("Remove input column"),
        "Remove output column": _("Remove output column"),
        "Input label": _("Input label"),
        "Input expression": _("Input expression"),
        "Input type": _("Input type"),
        "Output label": _("Output label"),
        "Output name": _("Output name"),
        "Output type": _("Output type"),
        "Expression language": _("Expression language"),
        "Predefined values": _("Predefined values"),
        "Yes": _("Yes"),
        "No": _("No"),
        "Edit": _("Edit"),
        "View DRD": _("View DRD"),
        "Create decision": _("Create decision"),
        "Create input data": _("Create input data"),
        "Create knowledge model": _("Create knowledge model"),
        "Create knowledge source": _("Create knowledge source"),
        "Append decision": _("Append decision"),
        "Append input data": _("Append input data"),
        "Change type": _("Change type"),
        "Strings must be in double quotes": _("Strings must be in double quotes"),
    }
