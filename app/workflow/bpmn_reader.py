"""Read a BPMN document: keep every camunda:* attribute, translate expressions, lint."""

from __future__ import annotations

import copy
import re

from croniter import croniter
from lxml import etree

from app.workflow.call_activities import read_call_activity
from app.workflow.data_stores import drop_data_stores
from app.workflow.expressions import ExpressionError
from app.workflow.io_mappings import read_input_output
from app.workflow.juel import translate_collection, translate_juel, translate_timer
from app.workflow.model import (
    ElementInfo,
    FormField,
    IoMapping,
    LintIssue,
    ModelDocument,
    ProcessModel,
)
from app.workflow.xml import BPMN_NS, CAMUNDA_NS

B = f"{{{BPMN_NS}}}"
C = f"{{{CAMUNDA_NS}}}"

FLOW_NODES = {
    "startEvent",
    "endEvent",
    "intermediateCatchEvent",
    "intermediateThrowEvent",
    "boundaryEvent",
    "userTask",
    "serviceTask",
    "sendTask",
    "receiveTask",
    "businessRuleTask",
    "scriptTask",
    "manualTask",
    "task",
    "callActivity",
    "subProcess",
    "transaction",
    "exclusiveGateway",
    "parallelGateway",
    "inclusiveGateway",
    "eventBasedGateway",
    "complexGateway",
}
# The engine owns spec names "Start" and "End"; a model element with either id breaks it.
RESERVED_IDS = {"Start", "End"}
ASSIGNMENT_ATTRS = (
    "assignee",
    "candidateUsers",
    "candidateGroups",
    "dueDate",
    "followUpDate",
    "priority",
)
_LISTENER_ATTRS = ("class", "expression", "delegateExpression")
FORM_TYPES = {"string", "long", "boolean", "date", "enum", "double"}
_BRACED = re.compile(r"^\s*[$#]\{\s*(.*?)\s*\}\s*$", re.S)


def _line(node: etree._Element | None) -> int | None:
    line = node.sourceline if node is not None else None
    return line if isinstance(line, int) else None


def _valid_cron(text: str) -> bool:
    fields = text.split()
    return 5 <= len(fields) <= 7 and croniter.is_valid(text, second_at_beginning=len(fields) >= 6)


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v for v in re.split(r"\s*,\s*", (value or "").strip()) if v)


def _local(node: etree._Element) -> str:
    tag = node.tag
    return etree.QName(tag).localname if isinstance(tag, str) else ""


