"""A diagram with three problems of different kinds, to see them all reported at once."""

from __future__ import annotations

from .process import reference_bpmn

ANSWER_TIMER = ('<bpmn:timeDate xsi:type="bpmn:tFormalExpression">'
                'working_days(10)</bpmn:timeDate>')
# The elements the problems are reported on, and what each message says.
BROKEN = {"Flow_out_of_scope": "the condition is refused",
          "information_timeout": "not ISO 8601",
          "review": "'Regional Director'"}
REVIEW_FORM = '<spiffworkflow:property name="formJsonSchemaFilename" value="review-schema.json" />'
# A lane that is no role is no longer a problem (its tasks go to the default role, issue
# 16); a candidateRole that is no role still is.
REGIONAL = '<spiffworkflow:property name="candidateRole" value="Regional Director" />'



def broken_bpmn(text: str | None = None) -> str:
    """The reference diagram (or `text`) with a bad condition, a bad timer and a
    candidateRole that is no role."""
    return ((text or reference_bpmn()).replace("not in_scope", "1 +")
            .replace(ANSWER_TIMER, '<bpmn:timeDuration>"ten days"</bpmn:timeDuration>', 1)
            .replace(REVIEW_FORM, REVIEW_FORM + REGIONAL, 1))
