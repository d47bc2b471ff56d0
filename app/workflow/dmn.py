"""Parsing DMN 1.1–1.3 files into compiled decisions (our own engine, not SpiffWorkflow's)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from app.workflow.dmn_model import (
    AGGREGATIONS,
    HIT_POLICIES,
    Decision,
    DecisionEvaluationError,
    DecisionInput,
    DecisionOutput,
    DecisionResult,
    DecisionTable,
    DmnError,
    LiteralExpression,
    Rule,
    coerce,
)
from app.workflow.expressions import Expression, ExpressionError, compile_expression
from app.workflow.feel import translate_feel_expression, translate_unary_tests, translate_value_list
from app.workflow.juel import translate_juel

__all__ = [
    "Decision",
    "DecisionEvaluationError",
    "DecisionResult",
    "DmnError",
    "DmnFile",
    "parse_dmn",
]

DMN_NAMESPACES = frozenset(
    {
        "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
        "http://www.omg.org/spec/DMN/20180521/MODEL/",
        "https://www.omg.org/spec/DMN/20191111/MODEL/",
    }
)
CAMUNDA_NS = "http://camunda.org/schema/1.0/dmn"
_Element = etree._Element


@dataclass(frozen=True)
class DmnFile:
    id: str
    name: str
    filename: str
    decisions: dict[str, Decision]

    def evaluate(self, decision_id: str, variables: Mapping[str, Any]) -> DecisionResult:
        """Evaluate one decision of this file, its required decisions included."""
        decision = self.decisions.get(decision_id)
        if decision is None:
            raise DecisionEvaluationError(decision_id, f"no such decision in {self.filename}")
        return decision.evaluate(variables, self.decisions)


def parse_dmn(xml_root: _Element, *, filename: str) -> DmnFile:
    """Compile every decision of a safely parsed DMN document; DmnError on any problem."""
    qname = etree.QName(xml_root)
    if qname.localname != "definitions" or qname.namespace not in DMN_NAMESPACES:
        raise DmnError(
            "not a DMN 1.1, 1.2 or 1.3 <definitions> document",
            filename=filename,
            line=_line(xml_root),
        )
    reader = _Reader(filename, qname.namespace, xml_root.get("expressionLanguage"))
    decisions: dict[str, Decision] = {}
    for element in xml_root.iterchildren(f"{{{qname.namespace}}}decision"):
        decision = reader.decision(element)
        if decision.id in decisions:
            raise reader.error("duplicate decision id", element, decision.id)
        decisions[decision.id] = decision
    if not decisions:
        raise DmnError("the file contains no decision", filename=filename)
    _check_requirements(decisions, filename)
    return DmnFile(
        id=xml_root.get("id") or "",
        name=xml_root.get("name") or "",
        filename=filename,
        decisions=decisions,
    )


def _check_requirements(decisions: Mapping[str, Decision], filename: str) -> None:
    for decision in decisions.values():
        for required in decision.required:
            if required not in decisions:
                raise DmnError(
                    f"required decision '{required}' is not defined in this file",
                    filename=filename,
                    decision_id=decision.id,
                    line=decision.line,
                )
    done: set[str] = set()

    def visit(decision_id: str, path: tuple[str, ...]) -> None:
        if decision_id in path:
            cycle = " → ".join([*path[path.index(decision_id) :], decision_id])
            raise DmnError(f"decision requirements form a cycle: {cycle}", filename=filename)
        if decision_id not in done:
            for required in decisions[decision_id].required:
                visit(required, (*path, decision_id))
            done.add(decision_id)

    for decision_id in decisions:
        visit(decision_id, ())


class _Reader:
    """Reads one file's elements; holds what every error message needs."""

    def __init__(self, filename: str, namespace: str, default_language: str | None) -> None:
        self.filename = filename
        self.ns = namespace
        self.default_language = default_language
        self.decision_id: str | None = None

    def error(self, reason: str, element: _Element, text: str | None = None) -> DmnError:
        return DmnError(
            reason,
            filename=self.filename,
            decision_id=self.decision_id,
            element_id=element.get("id"),
            line=_line(element),
            text=text,
        )

    def tag(self, name: str) -> str:
        return f"{{{self.ns}}}{name}"

    def text(self, element: _Element | None) -> str:
        if element is None:
            return ""
        text_element = element.find(self.tag("text"))
        return (text_element.text or "") if text_element is not None else ""

    def compile(self, element: _Element, text: str, translate: Callable[[str], str]) -> Expression:
        try:
            return compile_expression(translate(text))
        except ExpressionError as exc:
            raise self.error(exc.reason, element, text) from None

    def translator(self, element: _Element, feel: Callable[[str], str]) -> Callable[[str], str]:
        language = (element.get("expressionLanguage") or self.default_language or "feel").lower()
        if "juel" in language:
            return lambda t: translate_juel(t if "${" in t or "#{" in t else "${" + t + "}")
        if "feel" in language:
            return feel
        raise self.error(f"expression language '{language}' is not supported", element)

    def decision(self, element: _Element) -> Decision:
        self.decision_id = element.get("id") or ""
        if not self.decision_id:
            raise self.error("decision has no id", element)
        required = []
        for requirement in element.iterchildren(self.tag("informationRequirement")):
            for reference in requirement.iterchildren(self.tag("requiredDecision")):
                href = reference.get("href") or ""
                if not href.startswith("#"):
                    raise self.error(f"requiredDecision href {href!r} is not local", reference)
                required.append(href[1:])
        table = element.find(self.tag("decisionTable"))
        literal = element.find(self.tag("literalExpression"))
        if table is None and literal is None:
            raise self.error(
                "decision has neither a decision table nor a literal expression", element
            )
        return Decision(
            id=self.decision_id,
            name=element.get("name") or self.decision_id,
            required=tuple(required),
            table=self.table(table) if table is not None else None,
            literal=self.literal(element, literal) if literal is not None else None,
            line=_line(element),
        )

    def literal(self, decision: _Element, element: _Element) -> LiteralExpression:
        variable = decision.find(self.tag("variable"))
        name = (variable.get("name") if variable is not None else None) or self.decision_id or ""
        type_ref = variable.get("typeRef") if variable is not None else element.get("typeRef")
        text = self.text(element)
        if not text.strip():
            raise self.error("literal expression is empty", element)
        expression = self.compile(
            element, text, self.translator(element, translate_feel_expression)
        )
        return LiteralExpression(variable_name=name, type_ref=type_ref, expression=expression)

    def table(self, element: _Element) -> DecisionTable:
        hit_policy = (element.get("hitPolicy") or "UNIQUE").strip().upper()
        if hit_policy not in HIT_POLICIES:
            raise self.error(f"unknown hit policy '{hit_policy}'", element)
        aggregation = (element.get("aggregation") or "").strip().upper() or None
        if aggregation is not None and aggregation not in AGGREGATIONS:
            raise self.error(f"unknown aggregation '{aggregation}'", element)
        if aggregation is not None and hit_policy != "COLLECT":
            raise self.error(f"aggregation {aggregation} needs hit policy COLLECT", element)
        inputs = tuple(self.input(e) for e in element.iterchildren(self.tag("input")))
        outputs = tuple(self.output(e) for e in element.iterchildren(self.tag("output")))
        if not outputs:
            raise self.error("decision table has no output", element)
        if len({o.name for o in outputs}) != len(outputs):
            raise self.error("decision table outputs need distinct names", element)
        if aggregation is not None and len(outputs) != 1:
            raise self.error(f"aggregation {aggregation} needs exactly one output", element)
        if hit_policy in {"PRIORITY", "OUTPUT ORDER"} and not any(o.output_values for o in outputs):
            raise self.error(f"hit policy {hit_policy} needs outputValues to rank", element)
        rules = tuple(self.rule(e, inputs, outputs) for e in element.iterchildren(self.tag("rule")))
        return DecisionTable(
            id=element.get("id") or "",
            hit_policy=hit_policy,
            aggregation=aggregation,
            inputs=inputs,
            outputs=outputs,
            rules=rules,
        )

    def input(self, element: _Element) -> DecisionInput:
        expression_element = element.find(self.tag("inputExpression"))
        if expression_element is None:
            raise self.error("input has no inputExpression", element)
        text = self.text(expression_element)
        if not text.strip():
            raise self.error("input expression is empty", expression_element)
        translate = self.translator(expression_element, translate_feel_expression)
        variable = (element.get(f"{{{CAMUNDA_NS}}}inputVariable") or "").strip() or "cellInput"
        if not variable.isidentifier() or variable.startswith("_"):
            raise self.error(f"invalid camunda:inputVariable {variable!r}", element)
        return DecisionInput(
            id=element.get("id") or "",
            label=element.get("label") or "",
            text=text,
            expression=self.compile(expression_element, text, translate),
            type_ref=expression_element.get("typeRef"),
            input_variable=variable,
        )

    def output(self, element: _Element) -> DecisionOutput:
        name = element.get("name") or element.get("id") or ""
        type_ref = element.get("typeRef")
        values_element = element.find(self.tag("outputValues"))
        values: list[Any] = []
        if values_element is not None:
            text = self.text(values_element)
            try:
                values = [
                    coerce(compile_expression(v).evaluate({}), type_ref)
                    for v in translate_value_list(text)
                ]
            except (ExpressionError, ValueError) as exc:
                raise self.error(f"invalid outputValues: {exc}", values_element, text) from None
        return DecisionOutput(
            id=element.get("id") or "",
            name=name,
            label=element.get("label") or "",
            type_ref=type_ref,
            output_values=tuple(values),
        )

    def rule(
        self,
        element: _Element,
        inputs: tuple[DecisionInput, ...],
        outputs: tuple[DecisionOutput, ...],
    ) -> Rule:
        input_entries = list(element.iterchildren(self.tag("inputEntry")))
        output_entries = list(element.iterchildren(self.tag("outputEntry")))
        if len(input_entries) != len(inputs) or len(output_entries) != len(outputs):
            raise self.error(
                f"rule has {len(input_entries)} input and {len(output_entries)} output entries,"
                f" the table has {len(inputs)} inputs and {len(outputs)} outputs",
                element,
            )
        tests: list[Expression | None] = []
        for entry, item in zip(input_entries, inputs, strict=True):
            text = self.text(entry)
            if text.strip() in {"", "-"}:
                tests.append(None)
                continue

            def unary(t: str, name: str = item.input_variable) -> str:
                return translate_unary_tests(t, name)

            tests.append(self.compile(entry, text, self.translator(entry, unary)))
        results: list[Expression | None] = []
        for entry in output_entries:
            text = self.text(entry)
            translate = self.translator(entry, translate_feel_expression)
            results.append(self.compile(entry, text, translate) if text.strip() else None)
        return Rule(
            id=element.get("id") or "",
            input_entries=tuple(tests),
            output_entries=tuple(results),
        )


def _line(element: _Element) -> int | None:
    line = element.sourceline
    return line if isinstance(line, int) else None