class _Reader:
    def __init__(self, filename: str) -> None:
        self.doc = ModelDocument(filename=filename, kind="bpmn")

    def issue(
        self,
        severity: str,
        message: str,
        node: etree._Element | None,
        element_id: str | None = None,
    ) -> None:
        eid = element_id or (node.get("id") if node is not None else None)
        line = _line(node)
        where = f"{self.doc.filename}" + (f", line {line}" if line else "")
        where += f", element '{eid}'" if eid else ""
        self.doc.issues.append(LintIssue(severity, f"{where}: {message}", eid, line))

    def translate(
        self,
        text: str,
        node: etree._Element,
        what: str,
        element_id: str | None = None,
        timer: bool = False,
    ) -> str | None:
        try:
            return translate_timer(text) if timer else translate_juel(text)
        except ExpressionError as exc:
            self.issue(
                "error", f"{what} '{text.strip()}' cannot be translated: {exc}", node, element_id
            )
            return None

    def read(self, root: etree._Element) -> etree._Element:
        tree = copy.deepcopy(root)
        processes = tree.findall(f"{B}process")
        if not processes:
            self.issue("error", "the file contains no bpmn:process", None)
        for proc in processes:
            self.doc.processes.append(self.read_process(proc))
        if processes and not any(p.executable for p in self.doc.processes):
            names = ", ".join(f"'{p.id}'" for p in self.doc.processes)
            self.issue(
                "error",
                f"process {names} is not executable (isExecutable is not 'true')",
                processes[0],
            )
        return tree

    def read_process(self, proc: etree._Element) -> ProcessModel:
        pid = proc.get("id") or ""
        elements: dict[str, ElementInfo] = {}
        start_form: tuple[FormField, ...] = ()
        initiator: str | None = None
        decision_refs: list[str] = []
        timers: dict[str, tuple[str, str]] = {}
        executable = proc.get("isExecutable") == "true"
        drop_data_stores(self, proc)
        top_level_starts = {n.get("id") for n in proc.findall(f"{B}startEvent")}
        for node in proc.iter():
            kind = _local(node)
            nid = node.get("id")
            if nid in RESERVED_IDS:
                self.issue("error", f"the id '{nid}' is reserved by the engine; rename it", node)
            if kind == "sequenceFlow":
                self.read_condition(node)
            elif kind == "timerEventDefinition":
                definition = self.read_timer(node)
                event = node.getparent()
                if event is not None and event.get("id") and definition is not None:
                    timers[event.get("id") or ""] = definition
            elif kind == "multiInstanceLoopCharacteristics":
                self.read_multi_instance(node)
            elif kind in ("taskListener", "executionListener"):
                parent = node.getparent()
                owner = parent.getparent() if parent is not None else None
                script = node.find(f"{C}script")
                how = (
                    f", {script.get('scriptFormat') or 'unknown'} script"
                    if script is not None
                    else "".join(f", {node.get(a)}" for a in _LISTENER_ATTRS if node.get(a))
                )
                self.issue(
                    "warning",
                    f"camunda:{kind} (event '{node.get('event')}'{how}) is not run",
                    node,
                    owner.get("id") if owner is not None else None,
                )
            if kind not in FLOW_NODES or not nid:
                continue
            info = self.read_element(node, kind)
            elements[nid] = info
            if kind == "startEvent" and node.getparent() is proc:
                if info.form:
                    start_form = info.form
                initiator = initiator or node.get(f"{C}initiator")
            if kind == "businessRuleTask" and info.attrs.get("decisionRef"):
                decision_refs.append(info.attrs["decisionRef"])
        return ProcessModel(
            id=pid,
            name=proc.get("name"),
            executable=executable,
            elements=elements,
            start_form=start_form,
            initiator_variable=initiator,
            decision_refs=tuple(decision_refs),
            timer_elements=tuple(timers),
            timer_definitions=timers,
            start_timer=next(
                (
                    eid
                    for eid in timers
                    if elements.get(eid)
                    and elements[eid].kind == "startEvent"
                    and eid in top_level_starts
                ),
                None,
            ),
            starter_groups=_split(proc.get(f"{C}candidateStarterGroups")),
            starter_users=_split(proc.get(f"{C}candidateStarterUsers")),
        )

    def read_condition(self, flow: etree._Element) -> None:
        cond = flow.find(f"{B}conditionExpression")
        if cond is None or not (cond.text or "").strip():
            return
        if cond.get("language"):
            self.issue(
                "error",
                f"script conditions (language '{cond.get('language')}') are not "
                "supported; write a ${...} expression",
                cond,
                flow.get("id"),
            )
            return
        translated = self.translate(cond.text or "", cond, "condition", flow.get("id"))
        if translated is not None:
            cond.text = translated

    def read_timer(self, timer: etree._Element) -> tuple[str, str] | None:
        """Translate the timer in place; return (kind, corpflow expression) for the model."""
        event = timer.getparent()
        found: tuple[str, str] | None = None
        for child in timer:
            if not (child.text or "").strip():
                continue
            text = (child.text or "").strip()
            if _local(child) == "timeCycle" and not text.startswith(("R", "$", "#")):
                if not _valid_cron(text):
                    self.issue(
                        "error",
                        f"timer cycle '{text}' is neither an ISO repeating interval (R3/PT1H) "
                        "nor a cron expression",
                        child,
                        event.get("id") if event is not None else None,
                    )
                    continue
                # The engine cannot read cron: its copy gets an inert interval, and corpflow
                # sets each next due time itself (start_timers for start events, Run elsewhere).
                found = ("cron", repr(text))
                child.text = '"R/PT24H"'
                continue
            translated = self.translate(
                text,
                child,
                f"timer {_local(child)}",
                event.get("id") if event is not None else None,
                timer=True,
            )
            if translated is not None:
                child.text = translated
                found = (_local(child), translated)
        return found

    def read_multi_instance(self, loop: etree._Element) -> None:
        owner = loop.getparent()
        oid = owner.get("id") if owner is not None else None
        collection = loop.get(f"{C}collection")
        if collection:
            try:
                loop.set(f"{C}collection", translate_collection(collection))
            except ExpressionError as exc:
                self.issue(
                    "error", f"collection '{collection}' cannot be translated: {exc}", loop, oid
                )
        cardinality = loop.find(f"{B}loopCardinality")
        if cardinality is not None and (cardinality.text or "").strip():
            text = (cardinality.text or "").strip()
            if not text.isdigit():
                translated = self.translate(text, cardinality, "loopCardinality", oid)
                if translated is not None:
                    cardinality.text = translated
        cond = loop.find(f"{B}completionCondition")
        if cond is not None and (cond.text or "").strip():
            translated = self.translate(cond.text or "", cond, "completion condition", oid)
            if translated is not None:
                cond.text = translated

    def read_element(self, node: etree._Element, kind: str) -> ElementInfo:
        nid = node.get("id") or ""
        attrs = {
            etree.QName(k).localname: str(v) for k, v in node.attrib.items() if str(k).startswith(C)
        }
        ext = node.find(f"{B}extensionElements")
        properties: dict[str, str] = {}
        form: tuple[FormField, ...] = ()
        io: IoMapping | None = None
        if ext is not None:
            for prop in ext.findall(f"{C}properties/{C}property"):
                properties[prop.get("name") or ""] = prop.get("value") or ""
            form_data = ext.find(f"{C}formData")
            if form_data is not None:
                fields = form_data.findall(f"{C}formField")
                form = tuple(self.read_form_field(f, nid) for f in fields)
            io_node = ext.find(f"{C}inputOutput")
            if io_node is not None:
                io = read_input_output(self, node, io_node)
            if ext.find(f"{C}connector") is not None:
                self.issue(
                    "error",
                    "camunda:connector is not supported; bind a handler with "
                    "camunda:class or use an external task",
                    node,
                )
        if "formRef" in attrs:
            self.issue(
                "warning", "camunda:formRef (Camunda Forms) is not rendered; use formData", node
            )
        if kind == "scriptTask":
            self.issue(
                "error",
                f"script tasks ({node.get('scriptFormat') or 'unknown'}) are not "
                "run by corpflow; use a service task bound to a handler",
                node,
            )
        expressions: dict[str, str] = {}
        for attr in ASSIGNMENT_ATTRS:
            if attr in attrs:
                translated = self.translate(attrs[attr], node, f"camunda:{attr}")
                if translated is not None:
                    expressions[attr] = translated
        doc_node = node.find(f"{B}documentation")
        handler, topic = self.read_binding(node, kind, attrs)
        return ElementInfo(
            id=nid,
            kind=kind,
            name=node.get("name"),
            documentation=(doc_node.text or "").strip() if doc_node is not None else None,
            attrs=attrs,
            properties=properties,
            form_key=attrs.get("formKey"),
            form=form,
            expressions=expressions,
            handler=handler,
            external_topic=topic,
            line=_line(node),
            io=io,
            called_element=read_call_activity(self, node) if kind == "callActivity" else None,
        )

    def read_binding(
        self, node: etree._Element, kind: str, attrs: dict[str, str]
    ) -> tuple[str | None, str | None]:
        if kind not in ("serviceTask", "sendTask") and not (
            kind == "businessRuleTask" and attrs.get("type") == "external"
        ):
            return None, None
        if attrs.get("type") == "external":
            if not attrs.get("topic"):
                self.issue("error", "external task without camunda:topic", node)
            return None, attrs.get("topic")
        if attrs.get("class"):
            return attrs["class"], None
        for attr in ("delegateExpression", "expression"):
            if attrs.get(attr):
                match = _BRACED.match(attrs[attr])
                return (match.group(1) if match else attrs[attr].strip()), None
        op = node.get("operationRef")
        if op:
            return op, None
        if kind == "serviceTask":
            self.issue(
                "error",
                "service task needs camunda:class, camunda:delegateExpression, "
                "camunda:expression or camunda:type='external' with a topic",
                node,
            )
        return None, None

    def read_form_field(self, field_node: etree._Element, element_id: str) -> FormField:
        fid = field_node.get("id") or ""
        ftype = field_node.get("type") or "string"
        if ftype not in FORM_TYPES:
            self.issue(
                "error", f"form field '{fid}' has unknown type '{ftype}'", field_node, element_id
            )
        constraints = tuple(
            (c.get("name") or "", c.get("config")) for c in field_node.iter(f"{C}constraint")
        )
        values = tuple(
            (v.get("id") or "", v.get("name") or v.get("id") or "")
            for v in field_node.findall(f"{C}value")
        )
        default = field_node.get("defaultValue")
        default_expr = None
        if default is not None and ("${" in default or "#{" in default):
            default_expr = self.translate(
                default, field_node, f"default of form field '{fid}'", element_id
            )
        return FormField(
            id=fid,
            label=field_node.get("label") or fid,
            type=ftype,
            default=default,
            default_expression=default_expr,
            constraints=constraints,
            enum_values=values,
            date_pattern=field_node.get("datePattern"),
        )


def read_bpmn(root: etree._Element, *, filename: str) -> tuple[ModelDocument, etree._Element]:
    """Return the document's metadata and lint report, and a translated copy for the engine."""
    reader = _Reader(filename)
    translated = reader.read(root)
    return reader.doc, translated
