"""Business rule tasks that stop, naming their decision, when no rule matches.

SpiffWorkflow's decision engine writes no outputs when no rule of a table matches, and the
case runs on until a later expression fails on a name that was never set, far from the
cause. Plaint's BusinessRuleTask stops at the decision instead, so the incident names it.
"""

from __future__ import annotations

from flask_babel import gettext as _
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.dmn.specs.model import HitPolicy
from SpiffWorkflow.spiff.specs.defaults import BusinessRuleTask as SpiffBusinessRuleTask
from SpiffWorkflow.task import Task


class BusinessRuleTask(SpiffBusinessRuleTask):  # type: ignore[misc]
    """A decision that refuses to go on when no rule of its table matches the case.

    Named like SpiffWorkflow's class on purpose: stored specs name their classes, and a
    version deployed before keeps loading (serializer.py maps the name to this class).
    """

    def _run_hook(self, my_task: Task) -> bool:
        """Decide as SpiffWorkflow does, after making sure some rule answers this case."""
        table = self.dmnEngine.decision_table
        if table.hit_policy != HitPolicy.COLLECT.value and not self.dmnEngine.decide(my_task):
            decision = self.extensions.get("calledDecisionId") or table.name or table.id
            raise WorkflowTaskException(
                _("no rule of the decision '%(decision)s' matches this case: add a rule for "
                  "it or a catch-all last row (every input '-')", decision=decision),
                task=my_task)
        return bool(super()._run_hook(my_task))
