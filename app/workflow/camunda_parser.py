"""The engine's BPMN parser with corpflow's Camunda 7 call activities and multi-instance."""

from __future__ import annotations

from typing import Any, ClassVar

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser, full_tag  # type: ignore[import-untyped]

from app.workflow.call_activities import CamundaCallActivity, CamundaCallActivityParser
from app.workflow.engine import CorpflowParser
from app.workflow.multi_instance import with_camunda_loops

# Tasks the Camunda parser leaves to the plain BPMN parser (service, send, receive) are listed
# too, so that a camunda:collection on them is read as well.
_TASKS = ("serviceTask", "sendTask", "receiveTask")


class Camunda7Parser(CorpflowParser):  # type: ignore[misc]
    OVERRIDE_PARSER_CLASSES: ClassVar[dict[str, Any]] = with_camunda_loops(
        {
            **{
                full_tag(t): BpmnParser.PARSER_CLASSES[full_tag(t)]
                for t in _TASKS
                if full_tag(t) not in CorpflowParser.OVERRIDE_PARSER_CLASSES
            },
            **CorpflowParser.OVERRIDE_PARSER_CLASSES,
            full_tag("callActivity"): (CamundaCallActivityParser, CamundaCallActivity),
        }
    )
